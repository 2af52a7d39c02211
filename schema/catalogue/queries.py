"""Public catalogue queries."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from service.catalogue import cooperations as coop_service
from service.catalogue import organizations, reference
from service.catalogue.cooperations import CooperationOrder, SortDirection
from service.catalogue.models import OrganizationKind
from service.pagination import page_request
from schema.catalogue.build import build_cooperations, details_for
from schema.catalogue.types import (
    Cooperation,
    CooperationConnection,
    CooperationEdge,
    CooperationFacets,
    CooperationStatusEnum,
    LegalForm,
    Municipality,
    MunicipalityConnection,
    MunicipalityEdge,
    MunicipalityKind,
    Organization,
    TopicField,
    legal_form_object,
    organization_object,
    topic_field_object,
)
from schema.common import page_info, parse_id, parse_ids, require_text, require_texts, selected_paths

MAX_SEARCH = 200
MAX_CODE = 64  # legal form codes and official keys (AGS) are short

CooperationOrderField = strawberry.enum(CooperationOrder, name="CooperationOrderField")
SortDirectionEnum = strawberry.enum(SortDirection, name="SortDirection")


@strawberry.input
class CooperationFilter:
    partner_ids: list[strawberry.ID] | None = strawberry.UNSET
    region_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="A district or state: matches every cooperation with a partner inside it (or the body itself).",
    )
    topic_field_ids: list[strawberry.ID] | None = strawberry.UNSET
    legal_forms: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Legal form codes, e.g. OERV, ZWECKVERBAND."
    )
    statuses: list[CooperationStatusEnum] | None = strawberry.UNSET
    start_year_from: int | None = strawberry.UNSET
    start_year_to: int | None = strawberry.UNSET


@strawberry.input
class CooperationOrderInput:
    field: CooperationOrderField = CooperationOrder.TITLE
    direction: SortDirectionEnum = SortDirection.ASC


@strawberry.input
class MunicipalityFilter:
    kinds: list[MunicipalityKind] | None = strawberry.UNSET
    region_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Only bodies inside these districts or states (or the bodies themselves)."
    )
    ags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Official keys.")


def _values(value):
    return value if value not in (None, strawberry.UNSET) else None


def to_service_filter(flt: CooperationFilter | None, search: str | None) -> coop_service.CooperationFilter:
    require_text(search, "search", MAX_SEARCH)
    if flt is None:
        return coop_service.CooperationFilter(search=search or None)
    return coop_service.CooperationFilter(
        partner_ids=parse_ids(_values(flt.partner_ids), "organisation", "partnerIds"),
        region_ids=parse_ids(_values(flt.region_ids), "organisation", "regionIds"),
        topic_field_ids=parse_ids(_values(flt.topic_field_ids), "topic field", "topicFieldIds"),
        legal_forms=require_texts([str(v) for v in _values(flt.legal_forms) or ()], "legalForms", MAX_CODE),
        statuses=tuple(dict.fromkeys(_values(flt.statuses) or ())),
        start_year_from=_values(flt.start_year_from),
        start_year_to=_values(flt.start_year_to),
        search=search or None,
    )


@strawberry.type
class CatalogueQuery:
    @strawberry.field(description="Cooperations, filtered, searched and paged, with facet counts.")
    async def cooperations(
        self,
        info: Info,
        filter: CooperationFilter | None = None,
        search: str | None = None,
        order_by: CooperationOrderInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CooperationConnection:
        order = order_by or CooperationOrderInput()
        service_filter = to_service_filter(filter, search)
        ordering = coop_service.ordering_key(order.field, order.direction)
        page = page_request(first, after, ordering, info.context.settings.max_page_size,
                            value_type=int if order.field is CooperationOrder.START_YEAR else str)
        await coop_service.validate_filter(service_filter)
        paths = selected_paths(info)
        edges: list[CooperationEdge] = []
        pinfo = page_info([], False, page.after is not None)
        if "edges" in paths or "pageInfo" in paths:
            node_paths = {p[len("edges.node.") :] for p in paths if p.startswith("edges.node.")}
            result = await coop_service.list_page(service_filter, page, order.field, order.direction,
                                                  details_for(node_paths))
            nodes = await build_cooperations(result.rows, info.context, node_paths)
            edges = [CooperationEdge(cursor=c, node=n) for c, n in zip(result.cursors, nodes)]
            pinfo = page_info(result.cursors, result.has_next_page, result.has_previous_page)
        return CooperationConnection(
            page_info=pinfo, edges=edges, facets=CooperationFacets(filter=service_filter), filter=service_filter
        )

    @strawberry.field(description="One cooperation with its full profile.")
    async def cooperation(self, info: Info, id: strawberry.ID) -> Cooperation | None:
        cooperation_id = parse_id(id, "cooperation")
        view = await coop_service.get(cooperation_id)
        return (await build_cooperations([view], info.context, None))[0]

    @strawberry.field(description="Municipal bodies (states, districts, towns), by name.")
    async def municipalities(
        self,
        info: Info,
        filter: MunicipalityFilter | None = None,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> MunicipalityConnection:
        require_text(search, "search", MAX_SEARCH)
        page = page_request(first, after, organizations.ORDERING, info.context.settings.max_page_size)
        service_filter = organizations.MunicipalityFilter(
            kinds=tuple(OrganizationKind(k.value) for k in _values(filter.kinds) or ()) if filter else (),
            region_ids=parse_ids(_values(filter.region_ids), "organisation", "regionIds") if filter else (),
            ags=require_texts(_values(filter.ags), "ags", MAX_CODE) if filter else (),
            search=search or None,
        )
        result = await organizations.list_page(service_filter, page)
        return MunicipalityConnection(
            page_info=page_info(result.cursors, result.has_next_page, result.has_previous_page),
            edges=[MunicipalityEdge(cursor=c, node=organization_object(v)) for c, v in zip(result.cursors, result.rows)],
            filter=service_filter,
        )

    @strawberry.field(description="One municipal body.")
    async def municipality(self, id: strawberry.ID) -> Municipality | None:
        view = await organizations.get(parse_id(id, "municipal body"), municipal_only=True)
        return organization_object(view)

    @strawberry.field(description="Any organisation: a municipal body or another partner.")
    async def organization(self, id: strawberry.ID) -> Organization | None:
        return organization_object(await organizations.get(parse_id(id, "organisation")))

    @strawberry.field(description="All topic fields (Themenfelder).")
    async def topic_fields(self) -> list[TopicField]:
        return [topic_field_object(t) for t in await reference.topic_fields()]

    @strawberry.field(description="All legal forms (Rechtsformen) with their legal basis.")
    async def legal_forms(self) -> list[LegalForm]:
        return [legal_form_object(f) for f in await reference.legal_forms()]
