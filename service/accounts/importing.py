"""Bulk import of contact persons from CSV (`ikz contacts import FILE.csv`).

Columns (header row required; UTF-8, comma or semicolon separated):
  municipality  official key (AGS), seed key or exact name of the municipal body   (required)
  first_name, last_name, email                                                     (required)
  salutation (Frau/Herr), title, function, phone                                   (optional)
  cooperations  cooperation ids or seed keys, separated by '|'                      (optional)
Every row is its own transaction: bad rows are reported with their line number, good
rows are kept. A row whose e-mail already belongs to a contact of that municipality is
skipped, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from tortoise.transactions import in_transaction

from service.accounts.contact_data import ContactData
from service.accounts.onboarding import NewContact, create_contact
from service.catalogue.models import Contact, ContactState, Cooperation, Organization, OrganizationKind
from service.errors import DomainError

REQUIRED = ("municipality", "first_name", "last_name", "email")


@dataclass
class ImportReport:
    created: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


async def _municipality(reference: str) -> int:
    reference = reference.strip()
    org = None
    if reference.isdigit():
        org = await Organization.get_or_none(ags=reference)
    org = org or await Organization.get_or_none(key=reference) or await Organization.get_or_none(name=reference)
    if org is None or org.kind is OrganizationKind.OTHER:
        raise DomainError(f"unknown municipality {reference!r}")
    return org.id


async def _cooperations(value: str) -> tuple[int, ...]:
    ids = []
    for part in filter(None, (p.strip() for p in value.split("|"))):
        row = await Cooperation.get_or_none(id=int(part)) if part.isdigit() else await Cooperation.get_or_none(key=part)
        if row is None:
            raise DomainError(f"unknown cooperation {part!r}")
        ids.append(row.id)
    return tuple(dict.fromkeys(ids))


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;")
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    return header, [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader]


async def import_contacts(path: Path) -> ImportReport:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return ImportReport(errors=[(0, f"cannot read {path}: {exc}")])
    return await import_contacts_text(text)


async def import_contacts_text(text: str, actor=None) -> ImportReport:
    """The CSV's rows as contacts (not yet invited); bad rows reported by line, good rows kept."""
    report = ImportReport()
    text = text.lstrip("\ufeff")
    if not text.strip():
        report.errors.append((1, "the file is empty"))
        return report
    header, rows = read_rows(text)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        report.errors.append((1, f"missing column(s): {', '.join(missing)}"))
        return report
    for line, row in rows:
        try:
            organization_id = await _municipality(row.get("municipality", ""))
            email = row.get("email", "")
            if await Contact.filter(organization_id=organization_id, email__iexact=email).exclude(
                    state=ContactState.DELETED).exists():
                report.skipped.append((line, "a contact with this e-mail exists for this municipality"))
                continue
            new = NewContact(
                organization_id=organization_id,
                data=ContactData(first_name=row.get("first_name", ""), last_name=row.get("last_name", ""),
                                 email=email, salutation=row.get("salutation") or None, title=row.get("title") or None,
                                 function=row.get("function") or None, phone=row.get("phone") or None),
                cooperation_ids=await _cooperations(row.get("cooperations", "")),
            )
            async with in_transaction():
                await create_contact(new, actor=actor)
            report.created += 1
        except DomainError as exc:
            report.errors.append((line, exc.message))
    return report
