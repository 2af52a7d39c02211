"""Onboarding end to end: the ministry creates a contact, the mail arrives over real SMTP,
the person follows the link through the HTML page and becomes publicly visible."""

from __future__ import annotations

import re

import pytest

from service.sql import fetch
from tests.conftest import BASE_URL, html_part, link_in, text_part, unique

CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) {
  id state username email invitedAt municipality { name } cooperations { title } } }"""
PROFILE = "query($id: ID!) { cooperation(id: $id) { contacts { id name email phone } } }"
MUNICIPALITY = "query($id: ID!) { municipality(id: $id) { contacts { id name } } }"
ME = "{ me { username requiredActions contact { id state version email phone } } }"


async def ids_of(org_name: str, cooperation_key: str) -> tuple[str, str]:
    org = (await fetch("SELECT id FROM organization WHERE name = ?", [org_name]))[0]["id"]
    coop = (await fetch("SELECT id FROM cooperation WHERE key = ?", [cooperation_key]))[0]["id"]
    return str(org), str(coop)


async def table_counts() -> dict[str, int]:
    return {t: (await fetch(f"SELECT COUNT(*) AS n FROM {t}"))[0]["n"]
            for t in ("contact", "account", "outbox_mail", "one_time_token", "contact_cooperation")}


def contact_input(org_id: str, coop_id: str | None = None, **overrides) -> dict:
    last = unique("Muster")
    values = {"municipalityId": org_id, "firstName": "Renate", "lastName": last, "email": f"{last.lower()}@example.org",
              "salutation": "Frau", "function": "Leitung Bürgerservice", "phone": "+49 000 1234-5",
              "cooperationIds": [coop_id] if coop_id else []}
    values.update(overrides)
    return values


@pytest.fixture
async def admin(make_user, login):
    username, password = await make_user("ADMIN")
    return await login(username, password)


async def test_invitation_to_visible_contact_through_mail_page_and_api(gql, client, admin, smtp, deliver):
    org_id, coop_id = await ids_of("Selm", "unna-kommunen-17")
    created = await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=admin)
    assert not created.errors, created.errors
    contact = created.data["createContact"]
    assert contact["state"] == "INVITED" and contact["username"].startswith("r")
    assert contact["cooperations"] == [{"title": "Durchführung des Rettungsdienstes"}]
    # Invisible before confirmation: in the cooperation, the municipality and the counts.
    assert contact["id"] not in {c["id"] for c in (await gql(PROFILE, {"id": coop_id})).data["cooperation"]["contacts"]}
    assert contact["id"] not in {c["id"] for c in (await gql(MUNICIPALITY, {"id": org_id})).data["municipality"]["contacts"]}

    assert await deliver() == 1
    [message] = smtp.sink.to(contact["email"])
    assert message["Subject"] == "Ihr Zugang zur Kooperationsdatenbank"
    assert re.fullmatch(r"<[0-9a-f]{32}@ikz\.example\.org>", message["Message-ID"])
    text, html = text_part(message), html_part(message)
    assert contact["username"] in text and contact["username"] in html
    password = re.search(r"Startpasswort:\s+(\S+)", text).group(1)
    assert len(password) >= 12 and not set(password) & set("0O1lI")
    link = link_in(message, "/activate")
    assert link.startswith(f"{BASE_URL}/activate?token=") and link.split("=", 1)[1] in html

    page = await client.get(link)
    assert page.status_code == 200 and contact["username"] in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    token = link.split("token=")[1]
    form = {"token": token, "password": "Kooperation-Selm-2026!", "password_repeat": "Kooperation-Selm-2026!",
            "salutation": "Frau", "first_name": "Renate", "last_name": contact_last_name(text), "function": "Leitung Bürgerservice", "email": contact["email"],
            "phone": "+49 000 1234-5", "consent": "yes"}
    done = await client.post("/activate", data=form)
    assert done.status_code == 200, done.text
    assert "ab sofort in der öffentlichen Kooperationsdatenbank sichtbar" in done.text

    contacts = (await gql(PROFILE, {"id": coop_id})).data["cooperation"]["contacts"]
    assert contact["id"] in {c["id"] for c in contacts}
    assert contact["id"] in {c["id"] for c in (await gql(MUNICIPALITY, {"id": org_id})).data["municipality"]["contacts"]}
    # The link is single use; the initial password no longer works.
    again = await client.get(link)
    assert again.status_code == 410 and "nicht (mehr) gültig" in again.text
    assert (await gql("mutation($u:String!,$p:String!){ login(username:$u,password:$p){ token } }",
                      {"u": contact["username"], "p": password})).codes == ["UNAUTHENTICATED"]


def contact_last_name(text: str) -> str:
    return re.search(r"Guten Tag Frau Renate (\S+),", text).group(1)


async def test_initial_password_session_must_finish_onboarding_first(gql, admin, smtp, deliver, login):
    org_id, coop_id = await ids_of("Werne", "unna-kommunen-50")
    contact = (await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=admin)).data["createContact"]
    await deliver()
    initial = re.search(r"Startpasswort:\s+(\S+)", text_part(smtp.sink.to(contact["email"])[0])).group(1)
    headers = await login(contact["username"], initial)
    me = (await gql(ME, headers=headers)).data["me"]
    assert me["requiredActions"] == ["SET_PASSWORD", "CONFIRM_DATA"]
    propose = await gql("""mutation($i: CooperationInput!) { proposeCooperation(input: $i) { id } }""",
                        {"i": {"title": "Gemeinsamer Bauhof", "partners": [{"organizationId": org_id}]}}, headers=headers)
    assert propose.codes == ["ACTION_REQUIRED"] and "SET_PASSWORD" in propose.errors[0]["message"]
    update = await gql("""mutation($i: ContactDataInput!) { updateMyContact(input: $i, baseVersion: 1) { id } }""",
                       {"i": {"firstName": "Renate", "lastName": "X", "email": contact["email"]}}, headers=headers)
    assert update.codes == ["ACTION_REQUIRED"]

    change = await gql("""mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n)
                          { requiredActions } }""", {"c": initial, "n": "Werne-Rechnungspruefung-1"}, headers=headers)
    assert change.data["changePassword"]["requiredActions"] == ["CONFIRM_DATA"]
    no_consent = await gql("""mutation($i: ContactDataInput!) { confirmMyData(input: $i, consent: false) { state } }""",
                           {"i": await current_data(contact["id"])}, headers=headers)
    assert no_consent.codes == ["BAD_USER_INPUT"] and "consent" in no_consent.errors[0]["message"]
    same = await gql("""mutation($i: ContactDataInput!) { confirmMyData(input: $i, consent: true) { state } }""",
                     {"i": await current_data(contact["id"])}, headers=headers)
    assert same.data["confirmMyData"]["state"] == "PUBLIC"
    assert (await gql(ME, headers=headers)).data["me"]["requiredActions"] == []
    # The initial password stopped working when the password was set.
    assert (await gql("mutation($u:String!,$p:String!){ login(username:$u,password:$p){ token } }",
                      {"u": contact["username"], "p": initial})).codes == ["UNAUTHENTICATED"]


async def current_data(contact_id: str) -> dict:
    row = (await fetch("SELECT * FROM contact WHERE id = ?", [int(contact_id)]))[0]
    return {"firstName": row["first_name"], "lastName": row["last_name"], "email": row["email"],
            "salutation": row["salutation"], "title": row["title"], "function": row["function"], "phone": row["phone"]}


@pytest.mark.parametrize(
    ("override", "code", "fragment"),
    [
        ({"lastName": "  "}, "BAD_USER_INPUT", "lastName"),
        ({"email": "renate.at.example.org"}, "BAD_USER_INPUT", "e-mail"),
        ({"email": "a@b"}, "BAD_USER_INPUT", "e-mail"),
        ({"municipalityId": "999999"}, "NOT_FOUND", "municipal body"),
        ({"phone": "call me <b>"}, "BAD_USER_INPUT", "phone"),
        ({"salutation": "Dr."}, "BAD_USER_INPUT", "salutation"),
    ],
)
async def test_invalid_contact_input_is_refused_and_nothing_is_written(gql, admin, override, code, fragment):
    org_id, coop_id = await ids_of("Kamen", "unna-kommunen-11")
    before = await table_counts()
    result = await gql(CREATE, {"input": contact_input(org_id, coop_id, **override)}, headers=admin)
    assert result.codes == [code] and fragment in result.errors[0]["message"]
    assert await table_counts() == before


async def test_cooperation_must_have_the_municipality_as_partner(gql, admin):
    org_id, _ = await ids_of("Kamen", "unna-kommunen-11")
    _, foreign = await ids_of("Kamen", "unna-kommunen-17")  # Lünen and Selm only
    before = await table_counts()
    result = await gql(CREATE, {"input": contact_input(org_id, foreign)}, headers=admin)
    assert result.codes == ["BAD_USER_INPUT"] and await table_counts() == before


async def test_only_admins_create_contacts(gql, make_user, login):
    org_id, coop_id = await ids_of("Kamen", "unna-kommunen-11")
    anonymous = await gql(CREATE, {"input": contact_input(org_id, coop_id)})
    assert anonymous.codes == ["UNAUTHENTICATED"]
    approver = await login(*await make_user("APPROVER"))
    assert (await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=approver)).codes == ["FORBIDDEN"]


async def test_resend_invitation_replaces_password_and_link(gql, client, admin, smtp, deliver):
    org_id, coop_id = await ids_of("Bönen", "unna-kommunen-02")
    contact = (await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=admin)).data["createContact"]
    await deliver()
    first = smtp.sink.to(contact["email"])[0]
    resent = await gql("mutation($id: ID!) { resendInvitation(contactId: $id) { state } }", {"id": contact["id"]},
                       headers=admin)
    assert resent.data["resendInvitation"]["state"] == "INVITED"
    await deliver()
    second = smtp.sink.to(contact["email"])[1]
    assert second["Subject"] == "Neuer Zugang zur Kooperationsdatenbank"
    assert "ersetzt" in text_part(second)
    assert (await client.get(link_in(first, "/activate"))).status_code == 410
    assert (await client.get(link_in(second, "/activate"))).status_code == 200
    old_password = re.search(r"Startpasswort:\s+(\S+)", text_part(first)).group(1)
    login = "mutation($u:String!,$p:String!){ login(username:$u,password:$p){ token } }"
    assert (await gql(login, {"u": contact["username"], "p": old_password})).codes == ["UNAUTHENTICATED"]
    new_password = re.search(r"Startpasswort:\s+(\S+)", text_part(second)).group(1)
    assert not (await gql(login, {"u": contact["username"], "p": new_password})).errors


async def test_activation_page_refuses_bad_passwords_and_keeps_the_link(gql, client, admin, smtp, deliver):
    org_id, coop_id = await ids_of("Holzwickede", "unna-kommunen-03")
    contact = (await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=admin)).data["createContact"]
    await deliver()
    link = link_in(smtp.sink.to(contact["email"])[0], "/activate")
    token = link.split("token=")[1]
    base = {"token": token, "first_name": "Renate", "last_name": "Muster", "email": contact["email"], "consent": "yes"}
    cases = [
        ({"password": "Kurz-1", "password_repeat": "Kurz-1"}, "mindestens 10 Zeichen"),
        ({"password": "Abcdefgh-123", "password_repeat": "Abcdefgh-124"}, "stimmen nicht überein"),
        ({"password": "passwort123", "password_repeat": "passwort123"}, "zu verbreitet"),
        ({"password": f"{contact['username']}-2026", "password_repeat": f"{contact['username']}-2026"}, "Benutzernamen"),
        ({"password": "Gutes-Passwort-2026", "password_repeat": "Gutes-Passwort-2026", "consent": ""}, "Einwilligung"),
        ({"password": "Gutes-Passwort-2026", "password_repeat": "Gutes-Passwort-2026", "email": "kaputt"}, "E-Mail"),
    ]
    for fields, message in cases:
        page = await client.post("/activate", data={**base, **fields})
        assert page.status_code == 400 and message in page.text, (fields, page.text[-600:])
        assert "Gutes-Passwort" not in page.text  # passwords are never echoed
    assert (await client.get(link)).status_code == 200  # still usable
    assert (await fetch("SELECT state FROM contact WHERE id = ?", [int(contact["id"])]))[0]["state"] == "INVITED"


async def test_expired_or_unknown_links_show_whom_to_ask(client, settings):
    page = await client.get("/activate?token=doesnotexist")
    assert page.status_code == 410 and settings.support_contact in page.text
    assert (await client.get("/activate")).status_code == 410


async def test_expired_activation_link(gql, client, admin, smtp, deliver):
    org_id, coop_id = await ids_of("Unna", "unna-kommunen-03")
    contact = (await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=admin)).data["createContact"]
    await deliver()
    link = link_in(smtp.sink.to(contact["email"])[0], "/activate")
    account = (await fetch("SELECT id FROM account WHERE username = ?", [contact["username"]]))[0]["id"]
    from service.accounts.models import OneTimeToken
    from service.time import now
    import datetime as dt

    await OneTimeToken.filter(account_id=account).update(expires_at=now() - dt.timedelta(seconds=1))
    assert (await client.get(link)).status_code == 410


async def test_links_come_from_public_base_url_not_the_host_header(gql, admin, smtp, deliver):
    org_id, coop_id = await ids_of("Schwerte", "unna-kommunen-41")
    contact = (await gql(CREATE, {"input": contact_input(org_id, coop_id)},
                         headers={**admin, "host": "evil.example.net", "x-forwarded-host": "evil.example.net"}))
    contact = contact.data["createContact"]
    await deliver()
    message = smtp.sink.to(contact["email"])[0]
    assert "evil.example.net" not in text_part(message) + html_part(message)
    assert link_in(message, "/activate").startswith(BASE_URL)


async def test_outbox_keeps_no_readable_password_and_erases_content_after_delivery(gql, admin, smtp, deliver):
    org_id, coop_id = await ids_of("Fröndenberg/Ruhr", "unna-kommunen-41")
    contact = (await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=admin)).data["createContact"]
    [row] = await fetch("SELECT m.id, m.sealed_content FROM outbox_mail m JOIN account a ON a.id = m.account_id "
                        "WHERE a.username = ?", [contact["username"]])
    assert row["sealed_content"] and contact["username"] not in row["sealed_content"]
    await deliver()
    password = re.search(r"Startpasswort:\s+(\S+)", text_part(smtp.sink.to(contact["email"])[0])).group(1)
    [after] = await fetch("SELECT status, sealed_content FROM outbox_mail WHERE id = ?", [row["id"]])
    assert after == {"status": "SENT", "sealed_content": None}
    stored = await fetch("SELECT initial_password_hmac FROM account WHERE username = ?", [contact["username"]])
    assert password not in str(stored)


async def test_activation_through_the_graphql_api(gql, admin, smtp, deliver):
    """A web client can do what the page does: activateAccount, then confirmMyData."""
    org_id, coop_id = await ids_of("Kamen", "unna-kommunen-09")
    contact = (await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=admin)).data["createContact"]
    await deliver()
    token = link_in(smtp.sink.to(contact["email"])[0], "/activate").split("token=")[1]
    weak = await gql("""mutation($t: String!) { activateAccount(token: $t, newPassword: "short") { token } }""",
                     {"t": token})
    assert weak.codes == ["BAD_USER_INPUT"] and weak.errors[0]["extensions"]["field"] == "newPassword"
    activated = await gql("""mutation($t: String!) { activateAccount(token: $t, newPassword: "Kamen-Jugendverkehr-9")
                             { token me { username requiredActions } } }""", {"t": token})
    payload = activated.data["activateAccount"]
    assert payload["me"] == {"username": contact["username"], "requiredActions": ["CONFIRM_DATA"]}
    headers = {"authorization": f"Bearer {payload['token']}"}
    again = await gql("""mutation($t: String!) { activateAccount(token: $t, newPassword: "Kamen-Jugendverkehr-9")
                         { token } }""", {"t": token})
    assert again.codes == ["BAD_USER_INPUT"] and "already used" in again.errors[0]["message"]
    confirmed = await gql("""mutation($i: ContactDataInput!) { confirmMyData(input: $i, consent: true) { state } }""",
                          {"i": await current_data(contact["id"])}, headers=headers)
    assert confirmed.data["confirmMyData"]["state"] == "PUBLIC"
    visible = (await gql(PROFILE, {"id": coop_id})).data["cooperation"]["contacts"]
    assert contact["id"] in {c["id"] for c in visible}
    me = await gql("{ me { requiredActions contact { state email } } myData }", headers=headers)
    assert me.data["me"]["requiredActions"] == [] and me.data["me"]["contact"]["state"] == "PUBLIC"
    assert me.data["myData"]["account"]["username"] == contact["username"]
    assert me.data["myData"]["contact"]["email"] == contact["email"]


INVITATION = """query($t: String!) { invitation(token: $t) { username municipality
  contact { salutation title firstName lastName function email phone } } }"""
ACCEPT = """mutation($t: String!, $p: String!, $i: ContactDataInput, $c: Boolean!) {
  acceptInvitation(token: $t, newPassword: $p, input: $i, consent: $c) { username contactState } }"""


async def test_invitation_query_and_accept_invitation_mutation(gql, admin, smtp, deliver):
    """What /activate runs: the token's holder sees the data to confirm, nobody else anything; the
    password and the confirmation are one step, and nothing is kept when a part fails."""
    org_id, coop_id = await ids_of("Bergkamen", "unna-kommunen-09")
    contact = (await gql(CREATE, {"input": contact_input(org_id, coop_id)}, headers=admin)).data["createContact"]
    await deliver()
    token = link_in(smtp.sink.to(contact["email"])[0], "/activate").split("token=")[1]
    for wrong in ("", "doesnotexist", token[:-1], token + "x", "x" * 5000):
        answer = await gql(INVITATION, {"t": wrong})
        assert not answer.errors and answer.data["invitation"] is None
    seen = (await gql(INVITATION, {"t": token})).data["invitation"]
    assert seen["username"] == contact["username"] and seen["municipality"] == "Bergkamen"
    assert seen["contact"]["email"] == contact["email"]
    data = seen["contact"]

    broken = await gql(ACCEPT, {"t": token, "p": "Bergkamen-Passwort-2026", "i": {**data, "email": "kaputt"}, "c": True})
    assert broken.errors and broken.errors[0]["extensions"].get("field") == "email"
    no_consent = await gql(ACCEPT, {"t": token, "p": "Bergkamen-Passwort-2026", "i": data, "c": False})
    assert no_consent.errors and no_consent.errors[0]["extensions"].get("field") == "consent"
    assert (await gql(INVITATION, {"t": token})).data["invitation"] is not None  # the link is still usable
    assert (await fetch("SELECT state FROM contact WHERE id = ?", [int(contact["id"])]))[0]["state"] == "INVITED"

    done = await gql(ACCEPT, {"t": token, "p": "Bergkamen-Passwort-2026", "i": data, "c": True})
    assert done.data["acceptInvitation"] == {"username": contact["username"], "contactState": "PUBLIC"}
    assert (await gql(INVITATION, {"t": token})).data["invitation"] is None
    again = await gql(ACCEPT, {"t": token, "p": "Bergkamen-Passwort-2027", "i": data, "c": True})
    assert again.errors and again.errors[0]["extensions"].get("field") == "token"
