"""Counts of the cooperations that match a filter and search: the numbers behind `statistics` and
/statistik.

Every dimension is counted by the facet statement of service.catalogue.cooperations, once:
facets count under every filter except their own (so a multi-select keeps its other choices),
statistics count the same buckets under all filters (`own_filter=True`). Without a filter the
two agree bucket for bucket; under a filter, a statistic's bucket equals the number of
cooperations the list shows with that bucket added as a filter.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.catalogue import cooperations as listing, tallies
from service.catalogue.cooperations import CooperationFilter, FacetCount, _conditions

UNKNOWN_DECADE = "unbekannt"


def decade_label(decade: int | None) -> str:
    """'1990er' for 1990–1999; 'unbekannt' for cooperations without a start year."""
    return f"{decade}er" if decade is not None else UNKNOWN_DECADE


async def start_decade_facet(flt: CooperationFilter, *, own_filter: bool = False) -> list[FacetCount]:
    """Cooperations per decade of their start year (value: the decade's first year), oldest first,
    then a `None` bucket for those without a start year (only when there are any). As a facet it
    counts under every filter except the start-year range."""
    where = _conditions(flt, skip=None if own_filter else "startYears")
    decade = "(c.start_year / 10) * 10"  # integer division on both databases
    counted = await listing.bucket_counts(
        where, f"SELECT {decade} AS v, COUNT(*) AS n FROM cooperation c {where.sql()} GROUP BY {decade}",
        tallies.DECADE, tallies.int_or_none,
    )
    counts = {(int(v) if v is not None else None): n for v, n in counted.items()}
    facet = [FacetCount(d, counts[d]) for d in sorted(d for d in counts if d is not None)]
    if counts.get(None):
        facet.append(FacetCount(None, counts[None]))
    return facet


@dataclass(frozen=True)
class Statistics:
    """The counts of one filter; each method runs one statement (the same as its facet's)."""

    filter: CooperationFilter

    async def total(self) -> int:
        return await listing.count(self.filter)

    async def topic_fields(self) -> list[FacetCount]:
        return await listing.topic_field_facet(self.filter, own_filter=True)

    async def legal_forms(self) -> list[FacetCount]:
        return await listing.legal_form_facet(self.filter, own_filter=True)

    async def statuses(self) -> list[FacetCount]:
        return await listing.status_facet(self.filter, own_filter=True)

    async def start_decades(self) -> list[FacetCount]:
        return await start_decade_facet(self.filter, own_filter=True)

    async def regions(self) -> list[FacetCount]:
        return await listing.region_facet(self.filter, own_filter=True)
