"""What a list of changes needs, looked up for the whole page at once (a fixed number of queries).

`Batch.load(changes)` fetches the contacts, cooperations, partners, submitters and reviewers the
changes refer to; `in_scope`, `record_title` and `person` then answer from memory with the same
rules as `changes.in_scope`, `changes.record_title` and the one-change lookups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.accounts.contact_data import display_name
from service.accounts.models import Account, Role
from service.accounts.principal import Principal
from service.approvals.changes import CONTACT_KINDS, DELETED_PERSON, EXISTING_COOPERATION_KINDS, _partner_ids
from service.approvals.models import ChangeKind, ChangeRequest, ChangeStatus
from service.catalogue.models import Contact, Cooperation, CooperationPartner, Organization, OrganizationAncestor


@dataclass(frozen=True)
class Person:
    account_id: int
    username: str
    name: str | None
    municipality: str | None


@dataclass
class Batch:
    contacts: dict[int, Contact] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)
    partners: dict[int, set[int]] = field(default_factory=dict)
    ancestors: dict[int, set[int]] = field(default_factory=dict)
    people: dict[int, Person] = field(default_factory=dict)

    @classmethod
    async def load(cls, changes: list[ChangeRequest], *, scopes: bool = True, people: bool = True) -> "Batch":
        batch = cls()
        if not changes:
            return batch
        account_ids = {c.submitted_by_id for c in changes} | {c.reviewed_by_id for c in changes if c.reviewed_by_id}
        accounts = {a.id: a for a in await Account.filter(id__in=list(account_ids))} if people else {}
        contact_ids = {c.contact_id for c in changes if c.contact_id}
        contact_ids |= {a.contact_id for a in accounts.values() if a.contact_id}
        if contact_ids:
            batch.contacts = {c.id: c for c in await Contact.filter(id__in=list(contact_ids))}
        coop_ids = {c.cooperation_id for c in changes if c.cooperation_id}
        if coop_ids:
            batch.titles = dict(await Cooperation.filter(id__in=list(coop_ids)).values_list("id", "title"))
        if scopes:
            update_ids = [c.cooperation_id for c in changes
                          if c.kind in EXISTING_COOPERATION_KINDS and c.cooperation_id is not None]
            if update_ids:
                for coop_id, org_id in await CooperationPartner.filter(cooperation_id__in=update_ids).values_list(
                        "cooperation_id", "organization_id"):
                    batch.partners.setdefault(coop_id, set()).add(org_id)
            orgs = set().union(*(s for c in changes for s in batch.record_states(c)))
            if orgs:
                for org_id, ancestor_id in await OrganizationAncestor.filter(organization_id__in=list(orgs)).values_list(
                        "organization_id", "ancestor_id"):
                    batch.ancestors.setdefault(org_id, set()).add(ancestor_id)
        org_ids = {c.organization_id for c in batch.contacts.values() if c.organization_id}
        org_names = dict(await Organization.filter(id__in=list(org_ids)).values_list("id", "name")) if org_ids and people else {}
        for account in accounts.values():
            if account.deleted_at is not None:
                batch.people[account.id] = Person(account.id, DELETED_PERSON, None, None)
                continue
            contact = batch.contacts.get(account.contact_id) if account.contact_id else None
            parts = (contact.first_name, contact.last_name) if contact else (account.first_name, account.last_name)
            batch.people[account.id] = Person(
                account.id, account.username, " ".join(p for p in parts if p) or None,
                org_names.get(contact.organization_id) if contact and contact.organization_id else None)
        return batch

    def record_states(self, change: ChangeRequest) -> list[set[int]]:
        """As `changes.record_states`, from the loaded rows."""
        if change.kind in CONTACT_KINDS:
            contact = self.contacts.get(change.contact_id)
            return [{contact.organization_id} if contact and contact.organization_id else set()]
        payload = change.payload or {}
        states: list[set[int]] = []
        if change.kind in EXISTING_COOPERATION_KINDS and change.cooperation_id is not None:
            if change.status is ChangeStatus.APPROVED and payload.get("before"):
                states.append(_partner_ids(payload["before"]))
            else:
                states.append(set(self.partners.get(change.cooperation_id, set())))
        if "partners" in payload:
            states.append(_partner_ids(payload))
        return states

    def in_scope(self, principal: Principal, change: ChangeRequest) -> bool:
        """As `scopes.covers_all_states(principal, record_states(change))`."""
        if not principal.has(Role.APPROVER):
            return False
        if None in principal.approver_scopes:
            return True
        states = self.record_states(change)
        if not states:
            return False
        scope = set(principal.approver_scopes)
        for organization_ids in states:
            reach = set().union(*(self.ancestors.get(o, set()) for o in organization_ids)) if organization_ids else set()
            if not scope & reach:
                return False
        return True

    def record_title(self, change: ChangeRequest) -> str:
        """As `changes.record_title`."""
        if change.kind in CONTACT_KINDS:
            contact = self.contacts.get(change.contact_id)
            return f"Kontaktperson: {display_name(contact)}" if contact else "Kontaktperson"
        if change.kind is ChangeKind.COOPERATION_CREATE:
            return (change.payload or {}).get("title", "")
        return self.titles.get(change.cooperation_id) or (change.payload or {}).get("title", "")

    def person(self, account_id: int | None) -> Person | None:
        return self.people.get(account_id) if account_id else None


async def current_versions(changes: list[ChangeRequest]) -> list[int | None]:
    """The current version of the record each change is about (cooperation, else contact), in two statements."""
    coop_ids = sorted({c.cooperation_id for c in changes if c.cooperation_id is not None})
    contact_ids = sorted({c.contact_id for c in changes if c.cooperation_id is None and c.contact_id is not None})
    coops = dict(await Cooperation.filter(id__in=coop_ids).values_list("id", "version")) if coop_ids else {}
    contacts = dict(await Contact.filter(id__in=contact_ids).values_list("id", "version")) if contact_ids else {}
    return [coops.get(c.cooperation_id) if c.cooperation_id is not None
            else contacts.get(c.contact_id) if c.contact_id is not None else None for c in changes]
