"""Profiles, pagination limits, bad input and the GraphQL-over-HTTP contract."""

from __future__ import annotations

import logging

import pytest

from service.sql import fetch

PROFILE = """
query($id: ID!) {
  cooperation(id: $id) {
    id title description status sinceText startYear endYear dataAsOf lastApprovedChangeAt version
    legalForm { code label legalBasis category } legalFormText partnersText
    partners { role organization { __typename id name ... on Municipality { kind ags parent { name } } } }
    performedBy { kind text organization { id name } }
    topicFields { key label }
    savings { amount currency period text }
    contacts { id name }
    partOf { title } parts { title savings { amount } }
  }
}
"""


async def coop_id(key: str) -> str:
    rows = await fetch("SELECT id FROM cooperation WHERE key = ?", [key])
    return str(rows[0]["id"])


async def test_profile_shows_partners_roles_performer_and_dates(gql):
    # Nr. 11 of the towns' table: Rettungsdienst, Bergkamen, Bönen, Kamen; performed by Kamen; örV; 1982.
    result = await gql(PROFILE, {"id": await coop_id("unna-kommunen-11")})
    assert not result.errors
    coop = result.data["cooperation"]
    assert coop["title"] == "Rettungsdienst"
    roles = {p["organization"]["name"]: p["role"] for p in coop["partners"]}
    assert roles == {"Bergkamen": "PARTNER", "Bönen": "PARTNER", "Kamen": "LEAD"}
    assert coop["performedBy"]["kind"] == "PARTNER" and coop["performedBy"]["organization"]["name"] == "Kamen"
    assert coop["legalForm"]["code"] == "OERV" and coop["legalForm"]["category"] == "PUBLIC_LAW"
    assert coop["sinceText"] == "1982" and coop["startYear"] == 1982
    assert coop["dataAsOf"] == "2016-01-12"
    assert coop["lastApprovedChangeAt"] is None and coop["version"] == 1
    bergkamen = next(p for p in coop["partners"] if p["organization"]["name"] == "Bergkamen")["organization"]
    assert bergkamen["__typename"] == "Municipality" and bergkamen["ags"] == "05978004"
    assert bergkamen["parent"]["name"] == "Kreis Unna"


async def test_framework_cooperation_shows_its_parts_and_savings(gql):
    rows = await fetch("SELECT id FROM cooperation WHERE savings_amount IS NOT NULL AND parent_id IS NULL")
    assert rows, "the Saarbrücken / Saarpfalz-Kreis IT cooperation carries its savings"
    coop = (await gql(PROFILE, {"id": str(rows[0]["id"])})).data["cooperation"]
    assert float(coop["savings"]["amount"]) == 15000 and coop["savings"]["currency"] == "EUR"
    assert coop["savings"]["period"] == "YEAR"
    assert len(coop["parts"]) >= 3
    part = (await gql(PROFILE, {"id": await coop_id_of_title(coop["parts"][0]["title"])})).data["cooperation"]
    assert part["partOf"]["title"] == coop["title"]


async def coop_id_of_title(title: str) -> str:
    return str((await fetch("SELECT id FROM cooperation WHERE title = ?", [title]))[0]["id"])


async def test_external_partners_are_organisations_with_id_and_name(gql):
    result = await gql(PROFILE, {"id": await coop_id("unna-kommunen-34")})
    types = {p["organization"]["name"]: p["organization"]["__typename"] for p in result.data["cooperation"]["partners"]}
    assert types["Landesbetrieb Straßenbau NRW"] == "ExternalOrganization"
    assert types["Bergkamen"] == "Municipality"


async def test_reference_lists(gql):
    result = await gql("{ topicFields { id key label } legalForms { id code label abbreviation legalBasis category } }")
    keys = [t["key"] for t in result.data["topicFields"]]
    assert "sicherheit" in keys and len(keys) == 11
    forms = {f["code"]: f for f in result.data["legalForms"]}
    assert forms["OERV"]["abbreviation"] == "örV" and "GkG" in forms["OERV"]["legalBasis"]
    assert forms["GMBH"]["category"] == "PRIVATE_LAW" and forms["ABSPRACHE"]["category"] == "INFORMAL"


async def test_municipality_lists_its_cooperations_and_kind(gql):
    kreis = (await fetch("SELECT id FROM organization WHERE name = 'Kreis Unna'"))[0]["id"]
    query = """query($id: ID!, $after: String) { municipality(id: $id) { name kind ags parent { name kind }
      cooperations(first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }"""
    first = (await gql(query, {"id": str(kreis)})).data["municipality"]
    assert (first["name"], first["kind"], first["ags"]) == ("Kreis Unna", "DISTRICT", "05978")
    assert first["parent"] == {"name": "Nordrhein-Westfalen", "kind": "STATE"}
    assert first["cooperations"]["totalCount"] >= 48
    second = (await gql(query, {"id": str(kreis), "after": first["cooperations"]["pageInfo"]["endCursor"]}))
    ids_1 = {e["node"]["id"] for e in first["cooperations"]["edges"]}
    ids_2 = {e["node"]["id"] for e in second.data["municipality"]["cooperations"]["edges"]}
    assert len(ids_1) == len(ids_2) == 10 and not ids_1 & ids_2


async def test_municipality_search_and_region_filter(gql):
    query = """query($search: String, $filter: MunicipalityFilter) { municipalities(search: $search, filter: $filter, first: 100)
      { totalCount edges { node { name kind } } } }"""
    assert [e["node"]["name"] for e in (await gql(query, {"search": "Luenen"})).data["municipalities"]["edges"]] == ["Lünen"]
    kreis = (await fetch("SELECT id FROM organization WHERE name = 'Kreis Unna'"))[0]["id"]
    towns = await gql(query, {"filter": {"regionIds": [str(kreis)], "kinds": ["MUNICIPALITY"]}})
    names = {e["node"]["name"] for e in towns.data["municipalities"]["edges"]}
    assert names == {"Bergkamen", "Bönen", "Fröndenberg/Ruhr", "Holzwickede", "Kamen", "Lünen", "Schwerte",
                     "Selm", "Unna", "Werne"}
    others = await gql(query, {"search": "Caritas"})
    assert others.data["municipalities"]["totalCount"] == 0  # not a municipal body


@pytest.mark.parametrize(
    ("query", "variables", "code", "fragment"),
    [
        ("query($id: ID!) { cooperation(id: $id) { id } }", {"id": "999999"}, "NOT_FOUND", "No cooperation with id"),
        ("query($id: ID!) { cooperation(id: $id) { id } }", {"id": "abc"}, "BAD_USER_INPUT", "must be an id of ASCII digits"),
        ("query($id: ID!) { cooperation(id: $id) { id } }", {"id": "99999999999999999999"}, "NOT_FOUND", "No cooperation"),
        ("query($id: ID!) { municipality(id: $id) { id } }", {"id": "0"}, "NOT_FOUND", "No municipal body"),
        ("{ cooperations(first: 101) { totalCount } }", {}, "BAD_USER_INPUT", "between 0 and 100"),
        ("{ cooperations(first: -1) { totalCount } }", {}, "BAD_USER_INPUT", "between 0 and 100"),
        ('{ cooperations(after: "not-a-cursor") { totalCount } }', {}, "BAD_USER_INPUT", "Invalid cursor"),
        ("{ cooperations(filter: {partnerIds: [\"424242\"]}) { totalCount } }", {}, "NOT_FOUND", "No organisation"),
        ("{ cooperations(filter: {legalForms: [\"GBR\"]}) { totalCount } }", {}, "NOT_FOUND", "No legal form"),
        ("{ cooperations(filter: {startYearFrom: 2000, startYearTo: 1990}) { totalCount } }", {}, "BAD_USER_INPUT",
         "startYearFrom"),
        ("query($n: Int) { cooperations(first: $n) { totalCount } }", {"n": "ten"}, "BAD_USER_INPUT", "Variable '$n'"),
        ("{ cooperations { nope } }", {}, "GRAPHQL_VALIDATION_FAILED", "Cannot query field 'nope'"),
        ("{ cooperations { ", {}, "GRAPHQL_PARSE_FAILED", "Syntax Error"),
    ],
)
async def test_bad_input_gets_a_clear_error_and_no_traceback(gql, caplog, query, variables, code, fragment):
    caplog.set_level(logging.DEBUG)
    result = await gql(query, variables)
    assert result.codes == [code], result
    assert fragment in result.errors[0]["message"]
    assert "Traceback" not in str(result)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


async def test_cursor_of_another_ordering_is_refused(gql):
    first = await gql('{ cooperations(first: 2) { pageInfo { endCursor } } }')
    cursor = first.data["cooperations"]["pageInfo"]["endCursor"]
    result = await gql(
        "query($after: String) { cooperations(first: 2, after: $after, orderBy: {field: START_YEAR}) { totalCount } }",
        {"after": cursor},
    )
    assert result.codes == ["BAD_USER_INPUT"] and "another ordering" in result.errors[0]["message"]


async def test_graphql_response_json_clients_get_400_for_request_errors(client):
    headers = {"accept": "application/graphql-response+json"}
    bad = await client.post("/graphql", json={"query": "{ cooperations { "}, headers=headers)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in bad.json() or bad.json()["data"] is None
    field_error = await client.post("/graphql", json={"query": '{ cooperation(id: "999999") { id } }'}, headers=headers)
    assert field_error.status_code == 200  # partial results: data is present (null), errors listed
    ok = await client.post("/graphql", json={"query": "{ topicFields { id } }"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["data"]["topicFields"]


async def test_malformed_http_requests(client):
    not_json = await client.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    no_query = await client.post("/graphql", json={"variables": {}})
    assert no_query.status_code == 400
    wrong_method = await client.put("/graphql", json={"query": "{ topicFields { id } }"})
    assert wrong_method.status_code == 405
    get_query = await client.get("/graphql", params={"query": "{ topicFields { key } }"})
    assert get_query.status_code == 200 and get_query.json()["data"]["topicFields"]


async def test_query_depth_alias_and_token_limits(gql):
    deep = "{ cooperations { edges { node { " + "partOf { " * 14 + "id" + " }" * 14 + " } } } }"
    assert (await gql(deep)).codes == ["GRAPHQL_VALIDATION_FAILED"]
    aliases = "{ " + " ".join(f"a{i}: topicFields {{ id }}" for i in range(40)) + " }"
    assert "GRAPHQL_VALIDATION_FAILED" in (await gql(aliases)).codes
    tokens = "{ topicFields { " + "id " * 5000 + "} }"
    assert (await gql(tokens)).codes == ["GRAPHQL_PARSE_FAILED"]


NESTED = """query($first: Int) { cooperations(first: $first) { totalCount edges { node {
  id title legalForm { code } topicFields { label } partners { role organization { id name } }
  performedBy { organization { name } } contacts { name email } } } } }"""


async def test_statement_count_does_not_grow_with_page_size(gql):
    small = await gql(NESTED, {"first": 10})
    large = await gql(NESTED, {"first": 100})
    assert len(large.data["cooperations"]["edges"]) == 100
    assert small["extensions"]["sqlQueries"] == large["extensions"]["sqlQueries"] <= 8


async def test_statement_count_does_not_grow_with_nested_lists(gql):
    query = """query($first: Int) { municipalities(first: $first) { edges { node { name parent { name }
      contacts { name } cooperations(first: 5) { totalCount edges { node { title partners { organization { name } } } } }
    } } } }"""
    small = await gql(query, {"first": 5})
    large = await gql(query, {"first": 50})
    assert small["extensions"]["sqlQueries"] == large["extensions"]["sqlQueries"]


async def test_landing_page_and_health(client):
    landing = await client.get("/")
    assert landing.status_code == 200 and "/graphql" in landing.text
    assert landing.headers["content-security-policy"].startswith("default-src 'none'")
    health = await client.get("/health")
    assert health.json() == {"status": "ok"}
