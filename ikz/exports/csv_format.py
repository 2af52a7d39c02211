"""CSV for German Excel: UTF-8 with BOM, `;`, CRLF, dates as DD.MM.YYYY; one chunk per batch.

A cell starting with = + - @ (or a tab or CR) gets a leading `'`, so that a spreadsheet never runs
it as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator

from ikz.exports.columns import COLUMNS

MEDIA_TYPE = "text/csv; charset=utf-8"
SUFFIX = "csv"
BOM = "\ufeff"


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


async def encode(batches: AsyncIterator[list[list[object]]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(COLUMNS)
    async for batch in batches:
        writer.writerows([cell(v) for v in r] for r in batch)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
