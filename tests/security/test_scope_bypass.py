"""Issue 10, finding 1: an approver scoped to one district edited another state's records.

The rule: a change is the approver's only when the record as published and as it would
be afterwards both have a partner in the approver's scope (contact data: the contact's
municipality). Adding an in-scope partner opens nothing; removing the last one moves nothing.
"""

from __future__ import annotations

from service.approvals.models import ChangeRequest
from service.catalogue.models import Cooperation, CooperationPartner
from service.mail.models import OutboxMail
from service.sql import fetch
from tests.test_approvals import APPROVE, PENDING, PROPOSE, UPDATE_ME, contact_fields, cooperation_input, org_id

EDIT = """mutation($id: ID!, $i: CooperationInput!, $v: Int!) { updateCooperation(id: $id, input: $i,
  baseVersion: $v) { version partners { organization { id } } } }"""
CREATE = "mutation($i: CooperationInput!) { createCooperation(input: $i) { id } }"
CHANGE = "query($id: ID!) { change(id: $id) { id status } }"


async def coop(key: str) -> str:
    return str((await fetch("SELECT id FROM cooperation WHERE key = ?", [key]))[0]["id"])


async def partners_of(coop_id: str) -> set[int]:
    return set(await CooperationPartner.filter(cooperation_id=int(coop_id)).values_list("organization_id", flat=True))


async def restore_partners(gql, coop_id: str, published: dict, approver: dict) -> None:
    """Undo a legitimate partner change (other tests count the cooperations of each region)."""
    version = (await Cooperation.get(id=int(coop_id))).version
    result = await gql(EDIT, {"id": coop_id, "i": {"partners": published["partners"]}, "v": version}, headers=approver)
    assert not result.errors, result.errors


async def test_adding_an_in_scope_town_does_not_open_a_foreign_cooperation(gql, make_user, login):
    unna = await login(*await make_user("APPROVER", scope="05978"))
    saar_coop = await coop("saarbruecken-saarpfalz-san")
    before = await Cooperation.get(id=int(saar_coop))
    partners = await partners_of(saar_coop)
    plain = await cooperation_input(gql, saar_coop)
    with_selm = await cooperation_input(gql, saar_coop, add_partner=await org_id("Selm"))

    assert (await gql(EDIT, {"id": saar_coop, "i": {**plain, "description": "x"}, "v": before.version},
                      headers=unna)).codes == ["FORBIDDEN"]
    bypass = await gql(EDIT, {"id": saar_coop, "i": with_selm, "v": before.version}, headers=unna)

    assert bypass.codes == ["FORBIDDEN"] and "scope" in bypass.errors[0]["message"]
    after = await Cooperation.get(id=int(saar_coop))
    assert after.version == before.version and await partners_of(saar_coop) == partners
    saarland = await login(*await make_user("APPROVER", scope="10"))
    legit = await gql(EDIT, {"id": saar_coop, "i": with_selm, "v": before.version}, headers=saarland)
    assert not legit.errors, legit.errors  # the state's own approver may add a partner from elsewhere
    await restore_partners(gql, saar_coop, plain, saarland)


async def test_an_in_scope_cooperation_cannot_be_moved_out_of_scope(gql, make_user, login):
    unna = await login(*await make_user("APPROVER", scope="05978"))
    coop_id = await coop("unna-kommunen-33")  # Unna with Dortmund (outside the Kreis)
    version = (await Cooperation.get(id=int(coop_id))).version
    dortmund, saarbruecken = await org_id("Dortmund"), await org_id("Saarbrücken")
    base = await cooperation_input(gql, coop_id)
    away = {**base, "partners": [{"organizationId": dortmund, "role": "LEAD"},
                                 {"organizationId": saarbruecken, "role": "PARTNER"}]}

    moved = await gql(EDIT, {"id": coop_id, "i": away, "v": version}, headers=unna)

    assert moved.codes == ["FORBIDDEN"]
    assert int(await org_id("Unna")) in await partners_of(coop_id)
    kept = await gql(EDIT, {"id": coop_id, "i": {**base, "description": "Gemeinsam mit Dortmund"}, "v": version},
                     headers=unna)
    assert kept.data["updateCooperation"]["version"] == version + 1  # a cross-border record stays editable


async def test_an_approver_cannot_create_a_cooperation_wholly_outside_the_scope(gql, make_user, login):
    unna = await login(*await make_user("APPROVER", scope="05978"))
    title = "Gemeinsame Schulbuchbeschaffung Saar Testfall"
    created = await gql(CREATE, {"i": {"title": title, "partners": [{"organizationId": await org_id("Saarbrücken")}]}},
                        headers=unna)
    assert created.codes == ["FORBIDDEN"]
    assert not await Cooperation.exists(title=title)


async def test_a_proposal_adding_an_in_scope_town_stays_with_the_records_own_approvers(
        gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Saarbrücken", ["saarbruecken-saarpfalz-ikfz"])
    unna_name, unna_pw = await make_user("APPROVER", scope="05978")
    saar_name, saar_pw = await make_user("APPROVER", scope="10")
    coop_id = person["cooperation_ids"][0]
    version = (await Cooperation.get(id=int(coop_id))).version
    published = await cooperation_input(gql, coop_id)
    proposal = await gql(PROPOSE, {"id": coop_id, "i": await cooperation_input(gql, coop_id,
                                                                             add_partner=await org_id("Selm")),
                                   "v": version}, headers=person["headers"])
    change_id = proposal.data["proposeCooperationChange"]["id"]
    unna, saarland = await login(unna_name, unna_pw), await login(saar_name, saar_pw)

    assert (await gql(APPROVE, {"id": change_id}, headers=unna)).codes == ["FORBIDDEN"]
    assert (await gql(CHANGE, {"id": change_id}, headers=unna)).codes == ["NOT_FOUND"]
    assert change_id not in {c["id"] for c in (await gql(PENDING, headers=unna)).data["pendingChanges"]}
    unna_account = (await fetch("SELECT id FROM account WHERE username = ?", [unna_name]))[0]["id"]
    assert await OutboxMail.filter(template="approver_notification", account_id=unna_account).count() == 0
    saar_account = (await fetch("SELECT id FROM account WHERE username = ?", [saar_name]))[0]["id"]
    assert await OutboxMail.filter(template="approver_notification", account_id=saar_account).count() == 1
    assert (await Cooperation.get(id=int(coop_id))).version == version

    assert change_id in {c["id"] for c in (await gql(PENDING, headers=saarland)).data["pendingChanges"]}
    assert (await gql(APPROVE, {"id": change_id}, headers=saarland)).data["approveChange"]["status"] == "APPROVED"
    await restore_partners(gql, coop_id, published, saarland)


async def test_a_contact_cannot_propose_handing_a_cooperation_to_other_towns(gql, confirmed_contact):
    person = await confirmed_contact("Selm", ["unna-kommunen-10"])  # Selm with Olfen
    coop_id = person["cooperation_ids"][0]
    version = (await Cooperation.get(id=int(coop_id))).version
    base = await cooperation_input(gql, coop_id)
    without_selm = [p for p in base["partners"] if p["organizationId"] != person["organization_id"]]
    without_selm.append({"organizationId": await org_id("Saarbrücken"), "role": "PARTNER"})
    count = await ChangeRequest.all().count()

    handed = await gql(PROPOSE, {"id": coop_id, "i": {**base, "partners": without_selm,
                                                      "performedBy": {"kind": "JOINT"}}, "v": version},
                       headers=person["headers"])

    assert handed.codes == ["FORBIDDEN"], handed.errors
    assert await ChangeRequest.all().count() == count


async def test_contact_changes_follow_the_contacts_municipality(gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Saarbrücken", [])
    change = await gql(UPDATE_ME, {"i": contact_fields(person, phone="+49 000 681"), "v": 1},
                       headers=person["headers"])
    change_id = change.data["updateMyContact"]["id"]
    unna = await login(*await make_user("APPROVER", scope="05978"))
    saarland = await login(*await make_user("APPROVER", scope="10041"))  # Regionalverband Saarbrücken

    assert (await gql(CHANGE, {"id": change_id}, headers=unna)).codes == ["NOT_FOUND"]
    assert (await gql(APPROVE, {"id": change_id}, headers=unna)).codes == ["FORBIDDEN"]
    assert (await gql(APPROVE, {"id": change_id}, headers=saarland)).data["approveChange"]["status"] == "APPROVED"
