"""Issue 11, part 4: the public /statistik page (charts as inline SVG, numbers as tables)."""

from __future__ import annotations

from service import publication

import html
import re

from service.catalogue import reference
from service.catalogue.models import TopicField
from service.sql import fetch

STATS = """query($f: CooperationFilter, $s: String) { statistics(filter: $f, search: $s) { totalCount
  topicFields { topicField { label } count } legalForms { legalForm { label } count } statuses { status count }
  startDecades { label count } regions { region { name kind } count } } }"""
STATUS_DE = {"PLANNED": "geplant", "ACTIVE": "aktiv", "ENDED": "beendet", "NOT_REALIZED": "nicht umgesetzt"}


def tables(page: str) -> dict[str, dict[str, int]]:
    """{section id: {row label: count}} from the page's tables."""
    found = {}
    for key, body in re.findall(r'<section class="statistic" aria-labelledby="h-([a-z]+)">(.*?)</section>', page, re.S):
        rows = re.findall(r'<tr><th scope="row">(.*?)</th><td class="num">([\d.]+)</td>', body)
        if rows:  # a dimension without hits has a sentence, no table
            found[key] = {html.unescape(label): int(count.replace(".", "")) for label, count in rows}
    return found


def expected(stats: dict) -> dict[str, dict[str, int]]:
    regions = stats["regions"]
    return {
        "themenfeld": {f["topicField"]["label"]: f["count"] for f in stats["topicFields"]},
        "rechtsform": {(f["legalForm"] or {}).get("label") or "ohne Angabe": f["count"] for f in stats["legalForms"]},
        "status": {STATUS_DE[f["status"]]: f["count"] for f in stats["statuses"]},
        "beginn": {f["label"]: f["count"] for f in stats["startDecades"]},
        "land": {f["region"]["name"]: f["count"] for f in regions if f["region"]["kind"] == "STATE"},
        "kreis": {f["region"]["name"]: f["count"] for f in regions if f["region"]["kind"] != "STATE"},
    }


async def test_the_tables_hold_the_numbers_of_the_query_and_the_charts_draw_them(client, gql):
    unna = (await fetch("SELECT id FROM organization WHERE key = 'kreis-unna'"))[0]["id"]
    for query, flt, search in (("", None, None), (f"region={unna}&status=ACTIVE&from=1970", {
            "regionIds": [str(unna)], "statuses": ["ACTIVE"], "startYearFrom": 1970}, None),
            ("q=Schule", None, "Schule"), ("q=Musikschule&from=2100", {"startYearFrom": 2100}, "Musikschule")):
        page = await client.get(f"/statistik?{query}")
        assert page.status_code == 200, query
        stats = (await gql(STATS, {"f": flt, "s": search})).data["statistics"]
        numbers = tables(page.text)
        assert numbers == {k: v for k, v in expected(stats).items() if v}, query
        total = stats["totalCount"]
        assert f"{total:,}".replace(",", ".") + " Kooperation" in page.text
        # one chart per table, an image with a title and a description, one bar and one number per row
        charts = re.findall(r'<svg class="chart" role="img" aria-labelledby="svg-([a-z]+)-title" '
                            r'aria-describedby="svg-\1-desc".*?</svg>', page.text, re.S)
        assert sorted(charts) == sorted(numbers), query
        topic_svg = re.search(r'<svg class="chart"[^>]*svg-themenfeld.*?</svg>', page.text, re.S).group(0)
        assert topic_svg.count("<rect") == len([n for n in numbers["themenfeld"].values() if n])  # bars for values > 0
        assert "<title id=\"svg-themenfeld-title\">" in topic_svg and "<desc" in topic_svg
        assert "<caption>" in page.text and 'scope="col"' in page.text


async def test_the_filter_form_uses_the_query_string_of_the_search_page(client):
    page = await client.get("/statistik?q=Rettungsdienst&status=ACTIVE")
    assert 'action="/statistik"' in page.text and 'name="q" value="Rettungsdienst"' in page.text
    assert 'id="status-ACTIVE" name="status" value="ACTIVE" checked' in page.text
    assert 'href="/?q=Rettungsdienst&amp;status=ACTIVE"' in page.text  # back to the list
    assert 'href="/export/cooperations.xlsx?q=Rettungsdienst&amp;status=ACTIVE"' in page.text
    assert "<script" not in page.text and " style=" not in page.text  # the CSP allows neither inline


async def test_markup_in_labels_and_search_is_escaped(client):
    topic = await TopicField.create(key="probe-markup", label="<script>alert(1)</script> Themen & Co", position=999)
    reference.forget()
    await publication.bump()  # written past the service: tell the response cache
    try:
        page = await client.get("/statistik", params={"q": "<img src=x onerror=alert(2)>"})
        assert page.status_code == 200
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
        page = await client.get("/statistik")
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Themen &amp; Co" in page.text
        assert "<script>" not in page.text
    finally:
        await topic.delete()
        reference.forget()


async def test_unknown_ids_answer_an_error_summary(client):
    page = await client.get("/statistik?partner=999999999")
    assert page.status_code == 400 and 'role="alert"' in page.text


async def test_header_footer_and_search_page_link_the_statistics(client):
    page = await client.get("/")
    assert page.text.count('href="/statistik"') >= 2
    assert 'href="/statistik?q=Unna"' in (await client.get("/?q=Unna")).text
