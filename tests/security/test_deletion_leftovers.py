"""Issue 10, finding 5: personal data outlived deleteMyContact in pending proposals.

Deleting withdraws every pending proposal of the person and erases its data, so it can
never be approved and published later; the submitter of a deleted account shows only as
"gelöschte Person" (the username is built from the surname).
"""

from __future__ import annotations

import json

from service.approvals.models import ChangeRequest, ChangeStatus
from service.catalogue.models import Cooperation
from service.sql import fetch
from tests.test_approvals import APPROVE, PROPOSE, cooperation_input, org_id

CHANGE = """query($id: ID!) { change(id: $id) { id status conflictReason proposal recordTitle
  diff { field old new } submitter { id username name } } }"""
HISTORY = """query($f: ChangeFilter) { pendingChanges(filter: $f, first: 100) { id status
  submitter { username name } } }"""
DELETE = "mutation { deleteMyContact }"


async def test_a_pending_proposal_with_personal_notes_is_withdrawn_and_erased_on_deletion(
        gql, client, confirmed_contact, make_user, login):
    person = await confirmed_contact("Lünen", ["unna-kommunen-23"], first_name="Quirina")
    coop_id = person["cooperation_ids"][0]
    before = await Cooperation.get(id=int(coop_id))
    notes = f"Ansprechpartnerin Quirina {person['last_name']}, Tel. +49 000 424242"
    update = await gql(PROPOSE, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id), "notes": notes},
                                 "v": before.version}, headers=person["headers"])
    title = f"Neue Kooperation von {person['last_name']}"
    create = await gql("mutation($i: CooperationInput!) { proposeCooperation(input: $i) { id } }",
                       {"i": {"title": title, "notes": notes, "partners": [{"organizationId": await org_id("Lünen")}]}},
                       headers=person["headers"])
    change_ids = [update.data["proposeCooperationChange"]["id"], create.data["proposeCooperation"]["id"]]

    assert (await gql(DELETE, headers=person["headers"])).data == {"deleteMyContact": True}

    approver = await login(*await make_user("APPROVER"))
    for change_id in change_ids:
        late = await gql(APPROVE, {"id": change_id}, headers=approver)
        assert late.codes == ["CONFLICT"] and "withdrawn" in late.errors[0]["message"]
        shown = (await gql(CHANGE, {"id": change_id}, headers=approver)).data["change"]
        assert shown["status"] == "WITHDRAWN" and "deleted their data" in shown["conflictReason"]
        assert shown["diff"] == [] and person["last_name"] not in json.dumps(shown)
    after = await Cooperation.get(id=int(coop_id))
    assert (after.version, after.notes) == (before.version, before.notes)
    assert (await gql('query($s: String!) { cooperations(search: $s) { totalCount } }',
                      {"s": person["last_name"]})).data["cooperations"]["totalCount"] == 0
    dump = json.dumps(await fetch("SELECT * FROM change_request"), default=str)
    assert "424242" not in dump and person["last_name"] not in dump
    client.cookies.set("ikz_session", approver["authorization"].removeprefix("Bearer "))
    page = await client.get(f"/review/{change_ids[0]}")
    assert "Eingereicht von</dt><dd>gelöschte Person" in page.text and person["username"] not in page.text


async def test_the_submitter_of_a_deleted_account_shows_as_geloeschte_person(gql, client, confirmed_contact,
                                                                              make_user, login):
    person = await confirmed_contact("Kamen", ["unna-kommunen-37"])
    coop_id = person["cooperation_ids"][0]
    version = (await Cooperation.get(id=int(coop_id))).version
    approver = await login(*await make_user("APPROVER", scope="05978"))
    base = await cooperation_input(gql, coop_id)
    approved = await gql(PROPOSE, {"id": coop_id, "i": {**base, "description": "Personalwesen und mehr"},
                                   "v": version}, headers=person["headers"])
    approved_id = approved.data["proposeCooperationChange"]["id"]
    await gql(APPROVE, {"id": approved_id}, headers=approver)

    await gql(DELETE, headers=person["headers"])

    history = await gql(HISTORY, {"f": {"statuses": ["APPROVED"], "cooperationId": coop_id}}, headers=approver)
    [change] = [c for c in history.data["pendingChanges"] if c["id"] == approved_id]
    assert change["status"] == "APPROVED"  # what was published before the deletion stays published
    assert change["submitter"] == {"username": "gelöschte Person", "name": None}
    assert person["username"] not in json.dumps(history.data)
    assert (await ChangeRequest.get(id=int(approved_id))).status is ChangeStatus.APPROVED


async def test_queued_approver_mails_quoting_the_person_are_dropped_on_deletion(gql, confirmed_contact, make_user):
    """The approvers' notification quotes the submitter's name and the proposed notes; once the person
    deletes their data, an undelivered one must not go out anymore."""
    from service.mail.models import OutboxMail
    from service.mail.sealing import unseal

    await make_user("APPROVER", scope="05978")
    person = await confirmed_contact("Lünen", ["unna-kommunen-23"], first_name="Quirina")
    coop_id = person["cooperation_ids"][0]
    version = (await Cooperation.get(id=int(coop_id))).version
    notes = f"Rückfragen an Quirina {person['last_name']}, Tel. +49 000 535353"
    proposed = await gql(PROPOSE, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id), "notes": notes},
                                   "v": version}, headers=person["headers"])
    change_id = int(proposed.data["proposeCooperationChange"]["id"])
    queued = await OutboxMail.filter(change_id=change_id, sealed_content__isnull=False)
    assert queued and all("535353" in unseal(m.sealed_content)["text"] for m in queued)  # the mail quotes them

    assert (await gql(DELETE, headers=person["headers"])).data == {"deleteMyContact": True}

    assert await OutboxMail.filter(change_id=change_id).count() == 0
    for mail in await OutboxMail.filter(sealed_content__isnull=False):
        content = json.dumps(unseal(mail.sealed_content), ensure_ascii=False)
        assert "535353" not in content and person["last_name"] not in content
