"""Searching, filtering and faceting the public catalogue through the real GraphQL endpoint."""

from __future__ import annotations

import pytest

from service.sql import fetch

LIST = """
query($filter: CooperationFilter, $search: String, $first: Int, $after: String, $orderBy: CooperationOrderInput) {
  cooperations(filter: $filter, search: $search, first: $first, after: $after, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id title startYear partners { role organization { id name } } } }
  }
}
"""

FACETS = """
query($filter: CooperationFilter, $search: String) {
  cooperations(filter: $filter, search: $search, first: 0) {
    totalCount
    facets {
      statuses { status count }
      legalForms { legalForm { code } count }
      topicFields { topicField { id key } count }
      partners(first: 500) { organization { id name } count }
    }
  }
}
"""


async def org_id(name: str) -> str:
    rows = await fetch("SELECT id FROM organization WHERE name = ?", [name])
    assert rows, name
    return str(rows[0]["id"])


async def all_titles(gql, **variables) -> list[str]:
    result = await gql(LIST, {"first": 100, **variables})
    assert not result.errors, result.errors
    connection = result.data["cooperations"]
    if not connection["pageInfo"]["hasNextPage"]:
        assert connection["totalCount"] == len(connection["edges"])
    return [e["node"]["title"] for e in connection["edges"]]


async def test_searching_rettungsdienst_lists_the_rescue_service_cooperations(gql):
    titles = await all_titles(gql, search="Rettungsdienst")
    assert titles, "no rescue-service cooperation found"
    assert all("rettungsdienst" in t.lower() for t in titles), titles
    # The source tables hold these rescue-service rows; each must be found.
    for expected in ("Rettungsdienst", "Durchführung des Rettungsdienstes"):
        assert expected in titles


@pytest.mark.parametrize(
    ("typed", "proper"),
    [("Bonen", "Bönen"), ("Luenen", "Lünen"), ("BÖNEN", "Bönen"), ("frondenberg", "Fröndenberg")],
)
async def test_search_ignores_case_and_umlaut_spelling(gql, typed, proper):
    assert sorted(await all_titles(gql, search=typed)) == sorted(await all_titles(gql, search=proper))
    assert await all_titles(gql, search=typed)


async def test_search_for_strassen_finds_strasse_in_titles_and_partner_names(gql):
    titles = await all_titles(gql, search="strassen")
    assert "Durchführung der Straßenreinigung" in titles
    # Found through the partner name "Landesbetrieb Straßenbau NRW", not the title:
    assert "Winterdienst – Vereinbarung über gegenseitige Aufgabenübernahme" in titles


async def test_search_combines_words_and_survives_query_syntax(gql):
    both = await all_titles(gql, search="Rettungsdienst Lünen")
    assert "Durchführung des Rettungsdienstes" in both
    assert set(both) < set(await all_titles(gql, search="Rettungsdienst"))
    for hostile in ['"', "*", "OR", "NEAR(", "a:*", "') OR 1=1 --", "!&|"]:
        result = await gql(LIST, {"search": hostile, "first": 5})
        assert not result.errors, (hostile, result.errors)


async def test_filter_by_selm_lists_exactly_selms_cooperations(gql):
    selm = await org_id("Selm")
    result = await gql(LIST, {"filter": {"partnerIds": [selm]}, "first": 100})
    connection = result.data["cooperations"]
    expected = await fetch("SELECT COUNT(*) AS n FROM cooperation_partner WHERE organization_id = ? "
                           "AND left_year IS NULL", [int(selm)])
    assert connection["totalCount"] == expected[0]["n"] > 5
    assert len(connection["edges"]) == connection["totalCount"]
    for edge in connection["edges"]:
        assert selm in {p["organization"]["id"] for p in edge["node"]["partners"]}


async def test_region_filter_matches_cooperations_with_a_partner_inside_the_district(gql):
    kreis = await org_id("Kreis Unna")
    result = await gql(LIST, {"filter": {"regionIds": [kreis]}, "first": 100})
    connection = result.data["cooperations"]
    inside = {r["id"] for r in await fetch(
        "SELECT organization_id AS id FROM organization_ancestor WHERE ancestor_id = ?", [int(kreis)])}
    for edge in connection["edges"]:
        assert inside & {int(p["organization"]["id"]) for p in edge["node"]["partners"]}
    titles = {e["node"]["title"] for e in connection["edges"]}
    assert "Gemeinsame Adoptionsvermittlungsstelle" in titles  # towns only, no Kreis as partner
    saarland = await org_id("Saarland")
    saar = await all_titles(gql, filter={"regionIds": [saarland]})
    assert saar and not set(saar) & titles


async def test_facets_add_up_to_the_total_under_the_current_filter(gql):
    selm = await org_id("Selm")
    for variables in ({}, {"filter": {"partnerIds": [selm]}}, {"search": "Datenverarbeitung"}):
        result = await gql(FACETS, variables)
        connection = result.data["cooperations"]
        total = connection["totalCount"]
        facets = connection["facets"]
        assert sum(f["count"] for f in facets["statuses"]) == total
        assert sum(f["count"] for f in facets["legalForms"]) == total
        # Every cooperation has at least one topic field, some two.
        assert sum(f["count"] for f in facets["topicFields"]) >= total
        if variables.get("filter"):
            selm_count = {f["organization"]["id"]: f["count"] for f in facets["partners"]}[selm]
            assert selm_count == total


async def test_a_facet_ignores_its_own_filter_so_other_choices_stay_visible(gql):
    everything = (await gql(FACETS, {})).data["cooperations"]["facets"]["statuses"]
    active_only = await gql(FACETS, {"filter": {"statuses": ["ACTIVE"]}})
    connection = active_only.data["cooperations"]
    assert connection["facets"]["statuses"] == everything
    assert connection["totalCount"] == {f["status"]: f["count"] for f in everything}["ACTIVE"]


async def test_filters_combine_and_start_year_range_applies(gql):
    result = await gql(LIST, {"filter": {"startYearFrom": 1980, "startYearTo": 1989}, "first": 100})
    years = [e["node"]["startYear"] for e in result.data["cooperations"]["edges"]]
    assert years and all(1980 <= y <= 1989 for y in years)
    topic = (await gql("{ topicFields { id key } }")).data["topicFields"]
    safety = next(t["id"] for t in topic if t["key"] == "sicherheit")
    result = await gql(FACETS, {"filter": {"topicFieldIds": [safety], "legalForms": ["OERV"]}})
    connection = result.data["cooperations"]
    assert connection["totalCount"] == {f["legalForm"]["code"]: f["count"]
                                        for f in connection["facets"]["legalForms"] if f["legalForm"]}["OERV"]


async def test_pages_cover_every_row_once_in_a_stable_order(gql):
    for order in ({"field": "TITLE", "direction": "ASC"}, {"field": "START_YEAR", "direction": "DESC"}):
        seen, after, total = [], None, None
        while True:
            result = await gql(LIST, {"first": 17, "after": after, "orderBy": order})
            assert not result.errors, result.errors
            connection = result.data["cooperations"]
            total = connection["totalCount"]
            seen.extend(e["node"] for e in connection["edges"])
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        ids = [n["id"] for n in seen]
        assert len(ids) == len(set(ids)) == total
        if order["field"] == "START_YEAR":
            known = [n["startYear"] for n in seen if n["startYear"] is not None]
            assert known == sorted(known, reverse=True)
            assert all(n["startYear"] is None for n in seen[len(known):])


async def test_contacts_not_yet_confirmed_appear_nowhere(gql):
    hidden = await fetch("SELECT k.id, k.last_name, k.organization_id FROM contact k WHERE k.state <> 'PUBLIC'")
    assert hidden, "the seed holds unconfirmed demo contacts"
    linked = await fetch(
        "SELECT cc.cooperation_id FROM contact_cooperation cc JOIN contact k ON k.id = cc.contact_id "
        "WHERE k.state <> 'PUBLIC'")
    hidden_ids = {str(r["id"]) for r in hidden}
    query = "query($id: ID!) { cooperation(id: $id) { contacts { id lastName } } }"
    for row in linked[:5]:
        result = await gql(query, {"id": str(row["cooperation_id"])})
        assert not hidden_ids & {c["id"] for c in result.data["cooperation"]["contacts"]}
    org_query = "query($id: ID!) { municipality(id: $id) { contacts { id } } }"
    for row in hidden[:5]:
        if row["organization_id"] is None:
            continue
        result = await gql(org_query, {"id": str(row["organization_id"])})
        assert not hidden_ids & {c["id"] for c in result.data["municipality"]["contacts"]}


REGIONS = """
query($filter: CooperationFilter, $search: String) {
  cooperations(filter: $filter, search: $search, first: 0) {
    totalCount
    facets { regions { region { id name kind } count } }
  }
}
"""


async def test_region_facet_counts_match_the_region_filter(gql):
    """Each state's and district's count is the totalCount of filtering by it; the facet ignores its
    own filter and keeps the selected region listed."""
    selm = await org_id("Selm")
    for base in ({}, {"search": "Datenverarbeitung"}, {"filter": {"partnerIds": [selm]}}):
        answer = (await gql(REGIONS, base)).data["cooperations"]
        facet = answer["facets"]["regions"]
        assert facet and {f["region"]["kind"] for f in facet} <= {"STATE", "DISTRICT"}
        kinds = [f["region"]["kind"] for f in facet]
        assert kinds == sorted(kinds, key=lambda k: k != "STATE")  # states first
        assert all(0 < f["count"] <= answer["totalCount"] for f in facet)
        for entry in facet:
            region = entry["region"]["id"]
            flt = {**base.get("filter", {}), "regionIds": [region]}
            narrowed = (await gql(REGIONS, {**base, "filter": flt})).data["cooperations"]
            assert narrowed["totalCount"] == entry["count"], entry
            assert narrowed["facets"]["regions"] == facet  # its own filter left out
    # A cooperation with two partners in one district counts once there.
    unna = next(f for f in (await gql(REGIONS, {})).data["cooperations"]["facets"]["regions"]
                if f["region"]["name"] == "Kreis Unna")
    rows = await fetch("SELECT COUNT(DISTINCT p.cooperation_id) AS n FROM cooperation_partner p "
                       "JOIN organization_ancestor a ON a.organization_id = p.organization_id "
                       "WHERE a.ancestor_id = ?", [int(unna["region"]["id"])])
    assert unna["count"] == rows[0]["n"]


async def test_a_selected_region_without_hits_stays_in_the_region_facet(gql):
    saarland = await org_id("Saarland")
    selm = await org_id("Selm")
    answer = (await gql(REGIONS, {"filter": {"partnerIds": [selm], "regionIds": [saarland]}})).data["cooperations"]
    assert answer["totalCount"] == 0
    assert {"region": {"id": saarland, "name": "Saarland", "kind": "STATE"}, "count": 0} in answer["facets"]["regions"]
