"""Issue 11, part 3 (GeoJSON): the export parsed back with json and compared with the API's rows."""

from __future__ import annotations

import json

from ikz.exports import geojson_format as geojson
from ikz.exports.columns import COLUMNS
from ikz.exports.geojson_format import ExportRow
from ikz.web import export
from service.sql import fetch
from tests.paging import all_cooperations
from tests.test_config_and_cli import run_ikz

LIST = """query($f: CooperationFilter, $s: String, $after: String) { cooperations(filter: $f, search: $s, first: 100,
  after: $after) { pageInfo { hasNextPage endCursor } edges { node { id title startYear
  partners { organization { id location { latitude longitude } } } } } } }"""



def expected_geometry(node: dict) -> dict | None:
    points = [[p["organization"]["location"]["longitude"], p["organization"]["location"]["latitude"]]
              for p in node["partners"] if p["organization"]["location"]]
    return {"type": "MultiPoint", "coordinates": points} if points else None


async def test_geojson_equals_the_api_rows_for_a_search_and_a_filter(gql, client, monkeypatch, settings):
    monkeypatch.setattr(export, "PAGE_SIZE", 7)  # several batches even for a short list
    selm = (await fetch("SELECT id FROM organization WHERE key = 'selm'"))[0]["id"]
    kreis = (await fetch("SELECT id FROM organization WHERE key = 'kreis-unna'"))[0]["id"]
    for query, flt, search in (("q=Rettungsdienst", None, "Rettungsdienst"),
                               (f"partner={selm}&sort=year-desc", {"partnerIds": [str(selm)]}, None),
                               (f"region={kreis}&status=ACTIVE", {"regionIds": [str(kreis)], "statuses": ["ACTIVE"]}, None)):
        response = await client.get(f"/export/cooperations.geojson?{query}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/geo+json"
        assert response.headers["content-disposition"] == 'attachment; filename="kooperationen.geojson"'
        collection = json.loads(response.content)
        assert collection["type"] == "FeatureCollection"
        expected = await all_cooperations(gql, LIST, flt, search, newest_first="sort=year-desc" in query)
        features = collection["features"]
        assert [f["id"] for f in features] == [int(e["id"]) for e in expected] and features, query
        for feature, node in zip(features, expected):
            assert feature["type"] == "Feature"
            assert feature["geometry"] == expected_geometry(node), node["title"]
            assert feature["properties"]["ID"] == int(node["id"])
            assert feature["properties"]["Aufgabenbereich"] == node["title"]
            assert feature["properties"]["Beginn (Jahr)"] == node["startYear"]
            assert feature["properties"]["Profil"] == settings.link(f"cooperations/{node['id']}")
            located = [p["organization"]["id"] for p in node["partners"] if p["organization"]["location"]]
            assert [str(p["ID"]) for p in feature["properties"]["Verortete Partner"]] == located
    assert set(features[0]["properties"]) == {*COLUMNS, "Verortete Partner"}  # the CSV's German column names



async def test_unknown_filter_ids_are_refused_before_the_download(client):
    response = await client.get("/export/cooperations.geojson?region=999999999")
    assert response.status_code == 404 and "organisation" in response.text.lower()


async def test_ikz_export_geojson_writes_the_same_collection(settings, tmp_path, client):
    target = tmp_path / "out.geojson"
    result = run_ikz(settings, None, "export", "--format", "geojson", "--search", "Rettungsdienst",
                     "--output", str(target))
    assert result.returncode == 0, result.stderr
    web = json.loads((await client.get("/export/cooperations.geojson?q=Rettungsdienst")).content)
    assert json.loads(target.read_text(encoding="utf-8")) == web and web["features"]


async def test_the_search_page_links_its_list_as_geojson(client):
    page = await client.get("/?q=Rettungsdienst")
    assert "/export/cooperations.geojson?q=Rettungsdienst" in page.text


def row(n: int, places: list) -> ExportRow:
    return ExportRow([n, f"Kooperation {n}", *([None] * (len(COLUMNS) - 2))], places)


async def test_the_writer_streams_batch_by_batch_and_writes_null_geometry_without_places():
    produced = []

    async def batches():
        for b in range(400):  # 400 batches of 250: 100,000 features
            produced.append(b)
            yield [row(b * 250 + i, [(1, "A", 51.5, 7.5), (2, "B", 51.6, 7.6)] if i % 2 else [])
                   for i in range(250)]

    chunks = geojson.feature_collection(batches())
    texts = [await anext(chunks)]
    assert produced == []  # nothing read before the opening is written
    sizes = []
    async for chunk in chunks:
        sizes.append(len(produced))  # batches read when this chunk comes out
        texts.append(chunk)
    assert sizes == [*range(1, 401), 400]  # one chunk per batch, never a batch ahead, then the closing
    features = json.loads("".join(texts))["features"]
    assert len(features) == 100_000 and [f["id"] for f in features[:3]] == [0, 1, 2]
    assert features[0]["geometry"] is None and features[0]["properties"]["Verortete Partner"] == []
    assert features[1]["geometry"] == {"type": "MultiPoint", "coordinates": [[7.5, 51.5], [7.6, 51.6]]}
    assert features[1]["properties"]["Verortete Partner"] == [{"ID": 1, "Name": "A"}, {"ID": 2, "Name": "B"}]


async def test_an_empty_result_is_an_empty_collection(client):
    response = await client.get("/export/cooperations.geojson?q=Zzqxjv")
    assert json.loads(response.content) == {"type": "FeatureCollection", "features": []}
