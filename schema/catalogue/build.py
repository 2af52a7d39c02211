"""Turning catalogue rows into GraphQL objects, loading only what the query selects."""

from __future__ import annotations

import strawberry

from service.catalogue import organizations, reference
from service.catalogue.details import ALL, Details
from service.catalogue.views import CooperationView
from schema.catalogue.types import (
    Cooperation,
    Partner,
    Performer,
    Savings,
    contact_object,
    legal_form_object,
    organization_object,
    topic_field_object,
)
from schema.common import selects


def details_for(paths: set[str] | None) -> Details:
    """Which nested lists a selection needs (None = everything)."""
    if paths is None:
        return ALL
    return Details(partners=selects(paths, "partners"), topic_fields=selects(paths, "topicFields"),
                   contacts=selects(paths, "contacts"))


async def build_cooperations(views: list[CooperationView], context, paths: set[str] | None) -> list[Cooperation]:
    """GraphQL objects for `views` (fetched with `details_for(paths)`); None = everything selected."""

    def wants(name: str) -> bool:
        return paths is None or selects(paths, name)
    topics = {t.id: topic_field_object(t) for t in await reference.topic_fields()} if wants("topicFields") else {}
    forms = {}
    if wants("legalForm") and any(v.legal_form_code for v in views):
        forms = {f.code: legal_form_object(f) for f in await reference.legal_forms()}
    performers = {}
    if wants("performedBy.organization"):
        ids = sorted({v.performer_id for v in views if v.performer_id is not None})
        performers = {oid: organization_object(o) for oid, o in (await organizations.get_many(ids)).items()}
    org_objects: dict[int, object] = {}

    def org(view):
        found = org_objects.get(view.id)
        if found is None:
            found = org_objects[view.id] = organization_object(view)
        return found

    result = []
    for v in views:
        savings = None
        if v.savings_amount is not None or v.savings_text:
            savings = Savings(amount=v.savings_amount, currency=v.savings_currency, period=v.savings_period, text=v.savings_text)
        result.append(
            Cooperation(
                id=strawberry.ID(str(v.id)),
                title=v.title,
                description=v.description,
                topic_fields=[topics[t] for t in v.topic_field_ids if t in topics],
                legal_form=forms.get(v.legal_form_code) if v.legal_form_code else None,
                legal_form_text=v.legal_form_text,
                partners=[Partner(role=p.role, organization=org(p.organization), left_year=p.left_year)
                          for p in v.partners],
                partners_text=v.partners_text,
                performed_by=Performer(
                    kind=v.performer_kind,
                    organization=performers.get(v.performer_id) if v.performer_id else None,
                    text=v.performer_text,
                ),
                since_text=v.since_text,
                start_year=v.start_year,
                end_year=v.end_year,
                status=v.status,
                savings=savings,
                funding=v.funding,
                notes=v.notes,
                source_document=v.source_document,
                source_reference=v.source_reference,
                contacts=[contact_object(c) for c in v.contacts],
                data_as_of=v.data_as_of,
                last_approved_change_at=v.last_approved_change_at,
                version=v.version,
                parent_id=v.parent_id,
            )
        )
    return result
