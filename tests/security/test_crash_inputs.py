"""Issue 10.7: inputs that crashed the service answer a clear 400 or a clear error code."""

from __future__ import annotations

import base64
import json

import pytest

from service.pagination import encode_cursor

CLEAR = {"BAD_USER_INPUT", "NOT_FOUND", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}


def raw_cursor(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def post_raw(client, body: bytes, content_type: str = "application/json"):
    return await client.post("/graphql", content=body, headers={"content-type": content_type})


def codes(response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]


def assert_clear(response) -> list[str]:
    assert response.status_code == 200, response.text
    found = codes(response)
    assert found and set(found) <= CLEAR, response.text
    assert "Traceback" not in response.text
    return found


@pytest.mark.parametrize("body", [
    b'{"query": "{ topicFields { id } }", "x": "\xff\xfe"}',
    b"\xc3\x28",
    b"42",
    b"-1.5e400",
    b'"{ topicFields { id } }"',
    b"null",
    b"true",
    b"[" * 1500 + b"]" * 1500,
    b'{"query": "{ topicFields { id } }", "variables": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
    b'{"query": "{ topicFields { id } }", "variables": ' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"}",
    b'{"query": "{ topicFields { id } }", "variables": 42}',
    b'{"query": 42}',
    b'{"query": "query($u: String!) { topicFields { id } }", "variables": {"u": "\\ud800"}}',
    b"",
])
async def test_bodies_that_are_not_graphql_requests_answer_400(client, body):
    response = await post_raw(client, body)
    assert response.status_code == 400, (response.status_code, response.text)
    assert "Traceback" not in response.text


async def test_json_nested_a_thousand_levels_in_variables_is_a_clear_error(client):
    body = ('{"query": "query($ids: [ID!]) { cooperations(filter: {partnerIds: $ids}) { totalCount } }", '
            '"variables": {"ids": ' + "[" * 1000 + '"1"' + "]" * 1000 + "}}").encode()
    response = await post_raw(client, body)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert_clear(response)


@pytest.mark.parametrize("depth", [200, 1000, 1300])
async def test_a_document_nested_very_deeply_is_a_clear_error(client, depth):
    nested_list = "{ cooperations(filter: {partnerIds: " + "[" * depth + '"1"' + "]" * depth + "}) { totalCount } }"
    nested_selection = "{ " + "cooperations { edges { node { " * (depth // 3) + "id" + " } } }" * (depth // 3) + " }"
    for query in (nested_list, nested_selection):
        response = await client.post("/graphql", json={"query": query})
        assert_clear(response)


@pytest.mark.parametrize("value", ["١٢", "²", "12\u0660", "߁", "𝟏", "1_000", " 12", "+12", "-1", "0x10", "1e3",
                                   "12.0", "", "99999999999999999999999", "2147483648", "\u0000", "\ud800"[:0] + "Ⅻ"])
async def test_ids_are_ascii_decimal_only(gql, value):
    for query, variables in (
        ("query($id: ID!) { cooperation(id: $id) { id } }", {"id": value}),
        ("query($id: ID!) { organization(id: $id) { id } }", {"id": value}),
        ("query($ids: [ID!]) { cooperations(filter: {partnerIds: $ids}) { totalCount } }", {"ids": [value]}),
        ("query($ids: [ID!]) { cooperations(filter: {topicFieldIds: $ids}) { totalCount } }", {"ids": [value]}),
        ("query($ids: [ID!]) { municipalities(filter: {regionIds: $ids}) { totalCount } }", {"ids": [value]}),
    ):
        result = await gql(query, variables)
        assert result.codes and set(result.codes) <= CLEAR, (value, result)


async def test_non_ascii_digits_are_refused_as_input_not_matched(gql):
    """"١" is int()-able in Python; it must be the client's error, never a lookup of record 1."""
    result = await gql("query($id: ID!) { cooperation(id: $id) { id } }", {"id": "١"})
    assert result.data == {"cooperation": None} or result.data is None
    assert result.codes == ["BAD_USER_INPUT"]
    beyond = await gql("query($id: ID!) { cooperation(id: $id) { id } }", {"id": "2147483648"})
    assert beyond.codes == ["NOT_FOUND"]


@pytest.mark.parametrize("ordering, cursor_data", [
    ("TITLE", ["TITLE:ASC", "abc", 10**30]),
    ("TITLE", ["TITLE:ASC", "abc", -(10**30)]),
    ("TITLE", ["TITLE:ASC", 10**30, 1]),
    ("TITLE", ["TITLE:ASC", 12, 1]),
    ("TITLE", ["TITLE:ASC", None, 1]),
    ("TITLE", ["TITLE:ASC", ["x"], 1]),
    ("TITLE", ["TITLE:ASC", {"a": 1}, 1]),
    ("TITLE", ["TITLE:ASC", "abc", 1.5]),
    ("TITLE", ["TITLE:ASC", "abc", True]),
    ("TITLE", ["TITLE:ASC", "abc", "1"]),
    ("TITLE", ["TITLE:ASC", "a\u0000b", 1]),
    ("TITLE", ["TITLE:ASC", "x" * 100_000, 1]),
    ("TITLE", ["TITLE:ASC", "abc"]),
    ("TITLE", ["TITLE:ASC", "abc", 1, 2]),
    ("TITLE", {"a": 1}),
    ("TITLE", 5),
    ("TITLE", [5, "abc", 1]),
    ("START_YEAR", ["START_YEAR:ASC", "abc", 1]),
    ("START_YEAR", ["START_YEAR:ASC", 10**30, 1]),
    ("START_YEAR", ["START_YEAR:ASC", 2.5, 1]),
    ("START_YEAR", ["START_YEAR:ASC", 1990, 10**30]),
    ("START_YEAR", ["START_YEAR:ASC", None, 1]),
])
async def test_cursors_with_huge_or_mixed_type_values_are_refused(gql, ordering, cursor_data):
    query = "query($after: String, $o: CooperationOrderField!) { cooperations(after: $after, orderBy: {field: $o}) { totalCount edges { node { id } } } }"
    result = await gql(query, {"after": raw_cursor(cursor_data), "o": ordering})
    assert result.codes == ["BAD_USER_INPUT"], result


@pytest.mark.parametrize("cursor_data", [
    ["PARTNER_TITLE", "abc", 10**30], ["PARTNER_TITLE", 7, 1], ["NAME", "abc", 10**30], ["NAME", None, 1],
])
async def test_cursors_of_nested_and_municipality_pages_are_checked_too(gql, cursor_data):
    cursor = raw_cursor(cursor_data)
    if cursor_data[0] == "NAME":
        result = await gql("query($a: String) { municipalities(after: $a) { totalCount } }", {"a": cursor})
    else:
        result = await gql("query($a: String) { municipalities(first: 2) { edges { node { cooperations(after: $a) { "
                           "totalCount } } } } }", {"a": cursor})
    assert "BAD_USER_INPUT" in result.codes and set(result.codes) == {"BAD_USER_INPUT"}, result


async def test_cursors_of_each_ordering_still_work(gql):
    for ordering in ("TITLE", "START_YEAR"):
        for direction in ("ASC", "DESC"):
            query = ("query($after: String) { cooperations(first: 3, after: $after, orderBy: {field: %s, direction: %s}) "
                     "{ edges { node { id } } pageInfo { endCursor } } }" % (ordering, direction))
            first = await gql(query)
            cursor = first.data["cooperations"]["pageInfo"]["endCursor"]
            second = await gql(query, {"after": cursor})
            assert not second.errors and second.data["cooperations"]["edges"]
    assert encode_cursor("START_YEAR:ASC", 1990, 3)


@pytest.mark.parametrize("text", ["\u0000", "a\u0000b", "x" * 10_000])
async def test_nul_bytes_and_overlong_strings_are_refused(gql, text):
    for query in (
        "query($s: String) { cooperations(search: $s) { totalCount } }",
        "query($s: String) { municipalities(search: $s) { totalCount } }",
        "query($s: [String!]) { municipalities(filter: {ags: $s}) { totalCount } }",
        "query($s: [ID!]) { cooperations(filter: {legalForms: $s}) { totalCount } }",
    ):
        variables = {"s": [text] if "[" in query.split(")")[0] else text}
        result = await gql(query, variables)
        assert result.codes and set(result.codes) <= {"BAD_USER_INPUT", "NOT_FOUND"}, (query, result)


async def test_nul_in_a_literal_is_refused(gql):
    result = await gql('{ cooperations(search: "a\\u0000b") { totalCount } }')
    assert result.codes and set(result.codes) <= CLEAR, result


async def test_a_lone_surrogate_as_username_is_refused(client):
    body = b'{"query": "mutation { login(username: \\"\\ud800\\", password: \\"x\\") { token } }"}'
    response = await post_raw(client, body)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert_clear(response)
    body = (b'{"query": "mutation($u: String!) { login(username: $u, password: \\"x\\") { token } }", '
            b'"variables": {"u": "\\udc80abc"}}')
    assert (await post_raw(client, body)).status_code == 400
    # over GET, a lone surrogate cannot be written at all: %ED%A0%80 is not UTF-8
    response = await client.get("/graphql", params={"query": "{ topicFields { id } }"}, headers={"accept": "application/json"})
    assert response.status_code == 200
    response = await client.get("/graphql?query=%7B%20topicFields%20%7B%20id%20%7D%20%7D&variables=%7B%22a%22%3A%22%ED%A0%80%22%7D")
    assert response.status_code in (200, 400) and "Traceback" not in response.text


async def test_login_with_nul_in_username_or_password_is_refused(gql):
    for u, p in (("a\u0000", "x"), ("admin", "pw\u0000")):
        result = await gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                           {"u": u, "p": p})
        assert result.codes and set(result.codes) <= {"BAD_USER_INPUT", "UNAUTHENTICATED"}, result


async def test_overlong_audit_subject_type_is_refused(gql, make_user, login):
    username, password = await make_user("ADMIN")
    headers = await login(username, password)
    for value in ("x" * 5_000, "Cooperation\u0000"):
        result = await gql("query($t: String) { auditLog(filter: {subjectType: $t}) { id } }", {"t": value},
                           headers=headers)
        assert result.codes == ["BAD_USER_INPUT"], result
    ok = await gql("query($t: String) { auditLog(filter: {subjectType: $t}) { id } }", {"t": "cooperation"},
                   headers=headers)
    assert not ok.errors


async def test_get_with_null_or_malformed_variables(client):
    ok = await client.get("/graphql", params={"query": "{ topicFields { id } }", "variables": "null"},
                          headers={"accept": "application/json"})
    assert ok.status_code == 200 and ok.json()["data"]["topicFields"]
    for bad in ("42", "[", '"x"', "[" * 2000):
        response = await client.get("/graphql", params={"query": "{ topicFields { id } }", "variables": bad},
                                    headers={"accept": "application/json"})
        assert response.status_code == 400, (bad, response.text)
