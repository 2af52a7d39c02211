"""Submitting changes: proposals by contact persons, direct edits by the ministry.

A proposal is stored as the complete proposed state plus the version it was based on;
the approver sees the field-by-field difference to what is published, and the public
keeps seeing the published state until the change is approved.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from service import audit, publication
from service.accounts.contact_data import display_name
from service.accounts.models import Account, Role
from service.accounts.principal import Principal, require
from service.approvals import scopes
from service.approvals.diff import FieldChange, contact_diff, cooperation_diffs
from service.approvals.models import ChangeKind, ChangeRequest, ChangeStatus
from service.audit import AuditAction
from service.catalogue import editing
from service.catalogue.editing import CooperationData
from service.catalogue.models import Contact, ContactState, Cooperation, CooperationPartner, Organization
from service.config import get_settings
from service.errors import Conflict, InvalidInput, NotAllowed, NotFound
from service.mail.outbox import enqueue
from service.time import german_datetime, now

KIND_LABELS = {
    ChangeKind.COOPERATION_CREATE: "Neue Kooperation",
    ChangeKind.COOPERATION_UPDATE: "Änderung einer Kooperation",
    ChangeKind.CONTACT_UPDATE: "Änderung von Kontaktdaten",
    ChangeKind.CONTACT_CONFIRMATION: "Erstbestätigung von Kontaktdaten",
    ChangeKind.DOCUMENT_ADD: "Neues Dokument",
}


def check_base_version(current: int, base_version: int | None) -> None:
    if base_version is None:
        raise InvalidInput("'baseVersion' is required: the version your change is based on.", field="baseVersion")
    if base_version != current:
        raise Conflict(
            f"The record has changed since you loaded it (your version {base_version}, current version {current}). "
            "Reload it and make your change again.",
            field="baseVersion",
            details={"currentVersion": current},
        )


CONTACT_KINDS = (ChangeKind.CONTACT_UPDATE, ChangeKind.CONTACT_CONFIRMATION)
# Changes to an existing cooperation whose scope is the cooperation as published (a document
# proposal names no partners of its own).
EXISTING_COOPERATION_KINDS = (ChangeKind.COOPERATION_UPDATE, ChangeKind.DOCUMENT_ADD)
DELETED_PERSON = "gelöschte Person"


def _partner_ids(state: dict | None) -> set[int]:
    return {p["organization_id"] for p in (state or {}).get("partners", [])}


async def record_states(change: ChangeRequest) -> list[set[int]]:
    """The organisations of each state of the record a change touches, for approver scopes.

    A contact change: the contact's municipality. A cooperation change: the partners as
    published (for a past approval: as they were before it) and the partners as proposed.
    An erased proposal has no proposed state left; a new cooperation no published one.
    """
    if change.kind in CONTACT_KINDS:
        contact = await Contact.get_or_none(id=change.contact_id)
        return [{contact.organization_id} if contact and contact.organization_id else set()]
    payload = change.payload or {}
    states: list[set[int]] = []
    if change.kind in EXISTING_COOPERATION_KINDS and change.cooperation_id is not None:
        if change.status is ChangeStatus.APPROVED and payload.get("before"):
            states.append(_partner_ids(payload["before"]))
        else:
            states.append(set(await CooperationPartner.filter(cooperation_id=change.cooperation_id)
                              .values_list("organization_id", flat=True)))
    if "partners" in payload:
        states.append(_partner_ids(payload))
    return states


async def in_scope(principal: Principal, change: ChangeRequest) -> bool:
    """Whether an approver's scope covers every state the change touches (see `scopes`)."""
    return await scopes.covers_all_states(principal, await record_states(change))


def is_deleted(account: Account | None) -> bool:
    """A deleted person's username (built from the surname) and name are never shown again."""
    return account is None or account.deleted_at is not None


async def lock_own_contact(principal: Principal) -> Contact:
    """The signed-in person's contact row, held until the transaction ends.

    Proposals and deletion lock it first, so a proposal can never slip in beside a
    deletion that is withdrawing the person's proposals.
    """
    if principal.contact_id is None:
        raise NotAllowed("Only contact persons have contact data of their own.")
    contact = await Contact.select_for_update().get_or_none(id=principal.contact_id)
    if contact is None or contact.state is ContactState.DELETED:
        raise NotAllowed("Your contact data no longer exist.")
    return contact


async def _submitter_name(account_id: int) -> tuple[str, str | None]:
    account = await Account.get(id=account_id)
    if account.deleted_at is not None:
        return DELETED_PERSON, None
    if account.contact_id:
        contact = await Contact.get_or_none(id=account.contact_id)
        if contact:
            org = await Organization.get_or_none(id=contact.organization_id) if contact.organization_id else None
            return display_name(contact), org.name if org else None
    return account.staff_name, None


async def record_title(change: ChangeRequest) -> str:
    if change.kind in (ChangeKind.CONTACT_UPDATE, ChangeKind.CONTACT_CONFIRMATION):
        contact = await Contact.get_or_none(id=change.contact_id)
        return f"Kontaktperson: {display_name(contact)}" if contact else "Kontaktperson"
    if change.kind is ChangeKind.COOPERATION_CREATE:
        return change.payload.get("title", "")
    cooperation = await Cooperation.get_or_none(id=change.cooperation_id)
    return cooperation.title if cooperation else change.payload.get("title", "")


ERASED = {"erased": True}  # the payload of a proposal whose submitter deleted their data


async def change_diff(change: ChangeRequest) -> list[FieldChange]:
    return (await change_diffs([change]))[0]


def _compared_with_published(change: ChangeRequest) -> bool:
    """A pending proposal (or an approved update without its earlier state) is compared with the record now."""
    if change.status is ChangeStatus.PENDING and change.cooperation_id:
        return True
    return (change.kind is ChangeKind.COOPERATION_UPDATE and not change.payload.get("before")
            and change.cooperation_id is not None)


async def change_diffs(changes: list[ChangeRequest]) -> list[list[FieldChange]]:
    """`change_diff` for many changes in a fixed number of statements (a page, a history)."""
    cooperation_changes = [c for c in changes if c.payload != ERASED and c.kind not in CONTACT_KINDS
                           and c.kind is not ChangeKind.DOCUMENT_ADD]
    published = await editing.snapshots([c.cooperation_id for c in cooperation_changes
                                         if _compared_with_published(c)])
    pairs = []
    for change in cooperation_changes:
        if _compared_with_published(change):
            old = published.get(change.cooperation_id)
            if old is None:
                raise NotFound(f"No cooperation with id {change.cooperation_id}.")
        else:
            old = CooperationData.from_json(change.payload["before"]) if change.payload.get("before") else None
        pairs.append((old, CooperationData.from_json(change.payload)))
    diffs = iter(await cooperation_diffs(pairs))
    result = []
    for change in changes:
        if change.payload == ERASED:
            result.append([])
        elif change.kind in CONTACT_KINDS:
            result.append(contact_diff(change.payload.get("before", {}), change.payload.get("after", {})))
        elif change.kind is ChangeKind.DOCUMENT_ADD:
            from service.documents.publishing import describe

            result.append([FieldChange("documents", "Dokument", None, describe(change.payload))])
        else:
            result.append(next(diffs))
    return result


async def _notify_approvers(change: ChangeRequest) -> int:
    settings = get_settings()
    submitter, submitter_org = await _submitter_name(change.submitted_by_id)
    changes = await change_diff(change)
    title = await record_title(change)
    approvers = await scopes.approvers_covering_all_states(await record_states(change))
    for approver in approvers:
        if approver.id == change.submitted_by_id or not approver.email:
            continue
        await enqueue(
            "approver_notification",
            approver.email,
            {
                "approver_name": approver.staff_name,
                "submitter_name": submitter,
                "submitter_organization": submitter_org,
                "change_kind": KIND_LABELS[change.kind],
                "record_title": title,
                "submitted_at": german_datetime(change.submitted_at),
                "review_url": settings.link(f"review/{change.id}"),
                "changes": changes,
            },
            account_id=approver.id,
            change_id=change.id,
        )
    return len(approvers)


async def submit(principal: Principal, kind: ChangeKind, payload: dict, *, cooperation_id: int | None = None,
                 contact_id: int | None = None, base_version: int | None = None) -> ChangeRequest:
    """Store a pending change and mail the approvers in scope. Call inside a transaction."""
    change = await ChangeRequest.create(
        kind=kind, status=ChangeStatus.PENDING, cooperation_id=cooperation_id, contact_id=contact_id,
        base_version=base_version, payload=payload, submitted_by_id=principal.account_id, submitted_at=now(),
    )
    details = {"changeId": change.id, "kind": kind.value, "baseVersion": base_version}
    if contact_id is None:
        details["fields"] = [c.field for c in await change_diff(change)]
    else:
        details["fields"] = [c.field for c in contact_diff(payload.get("before", {}), payload.get("after", {}))]
    await audit.record(
        AuditAction.CHANGE_PROPOSED, actor_id=principal.account_id, actor_role=principal.primary_role,
        subject_type="contact" if contact_id else "cooperation", subject_id=contact_id or cooperation_id,
        details=details,
    )
    await _notify_approvers(change)
    return change


# --- cooperations ---------------------------------------------------------------------


async def _own_municipality(principal: Principal) -> int:
    require(principal, Role.CONTACT)
    if principal.organization_id is None:
        raise NotAllowed("Your account is not linked to a municipality.")
    return principal.organization_id


async def propose_cooperation_change(principal: Principal, cooperation_id: int, data: CooperationData,
                                     base_version: int | None) -> ChangeRequest:
    """A contact person proposes a new state of a cooperation of their municipality.

    Their municipality must be a partner as published and as proposed: the same rule
    as approver scopes, so nobody hands a record over to someone else's area.
    """
    own = await _own_municipality(principal)
    data = await editing.validate(data, cooperation_id=cooperation_id)
    async with in_transaction():
        await lock_own_contact(principal)
        cooperation = await editing.lock_cooperation(cooperation_id)
        if cooperation is None:
            raise NotFound(f"No cooperation with id {cooperation_id}.")
        if not await CooperationPartner.exists(cooperation_id=cooperation_id, organization_id=own):
            raise NotAllowed("You may only propose changes to cooperations your municipality takes part in.")
        check_base_version(cooperation.version, base_version)
        if own not in {p.organization_id for p in data.partners}:
            raise NotAllowed("Your municipality must stay a partner; ask the ministry to remove it.")
        current = await editing.snapshot(cooperation_id)
        if current.to_json() == data.to_json():
            raise InvalidInput("The proposal does not change anything.")
        return await submit(principal, ChangeKind.COOPERATION_UPDATE, data.to_json(), cooperation_id=cooperation_id,
                            base_version=base_version)


async def propose_cooperation(principal: Principal, data: CooperationData) -> ChangeRequest:
    own = await _own_municipality(principal)
    data = await editing.validate(data)
    if own not in {p.organization_id for p in data.partners}:
        raise NotAllowed("Your municipality must be one of the partners of a cooperation you propose.")
    async with in_transaction():
        await lock_own_contact(principal)
        return await submit(principal, ChangeKind.COOPERATION_CREATE, data.to_json())


async def mark_conflicting(*, cooperation_id: int | None = None, contact_id: int | None = None,
                           approved_change_id: int | None, new_version: int) -> int:
    """Pending changes based on an older version can no longer be approved as they are.

    A proposed document is not based on a version (it adds, changes no field), so it stays pending."""
    query = ChangeRequest.filter(status=ChangeStatus.PENDING).exclude(kind=ChangeKind.DOCUMENT_ADD)
    query = query.filter(cooperation_id=cooperation_id) if cooperation_id else query.filter(contact_id=contact_id)
    if approved_change_id is not None:
        query = query.exclude(id=approved_change_id)
    source = f"change #{approved_change_id}" if approved_change_id else "a direct edit"
    return await query.update(
        status=ChangeStatus.CONFLICTING,
        conflict_reason=(f"Another change ({source}) was approved first; the record is now at version "
                         f"{new_version}. Submit this change again based on version {new_version}."),
    )


async def edit_cooperation_directly(principal: Principal, cooperation_id: int | None, data: CooperationData,
                                    base_version: int | None) -> Cooperation:
    """ADMIN and APPROVER edit without review; recorded like an approved change.

    A scoped approver needs the record in scope as published and as edited (see `scopes`).
    The cooperation row is locked and its version checked inside the transaction, so of two
    edits based on one version exactly one wins and the other gets CONFLICT.
    """
    require(principal, Role.ADMIN, Role.APPROVER)
    data = await editing.validate(data, cooperation_id=cooperation_id)
    proposed = {p.organization_id for p in data.partners}
    moment = now()
    async with in_transaction():
        if cooperation_id is None:
            if not principal.has(Role.ADMIN) and not await scopes.covers_all_states(principal, [proposed]):
                raise NotAllowed("This cooperation is outside your approval scope.")
            created = await editing.create_cooperation(data, approved_at=moment)
            cooperation_id, version, before = created.id, 1, None
        else:
            cooperation = await editing.lock_cooperation(cooperation_id)
            if cooperation is None:
                raise NotFound(f"No cooperation with id {cooperation_id}.")
            published = await editing.snapshot(cooperation_id)
            states = [{p.organization_id for p in published.partners}, proposed]
            if not principal.has(Role.ADMIN) and not await scopes.covers_all_states(principal, states):
                raise NotAllowed("This cooperation is outside your approval scope.")
            check_base_version(cooperation.version, base_version)
            before = published.to_json()
            version = await editing.replace_cooperation(cooperation_id, data, approved_at=moment,
                                                        expected_version=cooperation.version)
        payload = {**data.to_json(), "before": before}
        change = await ChangeRequest.create(
            kind=ChangeKind.COOPERATION_UPDATE if before else ChangeKind.COOPERATION_CREATE,
            status=ChangeStatus.APPROVED, cooperation_id=cooperation_id, base_version=base_version,
            payload=payload, submitted_by_id=principal.account_id, submitted_at=moment,
            reviewed_by_id=principal.account_id, reviewed_at=moment, review_note="direct edit",
        )
        await mark_conflicting(cooperation_id=cooperation_id, approved_change_id=change.id, new_version=version)
        await audit.record(
            AuditAction.DIRECT_EDIT, actor_id=principal.account_id, actor_role=principal.primary_role,
            subject_type="cooperation", subject_id=cooperation_id,
            details={"changeId": change.id, "version": version, "before": before, "after": data.to_json()},
        )
        await publication.bump()  # last: after the record locks (see service/publication.py)
    return await Cooperation.get(id=cooperation_id)
