"""Facet counts and totalCount under combined filters equal counts computed in Python over the API's
full list, and the region link table behind the region filter and facet stays exact under writes."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import Counter

import pytest
from tortoise.transactions import in_transaction

from service import db
from service.catalogue.models import Cooperation, CooperationPartner
from service.sql import fetch

ALL = """
query($after: String) {
  cooperations(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id status startYear legalForm { code } topicFields { id }
                   partners { leftYear organization { id } } } }
  }
}
"""

FACETS = """
query($filter: CooperationFilter, $search: String) {
  cooperations(filter: $filter, search: $search, first: 100) {
    totalCount
    edges { node { id } }
    facets {
      statuses { status count }
      legalForms { legalForm { code } count }
      topicFields { topicField { id } count }
      partners(first: 500) { organization { id } count }
      regions { region { id kind } count }
    }
  }
}
"""

DIMENSIONS = ("partnerIds", "regionIds", "topicFieldIds", "legalForms", "statuses")


async def full_list(gql) -> list[dict]:
    rows, after = [], None
    while True:
        result = await gql(ALL, {"after": after})
        assert not result.errors, result.errors
        connection = result.data["cooperations"]
        rows += [e["node"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return rows
        after = connection["pageInfo"]["endCursor"]


async def ancestry() -> tuple[dict[str, set[str]], dict[str, str]]:
    """Every organisation's ancestors (itself included) from the parent links, and its kind."""
    orgs = {str(r["id"]): (str(r["parent_id"]) if r["parent_id"] else None, r["kind"])
            for r in await fetch("SELECT id, parent_id, kind FROM organization")}
    up: dict[str, set[str]] = {}
    for oid in orgs:
        chain, node = set(), oid
        while node is not None:
            chain.add(node)
            node = orgs[node][0]
        up[oid] = chain
    return up, {oid: kind for oid, (_, kind) in orgs.items()}


def brute_force(coops: list[dict], up: dict[str, set[str]], kinds: dict[str, str], flt: dict,
                search_ids: set[str] | None) -> dict:
    def active(c):
        return [p["organization"]["id"] for p in c["partners"] if p["leftYear"] is None]

    def regions_of(c):
        return set().union(*(up[o] for o in active(c))) if active(c) else set()

    tests = {
        "partnerIds": lambda c: bool(set(active(c)) & set(flt["partnerIds"])),
        "regionIds": lambda c: bool(regions_of(c) & set(flt["regionIds"])),
        "topicFieldIds": lambda c: bool({t["id"] for t in c["topicFields"]} & set(flt["topicFieldIds"])),
        "legalForms": lambda c: (c["legalForm"] or {}).get("code") in flt["legalForms"],
        "statuses": lambda c: c["status"] in flt["statuses"],
    }

    def matches(c, skip=None):
        for name in DIMENSIONS:
            if flt.get(name) and name != skip and not tests[name](c):
                return False
        if "startYearFrom" in flt and (c["startYear"] is None or c["startYear"] < flt["startYearFrom"]):
            return False
        if "startYearTo" in flt and (c["startYear"] is None or c["startYear"] > flt["startYearTo"]):
            return False
        return search_ids is None or c["id"] in search_ids

    def under(skip):
        return [c for c in coops if matches(c, skip)]

    regions = Counter(r for c in under("regionIds") for r in regions_of(c))
    wanted = {r for r in regions if kinds[r] in ("STATE", "DISTRICT")}
    wanted |= {r for r in flt.get("regionIds", []) if kinds[r] != "OTHER"}
    return {
        "totalCount": len(under(None)),
        "statuses": Counter(c["status"] for c in under("statuses")),
        "legalForms": Counter((c["legalForm"] or {}).get("code") for c in under("legalForms")),
        "topicFields": Counter(t["id"] for c in under("topicFieldIds") for t in c["topicFields"]),
        "partners": Counter(o for c in under("partnerIds") for o in active(c)),
        "regions": {r: regions.get(r, 0) for r in wanted},
    }


def random_filters(rng: random.Random, coops: list[dict], up: dict[str, set[str]], kinds: dict[str, str],
                   count: int) -> list[dict]:
    partners = Counter(p["organization"]["id"] for c in coops for p in c["partners"])
    busy = [o for o, _ in partners.most_common(12)]
    former = [p["organization"]["id"] for c in coops for p in c["partners"] if p["leftYear"] is not None]
    regions = sorted({r for o in partners for r in up[o] if kinds[r] in ("STATE", "DISTRICT")})
    towns = sorted(o for o in partners if kinds[o] != "OTHER")
    topics = sorted({t["id"] for c in coops for t in c["topicFields"]})
    legal = sorted({c["legalForm"]["code"] for c in coops if c["legalForm"]})
    statuses = ["ACTIVE", "ENDED", "PLANNED", "NOT_REALIZED"]
    filters = []
    for _ in range(count):
        flt: dict = {}
        if rng.random() < 0.4:
            flt["partnerIds"] = rng.sample(busy + former, rng.randint(1, 2))
        if rng.random() < 0.5:
            flt["regionIds"] = rng.sample(regions, rng.randint(1, 2))
            if rng.random() < 0.2:
                flt["regionIds"].append(rng.choice(towns))  # a municipality as region: its own count
        if rng.random() < 0.5:
            flt["topicFieldIds"] = rng.sample(topics, rng.randint(1, 3))
        if rng.random() < 0.4:
            flt["legalForms"] = rng.sample(legal, rng.randint(1, 2))
        if rng.random() < 0.5:
            flt["statuses"] = rng.sample(statuses, rng.randint(1, 2))
        if rng.random() < 0.2:
            flt["startYearFrom"] = rng.randint(1970, 2010)
        if rng.random() < 0.2:
            flt["startYearTo"] = rng.randint(2000, 2025)
        filters.append(flt)
    return filters


async def test_facets_and_total_equal_brute_force_counts_under_combined_filters(gql):
    coops = await full_list(gql)
    up, kinds = await ancestry()
    assert len(coops) > 100
    rng = random.Random(7)
    cases = random_filters(rng, coops, up, kinds, 60)
    cases += [{}, {"statuses": ["ACTIVE"]}]
    searches = [None, "Abwasser", "Rettungsdienst"]
    for index, flt in enumerate(cases):
        search = searches[index % len(searches)] if index % 4 == 0 else None
        search_ids = None
        if search:
            search_ids = {c["id"] for c in await full_list_search(gql, search)}
        expected = brute_force(coops, up, kinds, flt, search_ids)
        result = await gql(FACETS, {"filter": flt, "search": search})
        assert not result.errors, (flt, result.errors)
        answer = result.data["cooperations"]
        facets = answer["facets"]
        context = (flt, search)
        assert answer["totalCount"] == expected["totalCount"], context
        if answer["totalCount"] <= 100:
            assert len(answer["edges"]) == answer["totalCount"], context
        assert {f["status"]: f["count"] for f in facets["statuses"] if f["count"]} == expected["statuses"], context
        assert {(f["legalForm"] or {}).get("code"): f["count"] for f in facets["legalForms"] if f["count"]} == \
            expected["legalForms"], context
        assert {f["topicField"]["id"]: f["count"] for f in facets["topicFields"] if f["count"]} == \
            expected["topicFields"], context
        partners = {f["organization"]["id"]: f["count"] for f in facets["partners"]}
        assert {o: n for o, n in partners.items() if n} == expected["partners"], context
        assert set(flt.get("partnerIds", [])) <= set(partners), context  # selected partners always listed
        assert {f["region"]["id"]: f["count"] for f in facets["regions"]} == expected["regions"], context


async def full_list_search(gql, search: str) -> list[dict]:
    query = ALL.replace("cooperations(first: 100, after: $after)",
                        "cooperations(first: 100, after: $after, search: $search)").replace(
        "query($after: String)", "query($after: String, $search: String)")
    rows, after = [], None
    while True:
        result = await gql(query, {"after": after, "search": search})
        assert not result.errors, result.errors
        connection = result.data["cooperations"]
        rows += [e["node"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return rows
        after = connection["pageInfo"]["endCursor"]


# --- cooperation_region (migration 0011) ---------------------------------------------------------

EXPECTED_REGIONS = (
    "SELECT a.ancestor_id AS region_id, p.cooperation_id, COUNT(*) AS partners FROM cooperation_partner p "
    "JOIN organization_ancestor a ON a.organization_id = p.organization_id WHERE p.left_year IS NULL "
    "GROUP BY a.ancestor_id, p.cooperation_id"
)


async def region_rows(sql: str) -> set[tuple[int, int, int]]:
    return {(r["region_id"], r["cooperation_id"], int(r["partners"])) for r in await fetch(sql)}


async def assert_region_table_exact() -> None:
    assert await region_rows("SELECT region_id, cooperation_id, partners FROM cooperation_region") == \
        await region_rows(EXPECTED_REGIONS)


async def towns_of_one_district(count: int) -> list[int]:
    """Municipalities below one district, so that their cooperation_region rows overlap."""
    rows = await fetch(
        "SELECT parent_id, COUNT(*) AS n FROM organization WHERE kind = 'MUNICIPALITY' AND parent_id IS NOT NULL "
        "GROUP BY parent_id ORDER BY n DESC, parent_id LIMIT 1")
    towns = await fetch("SELECT id FROM organization WHERE parent_id = ? ORDER BY id", [rows[0]["parent_id"]])
    assert len(towns) >= count
    return [t["id"] for t in towns[:count]]


async def new_cooperation(title: str) -> Cooperation:
    return await Cooperation.create(title=title, sort_title=title.lower(), search_text=title.lower(),
                                    data_as_of=dt.date(2025, 1, 1))


class Rollback(Exception):
    pass


async def test_region_link_table_follows_every_partner_change(settings):
    await assert_region_table_exact()
    towns = await towns_of_one_district(4)
    with pytest.raises(Rollback):
        async with in_transaction():
            coop = await new_cooperation("Testkooperation Regionen")
            for position, town in enumerate(towns[:3]):
                await CooperationPartner.create(cooperation_id=coop.id, organization_id=town, position=position)
            await assert_region_table_exact()  # district and state count 3 partners, once each
            district_rows = await fetch("SELECT partners FROM cooperation_region WHERE cooperation_id = ? "
                                        "ORDER BY partners DESC", [coop.id])
            assert district_rows[0]["partners"] == 3
            await CooperationPartner.filter(cooperation_id=coop.id, organization_id=towns[0]).update(left_year=2020)
            await assert_region_table_exact()  # a former partner no longer counts
            await CooperationPartner.filter(cooperation_id=coop.id, organization_id=towns[1]).update(
                organization_id=towns[3])
            await assert_region_table_exact()
            await CooperationPartner.filter(cooperation_id=coop.id, organization_id=towns[0]).update(left_year=None)
            await CooperationPartner.filter(cooperation_id=coop.id, organization_id=towns[2]).delete()
            await assert_region_table_exact()
            await coop.delete()  # the partner links go by cascade, and their region rows with them
            await assert_region_table_exact()
            assert not await fetch("SELECT 1 FROM cooperation_region WHERE cooperation_id = ?", [coop.id])
            raise Rollback
    await assert_region_table_exact()


async def test_region_link_table_stays_exact_under_concurrent_partner_changes(settings):
    """Many transactions at once add and remove partners of one cooperation, all in one district."""
    if db.dialect() != "postgres":
        pytest.skip("SQLite runs one write transaction at a time; the race needs PostgreSQL")
    towns = await towns_of_one_district(9)
    coop = await new_cooperation("Testkooperation Wettlauf")
    try:
        async def add(position: int, town: int) -> None:
            async with in_transaction():
                await CooperationPartner.create(cooperation_id=coop.id, organization_id=town, position=position)
                await asyncio.sleep(0.01)  # hold the transaction open while the others run

        await asyncio.gather(*(add(i, t) for i, t in enumerate(towns)))
        await assert_region_table_exact()

        async def change(index: int, town: int) -> None:
            async with in_transaction():
                links = CooperationPartner.filter(cooperation_id=coop.id, organization_id=town)
                if index % 3 == 0:
                    await links.delete()
                elif index % 3 == 1:
                    await links.update(left_year=2024)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(change(i, t) for i, t in enumerate(towns)))
        await assert_region_table_exact()
        counts = await fetch("SELECT MAX(partners) AS n FROM cooperation_region WHERE cooperation_id = ?", [coop.id])
        assert counts[0]["n"] == len([i for i in range(len(towns)) if i % 3 == 2])
    finally:
        await coop.delete()
    await assert_region_table_exact()
