"""/export/cooperations.csv, .xlsx and .geojson: the search page's result list (same query string) as a download.

The rows come through the project's GraphQL schema like every page's data (ikz/exports/source.py:
ikz/operations/export.graphql, page after page, with the request's session), so a download holds
exactly what the API and the search page show. The filters are read with the search page's own
parser, so a link built from `/?…` exports exactly the list shown there. A refused filter (unknown
id) answers 404/400 before the download starts.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from ikz.exports.columns import row
from ikz.exports.formats import FORMATS
from ikz.exports.source import ExportRefused, executor, row_batches
from ikz.web.base import app_settings
from ikz.web.catalogue import search_state, search_variables

FILENAME = "kooperationen"
PAGE_SIZE: int | None = None  # rows per GraphQL page; None: the API's largest page (MAX_PAGE_SIZE)


def export_variables(state: dict) -> dict:
    """The search page's variables without its paging (the export pages on its own)."""
    variables = search_variables({**state, "after": None})
    variables.pop("first", None)
    variables.pop("after", None)
    return variables


async def download(request: Request, fmt: str) -> Response:
    settings = app_settings(request)
    encoder = FORMATS[fmt]
    try:
        batches = await row_batches(executor(request), export_variables(search_state(request)),
                                    PAGE_SIZE or settings.max_page_size, settings.link("cooperations/"),
                                    getattr(encoder, "row", row))
    except ExportRefused as exc:
        return PlainTextResponse(exc.message, status_code=404 if exc.code == "NOT_FOUND" else 400)
    return StreamingResponse(encoder.encode(batches), media_type=encoder.MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{FILENAME}.{encoder.SUFFIX}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    })


async def cooperations_csv(request: Request) -> Response:
    return await download(request, "csv")


async def cooperations_xlsx(request: Request) -> Response:
    return await download(request, "xlsx")


async def cooperations_geojson(request: Request) -> Response:
    return await download(request, "geojson")
