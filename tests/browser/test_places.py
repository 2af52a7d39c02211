"""The partner map on a profile in Chromium: drawn, described, and passing axe-core."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

IDS = """{ cooperations(search: "Wirtschaftsförderung gesamte Kreisgebiet", first: 1) {
  edges { node { id partners { organization { name location { latitude } } } } } } }"""


def test_profile_with_partner_map_passes_axe(page, live_server, check_a11y):
    node = live_server.graphql(IDS)["cooperations"]["edges"][0]["node"]
    page.goto(f"/cooperations/{node['id']}")
    check_a11y(page)
    figure = page.get_by_role("img", name="Karte der Partner", exact=False)
    assert figure.is_visible()
    box = figure.bounding_box()
    assert box["width"] > 250 and box["height"] > 150  # drawn, not collapsed by the stylesheet
    located = [p for p in node["partners"] if p["organization"]["location"]]
    assert page.locator("svg .marker circle").count() == len(located) > 1
    items = page.locator("ol.partner-list > li")
    assert items.count() == len(node["partners"])
    assert page.locator("svg .marker .label").count() >= 1
    # Labels drawn do not overlap one another.
    boxes = [page.locator("svg .marker .label").nth(i).bounding_box()
             for i in range(page.locator("svg .marker .label").count())]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
                        and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]), (a, b)
