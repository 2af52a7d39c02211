"""Documents on the pages: the profile's list, the ministry's documents page (multipart, CSRF),
a contact person's proposal from "Meine Daten", the review page's link to the proposed file."""

from __future__ import annotations

from service.documents.models import Document
from tests import document_files as files
from tests.conftest import BASE_URL
from tests.test_documents import admin, new_cooperation  # noqa: F401  (fixtures)
from tests.test_pages import csrf_of, sign_in

ORIGIN = {"origin": BASE_URL}


async def test_ministry_attaches_and_withdraws_on_the_page_and_the_profile_lists_it(client, make_user,
                                                                                   new_cooperation):  # noqa: F811
    coop = await new_cooperation("Bergkamen")
    username, password = await make_user("APPROVER", scope="05978")
    await sign_in(client, username, password)
    profile = await client.get(f"/cooperations/{coop}")
    assert "Keine veröffentlichten Dokumente." in profile.text and f"/cooperations/{coop}/documents" in profile.text
    page = await client.get(f"/cooperations/{coop}/documents")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    token = csrf_of(page.text)
    rows = await Document.all().count()

    forged = await client.post(f"/cooperations/{coop}/documents", headers=ORIGIN, data={
        "csrf": "x" * 40, "title": "Satzung", "kind": "STATUTE"}, files={"file": ("s.pdf", files.pdf(), "application/pdf")})
    assert forged.status_code == 403
    foreign = await client.post(f"/cooperations/{coop}/documents", headers={"origin": "https://evil.example"}, data={
        "csrf": token, "title": "Satzung", "kind": "STATUTE"}, files={"file": ("s.pdf", files.pdf(), "application/pdf")})
    assert foreign.status_code == 403
    wrong = await client.post(f"/cooperations/{coop}/documents", headers=ORIGIN, data={
        "csrf": token, "title": "Satzung", "kind": "STATUTE", "date": "12.03.2020"},
        files={"file": ("s.pdf", files.windows_exe(), "application/pdf")})
    assert wrong.status_code == 400 and "erkannt am Inhalt, nicht am Dateinamen" in wrong.text
    assert 'aria-invalid="true"' in wrong.text and 'value="Satzung"' in wrong.text  # what was typed stays
    assert await Document.all().count() == rows

    done = await client.post(f"/cooperations/{coop}/documents", headers=ORIGIN, data={
        "csrf": token, "title": "Verbandssatzung", "kind": "STATUTE", "date": "12.03.2020"},
        files={"file": ("Verbandssatzung.pdf", files.pdf(), "application/pdf")})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=attached")
    client.cookies.clear()
    profile = await client.get(f"/cooperations/{coop}")
    html = profile.text
    assert "<h2>Dokumente</h2>" in html and "Verbandssatzung" in html and "Satzung" in html
    assert "12.03.2020" in html and "<td>PDF</td>" in html and f"{len(files.pdf())} Bytes" in html
    document = await Document.filter(cooperation_id=int(coop)).first()
    assert f'href="{BASE_URL}/documents/{document.id}/Verbandssatzung.pdf"' in html
    assert "Dokumente verwalten" not in html  # not for the public

    await sign_in(client, username, password)
    page = await client.get(f"/cooperations/{coop}/documents")
    withdrawn = await client.post(f"/cooperations/{coop}/documents", headers=ORIGIN,
                                  data={"csrf": csrf_of(page.text), "document": str(document.id)})
    assert withdrawn.status_code == 303 and withdrawn.headers["location"].endswith("?done=withdrawn")
    client.cookies.clear()
    assert "Keine veröffentlichten Dokumente." in (await client.get(f"/cooperations/{coop}")).text
    assert (await client.get(f"/documents/{document.id}/Verbandssatzung.pdf")).status_code == 404


async def test_documents_page_is_closed_to_visitors_and_contact_persons(client, confirmed_contact,
                                                                        new_cooperation):  # noqa: F811
    coop = await new_cooperation("Bergkamen")
    client.cookies.clear()
    answer = await client.get(f"/cooperations/{coop}/documents")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    person = await confirmed_contact("Bergkamen", [])
    await sign_in(client, person["username"], person["password"])
    assert (await client.get(f"/cooperations/{coop}/documents")).status_code == 403


async def test_contact_proposes_a_document_and_the_review_page_links_it(client, make_user, confirmed_contact,
                                                                        new_cooperation):  # noqa: F811
    coop = await new_cooperation("Bergkamen")
    person = await confirmed_contact("Bergkamen", [])
    await sign_in(client, person["username"], person["password"])
    me = await client.get("/me")
    assert f"/me/cooperations/{coop}/documents" in me.text
    page = await client.get(f"/me/cooperations/{coop}/documents")
    assert page.status_code == 200 and "erst nach der Freigabe veröffentlicht" in page.text
    empty = await client.post(f"/me/cooperations/{coop}/documents", headers=ORIGIN, data={
        "csrf": csrf_of(page.text), "title": "Beschluss", "kind": "COUNCIL_RESOLUTION"},
        files={"file": ("b.pdf", b"", "application/pdf")})
    assert empty.status_code == 400 and "Die Datei ist leer." in empty.text
    sent = await client.post(f"/me/cooperations/{coop}/documents", headers=ORIGIN, data={
        "csrf": csrf_of(page.text), "title": "Ratsbeschluss Umlage", "kind": "COUNCIL_RESOLUTION"},
        files={"file": ("beschluss.odt", files.odt(), "application/octet-stream")})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=proposed")
    document = await Document.filter(cooperation_id=int(coop)).first()
    assert document.state.value == "PROPOSED"
    client.cookies.clear()
    assert "Ratsbeschluss Umlage" not in (await client.get(f"/cooperations/{coop}")).text

    approver, password = await make_user("APPROVER", scope="05978")
    await sign_in(client, approver, password)
    review = await client.get(f"/review/{document.change_id}")
    assert review.status_code == 200 and "Ratsbeschluss Umlage (Ratsbeschluss, ODT" in review.text
    link = f"{BASE_URL}/documents/{document.id}/beschluss.odt"
    assert f'href="{link}"' in review.text
    assert (await client.get(link)).status_code == 200  # the reviewer may open it before deciding
    inbox = await client.get("/review", params={"kind": "DOCUMENT_ADD"})
    assert inbox.status_code == 200 and "neues Dokument" in inbox.text
