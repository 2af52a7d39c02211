"""Journeys through the pages in Chromium, with axe-core on every page visited."""

from __future__ import annotations

import re
import pytest

from tests.browser.conftest import wait_for_mail
from tests.conftest import text_part, unique

pytestmark = pytest.mark.browser

CREATE_CONTACT = """mutation($input: CreateContactInput!) { createContact(input: $input) { id username email } }"""
IDS = """query($coop: String!) {
  municipalities(search: "Selm") { edges { node { id name } } }
  cooperations(search: $coop, first: 5) { edges { node { id title } } } }"""


@pytest.fixture(scope="module")
def admin_token(live_server):
    return live_server.login_token(*live_server.create_user("ADMIN"))


def new_contact(live_server, admin_token) -> dict:
    ids = live_server.graphql(IDS, {"coop": "Durchführung des Rettungsdienstes"})
    selm = ids["municipalities"]["edges"][0]["node"]["id"]
    coop = ids["cooperations"]["edges"][0]["node"]["id"]
    last = unique("Browser")
    contact = live_server.graphql(CREATE_CONTACT, {"input": {
        "municipalityId": selm, "firstName": "Renate", "lastName": last, "email": f"{last.lower()}@example.org",
        "salutation": "Frau", "function": "Leitung Bürgerservice", "phone": "+49 000 1234-5",
        "cooperationIds": [coop]}}, token=admin_token)["createContact"]
    return {**contact, "last_name": last, "cooperation_id": coop, "municipality_id": selm}


def invitation(live_server, browser_smtp, contact) -> tuple[str, str]:
    mail = wait_for_mail(browser_smtp, contact["email"], "Zugang")
    text = text_part(mail)
    link = re.search(re.escape(live_server.url) + r"/activate\?token=[A-Za-z0-9_\-]+", text).group(0)
    password = re.search(r"Startpasswort:\s+(\S+)", text).group(1)
    return link, password


def activate(page, new_password: str) -> None:
    """On the invitation link's page: set the own password and confirm the data with consent."""
    page.get_by_label("Neues Passwort", exact=True).fill(new_password)
    page.get_by_label("Neues Passwort wiederholen").fill(new_password)
    page.get_by_label(re.compile("Ich bin damit einverstanden")).check()
    page.get_by_role("button", name="Passwort speichern und Daten bestätigen").click()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def test_citizen_searches_narrows_opens_profile_and_follows_partner(page, check_a11y):
    page.goto("/")
    check_a11y(page)
    page.get_by_label("Suchbegriff").fill("Rettungsdienst")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url(re.compile(r"q=Rettungsdienst"))
    results = page.locator("ol.results > li")
    assert results.count() >= 1
    check_a11y(page)
    total_before = page.locator("#ergebnisse").inner_text()
    facet = page.locator('.facets input[name="partner"]').first
    facet_id = facet.get_attribute("value")
    facet.check()
    page.get_by_role("button", name="Filter anwenden").click()
    page.wait_for_url(re.compile(rf"partner={facet_id}"))
    assert page.locator(f'#partner-{facet_id}').is_checked()
    check_a11y(page)
    assert page.locator("#ergebnisse").inner_text() != "" and total_before
    page.locator("ol.results h3 a").first.click()
    page.wait_for_url(re.compile(r"/cooperations/\d+$"))
    assert page.get_by_role("heading", name="Partner").is_visible()
    check_a11y(page)
    partner = page.locator('main ol.partner-list a[href^="/municipalities/"]').first
    name = partner.inner_text()
    partner.click()
    page.wait_for_url(re.compile(r"/municipalities/\d+"))
    assert page.get_by_role("heading", level=1).inner_text() == name
    check_a11y(page)
    page.goto("/municipalities")
    check_a11y(page)
    page.goto("/cooperations/99999999")
    assert "Seite nicht gefunden" in page.content()
    check_a11y(page)


def test_contact_from_invitation_to_edit_and_proposal(page, live_server, browser_smtp, admin_token, check_a11y):
    contact = new_contact(live_server, admin_token)
    link, _start = invitation(live_server, browser_smtp, contact)
    page.goto(link)
    check_a11y(page)
    new_password = "Kooperation-Selm-2026!"
    activate(page, new_password)
    assert "sichtbar" in page.content()
    check_a11y(page)
    # public now: on the cooperation's profile
    page.goto(f"/cooperations/{contact['cooperation_id']}")
    assert contact["last_name"] in page.content()

    sign_in(page, contact["username"], new_password)
    page.wait_for_url(re.compile(r"/me$"))
    check_a11y(page)
    page.get_by_role("button", name=re.compile("Abmelden")).click()
    assert "Sie sind abgemeldet" in page.content()
    check_a11y(page)

    page.goto("/login")
    check_a11y(page)
    sign_in(page, contact["username"], new_password)
    page.wait_for_url(re.compile(r"/me$"))
    assert "öffentlich sichtbar" in page.content()
    page.get_by_role("link", name="Kontaktdaten ändern").click()
    check_a11y(page)
    page.get_by_label("Telefon").fill("ruf mich an")
    page.get_by_role("button", name="Änderung einreichen").click()
    summary = page.locator("#fehler")
    assert summary.is_visible() and page.evaluate("document.activeElement.id") == "fehler"
    assert page.get_by_label("Telefon").input_value() == "ruf mich an"  # what was typed stays
    check_a11y(page)
    page.get_by_label("Telefon").fill("+49 2592 69-123")
    page.get_by_role("button", name="Änderung einreichen").click()
    page.wait_for_url(re.compile(r"/me\?done=changed"))
    content = page.content()
    assert "wartet auf Freigabe" in content and "+49 2592 69-123" in content
    # the public still sees the approved number
    page.goto(f"/cooperations/{contact['cooperation_id']}")
    assert "+49 000 1234-5" in page.content() and "+49 2592 69-123" not in page.content()

    page.goto(f"/me/cooperations/{contact['cooperation_id']}/propose")
    check_a11y(page)
    page.get_by_label("Anmerkungen").fill("Gemeinsame Leitstelle seit 2026 in Unna.")
    page.get_by_role("button", name="Vorschlag einreichen").click()
    page.wait_for_url(re.compile(r"/me\?done=proposed"))
    assert "Änderung einer Kooperation" in page.content()
    page.goto("/me/cooperations/new")
    check_a11y(page)
    page.goto("/me/password")
    check_a11y(page)


def test_start_password_at_login_leads_into_the_activation_steps(page, live_server, browser_smtp, admin_token,
                                                                 check_a11y):
    contact = new_contact(live_server, admin_token)
    _link, start = invitation(live_server, browser_smtp, contact)
    sign_in(page, contact["username"], start)
    page.wait_for_url(re.compile(r"/me/activate"))
    check_a11y(page)
    page.locator("#currentPassword").fill(start)
    page.locator("#newPassword").fill("Ein-ganz-neues-Passwort-9")
    page.locator("#newPasswordRepeat").fill("Ein-ganz-neues-Passwort-9")
    page.get_by_role("button", name="Passwort speichern und weiter").click()
    page.wait_for_url(re.compile(r"/me/activate"))
    assert page.locator("#lastName").input_value() == contact["last_name"]
    page.get_by_role("button", name="Daten bestätigen").click()  # without consent
    assert page.locator("#fehler").is_visible()
    assert page.locator("#lastName").input_value() == contact["last_name"]
    check_a11y(page)
    page.get_by_label(re.compile("Ich bin damit einverstanden")).check()
    page.get_by_role("button", name="Daten bestätigen").click()
    page.wait_for_url(re.compile(r"/me\?done=confirmed"))
    assert "öffentlich sichtbar" in page.content()


def test_password_reset_through_the_pages(page, live_server, browser_smtp, admin_token, check_a11y):
    contact = new_contact(live_server, admin_token)
    link, _ = invitation(live_server, browser_smtp, contact)
    page.goto(link)
    activate(page, "Erstes-Passwort-123")
    page.goto("/login")
    page.get_by_role("link", name="Passwort vergessen?").click()
    page.wait_for_url(re.compile(r"/password-reset$"))
    check_a11y(page)
    page.locator("#usernameOrEmail").fill(contact["username"])
    page.get_by_role("button", name="Link anfordern").click()
    assert "Wenn es zu Ihrer Angabe einen Zugang gibt" in page.content()
    check_a11y(page)
    mail = wait_for_mail(browser_smtp, contact["email"], "Passwort")
    reset = re.search(re.escape(live_server.url) + r"/reset-password\?token=[A-Za-z0-9_\-]+", text_part(mail)).group(0)
    page.goto(reset)
    check_a11y(page)
    page.locator("#newPassword").fill("Zweites-Passwort-456")
    page.locator("#newPasswordRepeat").fill("Zweites-Passwort-456")
    page.get_by_role("button", name="Passwort speichern").click()
    assert "Passwort geändert" in page.content()
    sign_in(page, contact["username"], "Zweites-Passwort-456")
    page.wait_for_url(re.compile(r"/me$"))


def test_contact_deletes_their_data_and_vanishes(page, live_server, browser_smtp, admin_token, check_a11y):
    contact = new_contact(live_server, admin_token)
    link, _ = invitation(live_server, browser_smtp, contact)
    page.goto(link)
    activate(page, "Loesch-mich-bald-1")
    page.goto(f"/municipalities/{contact['municipality_id']}")
    assert contact["last_name"] in page.content()
    sign_in(page, contact["username"], "Loesch-mich-bald-1")
    page.wait_for_url(re.compile(r"/me$"))
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Alle meine Daten herunterladen")).click()
    assert contact["email"] in open(download.value.path(), encoding="utf-8").read()
    page.get_by_role("link", name=re.compile("Einwilligung widerrufen")).click()
    check_a11y(page)
    page.get_by_role("button", name="Daten endgültig löschen").click()
    assert page.locator("#fehler").is_visible()  # the confirmation box is required
    page.get_by_label(re.compile("meine Daten sollen endgültig gelöscht werden")).check()
    page.get_by_role("button", name="Daten endgültig löschen").click()
    assert "Ihre personenbezogenen Daten sind gelöscht" in page.content()
    check_a11y(page)
    for path in (f"/municipalities/{contact['municipality_id']}", f"/cooperations/{contact['cooperation_id']}"):
        page.goto(path)
        assert contact["last_name"] not in page.content()


def test_every_form_page_passes_axe_when_signed_out(page, check_a11y):
    for path in ("/login", "/password-reset", "/impressum", "/datenschutz", "/reset-password?token=x"):
        page.goto(path)
        check_a11y(page)


def test_graphiql_works_offline(page, live_server):
    """GraphiQL loads from the service alone: every request to another host is refused."""
    foreign = []

    def only_local(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto("/graphql")
    page.locator(".graphiql-container").wait_for()
    assert not foreign, foreign


def test_approver_opens_the_mail_link_signs_in_and_approves(page, live_server, browser_smtp, admin_token,
                                                            check_a11y):
    approver, approver_password = live_server.create_user("APPROVER", scope="05978")
    contact = new_contact(live_server, admin_token)
    link, _ = invitation(live_server, browser_smtp, contact)
    page.goto(link)
    activate(page, "Freigabe-Test-2026")
    sign_in(page, contact["username"], "Freigabe-Test-2026")
    page.wait_for_url(re.compile(r"/me$"))
    page.goto("/me/edit")
    page.get_by_label("Funktion").fill("Leitung Ordnungsamt")
    page.get_by_role("button", name="Änderung einreichen").click()
    page.wait_for_url(re.compile(r"/me\?done=changed"))
    page.get_by_role("button", name=re.compile("Abmelden")).click()

    mail = wait_for_mail(browser_smtp, f"{approver}@example.org", "Freigabe")
    review = re.search(re.escape(live_server.url) + r"/review/\d+", text_part(mail)).group(0)
    page.goto(review)
    page.wait_for_url(re.compile(r"/login\?next="))
    sign_in_here(page, approver, approver_password)
    page.wait_for_url(re.compile(r"/review/\d+$"))
    assert "Leitung Ordnungsamt" in page.content()
    check_a11y(page)
    page.get_by_role("button", name="Freigeben und veröffentlichen").click()
    assert "veröffentlicht" in page.content()
    page.goto(f"/cooperations/{contact['cooperation_id']}")
    assert "Leitung Ordnungsamt" in page.content()


def sign_in_here(page, username: str, password: str) -> None:
    """Sign in on the login form already open (keeps its `next`)."""
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Anmelden").click()
