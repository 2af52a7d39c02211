"""The baseline of bench/export.py: the CSV export as it was before it went through GraphQL.

Rows read straight from the service layer (service.catalogue.cooperations.list_page in keyset
batches of BATCH), bypassing the schema; kept only so that the bench can say what the GraphQL path
(ikz/exports) costs over it. Not used by the service.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

from service.catalogue import reference
from service.catalogue.cooperations import (
    CooperationFilter,
    CooperationOrder,
    SortDirection,
    _sort_value,
    list_page,
    validate_filter,
)
from service.catalogue.details import Details
from service.catalogue.models import Organization
from service.catalogue.views import CooperationView
from service.pagination import PageRequest

BATCH = 500
STATUS_DE = {"PLANNED": "geplant", "ACTIVE": "aktiv", "ENDED": "beendet", "NOT_REALIZED": "nicht realisiert"}
ROLE_DE = {"LEAD": "federführend", "ASSOCIATED": "assoziiert"}
PERFORMER_DE = {"PARTNER": "ein Partner", "THIRD_PARTY": "Dritte", "JOINT": "Beteiligte gemeinsam",
                "UNKNOWN": "nicht bekannt"}
PERIOD_DE = {"YEAR": "pro Jahr", "MONTH": "pro Monat", "ONCE": "einmalig"}
COLUMNS = ["ID", "Aufgabenbereich", "Beschreibung", "Themenfelder", "Rechtsform", "Rechtsform (Wortlaut)",
           "Partner", "Partner (Wortlaut)", "Aufgabenerledigung durch", "seit", "Beginn (Jahr)", "Ende (Jahr)",
           "Status", "Einsparung", "Förderung", "Anmerkungen", "Stand", "Zuletzt freigegeben", "Quelle",
           "Fundstelle", "Profil"]
BOM = "\ufeff"


def _cell(value: object) -> str:
    """Text for a cell; a leading = + - @ is quoted so that a spreadsheet never runs it as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


@dataclass(slots=True)
class ExportRow:
    """One cooperation of an export: its values in COLUMNS order (raw: ints, None, text) and the
    partners that have a location, as (organisation id, name, latitude, longitude) in partner order."""

    values: list
    places: list[tuple[int, str, float, float]]


async def export_batches(flt: CooperationFilter, profile_url: str, order: CooperationOrder = CooperationOrder.TITLE,
                         direction: SortDirection = SortDirection.ASC) -> AsyncIterator[list[ExportRow]]:
    """The matching cooperations in keyset batches of BATCH rows, read one batch at a time; every
    writer (CSV, GeoJSON) consumes these batches, so all formats list the same rows in the same order."""
    topics = {t.id: t.label for t in await reference.topic_fields()}
    forms = {f.code: f.label for f in await reference.legal_forms()}
    after = None
    while True:
        page = await list_page(flt, PageRequest(first=BATCH, after=after), order, direction,
                               details=Details(True, True, False))
        performers = {v.performer_id for v in page.rows if v.performer_id}
        names = dict(await Organization.filter(id__in=performers).values_list("id", "name")) if performers else {}
        if page.rows:
            yield [ExportRow(_values(v, topics, forms, names, profile_url), _places(v)) for v in page.rows]
        if not page.has_next_page or not page.rows:
            return
        last: CooperationView = page.rows[-1]
        after = (_sort_value(last, order, direction), last.id)


def _places(v: CooperationView) -> list[tuple[int, str, float, float]]:
    return [(p.organization.id, p.organization.name, *p.organization.location)
            for p in v.partners if p.organization.location]


def _values(v: CooperationView, topics: dict, forms: dict, names: dict, profile_url: str) -> list:
    partners = []
    for p in v.partners:
        extra = [ROLE_DE[p.role.value]] if p.role.value in ROLE_DE else []
        if p.left_year:
            extra.append(f"ausgeschieden {p.left_year}")
        partners.append(p.organization.name + (f" ({', '.join(extra)})" if extra else ""))
    performer = names.get(v.performer_id) if v.performer_id else None
    savings = ""
    if v.savings_amount is not None:
        savings = f"{v.savings_amount} {v.savings_currency or 'EUR'} {PERIOD_DE.get(v.savings_period or '', '')}".strip()
    if v.savings_text:
        savings = f"{savings} {v.savings_text}".strip()
    return [
        v.id, v.title, v.description, ", ".join(topics[t] for t in v.topic_field_ids if t in topics),
        forms.get(v.legal_form_code) if v.legal_form_code else None, v.legal_form_text,
        ", ".join(partners), v.partners_text,
        performer or v.performer_text or PERFORMER_DE[v.performer_kind.value],
        v.since_text, v.start_year, v.end_year, STATUS_DE[v.status.value], savings or None, v.funding, v.notes,
        v.data_as_of.strftime("%d.%m.%Y"),
        v.last_approved_change_at.strftime("%d.%m.%Y") if v.last_approved_change_at else None,
        v.source_document, v.source_reference, f"{profile_url}{v.id}",
    ]


async def csv_chunks(flt: CooperationFilter, *, profile_url: str, order: CooperationOrder = CooperationOrder.TITLE,
                     direction: SortDirection = SortDirection.ASC) -> AsyncIterator[str]:
    """The CSV text in chunks (one per batch); raises NotFound for unknown filter ids before any output."""
    await validate_filter(flt)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(COLUMNS)
    async for batch in export_batches(flt, profile_url, order, direction):
        writer.writerows([_cell(x) for x in row.values] for row in batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
