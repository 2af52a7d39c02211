"""The export's columns: German names, and an API node as a row of typed values.

Values stay typed (int for ids and years, datetime.date for dates, str, None) so that each format
writes them its own way: CSV as German text, XLSX as numbers and dates.
"""

from __future__ import annotations

import datetime as dt

STATUS_DE = {"PLANNED": "geplant", "ACTIVE": "aktiv", "ENDED": "beendet", "NOT_REALIZED": "nicht realisiert"}
ROLE_DE = {"LEAD": "federführend", "ASSOCIATED": "assoziiert"}
PERFORMER_DE = {"PARTNER": "ein Partner", "THIRD_PARTY": "Dritte", "JOINT": "Beteiligte gemeinsam",
                "UNKNOWN": "nicht bekannt"}
PERIOD_DE = {"YEAR": "pro Jahr", "MONTH": "pro Monat", "ONCE": "einmalig"}
# (name, width in characters for XLSX)
COLUMN_WIDTHS = [
    ("ID", 8), ("Aufgabenbereich", 40), ("Beschreibung", 60), ("Themenfelder", 30), ("Rechtsform", 30),
    ("Rechtsform (Wortlaut)", 30), ("Partner", 50), ("Partner (Wortlaut)", 40), ("Aufgabenerledigung durch", 25),
    ("seit", 15), ("Beginn (Jahr)", 13), ("Ende (Jahr)", 12), ("Status", 16), ("Einsparung", 30),
    ("Förderung", 30), ("Anmerkungen", 50), ("Stand", 12), ("Zuletzt freigegeben", 19), ("Quelle", 40),
    ("Fundstelle", 25), ("Profil", 45),
]
COLUMNS = [name for name, _ in COLUMN_WIDTHS]


def _partners(node: dict) -> str:
    names = []
    for p in node["partners"]:
        extra = [ROLE_DE[p["role"]]] if p["role"] in ROLE_DE else []
        if p.get("leftYear"):
            extra.append(f"ausgeschieden {p['leftYear']}")
        names.append(p["organization"]["name"] + (f" ({', '.join(extra)})" if extra else ""))
    return ", ".join(names)


def _savings(node: dict) -> str | None:
    savings = node.get("savings")
    if not savings:
        return None
    text = ""
    if savings["amount"] is not None:
        text = f"{savings['amount']} {savings['currency'] or 'EUR'} {PERIOD_DE.get(savings['period'] or '', '')}".strip()
    if savings["text"]:
        text = f"{text} {savings['text']}".strip()
    return text or None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def row(node: dict, profile_url: str) -> list[object]:
    """One cooperation as the API gave it (ikz/operations/export.graphql), in the order of COLUMNS."""
    performer = node["performedBy"]
    return [
        int(node["id"]), node["title"], node["description"], ", ".join(t["label"] for t in node["topicFields"]),
        node["legalForm"]["label"] if node["legalForm"] else None, node["legalFormText"],
        _partners(node), node["partnersText"],
        (performer["organization"] or {}).get("name") or performer["text"] or PERFORMER_DE[performer["kind"]],
        node["sinceText"], node["startYear"], node["endYear"], STATUS_DE[node["status"]], _savings(node),
        node["funding"], node["notes"], _date(node["dataAsOf"]), _date(node["lastApprovedChangeAt"]),
        node["sourceDocument"], node["sourceReference"], f"{profile_url}{node['id']}",
    ]
