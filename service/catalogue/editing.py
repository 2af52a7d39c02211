"""Writing cooperations: one validated shape (`CooperationData`) for seeds, proposals and edits.

Whoever writes a cooperation goes through `create_cooperation` / `replace_cooperation`,
which keep the search document, the sort key and the version in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.expressions import F

from service.catalogue.models import (
    Cooperation,
    CooperationPartner,
    CooperationStatus,
    CooperationTopicField,
    LegalForm,
    Organization,
    PartnerRole,
    PerformerKind,
    TopicField,
)
from service.catalogue.text import search_document, sort_key
from service.errors import Conflict, InvalidInput, NotFound

MAX_TITLE = 500
MAX_TEXT = 10_000
MAX_PARTNERS = 500
SAVINGS_PERIODS = ("YEAR", "MONTH", "ONCE")


@dataclass
class PartnerEntry:
    organization_id: int
    role: PartnerRole = PartnerRole.PARTNER
    left_year: int | None = None  # the partner left the cooperation in this year


@dataclass
class CooperationData:
    """Everything about a cooperation that a proposal may change."""

    title: str
    partners: list[PartnerEntry]
    data_as_of: dt.date
    description: str | None = None
    topic_field_ids: list[int] = field(default_factory=list)
    legal_form: str | None = None
    legal_form_text: str | None = None
    partners_text: str | None = None
    performer_kind: PerformerKind = PerformerKind.UNKNOWN
    performer_id: int | None = None
    performer_text: str | None = None
    since_text: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    status: CooperationStatus = CooperationStatus.ACTIVE
    savings_amount: Decimal | None = None
    savings_currency: str | None = None
    savings_period: str | None = None
    savings_text: str | None = None
    funding: str | None = None
    notes: str | None = None
    source_document: str | None = None
    source_reference: str | None = None
    parent_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (for storing proposals and for field-by-field diffs)."""
        data = asdict(self)
        data["partners"] = [
            {"organization_id": p.organization_id, "role": p.role.value, **({"left_year": p.left_year} if p.left_year else {})}
            for p in self.partners
        ]
        data["topic_field_ids"] = sorted(self.topic_field_ids)
        data["data_as_of"] = self.data_as_of.isoformat()
        data["performer_kind"] = self.performer_kind.value
        data["status"] = self.status.value
        data["savings_amount"] = decimal_text(self.savings_amount)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CooperationData:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["partners"] = [PartnerEntry(p["organization_id"], PartnerRole(p["role"]), p.get("left_year"))
                              for p in data["partners"]]
        values["data_as_of"] = dt.date.fromisoformat(data["data_as_of"])
        values["performer_kind"] = PerformerKind(data["performer_kind"])
        values["status"] = CooperationStatus(data["status"])
        amount = data.get("savings_amount")
        values["savings_amount"] = Decimal(amount) if amount is not None else None
        return cls(**values)


def decimal_text(amount: Decimal | None) -> str | None:
    """A canonical text for an amount, so 15000 and 15000.00 compare equal in diffs."""
    if amount is None:
        return None
    return format(Decimal(amount).normalize(), "f")


def _clean(text: str | None, name: str, limit: int = MAX_TEXT) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if len(text) > limit:
        raise InvalidInput(f"'{name}' is longer than {limit} characters.", field=name)
    return text or None


def normalise(data: CooperationData) -> CooperationData:
    """Trim texts and check everything that needs no database."""
    title = _clean(data.title, "title", MAX_TITLE)
    if not title:
        raise InvalidInput("A cooperation needs a title (Aufgabenbereich).", field="title")
    data.title = title
    for name in ("description", "legal_form_text", "partners_text", "performer_text", "since_text", "savings_text",
                 "funding", "notes", "source_document", "source_reference"):
        setattr(data, name, _clean(getattr(data, name), name))
    if not data.partners:
        raise InvalidInput("A cooperation needs at least one partner.", field="partners")
    if len(data.partners) > MAX_PARTNERS:
        raise InvalidInput(f"A cooperation has at most {MAX_PARTNERS} partners.", field="partners")
    ids = [p.organization_id for p in data.partners]
    if len(set(ids)) != len(ids):
        raise InvalidInput("Each partner may appear only once.", field="partners")
    for year_field in ("start_year", "end_year"):
        year = getattr(data, year_field)
        if year is not None and not 1800 <= year <= 2200:
            raise InvalidInput(f"'{year_field}' must be a year between 1800 and 2200.", field=year_field)
    if data.start_year and data.end_year and data.end_year < data.start_year:
        raise InvalidInput("'end_year' must not be before 'start_year'.", field="end_year")
    for p in data.partners:
        if p.left_year is not None and not 1800 <= p.left_year <= 2200:
            raise InvalidInput("'left_year' must be a year between 1800 and 2200.", field="partners")
        if p.left_year is not None and data.start_year and p.left_year < data.start_year:
            raise InvalidInput("A partner cannot leave before the cooperation began.", field="partners")
    if data.partners and all(p.left_year is not None for p in data.partners):
        raise InvalidInput("A cooperation needs at least one partner that has not left.", field="partners")
    if data.performer_kind is PerformerKind.PARTNER:
        if data.performer_id not in ids:
            raise InvalidInput("When a partner performs the task, name one of the partners.", field="performer_id")
    elif data.performer_kind in (PerformerKind.JOINT, PerformerKind.UNKNOWN) and data.performer_id is not None:
        raise InvalidInput("Only a partner or a third party can be named as performer.", field="performer_id")
    elif data.performer_kind is PerformerKind.THIRD_PARTY and data.performer_id in ids:
        raise InvalidInput("A third party is someone outside the partners.", field="performer_id")
    if data.savings_amount is not None:
        try:
            if data.savings_amount < 0 or data.savings_amount >= Decimal("1e12"):
                raise InvalidInput("'savings_amount' must be between 0 and 10^12.", field="savings_amount")
        except InvalidOperation:
            raise InvalidInput("'savings_amount' must be a number.", field="savings_amount") from None
    if data.savings_currency is not None and (len(data.savings_currency) != 3 or not data.savings_currency.isalpha()):
        raise InvalidInput("'savings_currency' is a three-letter code such as EUR.", field="savings_currency")
    if data.savings_period is not None and data.savings_period not in SAVINGS_PERIODS:
        raise InvalidInput(f"'savings_period' is one of {', '.join(SAVINGS_PERIODS)}.", field="savings_period")
    data.topic_field_ids = sorted(set(data.topic_field_ids))
    return data


async def validate(data: CooperationData, *, cooperation_id: int | None = None) -> CooperationData:
    """Normalise and check every reference; raises InvalidInput / NotFound and writes nothing."""
    normalise(data)
    org_ids = {p.organization_id for p in data.partners}
    if data.performer_id is not None:
        org_ids.add(data.performer_id)
    found = set(await Organization.filter(id__in=org_ids).values_list("id", flat=True))
    missing = sorted(org_ids - found)
    if missing:
        raise NotFound(f"No organisation with id {missing[0]}.", field="partners")
    if data.topic_field_ids:
        known = set(await TopicField.filter(id__in=data.topic_field_ids).values_list("id", flat=True))
        unknown = sorted(set(data.topic_field_ids) - known)
        if unknown:
            raise NotFound(f"No topic field with id {unknown[0]}.", field="topic_field_ids")
    if data.legal_form is not None and not await LegalForm.exists(code=data.legal_form):
        raise NotFound(f"No legal form with code {data.legal_form!r}.", field="legal_form")
    if data.parent_id is not None:
        if data.parent_id == cooperation_id:
            raise InvalidInput("A cooperation cannot be part of itself.", field="parent_id")
        if not await Cooperation.exists(id=data.parent_id):
            raise NotFound(f"No cooperation with id {data.parent_id}.", field="parent_id")
    return data


MAX_SEARCH_TEXT = 400_000  # PostgreSQL: a tsvector holds at most 1 MB (about 16 bytes a distinct word)


async def _search_text(data: CooperationData, cooperation_id: int | None = None) -> str:
    """The cooperation's search document: its fields, its partners' names and the words of its
    published documents (service/documents), the fields first so that a cap never drops them."""
    from service.documents.indexing import published_words

    org_ids = [p.organization_id for p in data.partners]
    if data.performer_id is not None:
        org_ids.append(data.performer_id)
    names = await Organization.filter(id__in=org_ids).values_list("name", flat=True)
    documents = await published_words(cooperation_id) if cooperation_id is not None else []
    text = search_document(data.title, data.description, data.partners_text, data.performer_text, *names, *documents)
    if len(text) > MAX_SEARCH_TEXT:
        text = text[:MAX_SEARCH_TEXT].rsplit(" ", 1)[0]
    return text


async def reindex(cooperation_id: int) -> None:
    """Recompute the stored search document (after a document was published or withdrawn).

    Not a new version of the cooperation: its fields are unchanged, so pending proposals stay valid.
    """
    data = await snapshot(cooperation_id)
    await Cooperation.filter(id=cooperation_id).update(search_text=await _search_text(data, cooperation_id))


def _columns(data: CooperationData) -> dict[str, Any]:
    return {
        "title": data.title,
        "description": data.description,
        "legal_form_id": data.legal_form,
        "legal_form_text": data.legal_form_text,
        "partners_text": data.partners_text,
        "performer_kind": data.performer_kind,
        "performer_id": data.performer_id,
        "performer_text": data.performer_text,
        "since_text": data.since_text,
        "start_year": data.start_year,
        "end_year": data.end_year,
        "status": data.status,
        "savings_amount": data.savings_amount,
        "savings_currency": data.savings_currency,
        "savings_period": data.savings_period,
        "savings_text": data.savings_text,
        "funding": data.funding,
        "notes": data.notes,
        "source_document": data.source_document,
        "source_reference": data.source_reference,
        "parent_id": data.parent_id,
        "data_as_of": data.data_as_of,
        "sort_title": sort_key(data.title),
    }


async def _write_links(cooperation_id: int, data: CooperationData) -> None:
    await CooperationPartner.bulk_create(
        [
            CooperationPartner(cooperation_id=cooperation_id, organization_id=p.organization_id, role=p.role, position=i,
                               left_year=p.left_year)
            for i, p in enumerate(data.partners)
        ]
    )
    if data.topic_field_ids:
        await CooperationTopicField.bulk_create(
            [CooperationTopicField(cooperation_id=cooperation_id, topic_field_id=t) for t in data.topic_field_ids]
        )


async def create_cooperation(
    data: CooperationData, *, key: str | None = None, approved_at: dt.datetime | None = None
) -> Cooperation:
    """Insert a validated cooperation (call inside the caller's transaction)."""
    cooperation = await Cooperation.create(
        key=key, search_text=await _search_text(data), last_approved_change_at=approved_at, **_columns(data)
    )
    await _write_links(cooperation.id, data)
    return cooperation


async def lock_cooperation(cooperation_id: int) -> Cooperation | None:
    """Read a cooperation and hold its row until the transaction ends (PostgreSQL: FOR UPDATE).

    Every read-modify-write of a cooperation locks this row first, before any change row,
    so rival writers queue up instead of overwriting each other (and never deadlock).
    SQLite runs one transaction at a time, which gives the same guarantee.
    """
    return await Cooperation.select_for_update().get_or_none(id=cooperation_id)


async def replace_cooperation(cooperation_id: int, data: CooperationData, *, approved_at: dt.datetime,
                              expected_version: int) -> int:
    """Publish a new state of a cooperation that is still at `expected_version`; returns the new version.

    Call inside a transaction. The update is conditional on the version, so a writer that
    read an older state fails with Conflict instead of silently replacing a newer one.
    """
    version = expected_version + 1
    updated = await Cooperation.filter(id=cooperation_id, version=expected_version).update(
        search_text=await _search_text(data, cooperation_id), last_approved_change_at=approved_at, version=version, **_columns(data)
    )
    if not updated:  # rows changed (SQLite also counts rows its triggers touch)
        if not await Cooperation.exists(id=cooperation_id):
            raise NotFound(f"No cooperation with id {cooperation_id}.")
        raise Conflict(f"The cooperation is no longer at version {expected_version}; reload it and try again.")
    await CooperationPartner.filter(cooperation_id=cooperation_id).delete()
    await CooperationTopicField.filter(cooperation_id=cooperation_id).delete()
    await _write_links(cooperation_id, data)
    return version


async def update_seeded_values(cooperation_id: int, data: CooperationData) -> None:
    """Write corrected seed values (not an approved change: the approval date stays; the version moves on,
    so a proposal made against the uncorrected state is refused as outdated). Partners are not touched."""
    await Cooperation.filter(id=cooperation_id).update(
        search_text=await _search_text(data, cooperation_id), version=F("version") + 1, **_columns(data)
    )


async def snapshot(cooperation_id: int) -> CooperationData:
    """The current published state, in the shape proposals use."""
    found = await snapshots([cooperation_id])
    if cooperation_id not in found:
        raise NotFound(f"No cooperation with id {cooperation_id}.")
    return found[cooperation_id]


async def snapshots(cooperation_ids: list[int]) -> dict[int, CooperationData]:
    """`snapshot` for many cooperations in three statements (missing ids are left out)."""
    ids = sorted(set(cooperation_ids))
    if not ids:
        return {}
    rows = await Cooperation.filter(id__in=ids)
    partners: dict[int, list] = {}
    for p in await CooperationPartner.filter(cooperation_id__in=ids).order_by("position", "id"):
        partners.setdefault(p.cooperation_id, []).append(p)
    topics: dict[int, list[int]] = {}
    for cid, tid in await CooperationTopicField.filter(cooperation_id__in=ids).values_list(
            "cooperation_id", "topic_field_id"):
        topics.setdefault(cid, []).append(tid)
    return {c.id: _data_of(c, partners.get(c.id, []), topics.get(c.id, [])) for c in rows}


def _data_of(c: Cooperation, partners: list, topics: list[int]) -> CooperationData:
    return CooperationData(
        title=c.title,
        description=c.description,
        topic_field_ids=sorted(topics),
        legal_form=c.legal_form_id,
        legal_form_text=c.legal_form_text,
        partners=[PartnerEntry(p.organization_id, PartnerRole(p.role), p.left_year) for p in partners],
        partners_text=c.partners_text,
        performer_kind=PerformerKind(c.performer_kind),
        performer_id=c.performer_id,
        performer_text=c.performer_text,
        since_text=c.since_text,
        start_year=c.start_year,
        end_year=c.end_year,
        status=CooperationStatus(c.status),
        savings_amount=c.savings_amount,
        savings_currency=c.savings_currency,
        savings_period=c.savings_period,
        savings_text=c.savings_text,
        funding=c.funding,
        notes=c.notes,
        source_document=c.source_document,
        source_reference=c.source_reference,
        parent_id=c.parent_id,
        data_as_of=c.data_as_of,
    )
