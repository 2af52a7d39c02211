"""The ministry's pages through the real ASGI app: approver inbox and detail, admin console, access."""

from __future__ import annotations

import re

from service.db import count_queries
from tests.conftest import BASE_URL
from tests.test_approvals import UPDATE_ME, contact_fields
from tests.test_pages import csrf_of, sign_in

ORIGIN = {"origin": BASE_URL}


async def test_approver_inbox_detail_decision_and_next(client, gql, confirmed_contact, make_user):
    first = await confirmed_contact("Kamen", ["unna-kommunen-13"])
    second = await confirmed_contact("Kamen", ["unna-kommunen-13"], first_name="Jana")
    one = await gql(UPDATE_ME, {"i": contact_fields(first, function="Leitung Inbox-Test"), "v": 1},
                    headers=first["headers"])
    two = await gql(UPDATE_ME, {"i": contact_fields(second, firstName="Jana", function="Zweite Inbox"), "v": 1},
                    headers=second["headers"])
    one_id, two_id = one.data["updateMyContact"]["id"], two.data["updateMyContact"]["id"]
    approver, password = await make_user("APPROVER", scope="05978")
    assert (await sign_in(client, approver, password, "/review")).status_code == 303
    inbox = await client.get("/review")
    assert inbox.status_code == 200, inbox.text
    assert f'href="/review/{one_id}"' in inbox.text and f'href="/review/{two_id}"' in inbox.text
    assert f"Petra {first['last_name']}" in inbox.text and "Kamen" in inbox.text
    assert inbox.text.index(f"/review/{one_id}") < inbox.text.index(f"/review/{two_id}")  # oldest first
    assert "Freigaben" in inbox.text
    # legacy mail link
    legacy = await client.get("/review", params={"change": one_id})
    assert legacy.status_code == 303 and legacy.headers["location"] == f"/review/{one_id}"
    detail = await client.get(f"/review/{one_id}")
    assert "Leitung Inbox-Test" in detail.text and 'class="danger"' in detail.text
    token = csrf_of(detail.text)
    # reject needs a reason
    empty = await client.post(f"/review/{one_id}", data={"csrf": token, "decision": "reject", "reason": " "},
                              headers=ORIGIN)
    assert empty.status_code == 400 and "Begründung" in empty.text
    forged = await client.post(f"/review/{one_id}", data={"csrf": "x" * 40, "decision": "approve"}, headers=ORIGIN)
    assert forged.status_code == 403
    done = await client.post(f"/review/{one_id}", data={"csrf": token, "decision": "approve",
                                                        "comment": "Passt so."}, headers=ORIGIN)
    assert done.status_code == 303 and done.headers["location"] == f"/review/{one_id}?done=approved"
    after = await client.get(done.headers["location"])
    assert "veröffentlicht" in after.text and "Passt so." in after.text
    assert "Entschieden von" in after.text and "Test" in after.text
    assert "Nächste offene Änderung" in after.text
    rejected = await client.post(f"/review/{two_id}", data={"csrf": token, "decision": "reject",
                                                           "reason": "Bitte Funktion prüfen."}, headers=ORIGIN)
    assert rejected.status_code == 303
    shown = await client.get(f"/review/{two_id}")
    assert "abgelehnt" in shown.text and "Bitte Funktion prüfen." in shown.text
    decided = await client.get("/review", params={"status": "APPROVED", "kind": "CONTACT_UPDATE"})
    assert f"/review/{one_id}" in decided.text and f"/review/{two_id}" not in decided.text


async def test_approver_of_another_region_does_not_see_the_change(client, gql, confirmed_contact, make_user):
    person = await confirmed_contact("Kamen", ["unna-kommunen-13"])
    change = await gql(UPDATE_ME, {"i": contact_fields(person, function="Nur Unna"), "v": 1},
                       headers=person["headers"])
    change_id = change.data["updateMyContact"]["id"]
    saar, password = await make_user("APPROVER", scope="10")
    await sign_in(client, saar, password, "/review")
    assert f"/review/{change_id}" not in (await client.get("/review")).text
    assert (await client.get(f"/review/{change_id}")).status_code == 404
