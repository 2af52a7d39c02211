"""facet_tally (migration 0012), behind the unfiltered facets and totalCount of the start page, equals
counting the rows after every kind of write, inside the writing transaction, after a rollback,
after folding, and with many writers and folds at once on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from service import db, publication
from service.catalogue import tallies
from service.housekeeping import run_housekeeping
from service.catalogue.models import Cooperation, CooperationPartner, CooperationStatus, CooperationTopicField
from service.sql import fetch
from tests.test_facet_counts import Rollback, new_cooperation, towns_of_one_district

DIRECT = (
    "SELECT 's' AS dim, status AS bucket, COUNT(*) AS n FROM cooperation GROUP BY status "
    "UNION ALL SELECT 'l', COALESCE(legal_form_id, ''), COUNT(*) FROM cooperation GROUP BY COALESCE(legal_form_id, '') "
    "UNION ALL SELECT 'd', COALESCE(CAST((start_year / 10) * 10 AS TEXT), ''), COUNT(*) FROM cooperation "
    "GROUP BY COALESCE(CAST((start_year / 10) * 10 AS TEXT), '') "
    "UNION ALL SELECT 't', CAST(topic_field_id AS TEXT), COUNT(*) FROM cooperation_topic_field GROUP BY topic_field_id "
    "UNION ALL SELECT 'p', CAST(organization_id AS TEXT), COUNT(*) FROM cooperation_partner "
    "WHERE left_year IS NULL GROUP BY organization_id "
    "UNION ALL SELECT 'r', CAST(region_id AS TEXT), COUNT(*) FROM cooperation_region GROUP BY region_id"
)
TALLY = "SELECT dim, bucket, SUM(n) AS n FROM facet_tally GROUP BY dim, bucket HAVING SUM(n) <> 0"


async def buckets(sql: str) -> dict[tuple[str, str], int]:
    return {(r["dim"], r["bucket"]): int(r["n"]) for r in await fetch(sql)}


async def assert_tally_exact() -> None:
    direct, tally = await buckets(DIRECT), await buckets(TALLY)
    differences = {key: (direct.get(key), tally.get(key)) for key in direct.keys() | tally.keys()
                   if direct.get(key) != tally.get(key)}
    assert not differences, differences  # (dimension, bucket): (counted, tallied)


async def two_codes(table: str, column: str) -> list:
    return [r["v"] for r in await fetch(f"SELECT {column} AS v FROM {table} ORDER BY {column} LIMIT 2")]


async def test_tally_follows_every_kind_of_write_inside_the_transaction(settings):
    await assert_tally_exact()
    towns = await towns_of_one_district(3)
    legal = await two_codes("legal_form", "code")
    topics = await two_codes("topic_field", "id")
    with pytest.raises(Rollback):
        async with in_transaction():
            coop = await new_cooperation("Testkooperation Zählung")
            await assert_tally_exact()  # a new cooperation: status ACTIVE, no legal form, no start year
            coop.legal_form_id, coop.start_year, coop.status = legal[0], 1998, CooperationStatus.PLANNED
            await coop.save()
            await assert_tally_exact()
            await Cooperation.filter(id=coop.id).update(legal_form_id=legal[1], start_year=2004)
            await Cooperation.filter(id=coop.id).update(title="Nur der Titel")  # no bucket moves
            await assert_tally_exact()
            await CooperationTopicField.create(cooperation_id=coop.id, topic_field_id=topics[0])
            await CooperationTopicField.create(cooperation_id=coop.id, topic_field_id=topics[1])
            await CooperationTopicField.filter(cooperation_id=coop.id, topic_field_id=topics[0]).delete()
            await assert_tally_exact()
            for position, town in enumerate(towns):
                await CooperationPartner.create(cooperation_id=coop.id, organization_id=town, position=position)
            await assert_tally_exact()  # partners, and the district and state once each
            await CooperationPartner.filter(cooperation_id=coop.id, organization_id=towns[0]).update(left_year=2020)
            await CooperationPartner.filter(cooperation_id=coop.id, organization_id=towns[1]).delete()
            await assert_tally_exact()
            await CooperationPartner.filter(cooperation_id=coop.id, organization_id=towns[0]).update(left_year=None)
            await assert_tally_exact()
            await coop.delete()  # topic fields, partners and region rows go by cascade
            await assert_tally_exact()
            raise Rollback
    await assert_tally_exact()


async def test_fold_leaves_one_row_per_bucket_and_every_count(gql, settings):
    start = """{ cooperations(first: 1) { totalCount facets { statuses { status count } } } }"""
    before = (await gql(start)).data
    coop = await new_cooperation("Testkooperation Falten")
    try:
        coop.status = CooperationStatus.ENDED
        await coop.save()
        await publication.bump()  # as every publishing writer does: the cached start page is stale
        assert await tallies.fold() > 0
        await assert_tally_exact()
        doubled = await fetch("SELECT dim, bucket FROM facet_tally GROUP BY dim, bucket HAVING COUNT(*) > 1")
        assert not doubled
        after = (await gql(start)).data["cooperations"]
        assert after["totalCount"] == before["cooperations"]["totalCount"] + 1
        ended = {f["status"]: f["count"] for f in after["facets"]["statuses"]}["ENDED"]
        assert ended == {f["status"]: f["count"] for f in before["cooperations"]["facets"]["statuses"]}["ENDED"] + 1
    finally:
        await coop.delete()
        await publication.bump()
    await assert_tally_exact()


async def test_folding_runs_only_after_enough_new_rows(settings):
    folding = tallies.Folding(min_rows=3)
    await folding.run_if_due()  # the first check folds whatever is there
    assert await folding.run_if_due() == 0  # nothing new
    coop = await new_cooperation("Testkooperation Zeitplan")  # three rows: status, legal form, decade
    try:
        assert await folding.run_if_due() > 0
    finally:
        await coop.delete()
    await assert_tally_exact()


async def test_tally_stays_exact_with_concurrent_writers_and_folds(settings):
    if db.dialect() != "postgres":
        pytest.skip("SQLite runs one write transaction at a time; the race needs PostgreSQL")
    towns = await towns_of_one_district(6)
    topics = await two_codes("topic_field", "id")
    created: list[int] = []

    async def writer(index: int) -> None:
        async with in_transaction():
            coop = await new_cooperation(f"Testkooperation Wettlauf Zählung {index}")
            created.append(coop.id)
            coop.status = CooperationStatus.ENDED if index % 2 else CooperationStatus.PLANNED
            coop.start_year = 1990 + index
            await coop.save()
            await CooperationTopicField.create(cooperation_id=coop.id, topic_field_id=topics[index % 2])
            for position, town in enumerate(towns[index % 3: index % 3 + 3]):
                await CooperationPartner.create(cooperation_id=coop.id, organization_id=town, position=position)
            await asyncio.sleep(0.01)  # hold the transaction open while the others and the folds run
        if index % 4 == 0:
            await Cooperation.filter(id=coop.id).delete()

    async def folder() -> int:
        folded = 0
        for _ in range(5):
            folded += await tallies.fold()
            await asyncio.sleep(0.005)
        return folded

    try:
        await asyncio.gather(*(writer(i) for i in range(24)), *(folder() for _ in range(3)))
        await assert_tally_exact()
        await tallies.fold()
        await assert_tally_exact()
    finally:
        await Cooperation.filter(id__in=created).delete()
    await assert_tally_exact()


async def test_housekeeping_folds_the_tally_and_stops_when_told(settings):
    coop = await new_cooperation("Testkooperation Haushalt")
    try:
        assert await fetch("SELECT dim FROM facet_tally GROUP BY dim, bucket HAVING COUNT(*) > 1")
        stop = asyncio.Event()
        loop = asyncio.create_task(run_housekeeping(stop, every=0.01))
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
        assert not await fetch("SELECT dim FROM facet_tally GROUP BY dim, bucket HAVING COUNT(*) > 1")
    finally:
        await coop.delete()
    await assert_tally_exact()
