"""/export/cooperations.csv|geojson: the search page's result list (same query string) as a download.

Not a page: it streams rows straight from the service layer (service.catalogue.export) instead of
running a GraphQL operation, so that 100,000 rows never sit in memory; the filters are read with
the search page's own parser, so a link built from `/?…` exports exactly the list shown there.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from ikz.web.base import app_settings
from ikz.web.catalogue import ORDERS, search_state
from service.catalogue.cooperations import CooperationFilter, CooperationOrder, SortDirection
from service.catalogue.export import csv_chunks
from service.catalogue.geojson import MEDIA_TYPE as GEOJSON, geojson_chunks
from service.catalogue.models import CooperationStatus
from service.errors import DomainError


def export_filter(state: dict) -> CooperationFilter:
    return CooperationFilter(
        partner_ids=tuple(int(v) for v in state["partner"]),
        region_ids=tuple(int(v) for v in state["region"]),
        topic_field_ids=tuple(int(v) for v in state["topic"]),
        legal_forms=tuple(state["legal"]),
        statuses=tuple(CooperationStatus(v) for v in state["status"]),
        start_year_from=state["from"],
        start_year_to=state["to"],
        search=state["q"] or None,
    )


async def cooperations_csv(request: Request) -> Response:
    return await _download(request, csv_chunks, "text/csv; charset=utf-8", "kooperationen.csv")


async def cooperations_geojson(request: Request) -> Response:
    return await _download(request, geojson_chunks, GEOJSON, "kooperationen.geojson")


async def _download(request: Request, writer, media_type: str, filename: str) -> Response:
    state = search_state(request)
    field, direction, _ = ORDERS[state["sort"]]
    chunks = writer(export_filter(state), profile_url=app_settings(request).link("cooperations/"),
                    order=CooperationOrder(field), direction=SortDirection(direction))
    try:
        first = await anext(chunks)  # unknown ids are refused before the download starts
    except DomainError as exc:
        return PlainTextResponse(exc.message, status_code=404 if exc.code == "NOT_FOUND" else 400)

    async def body():
        yield first.encode("utf-8")
        async for chunk in chunks:
            yield chunk.encode("utf-8")

    return StreamingResponse(body(), media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
    })
