"""Municipal bodies (state, district, town) and the other organisations that take part.

The ancestor closure table is kept here: whoever creates or moves an organisation
calls `create_organization`, so region filters stay one indexed join.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.catalogue.models import MUNICIPAL_KINDS, Organization, OrganizationAncestor, OrganizationKind
from service.catalogue.text import query_terms, search_document, sort_key
from service.catalogue.views import OrganizationView
from service.errors import InvalidInput, NotFound
from service.pagination import PageRequest, encode_cursor
from service.sql import Where, fetch, fetch_one, placeholders

ORGANIZATION_COLUMNS = "o.id, o.name, o.kind, o.ags, o.parent_id, o.latitude, o.longitude, o.sort_name"
ORDERING = "NAME"


@dataclass(frozen=True)
class MunicipalityFilter:
    kinds: tuple[OrganizationKind, ...] = ()
    region_ids: tuple[int, ...] = ()
    ags: tuple[str, ...] = ()
    search: str | None = None


@dataclass
class OrganizationPage:
    rows: list[OrganizationView]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _conditions(flt: MunicipalityFilter) -> Where:
    where = Where()
    kinds = flt.kinds or MUNICIPAL_KINDS
    where.add(f"o.kind IN ({placeholders(len(kinds))})", *(k.value for k in kinds))
    if flt.region_ids:
        where.add(
            "o.id IN (SELECT a.organization_id FROM organization_ancestor a "
            f"WHERE a.ancestor_id IN ({placeholders(len(flt.region_ids))}))",
            *flt.region_ids,
        )
    if flt.ags:
        where.add(f"o.ags IN ({placeholders(len(flt.ags))})", *flt.ags)
    for variants in query_terms(flt.search) if flt.search else []:
        # Word-prefix match on the folded name; the same LIKE on both databases.
        where.add("(" + " OR ".join("(' ' || o.search_text) LIKE ?" for _ in variants) + ")", *(f"% {v}%" for v in variants))
    return where


async def list_page(flt: MunicipalityFilter, page: PageRequest) -> OrganizationPage:
    if any(k is OrganizationKind.OTHER for k in flt.kinds):
        raise InvalidInput("'kinds' takes municipal kinds only.", field="kinds")
    where = _conditions(flt)
    if page.after is not None:
        where.add("(o.sort_name{ci}, o.id) > (?, ?)", *page.after)
    rows = (
        await fetch(
            f"SELECT {ORGANIZATION_COLUMNS} FROM organization o {where.sql()} "
            f"ORDER BY o.sort_name{{ci}}, o.id LIMIT {int(page.first) + 1}",
            where.params,
        )
        if page.first > 0
        else []
    )
    views = [OrganizationView.from_row(r) for r in rows[: page.first]]
    sort_names = [r["sort_name"] for r in rows[: page.first]]
    return OrganizationPage(
        rows=views,
        cursors=[encode_cursor(ORDERING, s, v.id) for s, v in zip(sort_names, views)],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count(flt: MunicipalityFilter) -> int:
    where = _conditions(flt)
    row = await fetch_one(f"SELECT COUNT(*) AS n FROM organization o {where.sql()}", where.params)
    return int(row["n"]) if row else 0


async def get_many(ids: list[int]) -> dict[int, OrganizationView]:
    if not ids:
        return {}
    rows = await fetch(f"SELECT {ORGANIZATION_COLUMNS} FROM organization o WHERE o.id IN ({placeholders(len(ids))})", ids)
    return {r["id"]: OrganizationView.from_row(r) for r in rows}


async def get(organization_id: int, *, municipal_only: bool = False) -> OrganizationView:
    found = (await get_many([organization_id])).get(organization_id)
    if found is None or (municipal_only and not found.is_municipal):
        noun = "municipal body" if municipal_only else "organisation"
        raise NotFound(f"No {noun} with id {organization_id}.")
    return found


async def create_organization(
    *, name: str, kind: OrganizationKind, ags: str | None = None, parent_id: int | None = None, key: str | None = None
) -> Organization:
    """Create an organisation and its closure rows (call inside the caller's transaction)."""
    name = name.strip()
    if not name:
        raise InvalidInput("An organisation needs a name.", field="name")
    if ags is not None and not (ags.isdigit() and len(ags) in (2, 3, 5, 8)):
        raise InvalidInput(f"An official key (AGS) has 2, 3, 5 or 8 digits, got {ags!r}.", field="ags")
    if kind is OrganizationKind.OTHER and parent_id is not None:
        raise InvalidInput("Only municipal bodies sit inside a district or state.", field="parentId")
    org = await Organization.create(
        key=key,
        name=name,
        kind=kind,
        ags=ags,
        parent_id=parent_id,
        sort_name=sort_key(name),
        search_text=search_document(name),
    )
    links = [OrganizationAncestor(organization_id=org.id, ancestor_id=org.id, depth=0)]
    if parent_id is not None:
        ancestors = await OrganizationAncestor.filter(organization_id=parent_id).values("ancestor_id", "depth")
        links.extend(
            OrganizationAncestor(organization_id=org.id, ancestor_id=a["ancestor_id"], depth=a["depth"] + 1)
            for a in ancestors
        )
    await OrganizationAncestor.bulk_create(links)
    return org
