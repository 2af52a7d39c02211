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


async def test_admin_creates_a_contact_through_the_form_and_finds_it(client, make_user, smtp, deliver):
    admin, password = await make_user("ADMIN")
    assert (await sign_in(client, admin, password, "/admin")).status_code == 303
    home = await client.get("/admin")
    assert home.status_code == 200 and "Verwaltung" in home.text
    pick = await client.get("/admin/contacts/new", params={"q": "Kamen"})
    assert pick.status_code == 200
    kamen = re.search(r'href="/admin/contacts/new\?municipality=(\d+)">Kamen<', pick.text).group(1)
    by_ags = await client.get("/admin/contacts/new", params={"q": "05978020"})
    assert f"municipality={kamen}" in by_ags.text
    form = await client.get("/admin/contacts/new", params={"municipality": kamen})
    coop = re.search(r'name="cooperation" value="(\d+)"', form.text).group(1)
    token = csrf_of(form.text)
    missing = await client.post("/admin/contacts/new", data={"csrf": token, "municipality": kamen,
                                                             "firstName": "Ina"}, headers=ORIGIN)
    assert missing.status_code == 400 and 'href="#lastName"' in missing.text
    created = await client.post("/admin/contacts/new", data={
        "csrf": token, "municipality": kamen, "firstName": "Ina", "lastName": "Formular", "salutation": "Frau",
        "email": "ina.formular@example.org", "cooperation": [coop]}, headers=ORIGIN)
    assert created.status_code == 303, created.text
    detail = await client.get(created.headers["location"])
    assert "Benutzername:" in detail.text and "Einladung erneut senden" in detail.text
    username = re.search(r"Benutzername: ([^<\s]+)<", detail.text).group(1)
    await deliver()
    assert [m for m in smtp.sink.to("ina.formular@example.org") if "Zugang" in m["Subject"]]
    resent = await client.post(created.headers["location"].split("?")[0], data={"csrf": token}, headers=ORIGIN)
    assert resent.status_code == 303 and "erneut unterwegs" in (await client.get(resent.headers["location"])).text
    listed = await client.get("/admin/contacts", params={"q": "Formular", "state": "INVITED", "municipality": "Kamen"})
    assert "Ina Formular" in listed.text and username in listed.text, listed.text[listed.text.find("<main"):]
    assert "Ina Formular" not in (await client.get("/admin/contacts", params={"q": "Formular",
                                                                            "state": "PUBLIC"})).text
    assert "Ina Formular" not in (await client.get("/admin/contacts", params={"q": "Formular",
                                                                            "municipality": "Selm"})).text
    audit = await client.get("/admin/audit", params={"action": "CONTACT_CREATED", "subjectType": "contact"})
    assert audit.status_code == 200 and "Kontakt angelegt" in audit.text


async def test_admin_retries_a_failed_mail_from_the_page(client, make_user):
    from service.mail.models import MailStatus, OutboxMail
    from service.mail.outbox import enqueue

    await enqueue("password_reset", "kaputt@example.org", {"recipient_name": "X", "reset_url": "https://x",
                                                           "username": "x", "valid_minutes": 60})
    mail = await OutboxMail.filter(recipient="kaputt@example.org").order_by("-id").first()
    await OutboxMail.filter(id=mail.id).update(status=MailStatus.FAILED, attempts=5, last_error="550 refused")
    admin, password = await make_user("ADMIN")
    await sign_in(client, admin, password, "/admin/mail")
    page = await client.get("/admin/mail", params={"status": "FAILED"})
    assert "550 refused" in page.text and "kaputt@example.org" in page.text
    retried = await client.post("/admin/mail", data={"csrf": csrf_of(page.text), "mail": str(mail.id),
                                                     "status": "FAILED"}, headers=ORIGIN)
    assert retried.status_code == 303
    assert (await OutboxMail.get(id=mail.id)).status is MailStatus.PENDING


ADMIN_GETS = ["/admin", "/admin/contacts", "/admin/contacts/new", "/admin/contacts/new?q=Kamen",
              "/admin/contacts/new?municipality=1", "/admin/contacts/1", "/admin/mail", "/admin/mail?status=FAILED",
              "/admin/audit", "/admin/staff", "/admin/import"]
REVIEW_GETS = ["/review", "/review/1", "/review?status=APPROVED"]
POSTS = ["/admin/contacts/new", "/admin/contacts/1", "/admin/mail", "/admin/staff", "/admin/import", "/review/1"]


def every_staff_route() -> set[str]:
    from ikz.web.routes import ROUTES

    return {r.path for r in ROUTES if r.path.startswith(("/admin", "/review")) and r.path != "/review/login"}


async def test_every_admin_and_review_url_is_closed_to_visitors_and_contact_persons(client, confirmed_contact,
                                                                                   make_user):
    covered = {re.sub(r"/\d+", "/{id}", p.split("?")[0]) for p in ADMIN_GETS + REVIEW_GETS + POSTS}
    assert every_staff_route() <= covered, every_staff_route() - covered
    client.cookies.clear()
    for path in ADMIN_GETS + REVIEW_GETS:
        answer = await client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), path
    for path in POSTS:
        assert (await client.post(path, data={}, headers=ORIGIN)).status_code == 403, path
    person = await confirmed_contact("Kamen", ["unna-kommunen-13"])
    await sign_in(client, person["username"], person["password"])
    token = csrf_of((await client.get("/me")).text)
    for path in ADMIN_GETS + REVIEW_GETS:
        answer = await client.get(path)
        assert answer.status_code == 403 and "Kein Zugriff" in answer.text, path
    for path in POSTS:
        answer = await client.post(path, data={"csrf": token, "decision": "approve", "mail": "1",
                                               "municipality": "1", "firstName": "x", "lastName": "y",
                                               "email": "x@example.org"}, headers=ORIGIN)
        assert answer.status_code == 403, path
    approver, password = await make_user("APPROVER")
    await sign_in(client, approver, password)
    for path in ADMIN_GETS:
        assert (await client.get(path)).status_code == 403, path
    assert (await client.get("/review")).status_code == 200


async def _queries(client, path: str) -> int:
    with count_queries() as counter:
        page = await client.get(path)
    assert page.status_code == 200, page.text[:500]
    return counter.count


async def test_sql_statements_per_list_page_stay_constant(client, gql, confirmed_contact, make_user):
    from service.mail.models import OutboxMail

    admin, password = await make_user("ADMIN")
    approver, approver_pw = await make_user("APPROVER", scope="05978")
    made = []
    tag = "Zaehl" + re.sub(r"\W", "", str(id(made)))[-6:]

    async def grow(to: int) -> None:
        while len(made) < to:
            person = await confirmed_contact("Kamen", ["unna-kommunen-13"], first_name=tag)
            await gql(UPDATE_ME, {"i": contact_fields(person, firstName=tag, function=f"F{len(made)}"), "v": 1},
                      headers=person["headers"])
            made.append(person)

    counts = {}
    for size in (2, 20):
        await grow(size)
        await sign_in(client, admin, password)
        counts.setdefault("contacts", []).append(await _queries(client, f"/admin/contacts?q={tag}"))
        counts.setdefault("mail", []).append(await _queries(client, "/admin/mail"))
        counts.setdefault("audit", []).append(await _queries(client, "/admin/audit"))
        await sign_in(client, approver, approver_pw)
        counts.setdefault("inbox", []).append(await _queries(client, "/review?kind=CONTACT_UPDATE"))
    assert await OutboxMail.all().count() >= 20
    for page, (small, large) in counts.items():
        assert small == large, (page, counts)


async def test_admin_creates_and_disables_a_staff_account(client, make_user, smtp, deliver):
    admin, password = await make_user("ADMIN")
    await sign_in(client, admin, password, "/admin/staff")
    page = await client.get("/admin/staff")
    assert page.status_code == 200 and admin in page.text
    token = csrf_of(page.text)
    name = "neu" + re.sub(r"\W", "", str(id(page)))[-8:]
    bad = await client.post("/admin/staff", data={"csrf": token, "action": "create", "username": name,
                                                  "email": f"{name}@example.org", "firstName": "Neu",
                                                  "lastName": "Konto", "role": "APPROVER", "scope": "nirgendwo"},
                            headers=ORIGIN)
    assert bad.status_code == 400 and 'href="#scope"' in bad.text
    made = await client.post("/admin/staff", data={"csrf": token, "action": "create", "username": name,
                                                   "email": f"{name}@example.org", "firstName": "Neu",
                                                   "lastName": "Konto", "role": "APPROVER", "scope": "05978"},
                             headers=ORIGIN)
    assert made.status_code == 303, made.text
    # Past 200 accounts (other tests leave theirs) the search is how an admin finds one.
    listed = await client.get("/admin/staff", params={"q": f"{name} Konto"})
    assert name in listed.text and "Kreis Unna" in listed.text and f"<td>{admin}</td>" not in listed.text
    by_mail = await client.get("/admin/staff", params={"q": f"{name}@EXAMPLE.org"})
    assert name in by_mail.text
    none = await client.get("/admin/staff", params={"q": f"{name}x"})
    assert none.status_code == 200 and "Kein Konto passt" in none.text and f"<td>{name}</td>" not in none.text
    await deliver()
    assert smtp.sink.to(f"{name}@example.org")  # the link to set the password
    from service.accounts.models import Account

    account = await Account.get(username=name)
    off = await client.post("/admin/staff", data={"csrf": token, "action": "disable", "account": str(account.id)},
                            headers=ORIGIN)
    assert off.status_code == 303
    assert not (await Account.get(id=account.id)).is_active
    me = await Account.get(username=admin)
    own = await client.post("/admin/staff", data={"csrf": token, "action": "disable", "account": str(me.id)},
                            headers=ORIGIN)
    assert own.status_code == 409


async def test_admin_imports_a_csv_with_a_bad_row_and_invites_the_rest(client, make_user, smtp, deliver):
    admin, password = await make_user("ADMIN")
    await sign_in(client, admin, password, "/admin/import")
    page = await client.get("/admin/import")
    token = csrf_of(page.text)
    tag = "imp" + re.sub(r"\W", "", str(id(page)))[-8:]
    csv = ("municipality,first_name,last_name,email\n"
           f"Kamen,Ida,{tag}a,{tag}a@example.org\n"
           f"Nirgendwo-Stadt,Udo,{tag}b,{tag}b@example.org\n"
           f"Selm,Eva,{tag}c,{tag}c@example.org\n")
    refused = await client.post("/admin/import", files={"file": ("k.csv", csv.encode(), "text/csv")},
                                data={"csrf": "x" * 40}, headers=ORIGIN)
    assert refused.status_code == 403
    done = await client.post("/admin/import", files={"file": ("k.csv", csv.encode(), "text/csv")},
                             data={"csrf": token}, headers=ORIGIN)
    assert done.status_code == 422, done.text
    assert "Zeile 3" in done.text and "2 Kontaktperson(en) angelegt" in done.text
    invited = await client.post("/admin/import", data={"csrf": token}, headers=ORIGIN)
    assert invited.status_code == 303
    shown = await client.get(invited.headers["location"])
    assert "Einladung(en) in die Warteschlange" in shown.text
    from service.accounts.bulk_invitations import invite_queued, queued_count

    assert not smtp.sink.to(f"{tag}a@example.org") and await queued_count() >= 2  # queued, not yet invited
    while await invite_queued():  # what the mail worker's loop does in the background
        pass
    await deliver()
    assert smtp.sink.to(f"{tag}a@example.org") and smtp.sink.to(f"{tag}c@example.org")
