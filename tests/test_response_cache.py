"""Anonymous answers from the response cache, HTTP caching (ETag, 304, Cache-Control), GET queries,
persisted queries (APQ) and the trusted-documents mode."""

from __future__ import annotations

import asyncio
import hashlib
import json

import httpx
import pytest

from schema.response_cache import CACHEABLE_ROOT_FIELDS, UNCACHED_ROOT_FIELDS, Entry, ResponseCache
from service import publication
from tests.conftest import BASE_URL, unique
from tests.test_approvals import cooperation_input

LIST = """query List($n: Int!) { cooperations(first: $n) { totalCount edges { node { id title legalForm { code }
  topicFields { id label } partners { role organization { id name } } contacts { id name email } } } } }"""
EDIT = """mutation($id: ID!, $i: CooperationInput!, $v: Int!) { updateCooperation(id: $id, input: $i,
  baseVersion: $v) { version } }"""
PROFILE = "query Profile($id: ID!) { cooperation(id: $id) { id title version description contacts { id name } } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def post(client, query, variables=None, headers=None, extensions=None):
    client.cookies.clear()
    body = {"query": query, "variables": variables or {}}
    if extensions is not None:
        body["extensions"] = extensions
    return await client.post("/graphql", json=body, headers=headers)


async def get(client, headers=None, **params):
    client.cookies.clear()
    encoded = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in params.items()}
    return await client.get("/graphql", params=encoded, headers={"accept": "application/json", **(headers or {})})


async def first_cooperation(client) -> str:
    body = (await post(client, "{ cooperations(first: 1) { edges { node { id } } } }")).json()
    return body["data"]["cooperations"]["edges"][0]["node"]["id"]


async def own_cooperation(client, gql, admin) -> str:
    """A cooperation of this test's own (the seeded ones stay as seeded for the tests that compare them)."""
    template = await cooperation_input(gql, await first_cooperation(client))
    created = await gql("mutation($i: CooperationInput!) { createCooperation(input: $i) { id } }",
                        {"i": {**template, "title": unique("Cache-Probe ")}}, headers=admin)
    assert not created.errors, created.errors
    return created.data["createCooperation"]["id"]


async def edit_description(gql, admin, coop_id: str, text: str) -> None:
    version = (await gql("query($id: ID!) { cooperation(id: $id) { version } }", {"id": coop_id}, headers=admin)
               ).data["cooperation"]["version"]
    edited = await gql(EDIT, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id), "description": text},
                              "v": version}, headers=admin)
    assert not edited.errors, edited.errors


@pytest.fixture
async def admin(make_user, login):
    return await login(*await make_user("ADMIN"))


async def test_every_query_field_is_decided_on(gql):
    fields = (await gql("{ __schema { queryType { fields { name } } } }")).data["__schema"]["queryType"]["fields"]
    names = {f["name"] for f in fields}
    assert names - CACHEABLE_ROOT_FIELDS - UNCACHED_ROOT_FIELDS == set(), "cacheable or not? decide in schema/response_cache.py"
    assert not CACHEABLE_ROOT_FIELDS & UNCACHED_ROOT_FIELDS


async def test_a_repeated_anonymous_query_is_answered_from_the_cache_with_the_same_data(client):
    first = await post(client, LIST, {"n": 50})
    second = await post(client, LIST, {"n": 50})
    assert first.status_code == second.status_code == 200
    one, two = first.json(), second.json()
    assert one["data"] == two["data"] and one["data"]["cooperations"]["totalCount"] > 50
    assert one["extensions"]["sqlQueries"] > 1 and two["extensions"]["sqlQueries"] == 1  # only the version read
    for response in (first, second):
        assert response.headers["cache-control"] == "public, no-cache"
        assert response.headers["etag"].startswith('W/"')
        assert set(response.headers["vary"].split(", ")) >= {"Accept", "Authorization", "Cookie"}
    assert first.headers["etag"] == second.headers["etag"]
    # Other variables, another answer; the same document written differently shares the entry.
    assert (await post(client, LIST, {"n": 2})).json()["extensions"]["sqlQueries"] > 1
    spaced = await post(client, "  " + LIST.replace("{ totalCount", "{\n  totalCount"), {"n": 50})
    assert spaced.json()["data"] == one["data"] and spaced.json()["extensions"]["sqlQueries"] == 1


async def test_changes_are_seen_at_once(client, gql, admin, confirmed_contact):
    coop_id = await own_cooperation(client, gql, admin)
    before = (await post(client, PROFILE, {"id": coop_id})).json()
    assert (await post(client, PROFILE, {"id": coop_id})).json()["extensions"]["sqlQueries"] == 1  # cached
    await edit_description(gql, admin, coop_id, "Frisch bearbeitet")
    after = (await post(client, PROFILE, {"id": coop_id})).json()
    assert after["data"]["cooperation"]["description"] == "Frisch bearbeitet"
    assert after["data"]["cooperation"]["version"] == before["data"]["cooperation"]["version"] + 1

    # A contact going public (consent), then deleting their data.
    from service.sql import fetch

    key_coop = str((await fetch("SELECT id FROM cooperation WHERE key = ?", ["unna-kommunen-12"]))[0]["id"])
    names = lambda body: [c["name"] for c in body["data"]["cooperation"]["contacts"]]  # noqa: E731
    seen = names((await post(client, PROFILE, {"id": key_coop})).json())
    person = await confirmed_contact("Kamen", ["unna-kommunen-12"])
    now_public = names((await post(client, PROFILE, {"id": key_coop})).json())
    assert any(person["last_name"] in n for n in now_public) and len(now_public) == len(seen) + 1
    deleted = await gql("mutation { deleteMyContact }", headers=person["headers"])
    assert not deleted.errors, deleted.errors
    assert names((await post(client, PROFILE, {"id": key_coop})).json()) == seen


async def test_signed_in_requests_bypass_the_cache_both_ways(client, confirmed_contact):
    person = await confirmed_contact("Bergkamen", ["unna-kommunen-07"])
    query = "{ me { username contact { email } } topicFields { id } }"
    anonymous = await post(client, query)
    assert anonymous.json()["data"]["me"] is None
    signed_in = await post(client, query, headers=person["headers"])
    assert signed_in.json()["data"]["me"]["contact"]["email"] == person["email"]  # not the cached anonymous answer
    assert signed_in.headers["cache-control"] == "private, no-store" and "etag" not in signed_in.headers
    again = await post(client, query)
    assert again.json()["data"]["me"] is None and person["email"] not in again.text  # never their answer
    client.cookies.set("ikz_session", person["headers"]["authorization"][7:])
    cookie = await client.post("/graphql", json={"query": query})
    client.cookies.clear()
    assert cookie.json()["data"]["me"]["username"] == person["username"]
    assert cookie.headers["cache-control"] == "private, no-store"


async def test_errors_mutations_and_token_queries_are_not_kept(client, gql):
    error = await post(client, '{ cooperation(id: "abc") { id } }')
    assert error.json()["errors"] and error.headers["cache-control"] == "private, no-store"
    assert "etag" not in error.headers
    mutation = await post(client, "mutation { logout }")
    assert mutation.headers["cache-control"] == "private, no-store"
    token = await post(client, 'query { invitation(token: "unknown") { username } }')
    again = await post(client, 'query { invitation(token: "unknown") { username } }')
    assert token.headers["cache-control"] == "private, no-store" and again.json()["extensions"]["sqlQueries"] >= 1
    assert "etag" not in again.headers


async def test_get_queries_revalidate_with_304(client, gql, admin):
    coop_id = await own_cooperation(client, gql, admin)
    first = await get(client, query=PROFILE, variables={"id": coop_id}, operationName="Profile")
    assert first.status_code == 200 and first.json()["data"]["cooperation"]["id"] == coop_id
    etag = first.headers["etag"]
    revalidated = await get(client, {"if-none-match": etag}, query=PROFILE, variables={"id": coop_id})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == etag and revalidated.headers["cache-control"] == "public, no-cache"
    await edit_description(gql, admin, coop_id, "Neu nach 304")
    changed = await get(client, {"if-none-match": etag}, query=PROFILE, variables={"id": coop_id})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["data"]["cooperation"]["description"] == "Neu nach 304"


async def test_get_refuses_mutations_and_keeps_the_limits(client):
    refused = await get(client, query="mutation { logout }")
    assert refused.status_code == 405
    costly = await get(client, query="{ cooperations(first: 100) { edges { node { partners { organization { "
                                     "... on Municipality { cooperations(first: 100) { edges { node { id } } } } } } } } } }")
    assert costly.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_automatic_persisted_queries_over_post_and_get(client):
    query = "query Apq { legalForms { code } topicFields { id } }"
    digest = sha(query)
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    unknown = await post(client, None, extensions=extensions)
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown.headers["cache-control"] == "private, no-store"
    over_get = await get(client, extensions=extensions)
    assert over_get.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = await post(client, query, extensions=extensions)
    assert registered.json()["data"]["legalForms"]
    assert (await post(client, None, extensions=extensions)).json()["data"] == registered.json()["data"]
    hit = await get(client, extensions=extensions)
    assert hit.status_code == 200 and hit.json()["data"] == registered.json()["data"]
    assert (await get(client, {"if-none-match": hit.headers["etag"]}, extensions=extensions)).status_code == 304

    wrong = await post(client, query + " ", extensions=extensions)
    assert wrong.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and wrong.json()["data"] is None
    for bad in ({"version": 2, "sha256Hash": digest}, {"version": 1, "sha256Hash": "xyz"}, "nope"):
        body = (await post(client, None, extensions={"persistedQuery": bad})).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    page_operation = (await get(client, extensions={"persistedQuery": {"version": 1, "sha256Hash": sha(
        open("ikz/operations/header.graphql", encoding="utf-8").read())}})).json()
    assert page_operation["data"] == {"me": None}  # the pages' operations are known without registering


async def test_trusted_documents_only_refuses_others_and_the_pages_still_work(settings, tmp_path):
    from ikz.app import create_app

    extra = tmp_path / "extra.graphql"
    extra.write_text("query Extra { legalForms { code } }", encoding="utf-8")
    app = create_app(settings.with_overrides(trusted_documents_only=True, trusted_documents_paths=(str(extra),)),
                     manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        refused = (await http.post("/graphql", json={"query": "{ legalForms { code } }"})).json()
        assert refused["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED" and refused["data"] is None
        by_hash = (await http.post("/graphql", json={"extensions": {"persistedQuery": {
            "version": 1, "sha256Hash": sha("query Other { topicFields { id } }")}}})).json()
        assert by_hash["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
        assert (await http.post("/graphql", json={"query": extra.read_text()})).json()["data"]["legalForms"]
        search = open("ikz/operations/search.graphql", encoding="utf-8").read()
        listed = (await http.post("/graphql", json={"extensions": {"persistedQuery": {
            "version": 1, "sha256Hash": sha(search)}}, "operationName": "SearchPage"})).json()
        assert not listed.get("errors") and listed["data"]["cooperations"]["totalCount"] > 0, listed
        page = await http.get("/")
        assert page.status_code == 200 and "Kooperation" in page.text


async def test_two_instances_on_one_database_serve_fresh_answers(settings, gql, admin):
    """Each app is an instance with its own cache; an edit through one is seen on the other at once."""
    from ikz.app import create_app

    apps = [create_app(settings, manage_db=False) for _ in range(2)]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url=BASE_URL) as a, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[1]), base_url=BASE_URL) as b:
        coop_id = await own_cooperation(a, gql, admin)
        for http in (a, b, a, b):
            assert (await post(http, PROFILE, {"id": coop_id})).status_code == 200
        assert (await post(b, PROFILE, {"id": coop_id})).json()["extensions"]["sqlQueries"] == 1
        version = (await post(a, "query($id: ID!) { cooperation(id: $id) { version } }", {"id": coop_id})
                   ).json()["data"]["cooperation"]["version"]
        edited = (await post(a, EDIT, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id),
                                                            "description": "Auf A geändert"}, "v": version},
                             headers=admin)).json()
        assert not edited.get("errors"), edited
        seen = (await post(b, PROFILE, {"id": coop_id})).json()
        assert seen["data"]["cooperation"]["description"] == "Auf A geändert"


async def test_reads_racing_an_edit_never_keep_the_old_answer_under_the_new_version(client, gql, admin):
    """Reads run while an edit commits; afterwards every read, cached or not, shows the edit."""
    coop_id = await own_cooperation(client, gql, admin)
    for round_ in range(3):
        text = f"Wettlauf {round_}"
        reads = [post(client, PROFILE, {"id": coop_id}) for _ in range(12)]
        results = await asyncio.gather(edit_description(gql, admin, coop_id, text), *reads)
        assert all(r.status_code == 200 for r in results[1:])
        for _ in range(3):
            body = (await post(client, PROFILE, {"id": coop_id})).json()
            assert body["data"]["cooperation"]["description"] == text, (round_, body)
    assert await publication.current() > 0


def test_the_cache_evicts_the_least_recently_used_by_bytes():
    cache = ResponseCache(3 * (1000 + 256))
    for n in range(3):
        assert cache.put(("k", n), Entry(b"x" * 1000, "application/json"))
    assert cache.get(("k", 0)) is not None  # 0 is now the most recently used
    cache.put(("k", 3), Entry(b"y" * 1000, "application/json"))
    assert cache.get(("k", 1)) is None and cache.get(("k", 0)) and cache.get(("k", 3))
    assert cache.bytes_used <= cache.max_bytes
    assert not cache.put(("big",), Entry(b"z" * 5000, "application/json")) and cache.get(("big",)) is None
    off = ResponseCache(0)
    assert not off.put(("k",), Entry(b"x", "application/json")) and off.get(("k",)) is None


async def test_anonymous_pages_share_the_cache_and_show_changes_at_once(app, client, gql, admin):
    cache = app.state.graphql_view.response_cache
    coop_id = await own_cooperation(client, gql, admin)
    await edit_description(gql, admin, coop_id, "Seite vorher")  # a new version: no entry for the page yet
    client.cookies.clear()
    before = len(cache)
    first = await client.get(f"/cooperations/{coop_id}")
    kept = len(cache)
    assert kept > before
    second = await client.get(f"/cooperations/{coop_id}")
    assert first.status_code == second.status_code == 200 and len(cache) == kept  # answered from the entry
    await edit_description(gql, admin, coop_id, "Seite sofort frisch")
    client.cookies.clear()
    assert "Seite sofort frisch" in (await client.get(f"/cooperations/{coop_id}")).text
