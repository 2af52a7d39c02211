"""Issue 11, part 6: the seed corrections, row by row against the source, and applied to an older database."""

from __future__ import annotations

import json

from tortoise.context import TortoiseContext

from service import db
from service.catalogue.models import Cooperation, CooperationPartner, Organization
from service.catalogue.seed import DEFAULT_SEED_DIR, load_seeds
from service.sql import fetch
from tests.conftest import discard_database, fresh_database_url
from tests.test_seed_and_structure import needs_source, source_tables

ORG_NOTE = "Zuständige Stelle beim Kreis Unna (Spalte „Org.“ der Quelle): "
AGS = {"schleswig-holstein": "01", "hessen": "06", "rheinland-pfalz": "07", "bayern": "09",
       "st-ingbert": "10045117", "dortmund": "05913000", "hamm": "05915000",
       "gelsenkirchen": "05513000", "muenster": "05515000"}


async def _rows() -> dict[str, dict]:
    rows = await fetch(
        "SELECT c.key, c.title, c.notes, c.performer_text, c.legal_form_id, c.legal_form_text, c.status, "
        "c.end_year, c.since_text FROM cooperation c WHERE c.key LIKE 'unna-%'"
    )
    return {r["key"]: r for r in rows}


async def _assert_corrected() -> None:
    kreis, _towns = source_tables()
    rows = await _rows()
    for nr, org, _title, _since in kreis:  # the "Org." column: in the notes, never the performer text
        row = rows[f"unna-kreis-{int(nr):02d}"]
        assert row["notes"] and row["notes"].endswith(ORG_NOTE + org) or f"{ORG_NOTE}{org}" in row["notes"], nr
        assert row["performer_text"] != org, nr
    for nr in (1, 2, 4, 10, 13, 30, 34, 40):
        assert rows[f"unna-kreis-{nr:02d}"]["performer_text"] is None, nr
    assert rows["unna-kreis-38"]["legal_form_id"] == "OERV"
    assert "Aufgabenübernahme" in rows["unna-kreis-19"]["title"]
    assert rows["unna-kommunen-28"]["legal_form_text"] == "Zweckverband"
    assert (rows["unna-kommunen-16"]["status"], rows["unna-kommunen-16"]["end_year"]) == ("ENDED", 2006)
    assert (rows["unna-kommunen-50"]["status"], rows["unna-kommunen-50"]["since_text"]) == ("ACTIVE", "befristet")
    assert "Befristet" in rows["unna-kommunen-50"]["notes"]
    # Plain SQL: these checks also run inside the test's own TortoiseContext.
    left = {r["key"]: r["left_year"] for r in await fetch(
        "SELECT o.key, p.left_year FROM cooperation_partner p JOIN organization o ON o.id = p.organization_id "
        "JOIN cooperation c ON c.id = p.cooperation_id WHERE c.key = ?", ["unna-kommunen-06"])}
    assert left["selm"] == 2006 and left["werne"] is None
    keys = {r["key"]: r["ags"] for r in await fetch("SELECT key, ags FROM organization WHERE key IS NOT NULL")}
    for key, ags in AGS.items():
        assert keys[key] == ags, key


@needs_source
async def test_seed_corrections_row_by_row(database):
    await _assert_corrected()


async def _id(table: str, key: str) -> int:
    return (await fetch(f"SELECT id FROM {table} WHERE key = ?", [key]))[0]["id"]


async def test_a_former_partner_is_shown_with_its_year_but_is_not_an_active_partner(database, gql):
    music = await _id("cooperation", "unna-kommunen-06")
    selm = await _id("organization", "selm")
    result = await gql("query($id: ID!) { cooperation(id: $id) { partners { leftYear organization { name } } } }",
                       {"id": str(music)})
    assert not result.errors
    years = {p["organization"]["name"]: p["leftYear"] for p in result.data["cooperation"]["partners"]}
    assert years["Selm"] == 2006 and years["Werne"] is None
    for flt in ({"partnerIds": [str(selm)]}, {"partnerIds": [str(selm)], "statuses": ["ACTIVE"]}):
        result = await gql(
            "query($f: CooperationFilter) { cooperations(filter: $f, first: 100) { totalCount "
            "edges { node { id } } facets { partners(first: 200) { organization { id } count } } } }",
            {"f": flt},
        )
        assert not result.errors, result.errors
        ids = {e["node"]["id"] for e in result.data["cooperations"]["edges"]}
        assert str(music) not in ids
        facet = {f["organization"]["id"]: f["count"] for f in result.data["cooperations"]["facets"]["partners"]}
        assert facet[str(selm)] == result.data["cooperations"]["totalCount"]
    werne = await _id("organization", "werne")
    result = await gql("query($f: CooperationFilter) { cooperations(filter: $f, first: 100) { edges { node { id } } } }",
                       {"f": {"partnerIds": [str(werne)]}})
    assert str(music) in {e["node"]["id"] for e in result.data["cooperations"]["edges"]}


@needs_source
async def test_seeding_corrects_a_database_seeded_before_the_corrections(tmp_path):
    corrections = json.loads((DEFAULT_SEED_DIR / "corrections.json").read_text(encoding="utf-8"))
    url = await fresh_database_url(tmp_path)
    try:
        async with TortoiseContext():
            from tortoise.migrations.api.migrate import migrate

            await migrate(config=db.tortoise_config(url))
        async with TortoiseContext() as ctx:
            await ctx.init(config=db.tortoise_config(url))
            await load_seeds()
            # Back to the values seeded before the corrections.
            for item in corrections:
                coop = await Cooperation.get(key=item["key"])
                if "partner" in item:
                    org = await Organization.get(key=item["partner"])
                    await CooperationPartner.filter(cooperation_id=coop.id, organization_id=org.id).update(left_year=None)
                else:
                    column = {"performed_by_text": "performer_text", "legal_form": "legal_form_id"}.get(
                        item["field"], item["field"])
                    await Cooperation.filter(id=coop.id).update(**{column: item["from"]})
            await Organization.filter(key__in=list(AGS)).update(ags=None)
            report = await load_seeds()
            assert report.inserted == {"corrected official keys": len(AGS), "corrections": len(corrections)}
            await _assert_corrected()
            searched = await fetch("SELECT search_text FROM cooperation WHERE key = 'unna-kreis-19'")
            assert "aufgabenubernahme" in searched[0]["search_text"] or "aufgabenuebernahme" in searched[0]["search_text"]
            assert (await load_seeds()).total == 0
            # A value changed (and approved) since is not overwritten by a correction.
            await Cooperation.filter(key="unna-kommunen-16").update(end_year=2007)
            assert (await load_seeds()).total == 0
            assert (await Cooperation.get(key="unna-kommunen-16")).end_year == 2007
    finally:
        await discard_database(url)


async def test_the_profile_page_names_the_year_a_partner_left(database, client):
    page = await client.get(f"/cooperations/{await _id('cooperation', 'unna-kommunen-06')}")
    assert page.status_code == 200
    assert "(ausgeschieden 2006)" in page.text
