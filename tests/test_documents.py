"""Issue 11, part 1: documents of a cooperation (upload by content type, storage, download,
search, the proposal flow), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from service.documents.models import Document
from service.documents.storage import get_storage
from service.sql import fetch
from tests import document_files as files
from tests.test_approvals import APPROVE, REJECT, org_id

ATTACH = """mutation($c: ID!, $i: DocumentInput!, $f: Upload!) { attachDocument(cooperationId: $c, input: $i, file: $f) {
  id title kind kindLabel date fileName contentType fileType size sha256 state url publishedAt } }"""
PROPOSE = """mutation($c: ID!, $i: DocumentInput!, $f: Upload!) { proposeDocument(cooperationId: $c, input: $i, file: $f) {
  id kind status diff { field label old new } document { id state url fileName } } }"""
WITHDRAW = "mutation($id: ID!) { withdrawDocument(id: $id) { id state withdrawnAt } }"
DOCUMENTS = "query($id: ID!) { cooperation(id: $id) { documents { id title kind date fileType size url } } }"
ONE = "query($id: ID!) { document(id: $id) { id state fileName } }"
SEARCH = 'query($q: String!) { cooperations(search: $q, first: 100) { totalCount edges { node { id } } } }'


def word() -> str:
    """A word no seed row holds, so a search for it finds only what a test attached."""
    return "Quorx" + uuid.uuid4().hex[:8]


async def upload(client, query: str, variables: dict, data: bytes, name: str, *, headers: dict | None = None,
                 client_type: str = "application/octet-stream", keep_cookies: bool = False):
    """A GraphQL multipart request (the spec's operations/map/file parts) with the file as `$f`;
    who is signed in is said by the headers (cookies only with keep_cookies)."""
    if not keep_cookies:
        client.cookies.clear()
    operations = {"query": query, "variables": {**variables, "f": None}}
    response = await client.post("/graphql", headers=headers, data={
        "operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": (name, data, client_type)})
    return response


async def blob_count() -> int:
    root = get_storage().root
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


@pytest.fixture
async def admin(make_user, login):
    return await login(*await make_user("ADMIN"))


@pytest.fixture
def new_cooperation(gql, admin):
    async def make(*partners: str) -> str:
        ids = [{"organizationId": await org_id(p), "role": "PARTNER"} for p in partners]
        created = await gql("mutation($i: CooperationInput!) { createCooperation(input: $i) { id } }",
                            {"i": {"title": f"Dokumentenprobe {uuid.uuid4().hex[:6]}", "partners": ids}},
                            headers=admin)
        assert not created.errors, created.errors
        return created.data["createCooperation"]["id"]

    return make


@pytest.mark.parametrize("maker, name, code, content_type", [
    (files.pdf, "satzung.pdf", "PDF", "application/pdf"),
    (files.odt, "vereinbarung.odt", "ODT", "application/vnd.oasis.opendocument.text"),
    (files.docx, "vertrag.docx", "DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (files.xlsx, "zahlen.xlsx", "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (files.png, "plan.png", "PNG", "image/png"),
    (files.jpeg, "foto.jpg", "JPEG", "image/jpeg"),
])
async def test_each_allowed_type_is_recognised_stored_listed_and_downloadable(
        client, gql, admin, new_cooperation, maker, name, code, content_type):
    coop = await new_cooperation("Bergkamen")
    data = maker()
    response = await upload(client, ATTACH, {"c": coop, "i": {"title": "Satzung 2020", "kind": "STATUTE",
                                                              "date": "2020-03-12"}}, data, name, headers=admin)
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    doc = body["data"]["attachDocument"]
    assert (doc["fileType"], doc["contentType"], doc["size"]) == (code, content_type, len(data))
    assert doc["sha256"] == hashlib.sha256(data).hexdigest() and doc["state"] == "PUBLISHED"
    assert (doc["kind"], doc["kindLabel"], doc["date"], doc["fileName"]) == ("STATUTE", "Satzung", "2020-03-12", name)
    assert get_storage().exists(doc["sha256"])
    listed = (await gql(DOCUMENTS, {"id": coop})).data["cooperation"]["documents"]
    assert [d["id"] for d in listed] == [doc["id"]]

    path = doc["url"].removeprefix("https://ikz.example.org")
    assert path == f"/documents/{doc['id']}/{name}"
    client.cookies.clear()
    download = await client.get(path)
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-type"] == content_type
    assert download.headers["content-length"] == str(len(data))
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    assert download.headers["etag"] == f'"{doc["sha256"]}"'
    again = await client.get(path, headers={"if-none-match": download.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("data, name, client_type, message", [
    (files.windows_exe(), "satzung.pdf", "application/pdf", "is not a PDF, ODT, DOCX, XLSX, PNG or JPEG"),
    (files.plain_zip(), "vertrag.docx", "application/zip", "is not a PDF"),
    (files.fake_odt_mimetype(), "tabelle.odt", "application/vnd.oasis.opendocument.text", "is not a PDF"),
    (b"Hallo, nur Text", "satzung.pdf", "application/pdf", "is not a PDF"),
    (b"", "leer.pdf", "application/pdf", "The file is empty"),
    (files.broken_pdf(), "kaputt.pdf", "application/pdf", "The PDF file is damaged or cannot be read"),
])
async def test_bad_files_are_refused_and_leave_nothing_behind(client, admin, new_cooperation, data, name,
                                                              client_type, message):
    coop = await new_cooperation("Bergkamen")
    rows, blobs = await Document.all().count(), await blob_count()
    response = await upload(client, ATTACH, {"c": coop, "i": {"title": "Satzung", "kind": "STATUTE"}}, data, name,
                            headers=admin, client_type=client_type)
    body = response.json()
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "file"
    assert message in error["message"]
    assert "Traceback" not in response.text
    assert (await Document.all().count(), await blob_count()) == (rows, blobs)


async def test_a_jpeg_named_pdf_is_stored_as_the_jpeg_it_is(client, admin, new_cooperation):
    coop = await new_cooperation("Bergkamen")
    response = await upload(client, ATTACH, {"c": coop, "i": {"title": "Foto", "kind": "OTHER"}}, files.jpeg(),
                            "../../etc/Beschluss: Rat?.pdf", headers=admin, client_type="application/pdf")
    doc = response.json()["data"]["attachDocument"]
    assert (doc["fileType"], doc["contentType"], doc["fileName"]) == ("JPEG", "image/jpeg", "Beschluss_ Rat_.jpg")


async def test_too_large_files_are_refused_while_reading(app, settings, client, admin, new_cooperation):
    from ikz.app import create_app

    coop = await new_cooperation("Bergkamen")
    rows, blobs = await Document.all().count(), await blob_count()
    small = settings.with_overrides(document_max_bytes=1000)
    import httpx

    transport = httpx.ASGITransport(app=create_app(small, manage_db=False), client=("203.0.113.10", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="https://ikz.example.org") as http:
        # Within the body limit (the file plus room for the other parts) but over the file limit.
        response = await upload(http, ATTACH, {"c": coop, "i": {"title": "Groß", "kind": "OTHER"}},
                                files.pdf("x" * 1200), "gross.pdf", headers=admin)
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and "larger than" in error["message"]
        # Far over the body limit: refused with 413 before the body is read.
        response = await upload(http, ATTACH, {"c": coop, "i": {"title": "Groß", "kind": "OTHER"}},
                                b"%PDF-1.4\n" + b"0" * 400_000, "riesig.pdf", headers=admin)
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

        # A chunked body without Content-Length is counted as it arrives.
        async def chunks():
            yield b'--x\r\nContent-Disposition: form-data; name="0"; filename="a.pdf"\r\n\r\n%PDF-1.4\n'
            for _ in range(100):
                yield b"A" * 10_000

        response = await http.post("/graphql", headers={**admin, "content-type": "multipart/form-data; boundary=x"},
                                   content=chunks())
        assert response.status_code == 413
    assert (await Document.all().count(), await blob_count()) == (rows, blobs)


async def test_multipart_needs_a_header_no_foreign_form_can_send(client, make_user, new_cooperation):
    """A multipart form is a 'simple' request: a foreign page could post one with the session cookie."""
    coop = await new_cooperation("Bergkamen")
    username, password = await make_user("ADMIN")
    signed_in = await client.post("/graphql", json={
        "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
        "variables": {"u": username, "p": password}})
    assert signed_in.status_code == 200 and "ikz_session" in "".join(signed_in.headers.get_list("set-cookie"))
    rows = await Document.all().count()
    variables = {"c": coop, "i": {"title": "Satzung", "kind": "STATUTE"}}
    refused = await upload(client, ATTACH, variables, files.pdf(), "s.pdf", headers={"origin": "https://evil.example"},
                           keep_cookies=True)
    assert refused.status_code == 400 and "Apollo-Require-Preflight" in refused.json()["errors"][0]["message"]
    assert await Document.all().count() == rows
    accepted = await upload(client, ATTACH, variables, files.pdf(), "s.pdf", headers={"apollo-require-preflight": "true"},
                            keep_cookies=True)
    assert accepted.json()["data"]["attachDocument"]["state"] == "PUBLISHED", accepted.json()
    client.cookies.clear()


async def test_a_word_in_a_pdf_finds_the_cooperation_until_the_document_is_withdrawn(client, gql, admin,
                                                                                     new_cooperation):
    coop = await new_cooperation("Bergkamen")
    secret = word()
    response = await upload(client, ATTACH, {"c": coop, "i": {"title": "Satzung", "kind": "STATUTE"}},
                            files.pdf(f"Verbandssatzung {secret} Umlage"), "satzung.pdf", headers=admin)
    doc = response.json()["data"]["attachDocument"]
    for query in (secret, secret.lower()[:9], f"{secret} Umlage"):
        found = (await gql(SEARCH, {"q": query})).data["cooperations"]
        assert [e["node"]["id"] for e in found["edges"]] == [coop] and found["totalCount"] == 1, query
    # An ODT's text is indexed too.
    other = word()
    await upload(client, ATTACH, {"c": coop, "i": {"title": "Vereinbarung", "kind": "MODEL_CONTRACT"}},
                 files.odt(f"Öffentlich {other}"), "v.odt", headers=admin)
    assert (await gql(SEARCH, {"q": other})).data["cooperations"]["totalCount"] == 1

    withdrawn = await gql(WITHDRAW, {"id": doc["id"]}, headers=admin)
    assert withdrawn.data["withdrawDocument"]["state"] == "WITHDRAWN", withdrawn.errors
    assert (await gql(SEARCH, {"q": secret})).data["cooperations"]["totalCount"] == 0
    assert (await gql(SEARCH, {"q": other})).data["cooperations"]["totalCount"] == 1
    listed = (await gql(DOCUMENTS, {"id": coop})).data["cooperation"]["documents"]
    assert doc["id"] not in [d["id"] for d in listed]
    assert (await gql(ONE, {"id": doc["id"]})).data["document"] is None
    client.cookies.clear()
    page = await client.get(f"/documents/{doc['id']}/satzung.pdf")
    assert page.status_code == 404 and "Dieses Dokument gibt es nicht" in page.text
    again = await gql(WITHDRAW, {"id": doc["id"]}, headers=admin)
    assert again.codes == ["CONFLICT"]
    # An edit of the cooperation keeps the published document's words in the index.
    edited = await gql("mutation($id: ID!, $v: Int!) { updateCooperation(id: $id, baseVersion: $v, "
                       "input: {description: \"Neu\"}) { version } }", {"id": coop, "v": 1}, headers=admin)
    assert not edited.errors, edited.errors
    assert (await gql(SEARCH, {"q": other})).data["cooperations"]["totalCount"] == 1


async def test_a_proposed_document_is_invisible_until_approved(client, gql, new_cooperation, confirmed_contact,
                                                               make_user, login):
    coop = await new_cooperation("Bergkamen", "Kamen")
    person = await confirmed_contact("Bergkamen", [])
    secret = word()
    response = await upload(client, PROPOSE, {"c": coop, "i": {"title": "Ratsbeschluss 2021", "kind":
                                                               "COUNCIL_RESOLUTION", "date": "2021-05-04"}},
                            files.pdf(f"Beschluss {secret}"), "beschluss.pdf", headers=person["headers"])
    change = response.json()["data"]["proposeDocument"]
    assert (change["kind"], change["status"]) == ("DOCUMENT_ADD", "PENDING")
    assert change["diff"][0]["field"] == "documents" and "Ratsbeschluss 2021 (Ratsbeschluss, 04.05.2021, PDF" \
        in change["diff"][0]["new"]
    doc = change["document"]
    assert doc["state"] == "PROPOSED"
    path = f"/documents/{doc['id']}/beschluss.pdf"

    # Invisible to the public: not listed, not found, no download, no search hit.
    assert (await gql(DOCUMENTS, {"id": coop})).data["cooperation"]["documents"] == []
    assert (await gql(ONE, {"id": doc["id"]})).data["document"] is None
    assert (await gql(SEARCH, {"q": secret})).data["cooperations"]["totalCount"] == 0
    client.cookies.clear()
    assert (await client.get(path)).status_code == 404
    # An approver of another state does not see it; one in scope does (for the review).
    saar = await login(*await make_user("APPROVER", scope="10"))
    assert (await gql(ONE, {"id": doc["id"]}, headers=saar)).data["document"] is None
    approver = await login(*await make_user("APPROVER", scope="05978"))
    assert (await gql(ONE, {"id": doc["id"]}, headers=approver)).data["document"]["state"] == "PROPOSED"
    review_download = await client.get(path, headers=approver)
    assert review_download.status_code == 200 and review_download.headers["cache-control"] == "private, no-store"
    assert (await gql(REJECT, {"id": change["id"], "r": "x"}, headers=saar)).codes == ["FORBIDDEN"]

    approved = await gql(APPROVE, {"id": change["id"], "c": None}, headers=approver)
    assert approved.data["approveChange"]["status"] == "APPROVED", approved.errors
    listed = (await gql(DOCUMENTS, {"id": coop})).data["cooperation"]["documents"]
    assert [(d["id"], d["kind"], d["date"]) for d in listed] == [(doc["id"], "COUNCIL_RESOLUTION", "2021-05-04")]
    assert (await gql(SEARCH, {"q": secret})).data["cooperations"]["totalCount"] == 1
    client.cookies.clear()
    public = await client.get(path)
    assert public.status_code == 200 and public.headers["cache-control"] == "public, no-cache"


async def test_a_rejected_document_never_becomes_public(client, gql, new_cooperation, confirmed_contact, make_user,
                                                        login):
    coop = await new_cooperation("Bergkamen")
    person = await confirmed_contact("Bergkamen", [])
    secret = word()
    response = await upload(client, PROPOSE, {"c": coop, "i": {"title": "Entwurf", "kind": "OTHER"}},
                            files.odt(secret), "entwurf.odt", headers=person["headers"])
    change = response.json()["data"]["proposeDocument"]
    approver = await login(*await make_user("APPROVER", scope="05978"))
    rejected = await gql(REJECT, {"id": change["id"], "r": "Bitte die unterschriebene Fassung"}, headers=approver)
    assert rejected.data["rejectChange"]["status"] == "REJECTED"
    assert (await gql(APPROVE, {"id": change["id"], "c": None}, headers=approver)).codes == ["CONFLICT"]
    assert (await gql(DOCUMENTS, {"id": coop})).data["cooperation"]["documents"] == []
    assert (await gql(SEARCH, {"q": secret})).data["cooperations"]["totalCount"] == 0
    client.cookies.clear()
    assert (await client.get(f"/documents/{change['document']['id']}/entwurf.odt")).status_code == 404
    # The submitter still sees their own rejected document (state REJECTED), the public never.
    own = await gql(ONE, {"id": change["document"]["id"]}, headers=person["headers"])
    assert own.data["document"]["state"] == "REJECTED"


async def test_a_document_proposal_does_not_block_or_get_blocked_by_field_changes(client, gql, new_cooperation,
                                                                                   confirmed_contact, make_user,
                                                                                   login, admin):
    coop = await new_cooperation("Bergkamen")
    person = await confirmed_contact("Bergkamen", [])
    response = await upload(client, PROPOSE, {"c": coop, "i": {"title": "Satzung", "kind": "STATUTE"}},
                            files.pdf(), "s.pdf", headers=person["headers"])
    change = response.json()["data"]["proposeDocument"]
    edited = await gql("mutation($id: ID!) { updateCooperation(id: $id, baseVersion: 1, input: {notes: \"x\"}) "
                       "{ version } }", {"id": coop}, headers=admin)
    assert not edited.errors
    approver = await login(*await make_user("APPROVER", scope="05978"))
    approved = await gql(APPROVE, {"id": change["id"], "c": None}, headers=approver)
    assert approved.data["approveChange"]["status"] == "APPROVED", approved.errors
    version = (await gql("query($id: ID!) { cooperation(id: $id) { version } }", {"id": coop})).data
    assert version["cooperation"]["version"] == 2  # publishing a document is no new version of the fields


async def test_who_may_attach_propose_and_withdraw(client, gql, new_cooperation, confirmed_contact, make_user,
                                                   login, admin):
    bergkamen = await new_cooperation("Bergkamen")
    saarland = await new_cooperation("Saarpfalz-Kreis")
    person = await confirmed_contact("Bergkamen", [])
    variables = {"i": {"title": "Satzung", "kind": "STATUTE"}}
    rows = await Document.all().count()
    # A contact person cannot attach directly, nor propose for another municipality's cooperation.
    direct = await upload(client, ATTACH, {**variables, "c": bergkamen}, files.pdf(), "s.pdf",
                          headers=person["headers"])
    assert direct.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    foreign = await upload(client, PROPOSE, {**variables, "c": saarland}, files.pdf(), "s.pdf",
                           headers=person["headers"])
    assert foreign.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Signed out: nothing.
    anonymous = await upload(client, ATTACH, {**variables, "c": bergkamen}, files.pdf(), "s.pdf",
                             headers={"apollo-require-preflight": "true"})
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # An approver attaches only within their scope.
    unna = await login(*await make_user("APPROVER", scope="05978"))
    outside = await upload(client, ATTACH, {**variables, "c": saarland}, files.pdf(), "s.pdf", headers=unna)
    assert outside.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await Document.all().count() == rows
    inside = await upload(client, ATTACH, {**variables, "c": bergkamen}, files.pdf(), "s.pdf", headers=unna)
    doc = inside.json()["data"]["attachDocument"]
    saar = await login(*await make_user("APPROVER", scope="10"))
    assert (await gql(WITHDRAW, {"id": doc["id"]}, headers=saar)).codes == ["NOT_FOUND"]
    assert (await gql(WITHDRAW, {"id": doc["id"]}, headers=person["headers"])).codes == ["FORBIDDEN"]
    assert (await gql(WITHDRAW, {"id": doc["id"]}, headers=unna)).data["withdrawDocument"]["state"] == "WITHDRAWN"
    # Bad metadata: clear errors, nothing stored.
    rows = await Document.all().count()
    empty_title = await upload(client, ATTACH, {"c": bergkamen, "i": {"title": "  ", "kind": "STATUTE"}},
                               files.pdf(), "s.pdf", headers=admin)
    assert empty_title.json()["errors"][0]["extensions"]["field"] == "title"
    not_a_file = await gql(ATTACH, {"c": bergkamen, "i": {"title": "T", "kind": "STATUTE"}, "f": "Zm9v"},
                           headers=admin)
    assert not_a_file.codes == ["BAD_USER_INPUT"]
    assert await Document.all().count() == rows


async def test_deleting_a_contact_erases_their_unpublished_documents(client, gql, new_cooperation, confirmed_contact):
    coop = await new_cooperation("Bergkamen")
    person = await confirmed_contact("Bergkamen", [])
    response = await upload(client, PROPOSE, {"c": coop, "i": {"title": "Beschluss Petra", "kind": "OTHER"}},
                            files.pdf("Unterschrift Petra"), "b.pdf", headers=person["headers"])
    doc_id = int(response.json()["data"]["proposeDocument"]["document"]["id"])
    deleted = await gql("mutation { deleteMyContact }", headers=person["headers"])
    assert not deleted.errors, deleted.errors
    rows = await fetch("SELECT state, title, text FROM document WHERE id = ?", [doc_id])
    assert rows == [{"state": "REJECTED", "title": "(gelöscht)", "text": None}]


async def test_documents_cost_is_bounded(gql):
    """100 cooperations with their documents count 10 documents each: within the limit, and nesting stays bounded."""
    result = await gql("{ cooperations(first: 100) { edges { node { documents { id url } } } } }")
    assert not result.errors, result.errors


async def test_a_broken_multipart_body_is_a_clear_400(client, admin):
    response = await client.post("/graphql", headers={**admin, "content-type": "multipart/form-data; boundary=x"},
                                 content=b"this is not multipart at all")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["extensions"]["code"], error["message"]) == ("BAD_USER_INPUT", "The multipart body cannot be read.")


async def test_documents_full_of_distinct_words_are_indexed_within_the_databases_limits(client, gql, admin,
                                                                                       new_cooperation):
    """Five documents of 40,000 distinct words each: the index takes a bounded share (a PostgreSQL tsvector
    holds 1 MB) and the cooperation's own words always stay findable."""
    import random

    coop = await new_cooperation("Bergkamen")
    title_word = (await gql("query($id: ID!) { cooperation(id: $id) { title } }", {"id": coop})
                  ).data["cooperation"]["title"].split()[-1]
    rng = random.Random(11)
    for n in range(5):
        text = " ".join("w" + "".join(rng.choice("abcdefghij") for _ in range(9)) for _ in range(40_000))
        response = await upload(client, ATTACH, {"c": coop, "i": {"title": f"Liste {n}", "kind": "OTHER"}},
                                files.odt(text), f"liste{n}.odt", headers=admin)
        assert not response.json().get("errors"), response.json()
    length = (await fetch("SELECT LENGTH(search_text) AS n FROM cooperation WHERE id = ?", [int(coop)]))[0]["n"]
    assert 300_000 < length <= 400_000
    assert (await gql(SEARCH, {"q": title_word})).data["cooperations"]["totalCount"] == 1


async def test_documents_of_a_list_cost_the_same_statements_at_2_and_20(client, gql, admin):
    """Cooperation.documents is loaded per request for all cooperations of a page (no query per row)."""
    tag = word()
    partner = [{"organizationId": await org_id("Bergkamen"), "role": "PARTNER"}]
    coops = []
    for i in range(2):
        created = await gql("mutation($i: CooperationInput!) { createCooperation(input: $i) { id } }",
                            {"i": {"title": f"{tag} {i}", "partners": partner}}, headers=admin)
        coops.append(created.data["createCooperation"]["id"])
    query = ("query($s: String) { cooperations(search: $s, first: 20) { edges { node { id "
             "documents { id title kind date fileName fileType size url } } } } }")

    async def attach(coop: str, count: int) -> None:
        for i in range(count):
            response = await upload(client, ATTACH, {"c": coop, "i": {"title": f"Anlage {i}", "kind": "OTHER"}},
                                    files.png(), f"plan{i}.png", headers=admin)
            assert not response.json().get("errors"), response.text

    async def statements() -> tuple[int, int]:
        result = await gql(query, {"s": tag}, headers=admin)
        assert not result.errors, result.errors
        nodes = [e["node"] for e in result.data["cooperations"]["edges"]]
        assert {n["id"] for n in nodes} == set(coops)
        return result["extensions"]["sqlQueries"], sum(len(n["documents"]) for n in nodes)

    for c in coops:
        await attach(c, 1)
    small, rows = await statements()
    assert rows == 2
    for c in coops:
        await attach(c, 9)
    large, rows = await statements()
    assert rows == 20 and large == small
