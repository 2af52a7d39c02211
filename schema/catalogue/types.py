"""Catalogue types. Nested fields of list items are plain attributes filled in bulk.

graphql-core spends 10–15 µs per resolved field; a page of 100 cooperations with
partners would pay that many times over if every nested field fetched its own
data. So the list resolver loads partners, topic fields and contacts for the whole
page at once and these types just carry them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from service.catalogue import cooperations as coop_service
from service.catalogue.models import (
    CooperationStatus,
    LegalFormCategory,
    OrganizationKind,
    PartnerRole,
    PerformerKind,
)
from service.catalogue.views import ContactView, LegalFormView, OrganizationView, TopicFieldView
from service.pagination import encode_cursor, page_request
from schema.common import PageInfo, page_info, selected_paths

CooperationStatusEnum = strawberry.enum(CooperationStatus, name="CooperationStatus")
PartnerRoleEnum = strawberry.enum(PartnerRole, name="PartnerRole")
PerformerKindEnum = strawberry.enum(PerformerKind, name="PerformerKind")
LegalFormCategoryEnum = strawberry.enum(LegalFormCategory, name="LegalFormCategory")


@strawberry.enum
class MunicipalityKind(Enum):
    STATE = "STATE"
    DISTRICT = "DISTRICT"
    INDEPENDENT_CITY = "INDEPENDENT_CITY"
    MUNICIPALITY = "MUNICIPALITY"


@strawberry.type(description="A point on the earth in WGS84 degrees (as GPS and GeoJSON use them).")
class GeoPoint:
    latitude: float
    longitude: float


def geo_point(view: OrganizationView) -> GeoPoint | None:
    location = view.location
    return GeoPoint(latitude=location[0], longitude=location[1]) if location else None


@strawberry.interface(description="A party to cooperations: a municipal body or another organisation.")
class Organization:
    id: strawberry.ID
    name: str
    location: GeoPoint | None = strawberry.field(
        default=None,
        description="Where its administrative seat is: a town's centre, a district's seat town, a state's "
                    "capital (public gazetteer points, see seeds/locations.json); null where not known.")

    @classmethod
    def resolve_type(cls, obj, info, type_) -> str:
        # A direct answer: strawberry's generic resolution costs more per partner of a long list.
        return "Municipality" if isinstance(obj, Municipality) else "ExternalOrganization"


@strawberry.type(description="A municipal body: state, district, independent city or municipality.")
class Municipality(Organization):
    kind: MunicipalityKind
    ags: str | None = strawberry.field(description="Official municipality key (AGS), where known.")
    parent_id: strawberry.Private[int | None]

    @strawberry.field(description="The district or state this body belongs to.")
    async def parent(self, info: Info) -> Municipality | None:
        return await load_municipality(info, self.parent_id)

    @strawberry.field(description="Cooperations this body is a partner of, by title.")
    async def cooperations(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> PartnerCooperationConnection:
        page = page_request(first, after, "PARTNER_TITLE", info.context.settings.max_page_size)
        loader = info.context.loaders.cooperations_of_partner(page.first, page.after)
        views, has_next = await loader.load(int(self.id))
        return PartnerCooperationConnection(
            organization_id=int(self.id),
            views=views,
            cursors=[encode_cursor("PARTNER_TITLE", v.sort_title, v.id) for v in views],
            has_next=has_next,
            has_previous=page.after is not None,
        )

    @strawberry.field(description="Contact persons of this body who agreed to be published.")
    async def contacts(self, info: Info) -> list[Contact]:
        views = await info.context.loaders.contacts_of_organization.load(int(self.id))
        return [contact_object(v) for v in views]


@strawberry.type(description="A partner outside the municipal bodies: association, company, state agency.")
class ExternalOrganization(Organization):
    pass


async def load_municipality(info: Info, organization_id: int | None) -> Municipality | None:
    """A municipal body by id through the request's batching loader (None for other organisations)."""
    if organization_id is None:
        return None
    view = await info.context.loaders.organization.load(organization_id)
    return organization_object(view) if view and view.is_municipal else None


_MUNICIPALITY_KINDS = {k: MunicipalityKind(k.value) for k in OrganizationKind if k is not OrganizationKind.OTHER}


def organization_object(view: OrganizationView) -> Municipality | ExternalOrganization:
    if view.kind is OrganizationKind.OTHER:
        return ExternalOrganization(id=strawberry.ID(str(view.id)), name=view.name, location=geo_point(view))
    return Municipality(
        id=strawberry.ID(str(view.id)),
        name=view.name,
        location=geo_point(view),
        kind=_MUNICIPALITY_KINDS[view.kind],
        ags=view.ags,
        parent_id=view.parent_id,
    )


@strawberry.type(description="A field of cooperation (Themenfeld).")
class TopicField:
    id: strawberry.ID
    key: str
    label: str


def topic_field_object(view: TopicFieldView) -> TopicField:
    return TopicField(id=strawberry.ID(str(view.id)), key=view.key, label=view.label)


@strawberry.type(description="A legal form (Rechtsform) with its legal basis.")
class LegalForm:
    id: strawberry.ID = strawberry.field(description="The code, e.g. OERV; use it in filters.")
    code: str
    label: str
    abbreviation: str | None
    category: LegalFormCategoryEnum
    legal_basis: str | None


def legal_form_object(view: LegalFormView) -> LegalForm:
    return LegalForm(
        id=strawberry.ID(view.code),
        code=view.code,
        label=view.label,
        abbreviation=view.abbreviation,
        category=view.category,
        legal_basis=view.legal_basis,
    )


@strawberry.type(description="A contact person (Ansprechpartner) who confirmed their data for publication.")
class Contact:
    id: strawberry.ID
    salutation: str | None
    title: str | None
    first_name: str | None
    last_name: str | None
    function: str | None
    email: str | None
    phone: str | None
    last_approved_change_at: dt.datetime | None
    organization_id: strawberry.Private[int | None]

    @strawberry.field
    def name(self) -> str:
        return " ".join(part for part in (self.title, self.first_name, self.last_name) if part)

    @strawberry.field(description="The municipal body this person works for.")
    async def municipality(self, info: Info) -> Municipality | None:
        return await load_municipality(info, self.organization_id)


def contact_object(view: ContactView) -> Contact:
    return Contact(
        id=strawberry.ID(str(view.id)),
        salutation=view.salutation,
        title=view.title,
        first_name=view.first_name,
        last_name=view.last_name,
        function=view.function,
        email=view.email,
        phone=view.phone,
        last_approved_change_at=view.last_approved_change_at,
        organization_id=view.organization_id,
    )


@strawberry.type
class Partner:
    role: PartnerRoleEnum
    organization: Organization
    left_year: int | None = strawberry.field(
        default=None,
        description="The year this partner left a cooperation that continues without it; "
        "such a partner is not counted as a partner in filters and facets.",
    )


@strawberry.type(description="Who carries out the task (Aufgabenerledigung durch).")
class Performer:
    kind: PerformerKindEnum
    organization: Organization | None
    text: str | None = strawberry.field(description="The wording of the source, e.g. 'Beteiligte'.")


@strawberry.type
class Savings:
    amount: Decimal | None
    currency: str | None
    period: str | None = strawberry.field(description="YEAR, MONTH or ONCE.")
    text: str | None


@strawberry.type(description="One field of a published version: its value before and after (readable text).")
class HistoryFieldChange:
    field: str = strawberry.field(description="The API field, e.g. 'title' or 'partners'.")
    label: str = strawberry.field(description="The German label, e.g. 'Aufgabenbereich'.")
    old: str | None
    new: str | None


@strawberry.type(description="A published version of a cooperation: a change approved by the ministry "
                             "or a direct edit of the ministry. Holds no data about who proposed it.")
class HistoryEntry:
    version: int = strawberry.field(description="The version this change published.")
    published_at: dt.datetime = strawberry.field(description="When the ministry approved (published) it.")
    created: bool = strawberry.field(description="This change published the cooperation for the first time.")
    direct_edit: bool = strawberry.field(description="Edited by the ministry itself, not proposed by a contact.")
    changes: list[HistoryFieldChange] = strawberry.field(description="The fields that changed, old → new.")


@strawberry.type(description="An inter-municipal cooperation as last approved by the ministry.")
class Cooperation:
    id: strawberry.ID
    title: str = strawberry.field(description="Aufgabenbereich: the task the cooperation covers.")
    description: str | None
    topic_fields: list[TopicField]
    legal_form: LegalForm | None
    legal_form_text: str | None = strawberry.field(description="The legal form as worded in the source.")
    partners: list[Partner]
    partners_text: str | None = strawberry.field(description="The partners as worded in the source.")
    performed_by: Performer
    since_text: str | None = strawberry.field(description="'seit' as in the source, e.g. 'Schuljahr 1983/84'.")
    start_year: int | None
    end_year: int | None
    status: CooperationStatusEnum
    savings: Savings | None
    funding: str | None
    notes: str | None
    source_document: str | None
    source_reference: str | None
    contacts: list[Contact]
    data_as_of: dt.date = strawberry.field(description="Stand: the date the data refer to.")
    last_approved_change_at: dt.datetime | None = strawberry.field(
        description="When the ministry last approved a change (shown beside dataAsOf)."
    )
    version: int
    parent_id: strawberry.Private[int | None]

    @strawberry.field(description="The framework cooperation this one is a part of.")
    async def part_of(self, info: Info) -> Cooperation | None:
        if self.parent_id is None:
            return None
        return await info.context.loaders.cooperation.load(self.parent_id)

    @strawberry.field(description="The parts of a framework cooperation.")
    async def parts(self, info: Info) -> list[Cooperation]:
        return await info.context.loaders.cooperation_parts.load(int(self.id))

    @strawberry.field(description="The published documents (statutes, model contracts, resolutions), newest first.")
    async def documents(self, info: Info) -> list[Annotated["Document", strawberry.lazy("schema.documents.types")]]:
        from schema.documents.types import document_object

        return [document_object(d) for d in await info.context.loaders.documents_of_cooperation.load(int(self.id))]

    @strawberry.field(description="The published versions, newest first: one entry per approved change or "
                                  "direct edit (the seeded state has none).")
    async def history(self, info: Info) -> list[HistoryEntry]:
        return [
            HistoryEntry(
                version=e.version, published_at=e.published_at, created=e.created, direct_edit=e.direct_edit,
                changes=[HistoryFieldChange(field=c.field, label=c.label, old=c.old, new=c.new) for c in e.changes],
            )
            for e in await info.context.approval_loaders.history.load(int(self.id))
        ]


@strawberry.type
class CooperationEdge:
    cursor: str
    node: Cooperation


@strawberry.type
class TopicFieldFacet:
    topic_field: TopicField
    count: int


@strawberry.type
class LegalFormFacet:
    legal_form: LegalForm | None = strawberry.field(description="null counts cooperations without a legal form.")
    count: int


@strawberry.type
class StatusFacet:
    status: CooperationStatusEnum
    count: int


@strawberry.type(description="Cooperations whose start year falls in a decade.")
class StartDecadeCount:
    decade: int | None = strawberry.field(description="The decade's first year (1990 for 1990–1999); "
                                                      "null counts cooperations without a start year.")
    label: str = strawberry.field(description="'1990er', or 'unbekannt' for no start year.")
    count: int


def start_decade_objects(facet) -> list[StartDecadeCount]:
    from service.catalogue.statistics import decade_label

    return [StartDecadeCount(decade=f.value, label=decade_label(f.value), count=f.count) for f in facet]


@strawberry.type
class PartnerFacet:
    organization: Organization
    count: int


@strawberry.type
class RegionFacet:
    region: Municipality = strawberry.field(description="A state or district (or a selected region).")
    count: int = strawberry.field(description="Cooperations with at least one partner inside the region.")


@strawberry.type(
    description=(
        "Counts for drawing filter lists. Each list counts under every filter except its own "
        "(so the other values of a multi-select stay visible); lists of one value per "
        "cooperation (legal form, status) add up to totalCount when their own filter is not set."
    )
)
class CooperationFacets:
    filter: strawberry.Private[coop_service.CooperationFilter]

    @strawberry.field
    async def topic_fields(self) -> list[TopicFieldFacet]:
        facet = await coop_service.topic_field_facet(self.filter)
        return [TopicFieldFacet(topic_field=topic_field_object(f.value), count=f.count) for f in facet]

    @strawberry.field
    async def legal_forms(self) -> list[LegalFormFacet]:
        facet = await coop_service.legal_form_facet(self.filter)
        return [
            LegalFormFacet(legal_form=legal_form_object(f.value) if f.value else None, count=f.count) for f in facet
        ]

    @strawberry.field
    async def statuses(self) -> list[StatusFacet]:
        return [StatusFacet(status=f.value, count=f.count) for f in await coop_service.status_facet(self.filter)]

    @strawberry.field(description="States and districts (states first, by name) with the cooperations that have a "
                      "partner inside them, counted under every filter except regionIds; selected regions always "
                      "included, regions without hits left out.")
    async def regions(self) -> list[RegionFacet]:
        facet = await coop_service.region_facet(self.filter)
        return [RegionFacet(region=organization_object(f.value), count=f.count) for f in facet]

    @strawberry.field(description="Decades of the start year, oldest first, then the cooperations without one; "
                      "counted under every filter except startYearFrom/startYearTo.")
    async def start_decades(self) -> list[StartDecadeCount]:
        from service.catalogue.statistics import start_decade_facet

        return start_decade_objects(await start_decade_facet(self.filter))

    @strawberry.field(description="Partners with the most cooperations first; selected partners always included.")
    async def partners(self, first: Annotated[int, strawberry.argument(description="at most 500")] = 50) -> list[
        PartnerFacet
    ]:
        from service.errors import InvalidInput

        if not 0 <= first <= 500:
            raise InvalidInput("'first' must be between 0 and 500.", field="first")
        facet = await coop_service.partner_facet(self.filter, first)
        return [PartnerFacet(organization=organization_object(f.value), count=f.count) for f in facet]


@strawberry.type
class CooperationConnection:
    page_info: PageInfo
    edges: list[CooperationEdge]
    facets: CooperationFacets
    filter: strawberry.Private[coop_service.CooperationFilter]

    @strawberry.field(description="How many cooperations match the filter and search.")
    async def total_count(self) -> int:
        return await coop_service.count(self.filter)


@strawberry.type
class PartnerCooperationConnection:
    organization_id: strawberry.Private[int]
    views: strawberry.Private[list]
    cursors: strawberry.Private[list[str]]
    has_next: strawberry.Private[bool]
    has_previous: strawberry.Private[bool]

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return await info.context.loaders.cooperation_count_of_partner.load(self.organization_id)

    @strawberry.field
    async def edges(self, info: Info) -> list[CooperationEdge]:
        if "node" not in selected_paths(info):  # cursors only: the nodes are not loaded at all
            return [CooperationEdge(cursor=c, node=None) for c in self.cursors]
        # Through the batching loader: one set of statements for all bodies of an outer list.
        nodes = await info.context.loaders.cooperation.load_many([v.id for v in self.views])
        return [CooperationEdge(cursor=c, node=n) for c, n in zip(self.cursors, nodes)]

    @strawberry.field
    def page_info(self) -> PageInfo:
        return page_info(self.cursors, self.has_next, self.has_previous)


@strawberry.type
class MunicipalityEdge:
    cursor: str
    node: Municipality


@strawberry.type
class MunicipalityConnection:
    page_info: PageInfo
    edges: list[MunicipalityEdge]
    filter: strawberry.Private[object]

    @strawberry.field
    async def total_count(self) -> int:
        from service.catalogue import organizations

        return await organizations.count(self.filter)
