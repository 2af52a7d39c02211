"""Issue 11, part 2: a cooperation's published versions (Cooperation.history and the profile page)."""

from __future__ import annotations

from tests.test_approvals import APPROVE, COOPERATION, PROPOSE, cooperation_input

HISTORY = """query($id: ID!) { cooperation(id: $id) { version history { version publishedAt created directEdit
  changes { field label old new } } } }"""
EDIT = """mutation($id: ID!, $i: CooperationInput!, $v: Int!) { updateCooperation(id: $id, input: $i,
  baseVersion: $v) { version } }"""


async def test_one_history_entry_per_approved_change_and_direct_edit(gql, client, confirmed_contact, make_user, login):
    person = await confirmed_contact("Bergkamen", ["unna-kommunen-07"])
    coop_id = person["cooperation_ids"][0]
    start = (await gql(HISTORY, {"id": coop_id})).data["cooperation"]
    assert start["history"] == []  # the seeded state is not a change
    page = await client.get(f"/cooperations/{coop_id}")
    assert "Seit der Übernahme aus der Quelle unverändert." in page.text

    proposal = await gql(PROPOSE, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id),
                                                        "sinceText": "01.01.1978"}, "v": start["version"]},
                         headers=person["headers"])
    assert not proposal.errors, proposal.errors
    # Pending and rejected changes are not published versions.
    assert (await gql(HISTORY, {"id": coop_id})).data["cooperation"]["history"] == []
    approver = await login(*await make_user("APPROVER", scope="05978"))
    approved = await gql(APPROVE, {"id": proposal.data["proposeCooperationChange"]["id"], "c": "Danke"},
                         headers=approver)
    assert approved.data["approveChange"]["status"] == "APPROVED", approved.errors

    admin = await login(*await make_user("ADMIN"))
    version = (await gql(COOPERATION, {"id": coop_id})).data["cooperation"]["version"]
    edited = await gql(EDIT, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id),
                                                   "description": "Gemeinsame Stelle"}, "v": version}, headers=admin)
    assert not edited.errors, edited.errors

    result = await gql(HISTORY, {"id": coop_id})
    cooperation = result.data["cooperation"]
    history = cooperation["history"]
    assert len(history) == 2
    newest, oldest = history
    assert newest["version"] == cooperation["version"] == start["version"] + 2
    assert oldest["version"] == start["version"] + 1
    assert newest["publishedAt"] >= oldest["publishedAt"]
    assert (oldest["directEdit"], newest["directEdit"]) == (False, True)
    assert not oldest["created"] and not newest["created"]
    assert oldest["changes"] == [{"field": "sinceText", "label": "seit", "old": "1978", "new": "01.01.1978"}]
    assert newest["changes"] == [{"field": "description", "label": "Beschreibung", "old": None,
                                  "new": "Gemeinsame Stelle"}]
    # No personal data of the submitter anywhere in the public history.
    text = str(history)
    assert person["username"] not in text and person["email"] not in text and "Danke" not in text

    page = await client.get(f"/cooperations/{coop_id}")
    assert page.status_code == 200
    assert "Änderungsverlauf" in page.text and "01.01.1978" in page.text and "Gemeinsame Stelle" in page.text
    assert "vom Ministerium geändert" in page.text and "Änderung vom Ministerium freigegeben" in page.text
    assert person["username"] not in page.text

    # Back to the seeded values (the seed test compares this row with its source); a third entry.
    restored = await gql(EDIT, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id), "sinceText": "1978",
                                                     "description": None}, "v": cooperation["version"]}, headers=admin)
    assert not restored.errors, restored.errors
    history = (await gql(HISTORY, {"id": coop_id})).data["cooperation"]["history"]
    assert len(history) == 3 and {c["field"] for c in history[0]["changes"]} == {"sinceText", "description"}


async def test_a_cooperation_created_through_approval_starts_its_history(gql, make_user, login):
    admin = await login(*await make_user("ADMIN"))
    template = await cooperation_input(gql, (await gql(
        '{ cooperations(search: "Rettungsdienst", first: 1) { edges { node { id } } } }'
    )).data["cooperations"]["edges"][0]["node"]["id"])
    created = await gql("mutation($i: CooperationInput!) { createCooperation(input: $i) { id } }",
                        {"i": {**template, "title": "Neue Verlaufsprobe"}}, headers=admin)
    assert not created.errors, created.errors
    history = (await gql(HISTORY, {"id": created.data["createCooperation"]["id"]})).data["cooperation"]["history"]
    assert len(history) == 1 and history[0]["created"] and history[0]["version"] == 1
