"""Field-by-field differences between the published state and a proposal, in readable form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from service.accounts.contact_data import FIELD_LABELS as CONTACT_LABELS
from service.catalogue.editing import CooperationData
from service.catalogue.models import Cooperation, LegalForm, Organization, TopicField

COOPERATION_FIELDS: list[tuple[str, str, str]] = [
    # (attribute of CooperationData, API field name, German label)
    ("title", "title", "Aufgabenbereich"),
    ("description", "description", "Beschreibung"),
    ("partners", "partners", "Partner"),
    ("partners_text", "partnersText", "Partner (Wortlaut)"),
    ("performer_kind", "performedBy", "Aufgabenerledigung durch"),
    ("performer_text", "performedByText", "Aufgabenerledigung (Wortlaut)"),
    ("legal_form", "legalForm", "Rechtsform"),
    ("legal_form_text", "legalFormText", "Rechtsform (Wortlaut)"),
    ("topic_field_ids", "topicFields", "Themenfelder"),
    ("since_text", "sinceText", "seit"),
    ("start_year", "startYear", "Beginn (Jahr)"),
    ("end_year", "endYear", "Ende (Jahr)"),
    ("status", "status", "Status"),
    ("savings_amount", "savingsAmount", "Einsparung (Betrag)"),
    ("savings_currency", "savingsCurrency", "Einsparung (Währung)"),
    ("savings_period", "savingsPeriod", "Einsparung (Zeitraum)"),
    ("savings_text", "savingsText", "Einsparung (Wortlaut)"),
    ("funding", "funding", "Förderung"),
    ("notes", "notes", "Anmerkungen"),
    ("source_document", "sourceDocument", "Quelle"),
    ("source_reference", "sourceReference", "Fundstelle"),
    ("parent_id", "partOf", "Teil von"),
    ("data_as_of", "dataAsOf", "Stand"),
]
STATUS_LABELS = {"PLANNED": "geplant", "ACTIVE": "aktiv", "ENDED": "beendet", "NOT_REALIZED": "nicht realisiert"}
ROLE_LABELS = {"LEAD": "federführend", "PARTNER": None, "ASSOCIATED": "assoziiert"}
PERFORMER_LABELS = {"PARTNER": "ein Partner", "THIRD_PARTY": "Dritte", "JOINT": "Beteiligte gemeinsam",
                    "UNKNOWN": "nicht bekannt"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str | None
    new: str | None


class _Names:
    """Looks up everything two states refer to, in a few statements."""

    async def load(self, states: list[dict[str, Any]]) -> _Names:
        org_ids, topic_ids, forms, parents = set(), set(), set(), set()
        for s in states:
            org_ids.update(p["organization_id"] for p in s.get("partners", []))
            if s.get("performer_id"):
                org_ids.add(s["performer_id"])
            topic_ids.update(s.get("topic_field_ids", []))
            if s.get("legal_form"):
                forms.add(s["legal_form"])
            if s.get("parent_id"):
                parents.add(s["parent_id"])
        self.orgs = dict(await Organization.filter(id__in=org_ids).values_list("id", "name")) if org_ids else {}
        self.topics = dict(await TopicField.filter(id__in=topic_ids).values_list("id", "label")) if topic_ids else {}
        self.forms = dict(await LegalForm.filter(code__in=forms).values_list("code", "label")) if forms else {}
        self.parents = dict(await Cooperation.filter(id__in=parents).values_list("id", "title")) if parents else {}
        return self


def _show(attr: str, state: dict[str, Any], names: _Names) -> str | None:
    value = state.get(attr)
    if attr == "partners":
        parts = []
        for p in value or []:
            name = names.orgs.get(p["organization_id"], f"#{p['organization_id']}")
            role = ROLE_LABELS.get(p["role"])
            parts.append(f"{name} ({role})" if role else name)
        return ", ".join(parts) or None
    if attr == "performer_kind":
        label = PERFORMER_LABELS.get(value, value)
        org = state.get("performer_id")
        return f"{label}: {names.orgs.get(org, f'#{org}')}" if org else label
    if attr == "topic_field_ids":
        return "; ".join(names.topics.get(t, f"#{t}") for t in value or []) or None
    if attr == "legal_form":
        return names.forms.get(value, value) if value else None
    if attr == "status":
        return STATUS_LABELS.get(value, value)
    if attr == "parent_id":
        return names.parents.get(value, f"#{value}") if value else None
    if attr == "data_as_of" and value:
        return dt.date.fromisoformat(value).strftime("%d.%m.%Y")
    return None if value is None else str(value)


async def cooperation_diff(old: CooperationData | None, new: CooperationData) -> list[FieldChange]:
    return (await cooperation_diffs([(old, new)]))[0]


async def cooperation_diffs(pairs: list[tuple[CooperationData | None, CooperationData]]) -> list[list[FieldChange]]:
    """`cooperation_diff` for many (old, new) pairs; the names they refer to in one look-up."""
    states = [(old.to_json() if old else None, new.to_json()) for old, new in pairs]
    names = await _Names().load([s for old_state, new_state in states for s in (old_state or {}, new_state)])
    return [_diff(old_state, new_state, names) for old_state, new_state in states]


def _diff(old_state: dict[str, Any] | None, new_state: dict[str, Any], names: _Names) -> list[FieldChange]:
    old = old_state is not None
    old_state = old_state or {}
    changes = []
    for attr, api_name, label in COOPERATION_FIELDS:
        before, after = _show(attr, old_state, names) if old else None, _show(attr, new_state, names)
        if attr == "performer_kind":
            changed = (old_state.get("performer_kind"), old_state.get("performer_id")) != (
                new_state["performer_kind"], new_state["performer_id"])
        else:
            changed = old_state.get(attr) != new_state.get(attr)
        if changed or (not old and after is not None):
            changes.append(FieldChange(api_name, label, before, after))
    return changes


def contact_diff(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    changes = []
    for attr, label in CONTACT_LABELS.items():
        if old.get(attr) != new.get(attr):
            api_name = "".join(w.capitalize() if i else w for i, w in enumerate(attr.split("_")))
            changes.append(FieldChange(api_name, label, old.get(attr), new.get(attr)))
    return changes
