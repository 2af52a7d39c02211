"""Types of the approval workflow: changes with their diff, and the cooperation input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from service.accounts.models import Account
from service.approvals.batch import Batch, Person
from service.approvals.changes import DELETED_PERSON, is_deleted, record_title
from service.approvals.models import ChangeKind, ChangeRequest, ChangeStatus
from service.catalogue.editing import CooperationData, PartnerEntry
from service.catalogue.models import Contact, CooperationStatus, PartnerRole, PerformerKind
from service.errors import InvalidInput
from schema.catalogue.types import (
    Cooperation,
    CooperationStatusEnum,
    PartnerRoleEnum,
    PerformerKindEnum,
)
from schema.common import parse_id, parse_ids

if TYPE_CHECKING:
    from schema.accounts.types import ContactRecord

ChangeKindEnum = strawberry.enum(ChangeKind, name="ChangeKind")
ChangeStatusEnum = strawberry.enum(ChangeStatus, name="ChangeStatus")


@strawberry.type(description="One changed field: old and new value as the reviewer reads them.")
class FieldChange:
    field: str
    label: str = strawberry.field(description="German label of the field.")
    old: str | None
    new: str | None


@strawberry.type
class Submitter:
    id: strawberry.ID
    username: str
    name: str | None
    municipality: str | None = strawberry.field(default=None, description="The contact person's municipal body, if any.")


async def person_object(account_id: int | None) -> Submitter | None:
    """An account as the reviewer reads it: name and, for contact persons, the municipality."""
    from service.catalogue.models import Organization

    account = await Account.get_or_none(id=account_id) if account_id else None
    if account is None:
        return None
    if is_deleted(account):
        return Submitter(id=strawberry.ID(str(account.id)), username=DELETED_PERSON, name=None)
    contact = await Contact.get_or_none(id=account.contact_id) if account.contact_id else None
    parts = (contact.first_name, contact.last_name) if contact else (account.first_name, account.last_name)
    name = " ".join(p for p in parts if p) or None
    org = (await Organization.get_or_none(id=contact.organization_id)
           if contact and contact.organization_id else None)
    return Submitter(id=strawberry.ID(str(account.id)), username=account.username, name=name,
                     municipality=org.name if org else None)


@strawberry.type(description="A change waiting for (or past) the ministry's approval.")
class Change:
    id: strawberry.ID
    kind: ChangeKindEnum
    status: ChangeStatusEnum
    submitted_at: dt.datetime
    base_version: int | None
    reviewed_at: dt.datetime | None
    review_note: str | None = strawberry.field(description="The approval comment or the rejection reason.")
    conflict_reason: str | None = strawberry.field(description="Why a change can no longer be approved as it is.")
    proposal: JSON = strawberry.field(description="The complete proposed state.")
    model: strawberry.Private[ChangeRequest]
    batch: strawberry.Private[Batch | None] = None

    @strawberry.field(description="Title of the cooperation, or 'Kontaktperson: …'.")
    async def record_title(self) -> str:
        if self.batch is not None:
            return self.batch.record_title(self.model)
        return await record_title(self.model)

    @strawberry.field(description="Field-by-field difference to the published state.")
    async def diff(self, info: Info) -> list[FieldChange]:
        changes = await info.context.approval_loaders.diff.load(self.model)
        return [FieldChange(field=c.field, label=c.label, old=c.old, new=c.new) for c in changes]

    @strawberry.field(description="Who submitted the change; a deleted person shows as 'gelöschte Person' without name.")
    async def submitter(self) -> Submitter | None:
        if self.batch is not None:
            return _person(self.batch.person(self.model.submitted_by_id))
        return await person_object(self.model.submitted_by_id)

    @strawberry.field(description="Who approved or rejected the change (with reviewedAt and reviewNote).")
    async def reviewed_by(self) -> Submitter | None:
        if self.batch is not None:
            return _person(self.batch.person(self.model.reviewed_by_id))
        return await person_object(self.model.reviewed_by_id)

    @strawberry.field(description="The cooperation as published now (null for a proposed new one).")
    async def cooperation(self, info: Info) -> Cooperation | None:
        if self.model.cooperation_id is None:
            return None
        return await info.context.loaders.cooperation.load(self.model.cooperation_id)

    @strawberry.field(description="For changes of contact data: the contact person's record as approved now.")
    async def contact(self, info: Info) -> Annotated["ContactRecord", strawberry.lazy("schema.accounts.types")] | None:
        from schema.accounts.types import load_contact_record

        return await load_contact_record(info, self.model.contact_id)

    @strawberry.field(description="For DOCUMENT_ADD: the proposed document (its url downloads it for reviewers).")
    async def document(self) -> Annotated["Document", strawberry.lazy("schema.documents.types")] | None:
        from service.documents.models import Document as DocumentModel
        from service.documents.reading import LISTED
        from schema.documents.types import document_object

        if self.model.kind is not ChangeKind.DOCUMENT_ADD:
            return None
        found = await DocumentModel.filter(change_id=self.model.id).only(*LISTED).first()
        return document_object(found) if found else None

    @strawberry.field(description="The current version of the record the change is about.")
    async def current_version(self, info: Info) -> int | None:
        return await info.context.approval_loaders.current_version.load(self.model)


def _person(person: Person | None) -> Submitter | None:
    if person is None:
        return None
    return Submitter(id=strawberry.ID(str(person.account_id)), username=person.username, name=person.name,
                     municipality=person.municipality)


async def change_object(change: ChangeRequest, batch: Batch | None = None) -> Change:
    payload = {k: v for k, v in (change.payload or {}).items() if k != "before"}
    if "after" in payload:
        payload = payload["after"]
    return Change(
        id=strawberry.ID(str(change.id)),
        kind=change.kind,
        status=change.status,
        submitted_at=change.submitted_at,
        base_version=change.base_version,
        reviewed_at=change.reviewed_at,
        review_note=change.review_note,
        conflict_reason=change.conflict_reason,
        proposal=payload,
        model=change,
        batch=batch,
    )


@strawberry.input
class PartnerInput:
    organization_id: strawberry.ID
    role: PartnerRoleEnum = PartnerRole.PARTNER
    left_year: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="The year this partner left a cooperation that goes on without it. Omitted: a partner that "
        "stays keeps its published value; null: it takes part again.",
    )


@strawberry.input
class PerformerInput:
    kind: PerformerKindEnum
    organization_id: strawberry.ID | None = None
    text: str | None = None


@strawberry.input
class SavingsInput:
    amount: Decimal | None = None
    currency: str | None = None
    period: str | None = strawberry.field(default=None, description="YEAR, MONTH or ONCE.")
    text: str | None = None


UNSET = strawberry.UNSET


@strawberry.input(description=(
    "A cooperation's fields. For a change, leave out what stays as published (an explicit null clears a field); "
    "a new cooperation needs at least a title and partners."
))
class CooperationInput:
    title: str | None = UNSET
    partners: list[PartnerInput] | None = UNSET
    description: str | None = UNSET
    topic_field_ids: list[strawberry.ID] | None = UNSET
    legal_form: strawberry.ID | None = strawberry.field(default=UNSET, description="A legal form code, e.g. OERV.")
    legal_form_text: str | None = UNSET
    partners_text: str | None = UNSET
    performed_by: PerformerInput | None = UNSET
    since_text: str | None = UNSET
    start_year: int | None = UNSET
    end_year: int | None = UNSET
    status: CooperationStatusEnum | None = UNSET
    savings: SavingsInput | None = UNSET
    funding: str | None = UNSET
    notes: str | None = UNSET
    source_document: str | None = UNSET
    source_reference: str | None = UNSET
    part_of_id: strawberry.ID | None = UNSET
    data_as_of: dt.date | None = strawberry.field(
        default=UNSET, description="Stand; defaults to the published one (or today for a new cooperation)."
    )

    def to_data(self, base: CooperationData | None, today: dt.date) -> CooperationData:
        """Merge onto the published state (or empty defaults for a new cooperation)."""
        data = base or CooperationData(title="", partners=[], data_as_of=today)

        def given(value) -> bool:
            return value is not UNSET

        if given(self.title):
            data.title = self.title or ""
        if given(self.partners):
            partners = self.partners or []
            if len(partners) > 500:
                raise InvalidInput("A cooperation has at most 500 partners.", field="partners")
            published = {p.organization_id: p.left_year for p in data.partners}
            data.partners = []
            for p in partners:
                oid = parse_id(p.organization_id, "organisation", field="partners")
                left = published.get(oid) if p.left_year is UNSET else p.left_year
                data.partners.append(PartnerEntry(oid, p.role, left))
        for attr in ("description", "legal_form_text", "partners_text", "since_text", "start_year", "end_year",
                     "funding", "notes", "source_document", "source_reference"):
            value = getattr(self, attr)
            if given(value):
                setattr(data, attr, value)
        if given(self.topic_field_ids):
            data.topic_field_ids = list(parse_ids(self.topic_field_ids, "topic field", "topicFieldIds"))
        if given(self.legal_form):
            data.legal_form = str(self.legal_form) if self.legal_form else None
        if given(self.performed_by):
            performer = self.performed_by or PerformerInput(kind=PerformerKind.UNKNOWN)
            data.performer_kind = performer.kind
            data.performer_id = (parse_id(performer.organization_id, "organisation", field="performedBy")
                                 if performer.organization_id else None)
            data.performer_text = performer.text
        if given(self.status):
            data.status = self.status or CooperationStatus.ACTIVE
        if given(self.savings):
            savings = self.savings or SavingsInput()
            data.savings_amount, data.savings_currency = savings.amount, savings.currency
            data.savings_period, data.savings_text = savings.period, savings.text
        if given(self.part_of_id):
            data.parent_id = parse_id(self.part_of_id, "cooperation", field="partOfId") if self.part_of_id else None
        if given(self.data_as_of) and self.data_as_of is not None:
            data.data_as_of = self.data_as_of
        return data
