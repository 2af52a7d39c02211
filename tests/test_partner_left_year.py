"""A partner that leaves a cooperation that goes on without it: set, kept and cleared through the API."""

from __future__ import annotations

from service.sql import fetch

EDIT = """mutation($id: ID!, $i: CooperationInput!, $v: Int!) { updateCooperation(id: $id, input: $i, baseVersion: $v) {
  version partners { leftYear organization { name } } } }"""
READ = """query($id: ID!) { cooperation(id: $id) { version startYear partners { role leftYear organization { id name } } } }"""
BY_PARTNER = "query($f: CooperationFilter) { cooperations(filter: $f, first: 100) { edges { node { id } } } }"


async def _coop(key: str) -> str:
    return str((await fetch("SELECT id FROM cooperation WHERE key = ?", [key]))[0]["id"])


async def _partners(gql, coop_id: str, **changes) -> tuple[int, list[dict]]:
    c = (await gql(READ, {"id": coop_id})).data["cooperation"]
    return c["version"], [{"organizationId": p["organization"]["id"], "role": p["role"], **changes.get(
        p["organization"]["name"], {})} for p in c["partners"]]


async def _years(gql, coop_id: str) -> dict[str, int | None]:
    c = (await gql(READ, {"id": coop_id})).data["cooperation"]
    return {p["organization"]["name"]: p["leftYear"] for p in c["partners"]}


async def test_a_left_year_is_set_kept_by_edits_that_do_not_mention_it_and_cleared_by_null(gql, make_user, login):
    admin = await login(*await make_user("ADMIN"))
    coop = await _coop("unna-kommunen-29")
    original = (await gql(READ, {"id": coop})).data["cooperation"]["partners"]
    assert len(original) >= 2 and all(p["leftYear"] is None for p in original)
    leaver = original[1]["organization"]

    version, partners = await _partners(gql, coop, **{leaver["name"]: {"leftYear": 2020}})
    result = await gql(EDIT, {"id": coop, "i": {"partners": partners}, "v": version}, headers=admin)
    assert not result.errors, result.errors
    assert (await _years(gql, coop))[leaver["name"]] == 2020
    found = await gql(BY_PARTNER, {"f": {"partnerIds": [leaver["id"]]}})
    assert coop not in {e["node"]["id"] for e in found.data["cooperations"]["edges"]}

    version, partners = await _partners(gql, coop)  # the partners named again, no leftYear sent
    result = await gql(EDIT, {"id": coop, "i": {"partners": partners, "notes": "geprüft"}, "v": version},
                       headers=admin)
    assert not result.errors, result.errors
    assert (await _years(gql, coop))[leaver["name"]] == 2020

    version, partners = await _partners(gql, coop, **{leaver["name"]: {"leftYear": None}})
    result = await gql(EDIT, {"id": coop, "i": {"partners": partners}, "v": version}, headers=admin)
    assert not result.errors, result.errors
    assert (await _years(gql, coop))[leaver["name"]] is None
    found = await gql(BY_PARTNER, {"f": {"partnerIds": [leaver["id"]]}})
    assert coop in {e["node"]["id"] for e in found.data["cooperations"]["edges"]}


async def test_impossible_left_years_are_refused_and_change_nothing(gql, make_user, login):
    admin = await login(*await make_user("ADMIN"))
    coop = await _coop("unna-kommunen-25")
    before = (await gql(READ, {"id": coop})).data["cooperation"]
    first = before["partners"][0]["organization"]["name"]
    everyone_left = {p["organization"]["name"]: {"leftYear": 2021} for p in before["partners"]}
    for changes in ({first: {"leftYear": 1066}}, {first: {"leftYear": 3000}}, everyone_left,
                    *([{first: {"leftYear": before["startYear"] - 1}}] if before["startYear"] else [])):
        version, partners = await _partners(gql, coop, **changes)
        result = await gql(EDIT, {"id": coop, "i": {"partners": partners}, "v": version}, headers=admin)
        assert result.codes == ["BAD_USER_INPUT"], (changes, result.errors)
    assert (await gql(READ, {"id": coop})).data["cooperation"] == before
