"""The partner map on a cooperation's profile: positions for a small inline SVG, computed here.

No tiles and no script (a ministry's machine may have no internet; the CSP allows no inline
script): the partners' seats are projected equirectangularly with the longitude scaled by
cos(mean latitude), which is true to shape within a state, and fitted to their bounding box with
padding. Each located partner gets a numbered marker (the number of its line in the list beside
the map); a name label is drawn only where it overlaps no other label or marker, so the map never
turns into a heap of text, and the list says everything the map shows. Partners at one place (a
district and its seat town) are fanned out around that place so each marker stays visible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 560, 400
PAD = 36  # room for markers and labels at the edges
MIN_SPAN_KM = 12.0  # a map of one town (or of neighbours) still shows some surroundings
MARKER_R = 9
FONT = 12
CHAR_W = 6.6  # average advance of the label font at FONT px, for overlap estimates
KM_PER_DEG_LAT = 111.32
SCALES_KM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500)


@dataclass
class Marker:
    number: int
    name: str
    x: float
    y: float
    former: bool
    label: dict | None = None  # x, y, anchor of the name label, when it fits


@dataclass
class PartnerMap:
    markers: list[Marker]
    width: int
    height: int
    scale: dict  # x, y, length (px) and text of the scale bar
    description: str


def _box(x: float, y: float, width: float, anchor: str) -> tuple[float, float, float, float]:
    left = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    return left, y - FONT + 2, left + width, y + 4


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _fan_out(points: list[list[float]]) -> None:
    """Markers closer than two radii are spread on a small circle around their common centre."""
    groups: list[list[int]] = []
    for i, (x, y) in enumerate(points):
        for group in groups:
            gx, gy = points[group[0]]
            if math.hypot(x - gx, y - gy) < 2 * MARKER_R:
                group.append(i)
                break
        else:
            groups.append([i])
    for group in groups:
        if len(group) < 2:
            continue
        cx = sum(points[i][0] for i in group) / len(group)
        cy = sum(points[i][1] for i in group) / len(group)
        radius = MARKER_R * 1.2 / math.sin(math.pi / len(group))
        for k, i in enumerate(group):
            angle = -math.pi / 2 + 2 * math.pi * k / len(group)
            points[i] = [min(max(cx + radius * math.cos(angle), MARKER_R + 2), WIDTH - MARKER_R - 2),
                         min(max(cy + radius * math.sin(angle), MARKER_R + 2), HEIGHT - MARKER_R - 2)]


def _place_labels(markers: list[Marker], scale: dict) -> None:
    taken = [(m.x - MARKER_R, m.y - MARKER_R, m.x + MARKER_R, m.y + MARKER_R) for m in markers]
    taken.append((scale["x"] - 2, scale["y"] - 18, scale["x"] + max(scale["length"], 40) + 2, scale["y"] + 3))
    for m in markers:
        width = len(m.name) * CHAR_W
        gap = MARKER_R + 4
        for x, y, anchor in ((m.x + gap, m.y + 4, "start"), (m.x - gap, m.y + 4, "end"),
                             (m.x, m.y - gap - 1, "middle"), (m.x, m.y + gap + FONT, "middle")):
            box = _box(x, y, width, anchor)
            if box[0] < 2 or box[2] > WIDTH - 2 or box[1] < 2 or box[3] > HEIGHT - 2:
                continue
            if any(_overlaps(box, t) for t in taken):
                continue
            taken.append(box)
            m.label = {"x": round(x, 1), "y": round(y, 1), "anchor": anchor}
            break


def _scale_bar(km_per_px: float) -> dict:
    target = km_per_px * WIDTH / 5  # about a fifth of the width
    length_km = max([s for s in SCALES_KM if s <= target] or [SCALES_KM[0]])
    return {"x": 12, "y": HEIGHT - 12, "length": round(length_km / km_per_px, 1), "text": f"{length_km} km"}


def build(partners: list[dict]) -> PartnerMap | None:
    """The map of the located partners (operation result rows: organization.location, leftYear);
    None when no partner has a location. Numbers are positions in `partners`, from 1."""
    located = [(i + 1, p) for i, p in enumerate(partners) if (p["organization"].get("location") or None)]
    if not located:
        return None
    lats = [p["organization"]["location"]["latitude"] for _, p in located]
    lons = [p["organization"]["location"]["longitude"] for _, p in located]
    mid_lat = (min(lats) + max(lats)) / 2
    cos_lat = max(math.cos(math.radians(mid_lat)), 0.1)
    # Kilometres east and north of the box's centre: the projection, before fitting.
    mid_lon = (min(lons) + max(lons)) / 2
    xs = [(lon - mid_lon) * KM_PER_DEG_LAT * cos_lat for lon in lons]
    ys = [(lat - mid_lat) * KM_PER_DEG_LAT for lat in lats]
    span_x = max(max(xs) - min(xs), MIN_SPAN_KM)
    span_y = max(max(ys) - min(ys), MIN_SPAN_KM)
    px_per_km = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)
    points = [[WIDTH / 2 + x * px_per_km, HEIGHT / 2 - y * px_per_km] for x, y in zip(xs, ys)]
    _fan_out(points)
    markers = [Marker(number=n, name=p["organization"]["name"], x=round(pt[0], 1), y=round(pt[1], 1),
                      former=bool(p.get("leftYear")))
               for (n, p), pt in zip(located, points)]
    scale = _scale_bar(1 / px_per_km)
    _place_labels(markers, scale)
    missing = len(partners) - len(located)
    description = (f"Karte mit {len(located)} von {len(partners)} Partnern an ihrem Verwaltungssitz, "
                   f"Ausdehnung etwa {round(span_x)} × {round(span_y)} km, Norden oben. "
                   "Die Nummern entsprechen der Liste der Partner neben der Karte.")
    if missing:
        description += f" {missing} Partner ohne Ortsangabe fehlen auf der Karte."
    return PartnerMap(markers=markers, width=WIDTH, height=HEIGHT, scale=scale, description=description)


def place_text(location: dict | None) -> str:
    """'51,5380° N, 7,6897° O' (German decimal comma), or 'ohne Ortsangabe'."""
    if not location:
        return "ohne Ortsangabe"
    lat, lon = location["latitude"], location["longitude"]
    ns = "N" if lat >= 0 else "S"
    eo = "O" if lon >= 0 else "W"
    return f"{abs(lat):.4f}° {ns}, {abs(lon):.4f}° {eo}".replace(".", ",")
