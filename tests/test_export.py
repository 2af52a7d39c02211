"""Issue 11, part 3: the CSV export, read back with the csv module and compared with the API."""

from __future__ import annotations

import csv
import io

from ikz.exports.columns import COLUMNS
from ikz.exports.formats import FORMATS
from ikz.web import export
from service.sql import fetch
from tests.paging import all_cooperations
from tests.test_config_and_cli import run_ikz

LIST = """query($f: CooperationFilter, $s: String, $after: String) { cooperations(filter: $f, search: $s, first: 100,
  after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id title status } } } }"""



def read(body: bytes) -> list[dict]:
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


async def test_csv_equals_the_api_rows_for_a_search_and_a_filter(gql, client, monkeypatch):
    monkeypatch.setattr(export, "PAGE_SIZE", 7)  # several batches even for a short list
    selm = (await fetch("SELECT id FROM organization WHERE key = 'selm'"))[0]["id"]
    for query, flt, search in (("q=Rettungsdienst", None, "Rettungsdienst"),
                               (f"partner={selm}", {"partnerIds": [str(selm)]}, None),
                               ("", None, None)):
        response = await client.get(f"/export/cooperations.csv?{query}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = read(response.content)
        expected = await all_cooperations(gql, LIST, flt, search)
        assert [(r["ID"], r["Aufgabenbereich"]) for r in rows] == [(e["id"], e["title"]) for e in expected], query
        assert rows and list(rows[0])[:3] == ["ID", "Aufgabenbereich", "Beschreibung"]
    music = next(r for r in read((await client.get("/export/cooperations.csv?q=Musikschule")).content)
                 if r["Aufgabenbereich"].startswith("Musikschule (Neufassung"))
    assert "Selm (ausgeschieden 2006)" in music["Partner"] and music["Rechtsform"] and music["Stand"] == "12.01.2016"


async def test_unknown_filter_ids_are_refused_before_the_download(client):
    response = await client.get("/export/cooperations.csv?partner=999999999")
    assert response.status_code == 404 and "organisation" in response.text.lower()


async def test_ikz_export_writes_the_same_csv(settings, tmp_path, client):
    target = tmp_path / "out.csv"
    result = run_ikz(settings, None, "export", "--search", "Rettungsdienst", "--output", str(target))
    assert result.returncode == 0, result.stderr
    web = read((await client.get("/export/cooperations.csv?q=Rettungsdienst")).content)
    assert [r["ID"] for r in read(target.read_bytes())] == [r["ID"] for r in web] and web


async def test_the_search_page_links_its_list_as_csv_xlsx_and_statistics(client):
    page = await client.get("/?q=Rettungsdienst&status=ACTIVE")
    for path in ("/export/cooperations.csv", "/export/cooperations.xlsx", "/statistik"):
        assert f'href="{path}?q=Rettungsdienst&amp;status=ACTIVE"' in page.text, path


FULL = """query($f: CooperationFilter, $s: String, $after: String) { cooperations(filter: $f, search: $s, first: 100,
  after: $after) { pageInfo { hasNextPage endCursor } edges { node { id title description status startYear endYear
  sinceText dataAsOf topicFields { label } legalForm { label } partners { leftYear organization { name } } } } } }"""



def read_xlsx(body: bytes):
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(body)).active
    values = list(sheet.iter_rows(values_only=True))
    return sheet, values[0], [dict(zip(values[0], v)) for v in values[1:]]


STATUS = {"PLANNED": "geplant", "ACTIVE": "aktiv", "ENDED": "beendet", "NOT_REALIZED": "nicht realisiert"}


async def test_csv_and_xlsx_equal_the_api_rows_for_a_filter_and_a_search(gql, client, monkeypatch):
    monkeypatch.setattr(export, "PAGE_SIZE", 2)
    unna = (await fetch("SELECT id FROM organization WHERE key = 'kreis-unna'"))[0]["id"]
    flt = {"regionIds": [str(unna)], "statuses": ["ACTIVE", "ENDED"]}
    expected = await all_cooperations(gql, FULL, flt, "Schule")
    assert len(expected) > 2  # more than one page of the export
    query = f"region={unna}&status=ACTIVE&status=ENDED&q=Schule&sort=year-desc"
    csv_rows = read((await client.get(f"/export/cooperations.csv?{query}")).content)
    response = await client.get(f"/export/cooperations.xlsx?{query}")
    assert response.status_code == 200 and response.headers["content-type"] == FORMATS["xlsx"].MEDIA_TYPE
    assert 'filename="kooperationen.xlsx"' in response.headers["content-disposition"]
    sheet, header, xlsx_rows = read_xlsx(response.content)
    assert list(header) == list(csv_rows[0]) == COLUMNS
    assert [r["ID"] for r in csv_rows] == [e["id"] for e in await all_cooperations(gql, FULL, flt, "Schule", newest_first=True)]
    assert [r["ID"] for r in xlsx_rows] == [int(r["ID"]) for r in csv_rows]
    api = {e["id"]: e for e in expected}
    for c, x in zip(csv_rows, xlsx_rows):
        e = api[c["ID"]]
        partners = ", ".join(p["organization"]["name"] for p in e["partners"])
        assert c["Aufgabenbereich"] == x["Aufgabenbereich"] == e["title"]
        assert (c["Beschreibung"] or None) == x["Beschreibung"] == e["description"]
        assert c["Themenfelder"] == (x["Themenfelder"] or "") == ", ".join(t["label"] for t in e["topicFields"])
        assert c["Rechtsform"] == (x["Rechtsform"] or "") == ((e["legalForm"] or {}).get("label") or "")
        assert c["Status"] == x["Status"] == STATUS[e["status"]]
        assert c["Beginn (Jahr)"] == ("" if e["startYear"] is None else str(e["startYear"]))
        assert x["Beginn (Jahr)"] == e["startYear"] and x["Ende (Jahr)"] == e["endYear"]  # numbers, not text
        assert c["Stand"] == x["Stand"].strftime("%d.%m.%Y") == "{2}.{1}.{0}".format(*e["dataAsOf"].split("-"))
        assert {p.split(" (")[0] for p in c["Partner"].split(", ")} <= set(partners.split(", ")) | {""}
        assert c["Profil"] == x["Profil"] and c["Profil"].endswith(f"/cooperations/{e['id']}")
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b and sheet.column_dimensions["B"].width == 40
    assert isinstance(xlsx_rows[0]["ID"], int)



async def test_cells_are_never_run_as_formulas(gql, client, make_user, login):
    admin = await login(*await make_user("ADMIN"))
    selm = (await fetch("SELECT id FROM organization WHERE key = 'selm'"))[0]["id"]
    created = await gql("mutation($i: CooperationInput!) { createCooperation(input: $i) { id } }", {"i": {
        "title": '=HYPERLINK("http://example.org/x","Formelprobe")', "description": "@SUM(A1) Formelprobe",
        "notes": "-1+2 Formelprobe\x07", "partners": [{"organizationId": str(selm), "role": "LEAD"}]}}, headers=admin)
    assert not created.errors, created.errors
    csv_row = read((await client.get("/export/cooperations.csv?q=Formelprobe")).content)[0]
    assert csv_row["Aufgabenbereich"].startswith("'=HYPERLINK(") and csv_row["Beschreibung"].startswith("'@SUM")
    assert csv_row["Anmerkungen"].startswith("'-1+2")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO((await client.get("/export/cooperations.xlsx?q=Formelprobe")).content)).active
    title, description, notes = sheet["B2"], sheet["C2"], sheet["P2"]
    assert title.data_type == "s" and title.value == '=HYPERLINK("http://example.org/x","Formelprobe")'
    assert description.data_type == "s" and description.value.startswith("@SUM")
    assert notes.value == "-1+2 Formelprobe"  # the control character XML cannot hold is left out


async def test_xlsx_refuses_unknown_ids_before_the_download(client):
    response = await client.get("/export/cooperations.xlsx?region=999999999")
    assert response.status_code == 404 and "organisation" in response.text.lower()


async def test_ikz_export_writes_xlsx(settings, tmp_path, client):
    target = tmp_path / "out.xlsx"
    result = run_ikz(settings, None, "export", "--format", "xlsx", "--search", "Rettungsdienst", "--output", str(target))
    assert result.returncode == 0, result.stderr
    web = read((await client.get("/export/cooperations.csv?q=Rettungsdienst")).content)
    _, _, rows = read_xlsx(target.read_bytes())
    assert [r["ID"] for r in rows] == [int(r["ID"]) for r in web] and rows


async def test_ikz_export_reports_an_unknown_id(settings):
    result = run_ikz(settings, None, "export", "--partner", "999999999")
    assert result.returncode == 1 and "999999999" in result.stderr
