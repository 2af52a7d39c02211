"""Issue 11, part 3: the CSV export, read back with the csv module and compared with the API."""

from __future__ import annotations

import csv
import io

from service.catalogue import export
from service.sql import fetch
from tests.test_config_and_cli import run_ikz

LIST = """query($f: CooperationFilter, $s: String, $after: String) { cooperations(filter: $f, search: $s, first: 100,
  after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id title status } } } }"""


async def api_rows(gql, flt=None, search=None) -> list[dict]:
    rows, after = [], None
    while True:
        result = await gql(LIST, {"f": flt, "s": search, "after": after})
        assert not result.errors, result.errors
        connection = result.data["cooperations"]
        rows.extend(e["node"] for e in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return rows
        after = connection["pageInfo"]["endCursor"]


def read(body: bytes) -> list[dict]:
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


async def test_csv_equals_the_api_rows_for_a_search_and_a_filter(gql, client, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 7)  # several batches even for a short list
    selm = (await fetch("SELECT id FROM organization WHERE key = 'selm'"))[0]["id"]
    for query, flt, search in (("q=Rettungsdienst", None, "Rettungsdienst"),
                               (f"partner={selm}", {"partnerIds": [str(selm)]}, None),
                               ("", None, None)):
        response = await client.get(f"/export/cooperations.csv?{query}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = read(response.content)
        expected = await api_rows(gql, flt, search)
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


async def test_the_search_page_links_its_list_as_csv(client):
    page = await client.get("/?q=Rettungsdienst")
    assert 'href="/export/cooperations.csv?q=Rettungsdienst"' in page.text
