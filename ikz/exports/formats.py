"""The export formats by name: each has MEDIA_TYPE, SUFFIX and encode(row batches) -> bytes chunks."""

from __future__ import annotations

from ikz.exports import csv_format, xlsx_format

FORMATS = {"csv": csv_format, "xlsx": xlsx_format}
