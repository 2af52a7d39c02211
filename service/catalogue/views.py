"""Plain read-only rows the catalogue hands to its callers.

They are built straight from SQL rows (no ORM objects) so that listing 100
cooperations with their partners costs a handful of statements and little Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from service.catalogue.models import (
    ContactState,
    CooperationStatus,
    LegalFormCategory,
    OrganizationKind,
    PartnerRole,
    PerformerKind,
)


def as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def as_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        result = value
    else:
        result = dt.datetime.fromisoformat(str(value))
    return result if result.tzinfo else result.replace(tzinfo=dt.timezone.utc)


@dataclass(slots=True)
class OrganizationView:
    id: int
    name: str
    kind: OrganizationKind
    ags: str | None
    parent_id: int | None
    latitude: float | None = None  # the administrative seat, WGS84 degrees (None: no location known)
    longitude: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any], prefix: str = "") -> OrganizationView:
        return cls(
            id=row[f"{prefix}id"],
            name=row[f"{prefix}name"],
            kind=OrganizationKind(row[f"{prefix}kind"]),
            ags=row[f"{prefix}ags"],
            parent_id=row[f"{prefix}parent_id"],
            latitude=row.get(f"{prefix}latitude"),
            longitude=row.get(f"{prefix}longitude"),
        )

    @property
    def location(self) -> tuple[float, float] | None:
        """(latitude, longitude), or None unless both are known."""
        if self.latitude is None or self.longitude is None:
            return None
        return float(self.latitude), float(self.longitude)

    @property
    def is_municipal(self) -> bool:
        return self.kind is not OrganizationKind.OTHER


@dataclass(slots=True)
class TopicFieldView:
    id: int
    key: str
    label: str
    position: int


@dataclass(slots=True)
class LegalFormView:
    code: str
    label: str
    abbreviation: str | None
    category: LegalFormCategory
    legal_basis: str | None
    position: int


@dataclass(slots=True)
class PartnerView:
    role: PartnerRole
    organization: OrganizationView
    left_year: int | None = None


@dataclass(slots=True)
class ContactView:
    """The public face of a contact person; only PUBLIC contacts ever become one."""

    id: int
    organization_id: int | None
    salutation: str | None
    title: str | None
    first_name: str | None
    last_name: str | None
    function: str | None
    email: str | None
    phone: str | None
    state: ContactState
    last_approved_change_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ContactView:
        return cls(
            id=row["id"],
            organization_id=row["organization_id"],
            salutation=row["salutation"],
            title=row["title"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            function=row["function"],
            email=row["email"],
            phone=row["phone"],
            state=ContactState(row["state"]),
            last_approved_change_at=as_datetime(row["last_approved_change_at"]),
        )


COOPERATION_COLUMNS = (
    "c.id, c.title, c.description, c.legal_form_id, c.legal_form_text, c.partners_text, c.performer_kind, "
    "c.performer_id, c.performer_text, c.since_text, c.start_year, c.end_year, c.status, c.savings_amount, "
    "c.savings_currency, c.savings_period, c.savings_text, c.funding, c.notes, c.source_document, "
    "c.source_reference, c.parent_id, c.data_as_of, c.last_approved_change_at, c.version, c.sort_title"
)


@dataclass(slots=True)
class CooperationView:
    id: int
    title: str
    description: str | None
    legal_form_code: str | None
    legal_form_text: str | None
    partners_text: str | None
    performer_kind: PerformerKind
    performer_id: int | None
    performer_text: str | None
    since_text: str | None
    start_year: int | None
    end_year: int | None
    status: CooperationStatus
    savings_amount: Decimal | None
    savings_currency: str | None
    savings_period: str | None
    savings_text: str | None
    funding: str | None
    notes: str | None
    source_document: str | None
    source_reference: str | None
    parent_id: int | None
    data_as_of: dt.date
    last_approved_change_at: dt.datetime | None
    version: int
    sort_title: str
    partners: list[PartnerView] = field(default_factory=list)
    topic_field_ids: list[int] = field(default_factory=list)
    contacts: list[ContactView] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CooperationView:
        amount = row["savings_amount"]
        return cls(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            legal_form_code=row["legal_form_id"],
            legal_form_text=row["legal_form_text"],
            partners_text=row["partners_text"],
            performer_kind=PerformerKind(row["performer_kind"]),
            performer_id=row["performer_id"],
            performer_text=row["performer_text"],
            since_text=row["since_text"],
            start_year=row["start_year"],
            end_year=row["end_year"],
            status=CooperationStatus(row["status"]),
            savings_amount=Decimal(str(amount)) if amount is not None else None,
            savings_currency=row["savings_currency"],
            savings_period=row["savings_period"],
            savings_text=row["savings_text"],
            funding=row["funding"],
            notes=row["notes"],
            source_document=row["source_document"],
            source_reference=row["source_reference"],
            parent_id=row["parent_id"],
            data_as_of=as_date(row["data_as_of"]),
            last_approved_change_at=as_datetime(row["last_approved_change_at"]),
            version=row["version"],
            sort_title=row["sort_title"],
        )
