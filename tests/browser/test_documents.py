"""Documents in Chromium: the ministry attaches a statute on the documents page, the public
profile lists it and downloads it; axe-core on every page."""

from __future__ import annotations

import re

import pytest

from tests import document_files as files
from tests.browser.test_journeys import sign_in
from tests.browser.test_ministry import sign_out

pytestmark = pytest.mark.browser

IDS = '{ municipalities(search: "Bergkamen") { edges { node { id } } } }'


def test_ministry_attaches_a_statute_and_the_public_profile_lists_and_downloads_it(page, live_server, check_a11y,
                                                                                   tmp_path):
    admin, password = live_server.create_user("ADMIN")
    token = live_server.login_token(admin, password)
    bergkamen = live_server.graphql(IDS)["municipalities"]["edges"][0]["node"]["id"]
    coop = live_server.graphql("mutation($i: CooperationInput!) { createCooperation(input: $i) { id } }", {"i": {
        "title": "Gemeinsames Standesamt (Browserprobe)", "partners": [{"organizationId": bergkamen}]}},
        token=token)["createCooperation"]["id"]
    statute = tmp_path / "Satzung Standesamt.pdf"
    statute.write_bytes(files.pdf("Satzung über das gemeinsame Standesamt"))
    not_a_pdf = tmp_path / "satzung.pdf"
    not_a_pdf.write_bytes(files.windows_exe())

    sign_in(page, admin, password)
    page.goto(f"/cooperations/{coop}")
    page.get_by_role("link", name="Dokumente verwalten").click()
    check_a11y(page)
    page.get_by_label(re.compile("^Titel")).fill("Satzung")
    page.get_by_label(re.compile("^Art")).select_option("STATUTE")
    page.get_by_label(re.compile("^Datum")).fill("12.03.2020")
    page.get_by_label(re.compile("^Datei")).set_input_files(str(not_a_pdf))
    page.get_by_role("button", name="Hochladen und veröffentlichen").click()
    assert page.locator("#fehler").is_visible() and "erkannt am Inhalt" in page.locator("#fehler").inner_text()
    check_a11y(page)
    page.get_by_label(re.compile("^Datei")).set_input_files(str(statute))
    page.get_by_role("button", name="Hochladen und veröffentlichen").click()
    assert "Das Dokument ist veröffentlicht." in page.content()
    check_a11y(page)
    sign_out(page)

    page.goto(f"/cooperations/{coop}")
    table = page.locator("table.documents")
    assert "Satzung" in table.inner_text() and "12.03.2020" in table.inner_text() and "PDF" in table.inner_text()
    check_a11y(page)
    with page.expect_download() as download:
        table.get_by_role("link", name=re.compile("Satzung")).click()
    assert download.value.suggested_filename == "Satzung Standesamt.pdf"
    assert open(download.value.path(), "rb").read() == statute.read_bytes()
