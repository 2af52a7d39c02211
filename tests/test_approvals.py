"""Self-service changes with ministry approval, scopes, versions, deletion and the audit trail."""

from __future__ import annotations

import json

import pytest

from service.sql import fetch
from tests.conftest import text_part

COOPERATION = """query($id: ID!) { cooperation(id: $id) { id version dataAsOf lastApprovedChangeAt
  partners { role organization { id name } } contacts { id name phone email } } }"""
UPDATE_ME = """mutation($i: ContactDataInput!, $v: Int!) { updateMyContact(input: $i, baseVersion: $v) {
  id kind status diff { field label old new } } }"""
PROPOSE = """mutation($id: ID!, $i: CooperationInput!, $v: Int!) { proposeCooperationChange(cooperationId: $id,
  input: $i, baseVersion: $v) { id kind status diff { field old new } } }"""
APPROVE = "mutation($id: ID!, $c: String) { approveChange(id: $id, comment: $c) { id status reviewNote } }"
REJECT = "mutation($id: ID!, $r: String!) { rejectChange(id: $id, reason: $r) { id status reviewNote } }"
PENDING = """query($f: ChangeFilter) { pendingChanges(filter: $f, first: 100) { id kind status conflictReason
  recordTitle submitter { username } diff { field old new } contact { id phone } cooperation { id } } }"""


async def org_id(name: str) -> str:
    return str((await fetch("SELECT id FROM organization WHERE name = ?", [name]))[0]["id"])


async def cooperation_input(gql, cooperation_id: str, *, add_partner: str | None = None) -> dict:
    query = """query($id: ID!) { cooperation(id: $id) { title description sinceText startYear endYear status
      legalForm { code } legalFormText partnersText topicFields { id } performedBy { kind text organization { id } }
      partners { role organization { id } } } }"""
    c = (await gql(query, {"id": cooperation_id})).data["cooperation"]
    partners = [{"organizationId": p["organization"]["id"], "role": p["role"]} for p in c["partners"]]
    if add_partner:
        partners.append({"organizationId": add_partner, "role": "PARTNER"})
    performer = c["performedBy"]
    return {
        "title": c["title"], "description": c["description"], "sinceText": c["sinceText"], "startYear": c["startYear"],
        "endYear": c["endYear"], "status": c["status"], "legalForm": c["legalForm"]["code"] if c["legalForm"] else None,
        "legalFormText": c["legalFormText"], "partnersText": c["partnersText"],
        "topicFieldIds": [t["id"] for t in c["topicFields"]], "partners": partners,
        "performedBy": {"kind": performer["kind"], "text": performer["text"],
                        "organizationId": performer["organization"]["id"] if performer["organization"] else None},
    }


def contact_fields(person: dict, **changes) -> dict:
    values = {"firstName": "Petra", "lastName": person["last_name"], "email": person["email"], "salutation": "Frau",
              "function": "Sachbearbeitung", "phone": "+49 000 111-1"}
    values.update(changes)
    return values


async def test_contact_proposes_phone_and_partner_approver_publishes(gql, confirmed_contact, make_user, login,
                                                                      smtp, deliver):
    person = await confirmed_contact("Selm", ["unna-kommunen-17"])
    coop_id = person["cooperation_ids"][0]
    unna_approver, unna_pw = await make_user("APPROVER", scope="05978")
    saar_approver, _ = await make_user("APPROVER", scope="10")
    before = (await gql(COOPERATION, {"id": coop_id})).data["cooperation"]
    assert person["contact_id"] in {c["id"] for c in before["contacts"]}

    phone = await gql(UPDATE_ME, {"i": contact_fields(person, phone="+49 000 999-9"), "v": 1}, headers=person["headers"])
    assert phone.data["updateMyContact"]["diff"] == [
        {"field": "phone", "label": "Telefon", "old": "+49 000 111-1", "new": "+49 000 999-9"}]
    werne = await org_id("Werne")
    proposal = await gql(PROPOSE, {"id": coop_id, "i": await cooperation_input(gql, coop_id, add_partner=werne),
                                   "v": before["version"]}, headers=person["headers"])
    assert not proposal.errors, proposal.errors
    diff = proposal.data["proposeCooperationChange"]["diff"]
    assert [d["field"] for d in diff] == ["partners"] and "Werne" in diff[0]["new"] and "Werne" not in diff[0]["old"]

    # Nothing is published yet.
    unchanged = (await gql(COOPERATION, {"id": coop_id})).data["cooperation"]
    assert unchanged == before

    await deliver()
    notices = smtp.sink.to(f"{unna_approver}@example.org")
    assert len(notices) == 2 and all(m["Subject"].startswith("Freigabe erbeten") for m in notices)
    assert any("+49 000 999-9" in text_part(m) for m in notices)
    assert "https://ikz.example.org/review/" in text_part(notices[0])
    assert smtp.sink.to(f"{saar_approver}@example.org") == []  # outside that approver's scope

    approver = await login(unna_approver, unna_pw)
    pending = (await gql(PENDING, headers=approver)).data["pendingChanges"]
    ours = [c for c in pending if c["submitter"]["username"] == person["username"]]
    assert {c["kind"] for c in ours} == {"CONTACT_UPDATE", "COOPERATION_UPDATE"}
    records = {c["kind"]: (c["contact"], c["cooperation"]) for c in ours}
    assert records["CONTACT_UPDATE"] == ({"id": person["contact_id"], "phone": "+49 000 111-1"}, None)
    assert records["COOPERATION_UPDATE"] == (None, {"id": coop_id})
    for change in ours:
        approved = await gql(APPROVE, {"id": change["id"], "c": "Danke"}, headers=approver)
        assert approved.data, approved.errors
        assert approved.data["approveChange"]["status"] == "APPROVED"

    after = (await gql(COOPERATION, {"id": coop_id})).data["cooperation"]
    assert werne in {p["organization"]["id"] for p in after["partners"]}
    assert after["version"] == before["version"] + 1
    assert after["lastApprovedChangeAt"] is not None and after["dataAsOf"] == before["dataAsOf"]
    assert {c["id"]: c["phone"] for c in after["contacts"]}[person["contact_id"]] == "+49 000 999-9"
    await deliver()
    confirmations = [m for m in smtp.sink.to(person["email"]) if m["Subject"] == "Ihre Änderung wurde freigegeben"]
    assert len(confirmations) == 2 and any("Danke" in text_part(m) for m in confirmations)


async def test_outdated_base_version_is_refused_and_approval_marks_rivals_conflicting(gql, confirmed_contact,
                                                                                     make_user, login):
    first = await confirmed_contact("Kamen", ["unna-kommunen-13"])
    second = await confirmed_contact("Bönen", ["unna-kommunen-13"])
    coop_id = first["cooperation_ids"][0]
    version = (await gql(COOPERATION, {"id": coop_id})).data["cooperation"]["version"]
    stale = await gql(PROPOSE, {"id": coop_id, "i": await cooperation_input(gql, coop_id), "v": version - 1 or 99},
                      headers=first["headers"])
    assert stale.codes == ["CONFLICT"] and "current version" in stale.errors[0]["message"]
    inp = await cooperation_input(gql, coop_id)
    one = await gql(PROPOSE, {"id": coop_id, "i": {**inp, "description": "Variante A"}, "v": version},
                    headers=first["headers"])
    two = await gql(PROPOSE, {"id": coop_id, "i": {**inp, "description": "Variante B"}, "v": version},
                    headers=second["headers"])
    approver = await login(*await make_user("APPROVER"))
    await gql(APPROVE, {"id": one.data["proposeCooperationChange"]["id"]}, headers=approver)
    rival = await gql("query($id: ID!) { change(id: $id) { status conflictReason } }",
                      {"id": two.data["proposeCooperationChange"]["id"]}, headers=second["headers"])
    assert rival.data["change"]["status"] == "CONFLICTING"
    assert f"version {version + 1}" in rival.data["change"]["conflictReason"]
    late = await gql(APPROVE, {"id": two.data["proposeCooperationChange"]["id"]}, headers=approver)
    assert late.codes == ["CONFLICT"]


async def test_rejection_reason_reaches_the_submitter(gql, confirmed_contact, make_user, login, smtp, deliver):
    person = await confirmed_contact("Lünen", ["unna-kommunen-23"])
    change = await gql(UPDATE_ME, {"i": contact_fields(person, function="Kämmerei"), "v": 1}, headers=person["headers"])
    approver = await login(*await make_user("APPROVER", scope="05978"))
    rejected = await gql(REJECT, {"id": change.data["updateMyContact"]["id"], "r": "Bitte Amtsbezeichnung angeben"},
                         headers=approver)
    assert rejected.data["rejectChange"]["status"] == "REJECTED"
    assert (await gql(REJECT, {"id": change.data["updateMyContact"]["id"], "r": " "}, headers=approver)).codes
    await deliver()
    [mail] = [m for m in smtp.sink.to(person["email"]) if m["Subject"] == "Ihre Änderung wurde nicht freigegeben"]
    assert "Bitte Amtsbezeichnung angeben" in text_part(mail)
    profile = (await gql("query($id: ID!) { municipality(id: $id) { contacts { id function } } }",
                         {"id": person["organization_id"]})).data["municipality"]["contacts"]
    assert {c["id"]: c["function"] for c in profile}[person["contact_id"]] == "Sachbearbeitung"


async def test_first_confirmation_with_changes_waits_for_approval(gql, client, make_user, login, smtp, deliver):
    admin = await login(*await make_user("ADMIN"))
    org = await org_id("Werne")
    created = await gql("""mutation($i: CreateContactInput!) { createContact(input: $i) { id email } }""",
                        {"i": {"municipalityId": org, "firstName": "Uwe", "lastName": "Zeller", "email":
                               "uwe.zeller.w@example.org", "cooperationIds": []}}, headers=admin)
    contact = created.data["createContact"]
    await deliver()
    from tests.conftest import link_in

    link = link_in(smtp.sink.to(contact["email"])[0], "/activate")
    page = await client.post("/activate", data={
        "token": link.split("token=")[1], "password": "Werne-Vergabe-2026", "password_repeat": "Werne-Vergabe-2026",
        "first_name": "Uwe", "last_name": "Zeller", "email": contact["email"], "phone": "+49 000 555", "consent": "yes"})
    assert page.status_code == 200 and "nach der Freigabe" in page.text
    query = "query($id: ID!) { municipality(id: $id) { contacts { id phone } } }"
    assert contact["id"] not in {c["id"] for c in (await gql(query, {"id": org})).data["municipality"]["contacts"]}
    approver = await login(*await make_user("APPROVER", scope="05978"))
    pending = (await gql(PENDING, {"f": {"kinds": ["CONTACT_CONFIRMATION"]}}, headers=approver)).data["pendingChanges"]
    change = next(c for c in pending if c["recordTitle"].endswith("Uwe Zeller"))
    assert change["diff"] == [{"field": "phone", "old": None, "new": "+49 000 555"}]
    await gql(APPROVE, {"id": change["id"]}, headers=approver)
    visible = {c["id"]: c["phone"] for c in (await gql(query, {"id": org})).data["municipality"]["contacts"]}
    assert visible[contact["id"]] == "+49 000 555"


async def test_proposing_a_new_cooperation(gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Unna", ["unna-kommunen-52"])
    unna, holzwickede = await org_id("Unna"), await org_id("Holzwickede")
    legal = {"title": "Gemeinsame Streusalzbeschaffung Testlauf", "legalForm": "ABSPRACHE", "sinceText": "2026",
             "startYear": 2026, "status": "PLANNED", "partners": [{"organizationId": holzwickede}]}
    not_ours = await gql("mutation($i: CooperationInput!) { proposeCooperation(input: $i) { id } }", {"i": legal},
                         headers=person["headers"])
    assert not_ours.codes == ["FORBIDDEN"]
    legal["partners"].append({"organizationId": unna, "role": "LEAD"})
    proposed = await gql("mutation($i: CooperationInput!) { proposeCooperation(input: $i) { id kind diff { field } } }",
                         {"i": legal}, headers=person["headers"])
    assert proposed.data["proposeCooperation"]["kind"] == "COOPERATION_CREATE"
    search = '{ cooperations(search: "Streusalzbeschaffung Testlauf") { totalCount } }'
    assert (await gql(search)).data["cooperations"]["totalCount"] == 0
    approver = await login(*await make_user("APPROVER", scope="05978"))
    await gql(APPROVE, {"id": proposed.data["proposeCooperation"]["id"]}, headers=approver)
    assert (await gql(search)).data["cooperations"]["totalCount"] == 1


async def test_authorization_rules(gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Schwerte", ["unna-kommunen-41"])
    other = await confirmed_contact("Bergkamen", ["unna-kommunen-12"])
    foreign_coop = str((await fetch("SELECT id FROM cooperation WHERE key = 'unna-kommunen-10'"))[0]["id"])  # Selm, Olfen
    counts = await fetch("SELECT (SELECT COUNT(*) FROM change_request) AS c, (SELECT COUNT(*) FROM outbox_mail) AS m")

    denied = await gql(PROPOSE, {"id": foreign_coop, "i": await cooperation_input(gql, foreign_coop), "v": 1},
                       headers=person["headers"])
    assert denied.codes == ["FORBIDDEN"] and "municipality takes part" in denied.errors[0]["message"]
    assert (await gql("{ contactPersons { id email } }", headers=person["headers"])).codes == ["FORBIDDEN"]
    mine = (await gql("{ myData }", headers=person["headers"])).data["myData"]
    assert mine["contact"]["email"] == person["email"] and other["email"] not in json.dumps(mine)
    change = await gql(UPDATE_ME, {"i": contact_fields(other, phone="+49 000 222"), "v": 1}, headers=other["headers"])
    change_id = change.data["updateMyContact"]["id"]
    assert (await gql(APPROVE, {"id": change_id}, headers=person["headers"])).codes == ["FORBIDDEN"]
    assert (await gql("query($id: ID!) { change(id: $id) { diff { new } } }", {"id": change_id},
                      headers=person["headers"])).codes == ["NOT_FOUND"]
    saarland = await login(*await make_user("APPROVER", scope="10"))
    outside = await gql(APPROVE, {"id": change_id}, headers=saarland)
    assert outside.codes == ["FORBIDDEN"] and "scope" in outside.errors[0]["message"]
    assert change_id not in {c["id"] for c in (await gql(PENDING, headers=saarland)).data["pendingChanges"]}
    anonymous = await gql(PENDING)
    assert anonymous.codes == ["UNAUTHENTICATED"] and anonymous.data is None
    assert (await gql("{ myData }")).codes == ["UNAUTHENTICATED"]
    after = await fetch("SELECT (SELECT COUNT(*) FROM change_request) AS c, (SELECT COUNT(*) FROM outbox_mail) AS m")
    assert after[0]["c"] == counts[0]["c"] + 1  # only the one legitimate proposal
    assert (await gql(PENDING, headers=other["headers"])).data["pendingChanges"][0]["id"] == change_id


async def test_direct_edit_is_recorded_like_an_approved_change(gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Werne", ["unna-kommunen-25"])
    coop_id = person["cooperation_ids"][0]
    version = (await gql(COOPERATION, {"id": coop_id})).data["cooperation"]["version"]
    pending = await gql(PROPOSE, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id), "notes": "A"},
                                  "v": version}, headers=person["headers"])
    admin = await login(*await make_user("ADMIN"))
    edit = """mutation($id: ID!, $i: CooperationInput!, $v: Int!) { updateCooperation(id: $id, input: $i,
      baseVersion: $v) { version description lastApprovedChangeAt } }"""
    result = await gql(edit, {"id": coop_id, "i": {**await cooperation_input(gql, coop_id),
                                                   "description": "Direkt geändert"}, "v": version}, headers=admin)
    assert result.data["updateCooperation"]["version"] == version + 1
    assert result.data["updateCooperation"]["lastApprovedChangeAt"]
    history = await gql(PENDING, {"f": {"statuses": ["APPROVED", "CONFLICTING"], "cooperationId": coop_id}},
                        headers=admin)
    statuses = {c["id"]: c["status"] for c in history.data["pendingChanges"]}
    assert statuses[pending.data["proposeCooperationChange"]["id"]] == "CONFLICTING"
    assert "APPROVED" in statuses.values()
    contact_edit = await gql(edit, {"id": coop_id, "i": await cooperation_input(gql, coop_id), "v": version + 1},
                             headers=person["headers"])
    assert contact_edit.codes == ["FORBIDDEN"]


async def test_deletion_removes_the_person_everywhere_at_once(gql, confirmed_contact, make_user, login, smtp, deliver):
    person = await confirmed_contact("Bergkamen", ["unna-kommunen-35"], first_name="Xaveria")
    approver_name, _ = await make_user("APPROVER", scope="05978")
    await gql(UPDATE_ME, {"i": contact_fields(person, firstName="Xaveria", phone="+49 000 777"), "v": 1},
              headers=person["headers"])
    coop_id = person["cooperation_ids"][0]
    assert person["contact_id"] in {c["id"] for c in (await gql(COOPERATION, {"id": coop_id})).data["cooperation"]["contacts"]}
    assert (await gql("mutation { deleteMyContact }", headers=person["headers"])).data == {"deleteMyContact": True}

    assert person["contact_id"] not in {c["id"] for c in
                                        (await gql(COOPERATION, {"id": coop_id})).data["cooperation"]["contacts"]}
    municipality = await gql("query($id: ID!) { municipality(id: $id) { contacts { id } } }",
                             {"id": person["organization_id"]})
    assert person["contact_id"] not in {c["id"] for c in municipality.data["municipality"]["contacts"]}
    assert (await gql("{ me { username } }", headers=person["headers"])).data["me"] is None
    login_again = await gql("mutation($u:String!,$p:String!){ login(username:$u,password:$p){ token } }",
                            {"u": person["username"], "p": person["password"]})
    assert login_again.codes == ["UNAUTHENTICATED"]
    # Erased, not hidden: no personal value is left anywhere in the database.
    tables = ["contact", "account", "change_request", "audit_entry", "outbox_mail", "session", "one_time_token"]
    for table in tables:
        dump = json.dumps(await fetch(f"SELECT * FROM {table}"), default=str)
        for value in (person["last_name"], person["email"], "+49 000 777", "Xaveria"):
            assert value not in dump, (table, value)
    # The username stays reserved.
    from service.accounts.onboarding import allocate_username

    assert await allocate_username("Petra", person["last_name"]) != person["username"]
    assert (await fetch("SELECT COUNT(*) AS n FROM account WHERE username = ?", [person["username"]]))[0]["n"] == 1
    await deliver()
    [notice] = [m for m in smtp.sink.to(f"{approver_name}@example.org") if m["Subject"] == "Kontaktperson gelöscht"]
    assert "Bergkamen" in text_part(notice) and person["last_name"] not in text_part(notice)


async def test_audit_trail_records_the_process(gql, confirmed_contact, make_user, login):
    person = await confirmed_contact("Holzwickede", ["unna-kommunen-05"])
    await gql("mutation($u:String!,$p:String!){ login(username:$u,password:$p){ token } }",
              {"u": person["username"], "p": "wrong-password-1"})
    change = await gql(UPDATE_ME, {"i": contact_fields(person, phone="+49 000 333"), "v": 1}, headers=person["headers"])
    approver = await login(*await make_user("APPROVER"))
    await gql(APPROVE, {"id": change.data["updateMyContact"]["id"]}, headers=approver)
    admin = await login(*await make_user("ADMIN"))
    account_id = str((await fetch("SELECT id FROM account WHERE username = ?", [person["username"]]))[0]["id"])
    log = await gql("""query($f: AuditLogFilter) { auditLog(filter: $f, first: 100) { action actorId actorRole
      actorUsername subjectType subjectId details } }""", {"f": {"actorId": account_id}}, headers=admin)
    actions = [e["action"] for e in log.data["auditLog"]]
    for expected in ("ACCOUNT_ACTIVATED", "DATA_CONFIRMED", "LOGIN_SUCCEEDED", "LOGIN_FAILED", "CHANGE_PROPOSED"):
        assert expected in actions, actions
    assert all(e["actorUsername"] == person["username"] for e in log.data["auditLog"])
    contact_log = await gql("""query($f: AuditLogFilter) { auditLog(filter: $f) { action } }""",
                            {"f": {"subjectType": "contact", "subjectId": person["contact_id"]}}, headers=admin)
    contact_actions = [e["action"] for e in contact_log.data["auditLog"]]
    for expected in ("CONTACT_CREATED", "INVITATION_SENT", "CHANGE_APPROVED"):
        assert expected in contact_actions
    assert "+49 000 333" not in json.dumps(contact_log.data)
    assert (await gql("{ auditLog { action } }", headers=person["headers"])).codes == ["FORBIDDEN"]


async def test_approver_reviews_from_the_mail_link_in_the_browser(gql, client, confirmed_contact, make_user, smtp,
                                                                 deliver):
    person = await confirmed_contact("Fröndenberg/Ruhr", ["unna-kommunen-44"])
    approver, password = await make_user("APPROVER", scope="05978")
    change = await gql(UPDATE_ME, {"i": contact_fields(person, function="Bauverwaltung"), "v": 1},
                       headers=person["headers"])
    await deliver()
    [notice] = [m for m in smtp.sink.to(f"{approver}@example.org") if "Freigabe erbeten" in m["Subject"]]
    import re as regex

    link = regex.search(r"https://ikz\.example\.org/review/\d+", text_part(notice)).group(0)
    client.cookies.clear()
    legacy = await client.get(link.replace("/review/", "/review?change="))  # links in mails sent before
    assert legacy.headers["location"] == link.removeprefix("https://ikz.example.org")
    to_login = await client.get(link)
    assert to_login.status_code == 303 and to_login.headers["location"].startswith("/login?next=")
    login_form = await client.get(to_login.headers["location"])
    assert login_form.status_code == 200 and 'name="password"' in login_form.text
    login_csrf = regex.search(r'name="csrf" value="([^"]+)"', login_form.text).group(1)
    bad = await client.post("/login", data={"username": approver, "password": "falsch-falsch", "next": link,
                                            "csrf": login_csrf})
    assert bad.status_code == 400 and "falsch" in bad.text
    signed_in = await client.post("/login", data={"username": approver, "password": password, "csrf": login_csrf,
                                                  "next": link.replace("https://ikz.example.org", "")})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == link.removeprefix("https://ikz.example.org")
    page = await client.get(link)
    assert "Bauverwaltung" in page.text and "Sachbearbeitung" in page.text and "Freigeben" in page.text
    csrf = regex.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    target = link.removeprefix("https://ikz.example.org")
    forged = await client.post(target, data={"decision": "approve", "csrf": "0" * 40},
                               headers={"origin": "https://ikz.example.org"})
    assert forged.status_code == 403
    done = await client.post(target, data={"decision": "approve", "csrf": csrf},
                             headers={"origin": "https://ikz.example.org"})
    assert done.status_code == 303
    assert "veröffentlicht" in (await client.get(done.headers["location"])).text
    client.cookies.clear()
    profile = await gql("query($id: ID!) { municipality(id: $id) { contacts { id function } } }",
                        {"id": person["organization_id"]})
    assert {c["id"]: c["function"] for c in profile.data["municipality"]["contacts"]}[person["contact_id"]] == \
        "Bauverwaltung"
