"""Listing, searching and faceting cooperations.

Every list request runs a fixed number of statements, whatever the page size:
the page itself, then partners, topic fields and public contacts for all rows of
the page at once, and one statement per requested count or facet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from service import db
from service.catalogue import reference, tallies
from service.catalogue.models import CooperationStatus
from service.catalogue.text import fts5_query, query_terms, tsquery
from service.catalogue.details import ALL, NONE, Details, fill
from service.catalogue.details import columns as detail_columns
from service.catalogue.views import COOPERATION_COLUMNS, CooperationView, OrganizationView
from service.errors import InvalidInput, NotFound
from service.pagination import PageRequest, encode_cursor
from service.sql import Where, fetch, fetch_one, placeholders

MAX_FILTER_VALUES = 200


class CooperationOrder(str, Enum):
    TITLE = "TITLE"
    START_YEAR = "START_YEAR"


class SortDirection(str, Enum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class CooperationFilter:
    partner_ids: tuple[int, ...] = ()
    region_ids: tuple[int, ...] = ()
    topic_field_ids: tuple[int, ...] = ()
    legal_forms: tuple[str, ...] = ()
    statuses: tuple[CooperationStatus, ...] = ()
    start_year_from: int | None = None
    start_year_to: int | None = None
    search: str | None = None


@dataclass
class CooperationPage:
    rows: list[CooperationView]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def ordering_key(order: CooperationOrder, direction: SortDirection) -> str:
    return f"{order.value}:{direction.value}"


def _sort_expression(order: CooperationOrder, direction: SortDirection, alias: str = "c") -> str:
    if order is CooperationOrder.START_YEAR:
        # Unknown start years sort last in both directions.
        sentinel = 100000 if direction is SortDirection.ASC else -1
        return f"COALESCE({alias}.start_year, {sentinel})"
    return f"{alias}.sort_title{{ci}}"


def _sort_value(row: CooperationView, order: CooperationOrder, direction: SortDirection):
    if order is CooperationOrder.START_YEAR:
        if row.start_year is None:
            return 100000 if direction is SortDirection.ASC else -1
        return row.start_year
    return row.sort_title


async def validate_filter(flt: CooperationFilter) -> None:
    """Refuse unknown ids and impossible ranges with a message that names the value."""
    for name, values in (
        ("partnerIds", flt.partner_ids),
        ("regionIds", flt.region_ids),
        ("topicFieldIds", flt.topic_field_ids),
        ("legalForms", flt.legal_forms),
    ):
        if len(values) > MAX_FILTER_VALUES:
            raise InvalidInput(f"'{name}' takes at most {MAX_FILTER_VALUES} values.", field=name)
    if flt.start_year_from is not None and flt.start_year_to is not None and flt.start_year_from > flt.start_year_to:
        raise InvalidInput("'startYearFrom' must not be after 'startYearTo'.", field="startYearFrom")
    ids = set(flt.partner_ids) | set(flt.region_ids)
    if ids:
        rows = await fetch(f"SELECT id FROM organization WHERE id IN ({placeholders(len(ids))})", sorted(ids))
        missing = sorted(ids - {r["id"] for r in rows})
        if missing:
            field = "partnerIds" if missing[0] in flt.partner_ids else "regionIds"
            raise NotFound(f"No organisation with id {missing[0]}.", field=field)
    if flt.topic_field_ids:
        known = {t.id for t in await reference.topic_fields()}
        missing = sorted(set(flt.topic_field_ids) - known)
        if missing:
            raise NotFound(f"No topic field with id {missing[0]}.", field="topicFieldIds")
    if flt.legal_forms:
        known_codes = {f.code for f in await reference.legal_forms()}
        unknown = sorted(set(flt.legal_forms) - known_codes)
        if unknown:
            raise NotFound(f"No legal form with code {unknown[0]!r}.", field="legalForms")


def _conditions(flt: CooperationFilter, skip: str | None = None) -> Where:
    """SQL for the filter on alias `c`; `skip` leaves out one dimension (for its own facet)."""
    # partners, regions, topicFields, legalForms, statuses, startYears
    where = Where()
    if flt.partner_ids and skip != "partners":
        where.add(
            "c.id IN (SELECT p.cooperation_id FROM cooperation_partner p "
            f"WHERE p.organization_id IN ({placeholders(len(flt.partner_ids))}) AND p.left_year IS NULL)",
            *flt.partner_ids,
        )
    if flt.region_ids and skip != "regions":
        # cooperation_region (migration 0011): every organisation containing an active partner.
        where.add(
            "c.id IN (SELECT x.cooperation_id FROM cooperation_region x "
            f"WHERE x.region_id IN ({placeholders(len(flt.region_ids))}))",
            *flt.region_ids,
        )
    if flt.topic_field_ids and skip != "topicFields":
        where.add(
            "c.id IN (SELECT x.cooperation_id FROM cooperation_topic_field x "
            f"WHERE x.topic_field_id IN ({placeholders(len(flt.topic_field_ids))}))",
            *flt.topic_field_ids,
        )
    if flt.legal_forms and skip != "legalForms":
        where.add(f"c.legal_form_id IN ({placeholders(len(flt.legal_forms))})", *flt.legal_forms)
    if flt.statuses and skip != "statuses":
        where.add(f"c.status IN ({placeholders(len(flt.statuses))})", *(s.value for s in flt.statuses))
    if flt.start_year_from is not None and skip != "startYears":
        where.add("c.start_year >= ?", flt.start_year_from)
    if flt.start_year_to is not None and skip != "startYears":
        where.add("c.start_year <= ?", flt.start_year_to)
    terms = query_terms(flt.search) if flt.search else []
    if terms:
        if db.dialect() == "postgres":
            where.add("c.search_vector @@ to_tsquery('simple', ?)", tsquery(terms))
        else:
            where.add("c.id IN (SELECT rowid FROM cooperation_fts WHERE cooperation_fts MATCH ?)", fts5_query(terms))
    return where


async def list_page(
    flt: CooperationFilter,
    page: PageRequest,
    order: CooperationOrder = CooperationOrder.TITLE,
    direction: SortDirection = SortDirection.ASC,
    details: Details = NONE,
) -> CooperationPage:
    expression = _sort_expression(order, direction)
    where = _conditions(flt)
    if page.after is not None:
        value, last_id = page.after
        comparison = ">" if direction is SortDirection.ASC else "<"
        where.add(f"({expression}, c.id) {comparison} (?, ?)", value, last_id)
    sql_direction = "ASC" if direction is SortDirection.ASC else "DESC"
    limit = int(page.first) + 1  # one extra row tells whether a next page exists
    inner = (
        f"SELECT {COOPERATION_COLUMNS} FROM cooperation c {where.sql()} "
        f"ORDER BY {expression} {sql_direction}, c.id {sql_direction} LIMIT {limit}"
    )
    if details.any:
        # The nested lists are computed for the page's rows only, after LIMIT.
        outer = _sort_expression(order, direction, "page")
        inner = (f"SELECT page.*{detail_columns(db.dialect(), details, 'page')} FROM ({inner}) page "
                 f"ORDER BY {outer} {sql_direction}, page.id {sql_direction}")
    rows = await fetch(inner, where.params) if page.first > 0 else []
    views = [fill(CooperationView.from_row(r), r, details) for r in rows[: page.first]]
    key = ordering_key(order, direction)
    return CooperationPage(
        rows=views,
        cursors=[encode_cursor(key, _sort_value(v, order, direction), v.id) for v in views],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count(flt: CooperationFilter) -> int:
    where = _conditions(flt)
    if not where.clauses:
        return await tallies.total()
    fast = _count_on_link_table(flt)
    if fast is not None:
        sql, params = fast
    else:
        sql, params = f"SELECT COUNT(*) AS n FROM cooperation c {where.sql()}", where.params
    row = await fetch_one(sql, params)
    return int(row["n"]) if row else 0


def _count_on_link_table(flt: CooperationFilter) -> tuple[str, list] | None:
    """Counting a filter that is only a search, one partner or one region without touching cooperation rows.

    At 100,000 cooperations these counts took 3 ms through the cooperation table and
    0.3–0.8 ms here (bench/catalogue.py).
    """
    others = (flt.topic_field_ids, flt.legal_forms, flt.statuses,
              flt.start_year_from is not None, flt.start_year_to is not None)
    if any(others):
        return None
    terms = query_terms(flt.search) if flt.search else []
    if len(flt.region_ids) == 1 and not flt.partner_ids and not terms:
        return "SELECT COUNT(*) AS n FROM cooperation_region WHERE region_id = ?", [flt.region_ids[0]]
    if flt.region_ids:
        return None
    if terms and not flt.partner_ids and db.dialect() == "sqlite":
        return "SELECT COUNT(*) AS n FROM cooperation_fts WHERE cooperation_fts MATCH ?", [fts5_query(terms)]
    if len(flt.partner_ids) == 1 and not terms:
        return "SELECT COUNT(*) AS n FROM cooperation_partner WHERE organization_id = ? AND left_year IS NULL", [flt.partner_ids[0]]
    return None


async def get_many(ids: list[int], details: Details = ALL) -> dict[int, CooperationView]:
    if not ids:
        return {}
    rows = await fetch(
        f"SELECT {COOPERATION_COLUMNS}{detail_columns(db.dialect(), details, 'c')} FROM cooperation c "
        f"WHERE c.id IN ({placeholders(len(ids))})",
        ids,
    )
    return {r["id"]: fill(CooperationView.from_row(r), r, details) for r in rows}


async def get(cooperation_id: int) -> CooperationView:
    found = await get_many([cooperation_id])
    if cooperation_id not in found:
        raise NotFound(f"No cooperation with id {cooperation_id}.")
    return found[cooperation_id]


# --- facets ---------------------------------------------------------------------------


@dataclass(slots=True)
class FacetCount:
    value: object
    count: int


# Facets count under every filter except their own (`own_filter=False`: a multi-select keeps its other
# choices); statistics count the same buckets with the same statements under all filters (`own_filter=True`).


def _link_rows(alias: str, where: Where, prefix: str = "WHERE") -> str:
    """The WHERE of a link table's rows whose cooperation matches `where` (on alias `c`).

    Unfiltered: no condition at all (every link row has its cooperation). Filtered: the matching
    cooperation ids as a subquery, which SQLite and PostgreSQL run as one hashed set; twice as
    fast as joining every link row to its cooperation (bench/pages.py).
    """
    if not where.clauses:
        return ""
    return f"{prefix} {alias}.cooperation_id IN (SELECT c.id FROM cooperation c {where.sql()})"


async def bucket_counts(where: Where, counting_sql: str, dim: str, key: Callable[[str], object]) -> dict:
    """Counts per bucket: summed from the tally when nothing filters, else counted by `counting_sql`
    (columns v, n; parameters those of `where`). `key` turns a tally bucket into the value of v."""
    if not where.clauses:
        return {key(bucket): n for bucket, n in (await tallies.counts(dim)).items()}
    return {r["v"]: int(r["n"]) for r in await fetch(counting_sql, where.params)}


async def topic_field_facet(flt: CooperationFilter, *, own_filter: bool = False) -> list[FacetCount]:
    where = _conditions(flt, skip=None if own_filter else "topicFields")
    counts = await bucket_counts(
        where,
        "SELECT x.topic_field_id AS v, COUNT(*) AS n FROM cooperation_topic_field x "
        f"{_link_rows('x', where)} GROUP BY x.topic_field_id",
        tallies.TOPIC_FIELD, int,
    )
    return [FacetCount(t, counts.get(t.id, 0)) for t in await reference.topic_fields()]


async def legal_form_facet(flt: CooperationFilter, *, own_filter: bool = False) -> list[FacetCount]:
    """All legal forms with their counts, plus a `None` bucket for cooperations without one."""
    where = _conditions(flt, skip=None if own_filter else "legalForms")
    counts = await bucket_counts(
        where,
        f"SELECT c.legal_form_id AS v, COUNT(*) AS n FROM cooperation c {where.sql()} GROUP BY c.legal_form_id",
        tallies.LEGAL_FORM, lambda bucket: bucket or None,
    )
    facet = [FacetCount(f, counts.get(f.code, 0)) for f in await reference.legal_forms()]
    if counts.get(None):
        facet.append(FacetCount(None, counts[None]))
    return facet


async def status_facet(flt: CooperationFilter, *, own_filter: bool = False) -> list[FacetCount]:
    where = _conditions(flt, skip=None if own_filter else "statuses")
    counts = await bucket_counts(
        where, f"SELECT c.status AS v, COUNT(*) AS n FROM cooperation c {where.sql()} GROUP BY c.status",
        tallies.STATUS, str,
    )
    return [FacetCount(s, counts.get(s.value, 0)) for s in CooperationStatus]


async def partner_facet(flt: CooperationFilter, limit: int) -> list[FacetCount]:
    """The partners with the most cooperations under the filter; selected partners always appear."""
    where = _conditions(flt, skip="partners")
    # Counted on the link table first, the organisations joined to the counts after: grouping
    # 300,000 link rows joined with organisation names took 1.2 s at 100,000 cooperations, 25 ms so.
    if where.clauses:
        counted = ("SELECT p.organization_id AS oid, COUNT(*) AS n FROM cooperation_partner p "
                   f"WHERE p.left_year IS NULL {_link_rows('p', where, 'AND')} GROUP BY p.organization_id")
    else:
        counted = f"SELECT CAST(bucket AS INTEGER) AS oid, n FROM ({tallies.buckets_sql(tallies.PARTNER)}) b"
    rows = await fetch(
        "SELECT o.id, o.name, o.kind, o.ags, o.parent_id, o.latitude, o.longitude, o.sort_name, t.n FROM "
        f"({counted}) t JOIN organization o ON o.id = t.oid "
        f"ORDER BY t.n DESC, o.sort_name{{ci}}, o.id LIMIT {int(limit)}",
        where.params,
    )
    facet = [FacetCount(OrganizationView.from_row(r), int(r["n"])) for r in rows]
    shown = {f.value.id for f in facet}
    missing = [pid for pid in flt.partner_ids if pid not in shown]
    if missing:
        # A selected partner stays in the list even when the other filters leave it no hits.
        where.add(f"p.organization_id IN ({placeholders(len(missing))})", *missing)
        extra = await fetch(
            "SELECT o.id, o.name, o.kind, o.ags, o.parent_id, o.latitude, o.longitude, "
            "(SELECT COUNT(*) FROM cooperation_partner p JOIN cooperation c ON c.id = p.cooperation_id "
            f"{where.sql()} AND p.organization_id = o.id AND p.left_year IS NULL) AS n "
            f"FROM organization o WHERE o.id IN ({placeholders(len(missing))})",
            [*where.params, *missing],
        )
        facet.extend(FacetCount(OrganizationView.from_row(r), int(r["n"])) for r in extra)
    return facet


REGION_KINDS = ("STATE", "DISTRICT")


async def region_facet(flt: CooperationFilter, *, own_filter: bool = False) -> list[FacetCount]:
    """States and districts with the number of cooperations that have a partner inside them (the
    partner itself or one of its parts), counted under every filter except the region filter; states
    first, then districts, by name. Selected municipal regions always appear (a selected non-municipal
    organisation does not).

    Counted on cooperation_region (migration 0011), which holds each (region, cooperation) pair once:
    a cooperation of two partners in one district counts once without a COUNT(DISTINCT) over every
    partner link joined to every ancestor (3.5–6 s at 100k cooperations)."""
    where = _conditions(flt, skip=None if own_filter else "regions")
    selected = list(flt.region_ids)

    wanted = f"r.kind IN ({placeholders(len(REGION_KINDS))})"
    if selected:
        wanted = f"({wanted} OR (r.id IN ({placeholders(len(selected))}) AND r.kind <> 'OTHER'))"
    if where.clauses:
        # From the matching cooperations to their few region rows (CROSS JOIN keeps SQLite's loop in
        # this order; probing every region's rows for membership in the match set cost 0.7 s at 100k).
        counted = (f"SELECT x.region_id AS rid, COUNT(*) AS n FROM cooperation c CROSS JOIN cooperation_region x "
                   f"{where.sql()} AND x.cooperation_id = c.id GROUP BY x.region_id")
    else:
        # Unfiltered: the tally's sums of cooperation_region rows per region (migration 0012).
        counted = f"SELECT CAST(bucket AS INTEGER) AS rid, n FROM ({tallies.buckets_sql(tallies.REGION)}) b"
    rows = await fetch(
        f"SELECT r.id, r.name, r.kind, r.ags, r.parent_id, r.latitude, r.longitude, r.sort_name, t.n FROM ({counted}) t "
        f"JOIN organization r ON r.id = t.rid WHERE {wanted} "
        "ORDER BY CASE WHEN r.kind = 'STATE' THEN 0 ELSE 1 END, r.sort_name{ci}, r.id",
        [*where.params, *REGION_KINDS, *selected],
    )
    facet = [FacetCount(OrganizationView.from_row(r), int(r["n"])) for r in rows]
    shown = {f.value.id for f in facet}
    missing = [rid for rid in selected if rid not in shown]
    if missing:
        # A selected region without hits under the other filters stays in the list, with 0.
        extra = await fetch(
            f"SELECT id, name, kind, ags, parent_id, latitude, longitude FROM organization WHERE id IN ({placeholders(len(missing))}) "
            "AND kind <> 'OTHER' ORDER BY id", missing,
        )
        facet.extend(FacetCount(OrganizationView.from_row(r), 0) for r in extra)
    return facet


async def cooperation_ids_by_partner(
    organization_ids: list[int], first: int, after: tuple[object, int] | None
) -> tuple[dict[int, list[CooperationView]], dict[int, bool]]:
    """A page of cooperations for each of several organisations, in one statement (by title)."""
    if not organization_ids:
        return {}, {}
    params: list[object] = list(organization_ids)
    keyset = ""
    if after is not None:
        keyset = "AND (c.sort_title{ci}, c.id) > (?, ?)"
        params.extend(after)
    rows = await fetch(
        f"SELECT * FROM (SELECT p.organization_id AS owner_id, {COOPERATION_COLUMNS}, "
        "ROW_NUMBER() OVER (PARTITION BY p.organization_id ORDER BY c.sort_title{ci}, c.id) AS rn "
        "FROM cooperation_partner p JOIN cooperation c ON c.id = p.cooperation_id "
        f"WHERE p.organization_id IN ({placeholders(len(organization_ids))}) {keyset}) ranked "
        f"WHERE rn <= {int(first) + 1} ORDER BY owner_id, rn",
        params,
    )
    grouped: dict[int, list[CooperationView]] = defaultdict(list)
    for r in rows:
        grouped[r["owner_id"]].append(CooperationView.from_row(r))
    has_next = {oid: len(grouped[oid]) > first for oid in organization_ids}
    return {oid: grouped[oid][:first] for oid in organization_ids}, has_next


async def cooperation_counts_by_partner(organization_ids: list[int]) -> dict[int, int]:
    if not organization_ids:
        return {}
    rows = await fetch(
        "SELECT organization_id AS v, COUNT(*) AS n FROM cooperation_partner "
        f"WHERE organization_id IN ({placeholders(len(organization_ids))}) GROUP BY organization_id",
        organization_ids,
    )
    counts = {r["v"]: int(r["n"]) for r in rows}
    return {oid: counts.get(oid, 0) for oid in organization_ids}


async def parts_of(parent_ids: list[int], details: Details = ALL) -> dict[int, list[CooperationView]]:
    if not parent_ids:
        return {}
    rows = await fetch(
        f"SELECT {COOPERATION_COLUMNS}{detail_columns(db.dialect(), details, 'c')} FROM cooperation c "
        f"WHERE c.parent_id IN ({placeholders(len(parent_ids))}) ORDER BY c.sort_title{{ci}}, c.id",
        parent_ids,
    )
    grouped: dict[int, list[CooperationView]] = defaultdict(list)
    for r in rows:
        grouped[r["parent_id"]].append(fill(CooperationView.from_row(r), r, details))
    return {pid: grouped.get(pid, []) for pid in parent_ids}
