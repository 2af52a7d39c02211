"""GeoJSON (RFC 7946): a FeatureCollection with one Feature per cooperation; one chunk per batch.

Each Feature's geometry is a MultiPoint of its partners' seats ([longitude, latitude], WGS84), or
null when no partner has a location; its properties carry the CSV's German column names (typed
values: numbers stay numbers, empty cells are null) plus "Verortete Partner", the partners named in
the order of the points. Rows come from the same GraphQL pages as CSV and XLSX (ikz/exports/source.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import NamedTuple

import orjson

from ikz.exports import columns

MEDIA_TYPE = "application/geo+json"
SUFFIX = "geojson"
PLACES = "Verortete Partner"


class ExportRow(NamedTuple):
    values: list[object]
    places: list[tuple[int, str, float, float]]  # (organisation id, name, latitude, longitude)


def row(node: dict, profile_url: str) -> ExportRow:
    places = []
    for p in node["partners"]:
        org = p["organization"]
        if org.get("location"):
            places.append((int(org["id"]), org["name"], org["location"]["latitude"], org["location"]["longitude"]))
    return ExportRow(columns.row(node, profile_url), places)


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def feature(item: ExportRow, names: Sequence[str] = columns.COLUMNS) -> dict:
    properties = {name: _json_value(v) for name, v in zip(names, item.values)}
    properties[PLACES] = [{"ID": oid, "Name": name} for oid, name, _, _ in item.places]
    geometry = ({"type": "MultiPoint", "coordinates": [[lon, lat] for _, _, lat, lon in item.places]}
                if item.places else None)
    return {"type": "Feature", "id": item.values[0], "geometry": geometry, "properties": properties}


async def feature_collection(batches: AsyncIterable[Sequence[ExportRow]]) -> AsyncIterator[str]:
    """The collection's text: the opening, one chunk per batch (never a batch ahead), the closing."""
    yield '{"type":"FeatureCollection","features":['
    first = True
    async for batch in batches:
        if not batch:
            continue
        text = b",".join(orjson.dumps(feature(item)) for item in batch).decode("utf-8")
        yield text if first else "," + text
        first = False
    yield "]}\n"


async def encode(batches: AsyncIterator[list[ExportRow]]) -> AsyncIterator[bytes]:
    async for text in feature_collection(batches):
        yield text.encode("utf-8")
