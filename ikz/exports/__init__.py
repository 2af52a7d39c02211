"""Downloads of the result list (CSV, XLSX): rows read through the project's GraphQL schema.

`source` pages through ikz/operations/export.graphql in-process (the request's session, the API's
own rules), one page at a time; `columns` turns an API node into a row of typed values under German
column names; `csv_format` and `xlsx_format` encode batches of rows. A format is an async generator
from an async iterator of row batches to bytes (`FORMATS`), so a further one plugs in beside them.
"""
