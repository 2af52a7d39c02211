"""The export formats by name: each has MEDIA_TYPE, SUFFIX and encode(row batches) -> bytes chunks."""

from __future__ import annotations

from ikz.exports import csv_format, geojson_format, xlsx_format

# A format may define row(node, profile_url) for rows of its own (GeoJSON: with the partners' places).
FORMATS = {"csv": csv_format, "xlsx": xlsx_format, "geojson": geojson_format}
