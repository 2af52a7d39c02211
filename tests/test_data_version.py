"""The data version moves with every change an anonymous reader can see (service/publication.py).

One scenario runs every mutation of the schema through the API. Around each one it takes an
anonymous snapshot (a fixed set of public queries, read past the response cache) and the data
version: whenever the snapshot changed, the version must have moved. A mutation added to the
schema later fails `test_the_scenario_runs_every_mutation` until it is added here, so a new
writer of published data cannot forget `publication.bump()`.
"""

from __future__ import annotations

from graphql import parse

from service import publication
from tests import document_files
from tests.conftest import link_in, unique
from tests.test_documents import upload
from tests.test_approvals import APPROVE, PROPOSE, REJECT, cooperation_input

# A bearer token that is no session: answered as to anyone, but never from the response cache.
UNCACHED = {"authorization": "Bearer no-such-session-uncached-snapshot"}
SNAPSHOT = """query Snapshot($org: ID!) {
  cooperations(first: 100, filter: {partnerIds: [$org]}) { totalCount edges { node { id title version description
    partners { role organization { id name } } topicFields { id } contacts { id name email phone function }
    history { version changes { field old new } } } } }
  municipality(id: $org) { name contacts { id name email phone } }
  topicFields { id label } legalForms { code }
  all: cooperations(first: 1) { totalCount }
}"""
CREATE_CONTACT = """mutation($input: CreateContactInput!) { createContact(input: $input) { id state } }"""
ACTIVATE = """mutation($t: String!, $p: String!) { activateAccount(token: $t, newPassword: $p) { token } }"""
ACCEPT = """mutation($t: String!, $p: String!, $i: ContactDataInput, $c: Boolean!) {
  acceptInvitation(token: $t, newPassword: $p, input: $i, consent: $c) { username contactState } }"""
CONFIRM = "mutation($i: ContactDataInput!) { confirmMyData(input: $i, consent: true) { state } }"
UPDATE_ME = "mutation($i: ContactDataInput!, $v: Int!) { updateMyContact(input: $i, baseVersion: $v) { id } }"
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
RAN: set[str] = set()


DOC_ATTACH = """mutation($c: ID!, $i: DocumentInput!, $f: Upload!) {
  attachDocument(cooperationId: $c, input: $i, file: $f) { id } }"""
DOC_PROPOSE = """mutation($c: ID!, $i: DocumentInput!, $f: Upload!) {
  proposeDocument(cooperationId: $c, input: $i, file: $f) { id } }"""


def mutation_name(document: str) -> str:
    [operation] = parse(document).definitions
    return operation.selection_set.selections[0].name.value


async def test_the_scenario_runs_every_mutation(gql, client, smtp, deliver, make_user, login, settings):
    from service.sql import fetch

    bergkamen = str((await fetch("SELECT id FROM organization WHERE name = ?", ["Bergkamen"]))[0]["id"])
    seeded = str((await fetch("SELECT id FROM cooperation WHERE key = ?", ["unna-kommunen-07"]))[0]["id"])
    watched: list[str] = [seeded]

    async def snapshot() -> dict:
        result = await gql(SNAPSHOT, {"org": bergkamen}, headers=UNCACHED)
        assert not result.errors, result.errors
        profiles = [(await gql("query($id: ID!) { cooperation(id: $id) { title description contacts { id name } "
                               "documents { id title } } }",
                               {"id": i}, headers=UNCACHED)).data for i in watched]
        return {"snapshot": result.data, "profiles": profiles}

    async def step(document: str, variables: dict | None = None, headers: dict | None = None, *, ok: bool = True):
        before, version = await snapshot(), await publication.current()
        result = await gql(document, variables, headers=headers)
        if ok:
            assert not result.errors, (mutation_name(document), result.errors)
        after, moved = await snapshot(), await publication.current()
        name = mutation_name(document)
        RAN.add(name)
        if after != before:
            assert moved > version, f"{name} changed what anonymous readers see without publication.bump()"
        return result

    def contact_input(last: str, **extra) -> dict:
        return {"municipalityId": bergkamen, "firstName": "Renate", "lastName": last,
                "email": f"{last.lower()}@example.org", "salutation": "Frau", "function": "Leitung",
                "phone": "+49 000 1234-5", "cooperationIds": [coop], **extra}

    def data_of(values: dict, **changes) -> dict:
        keys = ("firstName", "lastName", "email", "salutation", "function", "phone")
        return {**{k: values[k] for k in keys}, **changes}

    async def mail_link(address: str, path: str) -> str:
        await deliver()
        return link_in(smtp.sink.to(address)[-1], path).split("token=")[1]

    admin_name, admin_password = await make_user("ADMIN")
    admin = {"authorization": "Bearer " + (await step(LOGIN, {"u": admin_name, "p": admin_password})
                                           ).data["login"]["token"]}
    approver = await login(*await make_user("APPROVER"))
    # The scenario's own cooperation (Bergkamen a partner); the seeded ones stay as seeded for other tests.
    template = await cooperation_input(gql, seeded)
    made = await step("mutation($i: CooperationInput!) { createCooperation(input: $i) { id } }",
                      {"i": {**template, "title": unique("Versionsprobe ")}}, admin)
    coop = made.data["createCooperation"]["id"]
    watched.append(coop)

    # A contact person: created, invited again, activated, confirmed (public now), password changed.
    first = contact_input(unique("Versionsprobe"))
    created = await step(CREATE_CONTACT, {"input": first}, admin)
    contact_id = created.data["createContact"]["id"]
    await step("mutation($id: ID!) { resendInvitation(contactId: $id) { state } }", {"id": contact_id}, admin)
    token = await mail_link(first["email"], "/activate")
    session = await step(ACTIVATE, {"t": token, "p": "Versions-Passwort-2026"})
    person = {"authorization": "Bearer " + session.data["activateAccount"]["token"]}
    await step(CONFIRM, {"i": data_of(first)}, person)
    await step("""mutation { changePassword(currentPassword: "Versions-Passwort-2026",
                 newPassword: "Versions-Passwort-2027") { username } }""", headers=person)

    # Their contact data change, approved; a cooperation change, rejected; a new cooperation, approved.
    change = await step(UPDATE_ME, {"i": data_of(first, phone="+49 000 999-9"), "v": 1}, person)
    await step(APPROVE, {"id": change.data["updateMyContact"]["id"], "c": None}, approver)
    version = (await gql("query($id: ID!) { cooperation(id: $id) { version } }", {"id": coop})).data["cooperation"]
    proposal = await step(PROPOSE, {"id": coop, "i": {**await cooperation_input(gql, coop), "notes": "Probe"},
                                    "v": version["version"]}, person)
    await step(REJECT, {"id": proposal.data["proposeCooperationChange"]["id"], "r": "Nicht belegt"}, approver)
    new = await step("mutation($i: CooperationInput!) { proposeCooperation(input: $i) { id } }",
                     {"i": {**template, "title": unique("Neue Versionsprobe ")}}, person)
    approved = await step("mutation($id: ID!) { approveChange(id: $id) { cooperation { id } } }",
                          {"id": new.data["proposeCooperation"]["id"]}, approver)
    watched.append(approved.data["approveChange"]["cooperation"]["id"])

    # Direct edits by the ministry.
    version = (await gql("query($id: ID!) { cooperation(id: $id) { version } }", {"id": coop})).data["cooperation"]
    await step("""mutation($id: ID!, $i: CooperationInput!, $v: Int!) { updateCooperation(id: $id, input: $i,
                 baseVersion: $v) { version } }""",
               {"id": coop, "i": {**template, "description": unique("Direkt ")}, "v": version["version"]}, admin)

    # Documents: attached by the ministry, proposed by the contact and approved, then withdrawn.
    async def upload_step(document: str, variables: dict, headers: dict):
        before, version = await snapshot(), await publication.current()
        response = await upload(client, document, variables, document_files.pdf("Versionsprobe"), "satzung.pdf",
                                headers=headers)
        assert response.status_code == 200 and not response.json().get("errors"), response.text
        after, moved = await snapshot(), await publication.current()
        RAN.add(mutation_name(document))
        if after != before:
            assert moved > version, f"{mutation_name(document)} changed what anonymous readers see without a bump"
        return response.json()["data"]

    meta = {"title": "Satzung", "kind": "STATUTE"}
    attached = await upload_step(DOC_ATTACH, {"c": coop, "i": meta}, admin)
    proposed = await upload_step(DOC_PROPOSE, {"c": coop, "i": {**meta, "title": "Vorschlag"}}, person)
    await step(APPROVE, {"id": proposed["proposeDocument"]["id"], "c": None}, approver)
    await step("mutation($id: ID!) { withdrawDocument(id: $id) { id state } }",
               {"id": attached["attachDocument"]["id"]}, admin)

    # Staff accounts, the import, invitations and mail.
    staff = await step("""mutation($u: String!, $e: String!) { createStaffAccount(username: $u, email: $e,
                         firstName: "Sven", lastName: "Stab", role: APPROVER) }""",
                       {"u": unique("stab"), "e": f"{unique('stab')}@example.org"}, admin)
    await step("mutation($id: ID!) { disableStaffAccount(id: $id) }", {"id": staff.data["createStaffAccount"]}, admin)
    tag = unique("imp")
    await step("mutation($c: String!) { importContacts(csv: $c) { created } }",
               {"c": f"municipality,first_name,last_name,email\nBergkamen,Ida,{tag},{tag}@example.org\n"}, admin)
    await step("mutation { invitePendingContacts }", headers=admin)
    from service.catalogue.models import Contact, ContactState

    # Leave no contact queued for later tests' mail workers (the invitation itself is not under test here).
    await Contact.filter(state=ContactState.CREATED, invitation_queued_at__isnull=False).update(
        invitation_queued_at=None, invitation_queued_by=None)
    mail = (await fetch("SELECT id FROM outbox_mail ORDER BY id DESC LIMIT 1"))[0]["id"]
    await step("mutation($id: ID!) { retryMailDelivery(id: $id) { id } }", {"id": str(mail)}, admin, ok=False)

    # A password reset.
    await step("mutation($v: String!) { requestPasswordReset(usernameOrEmail: $v) }", {"v": first["email"]})
    reset = await mail_link(first["email"], "/reset-password")
    await step("mutation($t: String!) { resetPassword(token: $t, newPassword: \"Versions-Passwort-2028\") }",
               {"t": reset})

    # A second person accepts the invitation with consent (public at once), then deletes their data.
    second = contact_input(unique("Zweitprobe"))
    await step(CREATE_CONTACT, {"input": second}, admin)
    token = await mail_link(second["email"], "/activate")
    accepted = await step(ACCEPT, {"t": token, "p": "Zweit-Passwort-2026", "i": data_of(second), "c": True})
    username = accepted.data["acceptInvitation"]["username"]
    other = {"authorization": "Bearer " + (await step(LOGIN, {"u": username, "p": "Zweit-Passwort-2026"})
                                           ).data["login"]["token"]}
    await step("mutation { deleteMyContact }", headers=other)
    await step("mutation { logout }", headers=person)

    fields = (await gql("{ __schema { mutationType { fields { name } } } }")).data["__schema"]["mutationType"]["fields"]
    schema_mutations = {f["name"] for f in fields}
    assert schema_mutations - RAN == set(), "add these mutations to the scenario (and bump where they publish)"


async def test_bump_moves_inside_the_callers_transaction_only(database):
    """A rolled-back transaction leaves the version where it was; a committed one moves it by one."""
    from tortoise.transactions import in_transaction

    start = await publication.current()

    class Undo(Exception):
        pass

    try:
        async with in_transaction():
            await publication.bump()
            raise Undo
    except Undo:
        pass
    assert await publication.current() == start
    async with in_transaction():
        await publication.bump()
    assert await publication.current() == start + 1
