"""Races in the approval workflow, driven through the real ASGI app with many simultaneous requests.

PostgreSQL only: SQLite runs one transaction at a time and would hide every race here.
Each test fires 10-20 requests at once and checks the outcome a person relies on: one
decision per change, one published state per version, nothing pending after a deletion.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from service.approvals.models import ChangeRequest, ChangeStatus
from service.audit import AuditEntry
from service.catalogue.models import Contact, Cooperation
from service.mail.models import OutboxMail
from service.sql import fetch
from tests.conftest import BASE_URL, GraphQLResult, requires_postgres
from tests.test_approvals import APPROVE, PROPOSE, REJECT, UPDATE_ME, contact_fields, cooperation_input

pytestmark = [pytest.mark.postgres, requires_postgres]

EDIT = """mutation($id: ID!, $i: CooperationInput!, $v: Int!) { updateCooperation(id: $id, input: $i,
  baseVersion: $v) { version description } }"""


async def simultaneously(app, requests: list[tuple[str, dict, dict]]) -> list[GraphQLResult]:
    """Send every (query, variables, headers) at once through the app; answers in request order."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        async def one(query: str, variables: dict, headers: dict) -> GraphQLResult:
            response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
            assert response.status_code == 200, response.text
            return GraphQLResult(response.json())

        return await asyncio.wait_for(asyncio.gather(*(one(*r) for r in requests)), timeout=120)


def outcomes(results: list[GraphQLResult], field: str) -> tuple[list[GraphQLResult], list[str]]:
    """The successful answers, and the error codes of the others (one per failed request)."""
    ok = [r for r in results if not r.errors and r.data and r.data.get(field)]
    codes = [c for r in results if r.errors for c in r.codes]
    return ok, codes


async def account_id(username: str) -> int:
    return (await fetch("SELECT id FROM account WHERE username = ?", [username]))[0]["id"]


async def approvals_of(change_ids: list[int]) -> list[AuditEntry]:
    entries = await AuditEntry.filter(action="CHANGE_APPROVED")
    return [e for e in entries if (e.details or {}).get("changeId") in change_ids]


async def pending_proposals(gql, person, coop_id: str, count: int) -> list[int]:
    """`count` rival proposals against the published version, each with its own description."""
    version = (await Cooperation.get(id=int(coop_id))).version
    base = await cooperation_input(gql, coop_id)
    ids = []
    for n in range(count):
        result = await gql(PROPOSE, {"id": coop_id, "i": {**base, "description": f"Variante {n}"}, "v": version},
                           headers=person["headers"])
        assert not result.errors, result.errors
        ids.append(int(result.data["proposeCooperationChange"]["id"]))
    return ids


async def test_rival_approvals_publish_exactly_one_and_mark_the_others_conflicting(
        app, gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Kamen", ["unna-kommunen-38"])
    coop_id = person["cooperation_ids"][0]
    version = (await Cooperation.get(id=int(coop_id))).version
    change_ids = await pending_proposals(gql, person, coop_id, 10)
    approvers = [await login(*await make_user("APPROVER", scope="05978")) for _ in range(2)]

    results = await simultaneously(app, [(APPROVE, {"id": str(cid)}, approvers[i % 2])
                                         for i, cid in enumerate(change_ids)])

    ok, codes = outcomes(results, "approveChange")
    assert len(ok) == 1 and codes == ["CONFLICT"] * 9
    winner = int(ok[0].data["approveChange"]["id"])
    changes = {c.id: c for c in await ChangeRequest.filter(id__in=change_ids)}
    assert [c.status for c in changes.values()].count(ChangeStatus.APPROVED) == 1
    assert changes[winner].status is ChangeStatus.APPROVED
    for cid, change in changes.items():
        if cid != winner:
            assert change.status is ChangeStatus.CONFLICTING
            assert f"change #{winner}" in change.conflict_reason and f"version {version + 1}" in change.conflict_reason
    published = await Cooperation.get(id=int(coop_id))
    assert published.version == version + 1
    assert published.description == changes[winner].payload["description"]
    assert len(await approvals_of(change_ids)) == 1


async def test_approving_one_change_twenty_times_at_once_approves_it_once(app, gql, confirmed_contact, make_user,
                                                                        login):
    person = await confirmed_contact("Bergkamen", ["unna-kommunen-34"])
    coop_id = person["cooperation_ids"][0]
    version = (await Cooperation.get(id=int(coop_id))).version
    [change_id] = await pending_proposals(gql, person, coop_id, 1)
    approver = await login(*await make_user("APPROVER", scope="05978"))

    results = await simultaneously(app, [(APPROVE, {"id": str(change_id)}, approver)] * 20)

    ok, codes = outcomes(results, "approveChange")
    assert len(ok) == 1 and codes == ["CONFLICT"] * 19
    assert all("approved, not pending" in r.errors[0]["message"] for r in results if r.errors)
    assert (await Cooperation.get(id=int(coop_id))).version == version + 1
    assert len(await approvals_of([change_id])) == 1
    submitter = await account_id(person["username"])
    assert await OutboxMail.filter(template="change_approved", account_id=submitter).count() == 1


async def test_approving_a_proposed_new_cooperation_many_times_creates_it_once(app, gql, confirmed_contact,
                                                                            make_user, login):
    person = await confirmed_contact("Bönen", [])
    title = f"Gemeinsamer Bauhof Testfall {person['last_name']}"
    proposed = await gql("mutation($i: CooperationInput!) { proposeCooperation(input: $i) { id } }",
                         {"i": {"title": title, "partners": [{"organizationId": person["organization_id"]}]}},
                         headers=person["headers"])
    change_id = proposed.data["proposeCooperation"]["id"]
    approver = await login(*await make_user("APPROVER", scope="05978"))

    results = await simultaneously(app, [(APPROVE, {"id": change_id}, approver)] * 15)

    ok, codes = outcomes(results, "approveChange")
    assert len(ok) == 1 and codes == ["CONFLICT"] * 14
    assert await Cooperation.filter(title=title).count() == 1
    assert len(await approvals_of([int(change_id)])) == 1


async def test_approve_and_reject_at_once_decide_the_change_once(app, gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Holzwickede", [])
    result = await gql(UPDATE_ME, {"i": contact_fields(person, phone="+49 000 401"), "v": 1}, headers=person["headers"])
    change_id = int(result.data["updateMyContact"]["id"])
    approver = await login(*await make_user("APPROVER", scope="05978"))
    requests = [(APPROVE, {"id": str(change_id)}, approver), (REJECT, {"id": str(change_id), "r": "Nein"}, approver)]

    results = await simultaneously(app, requests * 10)

    decided = [r for r in results if not r.errors]
    assert len(decided) == 1 and all(r.codes == ["CONFLICT"] for r in results if r.errors)
    change = await ChangeRequest.get(id=change_id)
    assert change.status.value == ("APPROVED" if "approveChange" in decided[0].data else "REJECTED")
    contact = await Contact.get(id=int(person["contact_id"]))
    assert (contact.version, contact.phone) == ((2, "+49 000 401") if change.status is ChangeStatus.APPROVED
                                                else (1, "+49 000 111-1"))
    decisions = [e for e in await AuditEntry.filter(action__in=["CHANGE_APPROVED", "CHANGE_REJECTED"])
                 if (e.details or {}).get("changeId") == change_id]
    assert len(decisions) == 1
    submitter = await account_id(person["username"])
    assert await OutboxMail.filter(template__in=["change_approved", "change_rejected"],
                                   account_id=submitter).count() == 1


async def test_simultaneous_direct_edits_of_one_version_let_exactly_one_win(app, gql, make_user, login):
    coop_id = str((await fetch("SELECT id FROM cooperation WHERE key = 'unna-kommunen-36'"))[0]["id"])
    version = (await Cooperation.get(id=int(coop_id))).version
    base = await cooperation_input(gql, coop_id)
    editors = [await login(*await make_user("APPROVER", scope="05978")), await login(*await make_user("ADMIN"))]

    results = await simultaneously(app, [(EDIT, {"id": coop_id, "i": {**base, "description": f"Fassung {n}"},
                                                 "v": version}, editors[n % 2]) for n in range(12)])

    ok, codes = outcomes(results, "updateCooperation")
    assert len(ok) == 1 and codes == ["CONFLICT"] * 11
    published = await Cooperation.get(id=int(coop_id))
    assert published.version == version + 1 == ok[0].data["updateCooperation"]["version"]
    assert published.description == ok[0].data["updateCooperation"]["description"]
    edits = await ChangeRequest.filter(cooperation_id=int(coop_id), review_note="direct edit", base_version=version)
    assert len(edits) == 1


async def test_a_direct_edit_racing_approvals_leaves_one_new_version(app, gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Fröndenberg/Ruhr", ["unna-kommunen-30"])
    coop_id = person["cooperation_ids"][0]
    version = (await Cooperation.get(id=int(coop_id))).version
    change_ids = await pending_proposals(gql, person, coop_id, 6)
    approver = await login(*await make_user("APPROVER", scope="05978"))
    admin = await login(*await make_user("ADMIN"))
    edit = (EDIT, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id), "description": "Direkt"},
                   "v": version}, admin)

    results = await simultaneously(app, [(APPROVE, {"id": str(c)}, approver) for c in change_ids[:3]] + [edit]
                                   + [(APPROVE, {"id": str(c)}, approver) for c in change_ids[3:]])

    assert len([r for r in results if not r.errors]) == 1
    assert all(r.codes == ["CONFLICT"] for r in results if r.errors)
    assert (await Cooperation.get(id=int(coop_id))).version == version + 1
    statuses = [c.status for c in await ChangeRequest.filter(id__in=change_ids)]
    assert ChangeStatus.PENDING not in statuses and statuses.count(ChangeStatus.APPROVED) <= 1


async def test_rival_contact_changes_approved_at_once_publish_one(app, gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Selm", [])
    change_ids = []
    for n in range(10):
        result = await gql(UPDATE_ME, {"i": contact_fields(person, phone=f"+49 000 50{n}"), "v": 1},
                           headers=person["headers"])
        change_ids.append(int(result.data["updateMyContact"]["id"]))
    approver = await login(*await make_user("APPROVER", scope="05978"))

    results = await simultaneously(app, [(APPROVE, {"id": str(c)}, approver) for c in change_ids])

    ok, codes = outcomes(results, "approveChange")
    assert len(ok) == 1 and codes == ["CONFLICT"] * 9
    winner = await ChangeRequest.get(id=int(ok[0].data["approveChange"]["id"]))
    contact = await Contact.get(id=int(person["contact_id"]))
    assert contact.version == 2 and contact.phone == winner.payload["after"]["phone"]
    others = await ChangeRequest.filter(id__in=change_ids).exclude(id=winner.id)
    assert {c.status for c in others} == {ChangeStatus.CONFLICTING}


async def test_proposals_at_the_moment_of_deletion_never_stay_pending(app, gql, confirmed_contact):
    person = await confirmed_contact("Unna", ["unna-kommunen-39"])
    coop_id = person["cooperation_ids"][0]
    version = (await Cooperation.get(id=int(coop_id))).version
    base = await cooperation_input(gql, coop_id)
    marker = "Rückfragen an Frau " + person["last_name"]
    requests = []
    for n in range(8):
        requests.append((PROPOSE, {"id": coop_id, "i": {**base, "notes": f"{marker} {n}"}, "v": version},
                         person["headers"]))
        requests.append((UPDATE_ME, {"i": contact_fields(person, phone=f"+49 000 60{n}"), "v": 1}, person["headers"]))
    requests.insert(9, ("mutation { deleteMyContact }", {}, person["headers"]))

    results = await simultaneously(app, requests)

    assert results[9].data == {"deleteMyContact": True}
    submitter = await account_id(person["username"])
    left = await ChangeRequest.filter(submitted_by_id=submitter)
    assert all(c.status is not ChangeStatus.PENDING for c in left)
    assert all(c.payload == {"erased": True} for c in left if c.status is not ChangeStatus.APPROVED)
    dump = str(await fetch("SELECT payload FROM change_request WHERE submitted_by_id = ?", [submitter]))
    assert person["last_name"] not in dump and "+49 000 60" not in dump


async def test_approval_racing_deletion_publishes_only_what_was_approved_first(app, gql, confirmed_contact,
                                                                                make_user, login):
    person = await confirmed_contact("Schwerte", ["unna-kommunen-35"])
    coop_id = person["cooperation_ids"][0]
    version = (await Cooperation.get(id=int(coop_id))).version
    marker = "Telefon " + person["last_name"]
    proposal = await gql(PROPOSE, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id), "notes": marker},
                                   "v": version}, headers=person["headers"])
    change_id = proposal.data["proposeCooperationChange"]["id"]
    approver = await login(*await make_user("APPROVER", scope="05978"))
    requests = [(APPROVE, {"id": change_id}, approver)] * 6
    requests.insert(3, ("mutation { deleteMyContact }", {}, person["headers"]))

    results = await simultaneously(app, requests)

    assert results[3].data == {"deleteMyContact": True}
    change = await ChangeRequest.get(id=int(change_id))
    published = await Cooperation.get(id=int(coop_id))
    approvals = [r for i, r in enumerate(results) if i != 3 and not r.errors]
    if change.status is ChangeStatus.APPROVED:  # the approval came first: published before the deletion
        assert len(approvals) == 1 and published.version == version + 1 and published.notes == marker
    else:  # the deletion came first: withdrawn and erased, never published
        assert change.status is ChangeStatus.WITHDRAWN and change.payload == {"erased": True}
        assert approvals == [] and published.version == version and published.notes != marker
