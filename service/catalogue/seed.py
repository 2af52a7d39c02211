"""Loading the seed data files in `seeds/`.

Records are matched by their seed `key`: a record already in the database is left
as it is (it may have been changed and approved since), a missing one is inserted.
So `ikz seed` can run any number of times, and never brings back a deleted contact.

Corrections of values seeded earlier (`corrections.json`, found by checking every row against
the sources) are applied to a database seeded before them: a field is corrected only while it
still holds the old seeded value (`from`), so a value changed and approved since is kept, and a
second run changes nothing. Missing official keys (AGS) of organisations are filled in the same way.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from service import publication
from service.catalogue import reference
from service.catalogue.editing import (
    CooperationData,
    PartnerEntry,
    create_cooperation,
    snapshot,
    update_seeded_values,
    validate,
)
from service.catalogue.models import (
    Contact,
    ContactCooperation,
    ContactState,
    Cooperation,
    CooperationPartner,
    CooperationStatus,
    LegalForm,
    LegalFormCategory,
    Organization,
    OrganizationKind,
    PartnerRole,
    PerformerKind,
    TopicField,
)
from service.catalogue.organizations import create_organization

# Package data of the `seeds` package (the top-level seeds/ directory), wherever installed.
DEFAULT_SEED_DIR = Path(str(importlib.resources.files("seeds")))
COOPERATION_FILES = ("cooperations_unna_kreis.json", "cooperations_unna_kommunen.json", "cooperations_other.json")


class SeedError(RuntimeError):
    pass


@dataclass
class SeedReport:
    inserted: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.inserted[kind] = self.inserted.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


def _load(directory: Path, name: str) -> list[dict[str, Any]]:
    path = directory / name
    if not path.exists():
        return []
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SeedError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None


async def catalogue_is_empty() -> bool:
    return not await Cooperation.exists() and not await Organization.exists()


async def load_seeds(directory: Path = DEFAULT_SEED_DIR, *, demo: bool = False) -> SeedReport:
    """Load the seed files; the invented demo contacts only with `demo` (`ikz seed --demo`)."""
    report = SeedReport()
    async with in_transaction():
        await _reference_data(directory, report)
        orgs = await _organizations(directory, report)
        await _locations(directory, orgs, report)
        coops = await _cooperations(directory, orgs, report)
        await _corrections(directory, orgs, coops, report)
        if demo:
            await _contacts(directory, orgs, coops, report)
        await publication.bump()
    reference.forget()
    return report


async def _reference_data(directory: Path, report: SeedReport) -> None:
    existing = set(await TopicField.all().values_list("key", flat=True))
    for position, item in enumerate(_load(directory, "topic_fields.json")):
        if item["key"] not in existing:
            await TopicField.create(key=item["key"], label=item["label"], position=position)
            report.add("topic fields")
    existing = set(await LegalForm.all().values_list("code", flat=True))
    for position, item in enumerate(_load(directory, "legal_forms.json")):
        if item["code"] not in existing:
            await LegalForm.create(
                code=item["code"],
                label=item["label"],
                abbreviation=item.get("abbreviation"),
                category=LegalFormCategory(item["category"]),
                legal_basis=item.get("legal_basis"),
                position=position,
            )
            report.add("legal forms")


async def _organizations(directory: Path, report: SeedReport) -> dict[str, int]:
    ids = {key: oid for key, oid in await Organization.filter(key__not_isnull=True).values_list("key", "id")}
    items = _load(directory, "organizations.json")
    for item in items:  # official keys added to the seed file after the record was seeded
        if item["key"] in ids and item.get("ags"):
            if await Organization.filter(id=ids[item["key"]], ags__isnull=True).update(ags=item["ags"]):
                report.add("corrected official keys")
    pending = [item for item in items if item["key"] not in ids]
    while pending:  # parents first, whatever the order in the file
        ready = [item for item in pending if item.get("parent") is None or item["parent"] in ids]
        if not ready:
            raise SeedError(f"organizations.json: unknown or circular parent for {pending[0]['key']!r}")
        for item in ready:
            org = await create_organization(
                key=item["key"],
                name=item["name"],
                kind=OrganizationKind(item["kind"]),
                ags=item.get("ags"),
                parent_id=ids[item["parent"]] if item.get("parent") else None,
            )
            ids[item["key"]] = org.id
            report.add("organisations")
        pending = [item for item in pending if item["key"] not in ids]
    return ids


async def _locations(directory: Path, orgs: dict[str, int], report: SeedReport) -> None:
    """Seat coordinates (locations.json); filled where an organisation has none yet, so a database
    seeded before the file existed gets them on the next `ikz seed`, and a second run changes nothing."""
    path = directory / "locations.json"
    if not path.exists():
        return
    try:
        items = json.loads(path.read_text(encoding="utf-8"))["locations"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise SeedError(f"{path}: expected an object with a 'locations' list") from None
    for item in items:
        where = f"locations.json: {item.get('key')!r}"
        organization_id = _org(orgs, item.get("key"), where)
        latitude, longitude = item.get("latitude"), item.get("longitude")
        if not (isinstance(latitude, (int, float)) and -90 <= latitude <= 90
                and isinstance(longitude, (int, float)) and -180 <= longitude <= 180):
            raise SeedError(f"{where}: latitude/longitude missing or out of range")
        if await Organization.filter(id=organization_id, latitude__isnull=True, longitude__isnull=True).update(
                latitude=float(latitude), longitude=float(longitude)):
            report.add("locations")


def _org(orgs: dict[str, int], key: str | None, where: str) -> int | None:
    if key is None:
        return None
    if key not in orgs:
        raise SeedError(f"{where}: unknown organisation key {key!r}")
    return orgs[key]


def _cooperation_data(item: dict[str, Any], orgs: dict[str, int], topics: dict[str, int]) -> CooperationData:
    where = f"cooperation {item['key']!r}"
    performed = item.get("performed_by") or {"kind": "UNKNOWN", "org": None}
    savings = item.get("savings") or {}
    unknown_topics = [t for t in item.get("topic_fields", []) if t not in topics]
    if unknown_topics:
        raise SeedError(f"{where}: unknown topic field {unknown_topics[0]!r}")
    return CooperationData(
        title=item["title"],
        description=item.get("description"),
        topic_field_ids=[topics[t] for t in item.get("topic_fields", [])],
        legal_form=item.get("legal_form"),
        legal_form_text=item.get("legal_form_text"),
        partners=[PartnerEntry(_org(orgs, p["org"], where), PartnerRole(p["role"]), p.get("left_year"))
                  for p in item["partners"]],
        partners_text=item.get("partners_text"),
        performer_kind=PerformerKind(performed["kind"]),
        performer_id=_org(orgs, performed.get("org"), where),
        performer_text=item.get("performed_by_text"),
        since_text=item.get("since_text"),
        start_year=item.get("start_year"),
        end_year=item.get("end_year"),
        status=CooperationStatus(item.get("status", "ACTIVE")),
        savings_amount=Decimal(str(savings["amount"])) if savings.get("amount") is not None else None,
        savings_currency=savings.get("currency"),
        savings_period=savings.get("period"),
        savings_text=savings.get("text"),
        funding=item.get("funding"),
        notes=item.get("notes"),
        source_document=item.get("source_document"),
        source_reference=item.get("source_row"),
        data_as_of=dt.date.fromisoformat(item["data_as_of"]),
    )


async def _cooperations(directory: Path, orgs: dict[str, int], report: SeedReport) -> dict[str, int]:
    topics = {key: tid for key, tid in await TopicField.all().values_list("key", "id")}
    ids = {key: cid for key, cid in await Cooperation.filter(key__not_isnull=True).values_list("key", "id")}
    items = [item for name in COOPERATION_FILES for item in _load(directory, name)]
    created: list[dict[str, Any]] = []
    for item in items:
        if item["key"] in ids:
            continue
        data = await validate(_cooperation_data(item, orgs, topics))
        cooperation = await create_cooperation(data, key=item["key"])
        ids[item["key"]] = cooperation.id
        created.append(item)
        report.add("cooperations")
    for item in created:  # parts point at their framework cooperation once both exist
        if item.get("parent"):
            if item["parent"] not in ids:
                raise SeedError(f"cooperation {item['key']!r}: unknown parent {item['parent']!r}")
            await Cooperation.filter(id=ids[item["key"]]).update(parent_id=ids[item["parent"]])
    return ids


async def _contacts(directory: Path, orgs: dict[str, int], coops: dict[str, int], report: SeedReport) -> None:
    existing = set(await Contact.filter(key__not_isnull=True).values_list("key", flat=True))
    for item in _load(directory, "demo_contacts.json"):
        if item["key"] in existing:
            continue
        where = f"contact {item['key']!r}"
        contact = await Contact.create(
            key=item["key"],
            organization_id=_org(orgs, item["organization"], where),
            state=ContactState.CREATED,
            salutation=item.get("salutation"),
            title=item.get("title"),
            first_name=item["first_name"],
            last_name=item["last_name"],
            function=item.get("function"),
            email=item["email"],
            phone=item.get("phone"),
            demo=True,
        )
        links = []
        for key in item.get("cooperations", []):
            if key not in coops:
                raise SeedError(f"{where}: unknown cooperation {key!r}")
            links.append(ContactCooperation(contact_id=contact.id, cooperation_id=coops[key]))
        if links:
            await ContactCooperation.bulk_create(links)
        report.add("contacts")


# The seed file fields a correction may name, and the CooperationData attribute each one is.
_CORRECTABLE = {
    "title": "title", "notes": "notes", "legal_form": "legal_form", "legal_form_text": "legal_form_text",
    "performed_by_text": "performer_text", "since_text": "since_text", "start_year": "start_year",
    "end_year": "end_year", "status": "status", "description": "description", "partners_text": "partners_text",
}


async def _corrections(directory: Path, orgs: dict[str, int], coops: dict[str, int], report: SeedReport) -> None:
    by_cooperation: dict[str, list[dict[str, Any]]] = {}
    for item in _load(directory, "corrections.json"):
        by_cooperation.setdefault(item["key"], []).append(item)
    for key, items in by_cooperation.items():
        if key not in coops:  # deleted since, or not in these seed files
            continue
        cooperation_id = coops[key]
        data = await snapshot(cooperation_id)
        changed = False
        for item in items:
            if "partner" in item:
                updated = await CooperationPartner.filter(
                    cooperation_id=cooperation_id, organization_id=_org(orgs, item["partner"], f"correction {key!r}"),
                    left_year__isnull=True,
                ).update(left_year=item["left_year"])
                if updated:
                    report.add("corrections")
                continue
            attribute = _CORRECTABLE.get(item["field"])
            if attribute is None:
                raise SeedError(f"corrections.json: field {item['field']!r} of {key!r} cannot be corrected")
            old, new = item["from"], item["to"]
            if attribute == "status":
                old, new = CooperationStatus(old), CooperationStatus(new)
            if getattr(data, attribute) == old and old != new:
                setattr(data, attribute, new)
                changed = True
                report.add("corrections")
        if changed:
            await update_seeded_values(cooperation_id, await validate(data, cooperation_id=cooperation_id))
