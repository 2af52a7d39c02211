"""Races around documents, many simultaneous requests through the real ASGI app (PostgreSQL only:
SQLite runs one transaction at a time and would hide them)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from service.audit import AuditEntry
from tests import document_files as files
from tests.conftest import BASE_URL, requires_postgres
from tests.test_concurrency_approvals import simultaneously
from tests.test_documents import ATTACH, SEARCH, WITHDRAW, admin, new_cooperation, upload, word  # noqa: F401

pytestmark = [pytest.mark.postgres, requires_postgres]


async def test_simultaneous_uploads_and_an_edit_keep_every_published_word_in_the_index(app, gql, admin,
                                                                                       new_cooperation):  # noqa: F811
    coop = await new_cooperation("Bergkamen")
    secrets = [word() for _ in range(8)]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.51", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        async def attach(secret: str):
            return await upload(http, ATTACH, {"c": coop, "i": {"title": secret, "kind": "OTHER"}},
                                files.pdf(f"Anlage {secret}"), f"{secret}.pdf", headers=admin)

        async def edit():
            response = await http.post("/graphql", headers=admin, json={
                "query": "mutation($id: ID!) { updateCooperation(id: $id, baseVersion: 1, "
                         "input: {notes: \"gleichzeitig\"}) { version } }", "variables": {"id": coop}})
            return response.json()

        answers = await asyncio.wait_for(asyncio.gather(*(attach(s) for s in secrets), edit()), timeout=120)
    assert all(a.status_code == 200 and not a.json().get("errors") for a in answers[:-1]), [a.text for a in answers]
    assert not answers[-1].get("errors"), answers[-1]
    # Each reindex ran with the cooperation locked, so none overwrote another's words.
    for secret in secrets:
        assert (await gql(SEARCH, {"q": secret})).data["cooperations"]["totalCount"] == 1, secret


async def test_a_document_withdrawn_twelve_times_at_once_is_withdrawn_once(app, client, gql, admin,
                                                                         new_cooperation):  # noqa: F811
    coop = await new_cooperation("Bergkamen")
    secret = word()
    response = await upload(client, ATTACH, {"c": coop, "i": {"title": "Satzung", "kind": "STATUTE"}},
                            files.pdf(secret), "s.pdf", headers=admin)
    doc_id = response.json()["data"]["attachDocument"]["id"]
    results = await simultaneously(app, [(WITHDRAW, {"id": doc_id}, admin)] * 12)
    assert sorted(r.codes[0] if r.errors else "OK" for r in results) == ["CONFLICT"] * 11 + ["OK"]
    entries = await AuditEntry.filter(action="DOCUMENT_WITHDRAWN", subject_id=int(coop))
    assert [e.details["documentId"] for e in entries] == [int(doc_id)]
    assert (await gql(SEARCH, {"q": secret})).data["cooperations"]["totalCount"] == 0
