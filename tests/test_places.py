"""Issue 11, part 5: places of the municipal bodies, `location` in GraphQL, the partner map on a profile."""

from __future__ import annotations

import json
import math
import re

from seeds import __file__ as seeds_init
from pathlib import Path

from service.catalogue.models import Organization
from service.catalogue.organizations import create_organization
from service.catalogue.models import OrganizationKind
from service.catalogue.seed import load_seeds
from service.sql import fetch

SEEDS = Path(seeds_init).parent
ORGS = {o["key"]: o for o in json.loads((SEEDS / "organizations.json").read_text(encoding="utf-8"))}
LOCATIONS_FILE = json.loads((SEEDS / "locations.json").read_text(encoding="utf-8"))
LOCATIONS = {item["key"]: item for item in LOCATIONS_FILE["locations"]}
MUNICIPAL = {k for k, o in ORGS.items() if o["kind"] != "OTHER"}
TOWNS = {k for k, o in ORGS.items() if o["kind"] in ("MUNICIPALITY", "INDEPENDENT_CITY")}

# Generous bounding boxes (lat min, lat max, lon min, lon max) of the states, from their extreme points.
STATE_BOXES = {
    "nordrhein-westfalen": (50.32, 52.54, 5.86, 9.47),
    "saarland": (49.11, 49.64, 6.35, 7.41),
    "rheinland-pfalz": (48.96, 50.95, 6.11, 8.51),
    "hessen": (49.39, 51.66, 7.77, 10.24),
    "bayern": (47.27, 50.57, 8.97, 13.84),
    "schleswig-holstein": (53.35, 55.06, 7.86, 11.32),
}
KREIS_UNNA_BOX = (51.40, 51.76, 7.38, 7.90)  # Schwerte's south to Selm's north, Lünen's west to Fröndenberg's east


def km(a: dict, b: dict) -> float:
    """Great-circle distance (haversine) between two seed entries."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a["latitude"], a["longitude"], b["latitude"], b["longitude"]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def state_of(key: str) -> str:
    while ORGS[key]["parent"]:
        key = ORGS[key]["parent"]
    return key


def inside(box: tuple, item: dict) -> bool:
    return box[0] <= item["latitude"] <= box[1] and box[2] <= item["longitude"] <= box[3]


def test_every_municipal_body_has_a_plausible_seat():
    assert "GeoNames" in LOCATIONS_FILE["_source"]  # the seed file says where its values come from
    assert set(LOCATIONS) == MUNICIPAL, "every municipal body, and only those, has a seat in locations.json"
    for key, item in LOCATIONS.items():
        assert item["seat"] and round(item["latitude"], 4) == item["latitude"], key
        assert inside(STATE_BOXES[state_of(key)], item), f"{key} lies outside {state_of(key)}"
        parent = ORGS[key]["parent"]
        if parent and ORGS[parent]["kind"] == "DISTRICT":
            assert km(item, LOCATIONS[parent]) < 40, f"{key} is {km(item, LOCATIONS[parent]):.0f} km from its district's seat"
        if parent == "kreis-unna":
            assert inside(KREIS_UNNA_BOX, item), key
    seen: dict[tuple, str] = {}
    for key in sorted(TOWNS):
        point = (LOCATIONS[key]["latitude"], LOCATIONS[key]["longitude"])
        assert point not in seen, f"{key} and {seen.get(point)} at identical coordinates"
        seen[point] = key
    # A district sits at its seat town: Kreis Unna at Unna; Landkreis Neunkirchen at Ottweiler, not Neunkirchen.
    assert LOCATIONS["kreis-unna"]["seat"] == "Unna" and km(LOCATIONS["kreis-unna"], LOCATIONS["unna"]) < 1
    assert LOCATIONS["landkreis-neunkirchen"]["seat"] == "Ottweiler"
    assert km(LOCATIONS["nordrhein-westfalen"], LOCATIONS["dortmund"]) > 50  # the state sits in Düsseldorf


async def test_the_seed_stores_the_seats_and_fills_an_older_database_once(database):
    rows = {r["key"]: r for r in await fetch("SELECT key, kind, latitude, longitude FROM organization "
                                             "WHERE key IS NOT NULL")}
    for key in MUNICIPAL:
        assert (rows[key]["latitude"], rows[key]["longitude"]) == (LOCATIONS[key]["latitude"],
                                                                   LOCATIONS[key]["longitude"]), key
    assert all(r["latitude"] is None for r in rows.values() if r["kind"] == "OTHER")
    # A database seeded before locations.json existed: the next `ikz seed` fills them in, once.
    await Organization.filter(key__in=["selm", "kreis-unna", "saarland"]).update(latitude=None, longitude=None)
    report = await load_seeds()
    assert report.inserted == {"locations": 3}
    assert (await Organization.get(key="selm")).latitude == LOCATIONS["selm"]["latitude"]
    assert (await load_seeds()).total == 0


LOCATION_QUERY = """query($id: ID!, $coop: ID!) {
  organization(id: $id) { name location { latitude longitude } }
  cooperation(id: $coop) { partners { organization { __typename name location { latitude longitude } } } } }"""


async def org_id(key: str) -> int:
    return (await fetch("SELECT id FROM organization WHERE key = ?", [key]))[0]["id"]


async def coop_id(key: str) -> int:
    return (await fetch("SELECT id FROM cooperation WHERE key = ?", [key]))[0]["id"]


async def test_location_in_graphql(gql):
    result = await gql(LOCATION_QUERY, {"id": str(await org_id("selm")), "coop": str(await coop_id("unna-kreis-19"))})
    assert not result.errors, result.errors
    assert result.data["organization"]["location"] == {"latitude": 51.6969, "longitude": 7.4681}
    partners = {p["organization"]["name"]: p["organization"] for p in result.data["cooperation"]["partners"]}
    assert partners["Lünen"]["location"] == {"latitude": LOCATIONS["luenen"]["latitude"],
                                             "longitude": LOCATIONS["luenen"]["longitude"]}
    street = partners["Landesbetrieb Straßenbau NRW"]
    assert street["__typename"] == "ExternalOrganization" and street["location"] is None
    listed = await gql("""{ municipalities(search: "Kreis Unna") { edges { node { name location { latitude } } } }
      cooperations(search: "Winterdienst", first: 5) { edges { node { partners { organization { location { longitude } } } } } } }""")
    assert not listed.errors, listed.errors
    assert listed.data["municipalities"]["edges"][0]["node"]["location"]["latitude"] == LOCATIONS["kreis-unna"]["latitude"]
    longitudes = [p["organization"]["location"] for e in listed.data["cooperations"]["edges"] for p in e["node"]["partners"]]
    assert {"longitude": LOCATIONS["schwerte"]["longitude"]} in longitudes and None in longitudes


def svg_of(html: str) -> str:
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match, "no inline SVG map on the page"
    return match.group(0)


async def test_the_profile_maps_each_located_partner_and_lists_every_partner(client):
    page = await client.get(f"/cooperations/{await coop_id('unna-kreis-19')}")  # Kreis, Landesbetrieb, Lünen, Schwerte
    assert page.status_code == 200
    svg = svg_of(page.text)
    assert 'role="img"' in svg and 'aria-labelledby="partner-map-title partner-map-desc"' in svg
    assert re.search(r'<title id="partner-map-title">[^<]+</title>', svg)
    assert "1 Partner ohne Ortsangabe" in svg  # said in the <desc>
    assert svg.count("<circle") == 3  # Kreis Unna, Lünen, Schwerte; the Landesbetrieb has no location
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched from elsewhere
    items = re.findall(r"<li>(.*?)</li>", page.text.split('class="partner-list"')[1].split("</ol>")[0], re.S)
    assert len(items) == 4
    street = next(i for i in items if "Landesbetrieb" in i)
    assert "ohne Ortsangabe" in street
    luenen = next(i for i in items if "Lünen" in i)
    assert "51,6163° N, 7,5287° O" in luenen
    numbers = [int(n) for n in re.findall(r'<text class="num[^"]*"[^>]*>(\d+)</text>', svg)]
    assert numbers == [n for n, i in enumerate(items, 1) if "ohne Ortsangabe" not in i]  # marker n = list line n
    assert "style=" not in svg  # the CSP allows no inline style


async def test_markers_stay_inside_the_map_and_a_district_and_its_seat_town_do_not_cover_each_other(client):
    page = await client.get(f"/cooperations/{await coop_id('unna-kreis-01')}")  # Kreis Unna, its ten towns
    svg = svg_of(page.text)
    width, height = map(float, re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    circles = [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]
    assert len(circles) == 11
    assert all(0 < x < width and 0 < y < height for x, y in circles)
    closest = min(math.dist(a, b) for i, a in enumerate(circles) for b in circles[i + 1:])
    assert closest >= 18  # Kreis Unna and Unna share a point; their markers are fanned out


async def test_names_on_the_map_are_escaped(client, gql, make_user, login):
    # A partner outside the municipal bodies (no district), so no other test's list of towns changes.
    org = await create_organization(name='Gemeinde <b>Süd</b> & "Nord"', kind=OrganizationKind.OTHER)
    await Organization.filter(id=org.id).update(latitude=51.55, longitude=7.70)
    headers = await login(*await make_user("ADMIN"))
    created = await gql("mutation($i: CooperationInput!) { createCooperation(input: $i) { id } }",
                        {"i": {"title": "Karte <script>alert(1)</script>", "partners": [
                            {"organizationId": str(org.id), "role": "LEAD"},
                            {"organizationId": str(await org_id("kamen")), "role": "PARTNER"}]}}, headers=headers)
    assert not created.errors, created.errors
    page = await client.get(f"/cooperations/{created.data['createCooperation']['id']}")
    svg = svg_of(page.text)
    assert "<b>" not in page.text and "<script>alert" not in page.text
    assert "Gemeinde &lt;b&gt;Süd&lt;/b&gt; &amp; &#34;Nord&#34;" in svg or \
        "Gemeinde &lt;b&gt;Süd&lt;/b&gt; &amp; &quot;Nord&quot;" in svg
    assert svg.count("<circle") == 2 and "Karte &lt;script&gt;" in svg


async def test_the_municipality_page_names_its_seat(client):
    page = await client.get(f"/municipalities/{await org_id('landkreis-neunkirchen')}")
    assert "Verwaltungssitz (Lage)" in page.text and "49,4013° N, 7,1642° O" in page.text


def partner(name: str, lat: float | None, lon: float | None, left: int | None = None) -> dict:
    location = {"latitude": lat, "longitude": lon} if lat is not None else None
    return {"organization": {"name": name, "location": location}, "leftYear": left}


def test_the_projection_keeps_directions_and_scales_longitude_by_the_latitude():
    from ikz.web import partner_map

    assert partner_map.build([partner("Verband", None, None)]) is None
    # One degree east at 51° N is about 0.63 of a degree north on the ground, so on the map.
    drawn = partner_map.build([partner("Süd-West", 51.0, 7.0), partner("Nord", 52.0, 7.0),
                               partner("Ost", 51.0, 8.0, left=2006), partner("Verband", None, None)])
    west, north, east = drawn.markers
    assert [m.number for m in drawn.markers] == [1, 2, 3] and east.former and not west.former
    assert north.y < west.y and east.x > west.x and abs(north.x - west.x) < 0.5 and abs(east.y - west.y) < 0.5
    assert abs((east.x - west.x) / (west.y - north.y) - math.cos(math.radians(51.5))) < 0.01
    assert "1 Partner ohne Ortsangabe" in drawn.description
    # A lone partner is drawn in the middle of a map some kilometres across, not at an infinite zoom.
    lone = partner_map.build([partner("Selm", 51.6969, 7.4681)])
    assert (lone.markers[0].x, lone.markers[0].y) == (lone.width / 2, lone.height / 2)
    assert lone.scale["text"] in ("1 km", "2 km", "5 km") and lone.markers[0].label


def test_labels_that_would_overlap_are_left_to_the_list():
    from ikz.web import partner_map

    crowd = [partner(f"Gemeinde mit sehr langem Namen {i}", 51.5 + i * 0.001, 7.5) for i in range(8)]
    drawn = partner_map.build(crowd + [partner("Fern", 51.9, 8.2)])
    labelled = [m for m in drawn.markers if m.label]
    assert 1 <= len(labelled) < len(drawn.markers)
    assert all(0 < m.x < drawn.width and 0 < m.y < drawn.height for m in drawn.markers)
    assert min(math.dist((a.x, a.y), (b.x, b.y)) for i, a in enumerate(drawn.markers)
               for b in drawn.markers[i + 1:]) >= 2 * partner_map.MARKER_R
