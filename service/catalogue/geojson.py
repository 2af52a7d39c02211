"""The result list as GeoJSON (RFC 7946): a FeatureCollection with one Feature per cooperation.

Each Feature's geometry is a MultiPoint of its partners' seats ([longitude, latitude], WGS84), or
null when no partner has a location; its properties carry the CSV export's German column names
(raw values: numbers stay numbers, empty cells are null) plus "Verortete Partner", the partners
named in the order of the points. The writer takes the same row batches as the CSV writer
(`export.export_batches`), one batch at a time, and yields text per batch: memory stays flat
however many rows match, and any other source of such batches can be plugged in.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence

import orjson

from service.catalogue.cooperations import CooperationFilter, CooperationOrder, SortDirection, validate_filter
from service.catalogue.export import COLUMNS, ExportRow, export_batches

MEDIA_TYPE = "application/geo+json"
PLACES = "Verortete Partner"


def feature(row: ExportRow, columns: Sequence[str] = COLUMNS) -> dict:
    properties = dict(zip(columns, row.values))
    properties[PLACES] = [{"ID": oid, "Name": name} for oid, name, _, _ in row.places]
    geometry = ({"type": "MultiPoint", "coordinates": [[lon, lat] for _, _, lat, lon in row.places]}
                if row.places else None)
    return {"type": "Feature", "id": row.values[0], "geometry": geometry, "properties": properties}


async def feature_collection(batches: AsyncIterable[Sequence[ExportRow]],
                             columns: Sequence[str] = COLUMNS) -> AsyncIterator[str]:
    """The FeatureCollection's text in chunks: the opening, one chunk per batch, the closing."""
    yield '{"type":"FeatureCollection","features":['
    first = True
    async for batch in batches:
        if not batch:
            continue
        text = b",".join(orjson.dumps(feature(row, columns)) for row in batch).decode("utf-8")
        yield text if first else "," + text
        first = False
    yield "]}\n"


async def geojson_chunks(flt: CooperationFilter, *, profile_url: str,
                         order: CooperationOrder = CooperationOrder.TITLE,
                         direction: SortDirection = SortDirection.ASC) -> AsyncIterator[str]:
    """Raises NotFound for unknown filter ids before any output (as csv_chunks)."""
    await validate_filter(flt)
    async for chunk in feature_collection(export_batches(flt, profile_url, order, direction)):
        yield chunk
