"""XLSX (openpyxl, write-only): German headers in bold, frozen header row, column widths, ids and
years as numbers, dates as dates.

A write-only workbook keeps no rows in memory (openpyxl spools the sheet to a temporary file);
the finished file is written into a SpooledTemporaryFile (on disk beyond SPOOL bytes) and streamed
from there in CHUNK pieces. The file can only be sent once every row is written (the zip's
directory comes last), so the first byte leaves after the last row was read. The workbook work
runs in a thread, batch by batch, so the event loop keeps serving other requests meanwhile.
Text cells are stored as text (never as formulas, even when they start with '='), without the
control characters XML cannot hold.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import AsyncIterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ikz.exports.columns import COLUMN_WIDTHS

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUFFIX = "xlsx"
SHEET = "Kooperationen"
SPOOL = 1024 * 1024
CHUNK = 64 * 1024
DATE_FORMAT = "DD.MM.YYYY"


class _Sheet:
    def __init__(self) -> None:
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(SHEET)
        self.sheet.freeze_panes = "A2"
        for index, (_, width) in enumerate(COLUMN_WIDTHS, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        bold = Font(bold=True)
        header = []
        for name, _ in COLUMN_WIDTHS:
            c = WriteOnlyCell(self.sheet, value=name)
            c.font = bold
            header.append(c)
        self.sheet.append(header)

    def cell(self, value: object):
        if isinstance(value, str):
            c = WriteOnlyCell(self.sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            c.data_type = "s"  # text, even '=…' (openpyxl would make that a formula)
            return c
        if isinstance(value, dt.date):
            c = WriteOnlyCell(self.sheet, value=value)
            c.number_format = DATE_FORMAT
            return c
        return value  # int or None

    def write(self, batch: list[list[object]]) -> None:
        for r in batch:
            self.sheet.append([self.cell(v) for v in r])


async def encode(batches: AsyncIterator[list[list[object]]]) -> AsyncIterator[bytes]:
    sheet = await asyncio.to_thread(_Sheet)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as target:
        async for batch in batches:
            await asyncio.to_thread(sheet.write, batch)
        await asyncio.to_thread(sheet.workbook.save, target)
        target.seek(0)
        while chunk := await asyncio.to_thread(target.read, CHUNK):
            yield chunk
