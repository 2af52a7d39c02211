"""The ministry's journeys in Chromium: admin console and approver inbox, axe-core on every page."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import wait_for_mail
from tests.browser.test_journeys import activate, sign_in
from tests.conftest import text_part, unique

pytestmark = pytest.mark.browser


def sign_out(page) -> None:
    page.get_by_role("button", name=re.compile("Abmelden")).click()


def test_admin_creates_contact_approver_in_scope_approves_other_scope_sees_nothing(page, live_server, browser_smtp,
                                                                                   check_a11y):
    admin, admin_pw = live_server.create_user("ADMIN")
    unna, unna_pw = live_server.create_user("APPROVER", scope="05978")
    saar, saar_pw = live_server.create_user("APPROVER", scope="10")
    sign_in(page, admin, admin_pw)
    page.goto("/admin")
    check_a11y(page)
    page.get_by_role("link", name="Kontaktperson anlegen").first.click()
    check_a11y(page)
    page.get_by_label(re.compile("Kommune")).fill("Kamen")
    page.get_by_role("button", name="Kommune suchen").click()
    check_a11y(page)
    page.get_by_role("link", name="Kamen", exact=True).click()
    check_a11y(page)
    last = unique("Formular")
    email = f"{last.lower()}@example.org"
    page.get_by_role("button", name="Anlegen und einladen").click()  # empty: errors with links to the fields
    assert page.locator("#fehler").is_visible()
    check_a11y(page)
    page.locator("#firstName").fill("Karla")
    page.locator("#lastName").fill(last)
    page.locator("#email").fill(email)
    page.locator('input[name="cooperation"]').first.check()
    page.get_by_role("button", name="Anlegen und einladen").click()
    page.wait_for_url(re.compile(r"/admin/contacts/\d+\?done=created"))
    username = re.search(r"Benutzername: ([^\s<]+)", page.content()).group(1)
    check_a11y(page)
    mail = wait_for_mail(browser_smtp, email, "Zugang")
    text = text_part(mail)
    assert username in text
    link = re.search(re.escape(live_server.url) + r"/activate\?token=[A-Za-z0-9_\-]+", text).group(0)
    page.goto("/admin/contacts?q=" + last)
    assert "Karla " + last in page.content()
    check_a11y(page)
    page.goto("/admin/audit?action=CONTACT_CREATED")
    check_a11y(page)
    page.goto("/admin/mail")
    assert email in page.content()
    check_a11y(page)
    page.goto("/admin/staff")
    assert unna in page.content()
    check_a11y(page)
    page.goto("/admin/import")
    check_a11y(page)
    page.locator("#file").set_input_files(files=[{"name": "kontakte.csv", "mimeType": "text/csv", "buffer": (
        "municipality,first_name,last_name,email\nNirgendwo,Udo,Fehler,udo.fehler@example.org\n").encode()}])
    page.get_by_role("button", name="Importieren").click()
    assert "Zeile 2" in page.content()
    check_a11y(page)
    sign_out(page)

    page.goto(link)
    activate(page, "Formular-Test-2026")
    sign_in(page, username, "Formular-Test-2026")
    page.wait_for_url(re.compile(r"/me$"))
    for path in ("/review", "/admin", "/admin/contacts"):
        response = page.goto(path)
        assert response.status == 403, path
    page.goto("/me/edit")
    page.get_by_label("Funktion").fill("Leitung Standesamt")
    page.get_by_role("button", name="Änderung einreichen").click()
    page.wait_for_url(re.compile(r"/me\?done=changed"))
    sign_out(page)

    sign_in(page, saar, saar_pw)
    page.goto("/review")
    assert last not in page.content()
    sign_out(page)

    sign_in(page, unna, unna_pw)
    page.goto("/review")
    check_a11y(page)
    row = page.locator("tr", has_text=last)
    assert "Kamen" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/review/\d+$"))
    assert "Leitung Standesamt" in page.content()
    check_a11y(page)
    page.get_by_label(re.compile("Kommentar")).fill("Danke, passt.")
    page.get_by_role("button", name="Freigeben und veröffentlichen").click()
    page.wait_for_url(re.compile(r"\?done=approved"))
    assert "Entschieden von" in page.content() and "Danke, passt." in page.content()
    check_a11y(page)
    profile = live_server.graphql('query($q: String!) { municipalities(search: $q) { edges { node { id } } } }',
                                  {"q": "Kamen"})["municipalities"]["edges"][0]["node"]["id"]
    page.goto(f"/municipalities/{profile}")
    assert "Leitung Standesamt" in page.content()


def test_rejection_reason_reaches_the_submitter(page, live_server, browser_smtp, check_a11y):
    from tests.browser.test_journeys import invitation, new_contact

    admin_token = live_server.login_token(*live_server.create_user("ADMIN"))
    unna, unna_pw = live_server.create_user("APPROVER", scope="05978")
    contact = new_contact(live_server, admin_token)
    link, _ = invitation(live_server, browser_smtp, contact)
    page.goto(link)
    activate(page, "Ablehnung-Test-2026")
    sign_in(page, contact["username"], "Ablehnung-Test-2026")
    page.wait_for_url(re.compile(r"/me$"))
    page.goto("/me/edit")
    page.get_by_label("Funktion").fill("Irgendwas Falsches")
    page.get_by_role("button", name="Änderung einreichen").click()
    page.wait_for_url(re.compile(r"/me\?done=changed"))
    sign_out(page)
    sign_in(page, unna, unna_pw)
    page.goto("/review")
    page.locator("tr", has_text=contact["last_name"]).get_by_role("link").click()
    page.get_by_role("button", name="Ablehnen").click()  # the browser requires the reason first
    assert "/review/" in page.url and "done" not in page.url
    page.get_by_label(re.compile("Begründung")).fill("Die Funktion stimmt nicht mit dem Organigramm überein.")
    page.get_by_role("button", name="Ablehnen").click()
    page.wait_for_url(re.compile(r"\?done=rejected"))
    check_a11y(page)
    mail = wait_for_mail(browser_smtp, contact["email"], "nicht freigegeben")
    assert "Organigramm" in text_part(mail)


def _poll_page(page, path: str, found, timeout: float = 20.0) -> None:
    """Reload `path` until `found(page)` holds (the live server's mail worker runs in the background)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        page.goto(path)
        if found(page):
            return
        assert time.monotonic() < deadline, f"{path}: not as expected within {timeout}s:\n{page.content()[:3000]}"
        time.sleep(0.5)


def test_mail_refused_by_the_server_fails_and_is_retried_from_the_page(page, live_server, browser_smtp, check_a11y):
    from tests.browser.test_journeys import CREATE_CONTACT, IDS

    admin, admin_pw = live_server.create_user("ADMIN")
    admin_token = live_server.login_token(admin, admin_pw)
    ids = live_server.graphql(IDS, {"coop": "Durchführung des Rettungsdienstes"})
    last = unique("Abgewiesen")
    email = f"{last.lower()}@example.org"
    browser_smtp.sink.refuse_rcpt[email] = "550 5.1.1 No such user here"
    try:
        contact = live_server.graphql(CREATE_CONTACT, {"input": {
            "municipalityId": ids["municipalities"]["edges"][0]["node"]["id"], "firstName": "Rita",
            "lastName": last, "email": email}}, token=admin_token)["createContact"]
        sign_in(page, admin, admin_pw)
        row = page.locator("tr", has_text=email)
        _poll_page(page, "/admin/mail?status=FAILED",
                   lambda p: row.count() == 1 and "fehlgeschlagen" in row.inner_text())
        assert "recipient refused (550)" in row.inner_text(), row.inner_text()
        assert not browser_smtp.sink.to(email)
        check_a11y(page)
    finally:
        browser_smtp.sink.refuse_rcpt.pop(email, None)  # the server accepts the address from now on
    row.get_by_role("button", name=re.compile("erneut senden")).click()
    page.wait_for_url(re.compile(r"/admin/mail\?status=FAILED&done=\d+"))
    assert "wird erneut gesendet" in page.content()
    check_a11y(page)
    mail = wait_for_mail(browser_smtp, email, "Zugang")
    assert contact["username"] in text_part(mail)
    row = page.locator("tr", has_text=email)
    _poll_page(page, "/admin/mail?status=SENT", lambda p: row.count() == 1 and "gesendet" in row.inner_text())
    assert len(browser_smtp.sink.to(email)) == 1
    page.goto("/admin/mail?status=FAILED")
    assert email not in page.content()


def test_admin_imports_csv_with_one_bad_row_then_invites_the_rest(page, live_server, browser_smtp, check_a11y):
    admin, admin_pw = live_server.create_user("ADMIN")
    good = [unique("Import"), unique("Import")]
    emails = [f"{name.lower()}@example.org" for name in good]
    csv_text = ("municipality,first_name,last_name,email,function\n"
                f"Kamen,Ina,{good[0]},{emails[0]},Standesamt\n"
                f"Nirgendwo,Udo,{unique('Fehler')},udo.nirgendwo@example.org,\n"
                f"Selm,Ole,{good[1]},{emails[1]},Bürgerservice\n")
    sign_in(page, admin, admin_pw)
    page.goto("/admin/import")
    page.locator("#file").set_input_files(files=[{"name": "kontakte.csv", "mimeType": "text/csv",
                                                  "buffer": csv_text.encode()}])
    page.get_by_role("button", name="Importieren").click()
    report = page.locator("#bericht")
    assert "2 Kontaktperson(en) angelegt" in report.inner_text()
    assert re.search(r"Zeile 3: .*Nirgendwo", report.inner_text()), report.inner_text()
    assert "Zeile 2" not in report.inner_text() and "Zeile 4" not in report.inner_text()
    check_a11y(page)
    page.goto("/admin/contacts?q=" + good[0])
    assert good[0] in page.content()
    page.goto("/admin/import")
    pending = int(page.locator("dt:text-is('Noch nicht eingeladen') + dd").inner_text())
    assert pending >= 2
    page.get_by_role("button", name=re.compile("Alle noch nicht eingeladenen einladen")).click()
    page.wait_for_url(re.compile(r"/admin/import\?invited=\d+"))
    invited = int(re.search(r"invited=(\d+)", page.url).group(1))
    assert invited >= 2
    assert f"{invited} Einladung(en) in die Warteschlange gestellt" in page.content()
    assert page.locator("dt:text-is('Noch nicht eingeladen') + dd").inner_text() == "0"
    check_a11y(page)
    for name, email in zip(good, emails):
        mail = wait_for_mail(browser_smtp, email, "Zugang")
        assert "Kooperationsdatenbank" in mail["Subject"]
        assert len(browser_smtp.sink.to(email)) == 1
    _poll_page(page, "/admin/import",
               lambda p: p.locator("dt:text-is('In der Warteschlange') + dd").inner_text() == "0")
    sent = int(page.locator("dt:text-is('gesendet') + dd").inner_text())
    assert sent >= 2
