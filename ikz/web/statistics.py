"""/statistik: the counts of the search page's result list as bar charts (inline SVG drawn on the
server, no script) with the numbers as a table below each chart.

The query string is the search page's (q, topic, legal, status, partner, region, from, to), so a
search links to its statistics and back. One operation: ikz/operations/statistics.graphql.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from ikz.web.base import STATUS_LABELS, render, run
from ikz.web.catalogue import STATUSES, query_string, search_state, search_variables

# SVG geometry in viewBox units: a label line above each bar, the number after the bar.
WIDTH = 560
BAR_SPACE = 470  # the longest bar; the rest holds its number
ROW = 44
LABEL_CHARS = 72
NO_LEGAL_FORM = "ohne Angabe"


@dataclass
class Bar:
    label: str
    short_label: str  # cut for the drawing; the table holds the full label
    count: int
    share: str  # of all matching cooperations, German notation
    width: float
    y: int


@dataclass
class Chart:
    key: str
    title: str
    heading: str  # the table's first column
    bars: list[Bar]
    note: str = ""

    @property
    def drawn(self) -> list[Bar]:
        """The bars of the drawing: the values above 0 (the table lists every value)."""
        return [b for b in self.bars if b.count]

    @property
    def height(self) -> int:
        return max(1, len(self.drawn)) * ROW + 4

    @property
    def description(self) -> str:
        if not self.drawn:
            return "Balkendiagramm ohne Balken: keine Kooperation."
        top = max(self.drawn, key=lambda b: b.count)  # the first of the largest
        zeros = len(self.bars) - len(self.drawn)
        return (f"Balkendiagramm mit {len(self.drawn)} Balken; am häufigsten: {top.label} mit {number(top.count)}."
                + (f" {zeros} Werte ohne Kooperation sind nur in der Tabelle." if zeros else "")
                + " Alle Zahlen stehen auch in der Tabelle.")


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def percent(count: int, total: int) -> str:
    return (f"{100 * count / total:.1f}".replace(".", ",") + " %") if total else "–"


def chart(key: str, title: str, heading: str, rows: list[tuple[str, int]], total: int, note: str = "") -> Chart:
    largest = max((c for _, c in rows), default=0)
    bars = [
        Bar(label=label, short_label=label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…",
            count=count, share=percent(count, total),
            width=round(BAR_SPACE * count / largest, 1) if largest else 0, y=0)
        for label, count in rows
    ]
    for i, bar in enumerate(b for b in bars if b.count):
        bar.y = i * ROW
    return Chart(key, title, heading, bars, note)


def by_count(rows: list[tuple[str, int]], last: str | None = None) -> list[tuple[str, int]]:
    """Largest first (ties keep the API's order); the bucket `last` (e.g. 'ohne Angabe') at the end."""
    return sorted(rows, key=lambda r: (r[0] == last, -r[1]))


def charts(stats: dict) -> list[Chart]:
    total = stats["totalCount"]
    several = "Eine Kooperation kann mehreren {} angehören; die Anteile ergeben dann mehr als 100 %."
    regions = stats["regions"]
    return [
        chart("themenfeld", "Kooperationen nach Themenfeld", "Themenfeld",
              by_count([(f["topicField"]["label"], f["count"]) for f in stats["topicFields"]]), total,
              several.format("Themenfeldern")),
        chart("rechtsform", "Kooperationen nach Rechtsform", "Rechtsform",
              by_count([((f["legalForm"] or {}).get("label") or NO_LEGAL_FORM, f["count"]) for f in stats["legalForms"]],
                       NO_LEGAL_FORM), total),
        chart("status", "Kooperationen nach Status", "Status",
              [(STATUS_LABELS.get(f["status"], f["status"]), f["count"]) for f in stats["statuses"]], total),
        chart("beginn", "Kooperationen nach Jahrzehnt des Beginns", "Beginn",
              [(f["label"], f["count"]) for f in stats["startDecades"]], total),
        chart("land", "Kooperationen nach Land", "Land",
              by_count([(f["region"]["name"], f["count"]) for f in regions if f["region"]["kind"] == "STATE"]), total,
              "Gezählt wird jede Kooperation mit mindestens einem Partner im Land; eine Kooperation mit Partnern "
              "in mehreren Ländern zählt bei jedem."),
        chart("kreis", "Kooperationen nach Kreis", "Kreis oder Region",
              by_count([(f["region"]["name"], f["count"]) for f in regions if f["region"]["kind"] != "STATE"]), total,
              "Gezählt wird jede Kooperation mit mindestens einem Partner im Kreis; eine Kooperation mit Partnern "
              "in mehreren Kreisen zählt bei jedem."),
    ]


async def statistics(request: Request) -> Response:
    state = search_state(request)
    variables = search_variables({**state, "after": None})
    result = await run(request, "statistics", {"filter": variables["filter"], "search": variables["search"]})
    errors = []
    if not result.ok:
        errors = ["Die Statistik konnte so nicht berechnet werden. Bitte prüfen Sie Suchbegriff und Filter."]
    data = result.data or {}
    stats = data.get("statistics")
    facets = (data.get("cooperations") or {}).get("facets")
    list_query = query_string({**state, "sort": "title"}, after=None)
    return render(request, "statistics.html", status=400 if errors else 200, public=True, state=state,
                  stats=stats, charts=charts(stats) if stats else [], facets=facets, errors=errors,
                  statuses=STATUSES, number=number, list_query=list_query, reset_url="/statistik",
                  width=WIDTH, row_height=ROW)
