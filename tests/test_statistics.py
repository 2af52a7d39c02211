"""Issue 11, part 4: the `statistics` query against the facets and against the list's totalCount."""

from __future__ import annotations

import pytest
from graphql import parse

from service.sql import fetch

BUCKETS = """
  totalCount
  topicFields { topicField { id label } count }
  legalForms { legalForm { code } count }
  statuses { status count }
  startDecades { decade label count }
  regions { region { id name kind } count }
"""
STATISTICS = f"query($f: CooperationFilter, $s: String) {{ statistics(filter: $f, search: $s) {{ {BUCKETS} }} }}"
FACETS = f"""query($f: CooperationFilter, $s: String) {{ cooperations(filter: $f, search: $s, first: 0) {{
  totalCount facets {{ {BUCKETS.replace("totalCount", "")} }} }} }}"""
TOTAL = "query($f: CooperationFilter, $s: String) { cooperations(filter: $f, search: $s, first: 0) { totalCount } }"


def keyed(stats: dict) -> dict[str, dict]:
    """Each dimension as {bucket key: count}."""
    return {
        "topicFields": {f["topicField"]["id"]: f["count"] for f in stats["topicFields"]},
        "legalForms": {(f["legalForm"] or {}).get("code"): f["count"] for f in stats["legalForms"]},
        "statuses": {f["status"]: f["count"] for f in stats["statuses"]},
        "startDecades": {f["decade"]: f["count"] for f in stats["startDecades"]},
        "regions": {f["region"]["id"]: f["count"] for f in stats["regions"]},
    }


async def statistics(gql, flt=None, search=None) -> dict:
    result = await gql(STATISTICS, {"f": flt, "s": search})
    assert not result.errors, result.errors
    return result.data["statistics"]


async def total(gql, flt, search=None) -> int:
    result = await gql(TOTAL, {"f": flt, "s": search})
    assert not result.errors, result.errors
    return result.data["cooperations"]["totalCount"]


async def test_without_a_filter_statistics_equal_the_facets_in_every_dimension(gql):
    stats = await statistics(gql)
    result = await gql(FACETS, {})
    assert not result.errors, result.errors
    facets = result.data["cooperations"]["facets"]
    assert stats["totalCount"] == result.data["cooperations"]["totalCount"] > 100
    assert keyed(stats) == keyed(facets)
    for dimension, counts in keyed(stats).items():
        assert sum(counts.values()) > 0, dimension
    # one value per cooperation: these add up to the total
    for dimension in ("legalForms", "statuses", "startDecades"):
        assert sum(keyed(stats)[dimension].values()) == stats["totalCount"], dimension
    labels = {f["decade"]: f["label"] for f in stats["startDecades"]}
    assert labels[1990] == "1990er" and labels[None] == "unbekannt"
    assert list(labels)[-1] is None and [d for d in labels if d is not None] == sorted(d for d in labels if d)


def with_bucket(flt: dict, dimension: str, key) -> dict | None:
    """The filter with one statistic's bucket added (None: not expressible as a filter)."""
    flt = dict(flt)
    if dimension == "topicFields":
        flt["topicFieldIds"] = [key]
    elif dimension == "regions":
        flt["regionIds"] = [key]
    elif dimension == "legalForms":
        if key is None:
            return None
        flt["legalForms"] = [key]
    elif dimension == "statuses":
        flt["statuses"] = [key]  # within the filter's own statuses: the intersection
    elif dimension == "startDecades":
        if key is None:
            return None
        flt["startYearFrom"] = max(key, flt.get("startYearFrom", key))
        flt["startYearTo"] = min(key + 9, flt.get("startYearTo", key + 9))
    return flt


@pytest.mark.parametrize("flt, search", [
    ({"statuses": ["ACTIVE", "ENDED"], "startYearFrom": 1975}, None),
    ({}, "Schule"),
    ({"legalForms": ["OERV"]}, "Kreis"),
])
async def test_under_a_filter_each_bucket_equals_the_list_with_that_bucket_as_filter(gql, flt, search):
    stats = await statistics(gql, flt, search)
    assert stats["totalCount"] == await total(gql, flt, search) > 0
    checked = 0
    for dimension, counts in keyed(stats).items():
        for key, count in counts.items():
            narrowed = with_bucket(flt, dimension, key)
            if dimension == "statuses" and flt.get("statuses") and key not in flt["statuses"]:
                assert count == 0, (dimension, key)
                continue
            if dimension == "legalForms" and flt.get("legalForms") and key not in flt["legalForms"]:
                assert count == 0, (dimension, key)
                continue
            if narrowed is None:
                continue
            assert count == await total(gql, narrowed, search), (dimension, key)
            checked += 1
    assert checked > 10
    # the buckets that no filter can express: no legal form, no start year
    stated = sum(c for k, c in keyed(stats)["legalForms"].items() if k is not None)
    assert keyed(stats)["legalForms"].get(None, 0) == stats["totalCount"] - stated
    dated = await total(gql, {**flt, "startYearFrom": flt.get("startYearFrom", 1), "startYearTo": 9999}, search)
    assert keyed(stats)["startDecades"].get(None, 0) == stats["totalCount"] - dated


LIST = """query($f: CooperationFilter, $after: String) { cooperations(filter: $f, first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id topicFields { id } } } } }"""


async def test_under_a_topic_filter_topic_counts_are_counted_from_the_listed_rows(gql):
    topics = await fetch("SELECT topic_field_id AS t, COUNT(*) AS n FROM cooperation_topic_field GROUP BY topic_field_id "
                         "ORDER BY n DESC LIMIT 2")
    flt = {"topicFieldIds": [str(r["t"]) for r in topics]}
    rows, after = [], None
    while True:
        result = await gql(LIST, {"f": flt, "after": after})
        connection = result.data["cooperations"]
        rows.extend(e["node"] for e in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    expected: dict[str, int] = {}
    for row in rows:
        for t in row["topicFields"]:
            expected[t["id"]] = expected.get(t["id"], 0) + 1
    stats = await statistics(gql, flt)
    assert stats["totalCount"] == len(rows)
    assert {k: v for k, v in keyed(stats)["topicFields"].items() if v} == expected


async def test_bad_filters_are_refused_with_codes(gql):
    result = await gql(STATISTICS, {"f": {"partnerIds": ["999999999"]}})
    assert result.codes == ["NOT_FOUND"] and result.data is None
    result = await gql(STATISTICS, {"s": "x" * 201})
    assert result.codes == ["BAD_USER_INPUT"]
    result = await gql(STATISTICS, {"f": {"startYearFrom": 2000, "startYearTo": 1990}})
    assert result.codes == ["BAD_USER_INPUT"]


def test_the_cost_rule_counts_every_list_of_statistics():
    from schema.build import default_schema
    from schema.cost import check_cost

    errors = check_cost(default_schema._schema, parse(STATISTICS), 1, None)
    # statistics 1; topic fields 50 + 50 objects; legal forms 50 + 50; statuses 10; decades 30; regions 450 + 450
    assert errors[0].extensions["cost"] == 1 + 100 + 100 + 10 + 30 + 900
