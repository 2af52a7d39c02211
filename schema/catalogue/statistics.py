"""The `statistics` query: counts by topic field, legal form, status, start decade and region.

The buckets and the statements are the facets' (schema.catalogue.types.CooperationFacets), counted
under all filters instead of all but their own (service.catalogue.statistics).
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from service.catalogue import cooperations as coop_service
from service.catalogue.statistics import Statistics
from schema.catalogue.queries import CooperationFilter, to_service_filter
from schema.catalogue.types import (
    LegalFormFacet,
    RegionFacet,
    StartDecadeCount,
    StatusFacet,
    TopicFieldFacet,
    legal_form_object,
    organization_object,
    start_decade_objects,
    topic_field_object,
)


@strawberry.type(description=(
    "Counts of the cooperations that match the filter and search, each under all filters (facets count "
    "under all filters but their own, so without a filter both agree). Legal form, status and start decade "
    "add up to totalCount; a cooperation counts once per topic field and region it has."
))
class CooperationStatistics:
    statistics: strawberry.Private[Statistics]

    @strawberry.field(description="How many cooperations match (the same as cooperations.totalCount).")
    async def total_count(self) -> int:
        return await self.statistics.total()

    @strawberry.field(description="Every topic field with its cooperations.")
    async def topic_fields(self) -> list[TopicFieldFacet]:
        return [TopicFieldFacet(topic_field=topic_field_object(f.value), count=f.count)
                for f in await self.statistics.topic_fields()]

    @strawberry.field(description="Every legal form; legalForm null counts cooperations without one.")
    async def legal_forms(self) -> list[LegalFormFacet]:
        return [LegalFormFacet(legal_form=legal_form_object(f.value) if f.value else None, count=f.count)
                for f in await self.statistics.legal_forms()]

    @strawberry.field(description="Every status.")
    async def statuses(self) -> list[StatusFacet]:
        return [StatusFacet(status=f.value, count=f.count) for f in await self.statistics.statuses()]

    @strawberry.field(description="Decades of the start year with hits, oldest first, then 'unbekannt'.")
    async def start_decades(self) -> list[StartDecadeCount]:
        return start_decade_objects(await self.statistics.start_decades())

    @strawberry.field(description="States and districts with hits (states first, by name): cooperations with a "
                                  "partner inside the region; selected regions always included.")
    async def regions(self) -> list[RegionFacet]:
        return [RegionFacet(region=organization_object(f.value), count=f.count)
                for f in await self.statistics.regions()]


@strawberry.type
class StatisticsQuery:
    @strawberry.field(description="Counts by topic field, legal form, status, start decade and region, with the "
                                  "same filter and search as `cooperations`.")
    async def statistics(self, info: Info, filter: CooperationFilter | None = None,
                         search: str | None = None) -> CooperationStatistics:
        service_filter = to_service_filter(filter, search)
        await coop_service.validate_filter(service_filter)
        return CooperationStatistics(statistics=Statistics(service_filter))
