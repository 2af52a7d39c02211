"""Reviewing changes: approve (publish) or reject (with a reason), within the approver's scope."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from service import audit, publication
from service.accounts.contact_data import ContactData, addressed_name
from service.accounts.models import Account, Role
from service.accounts.principal import Principal, require
from service.approvals.changes import (
    CONTACT_KINDS,
    KIND_LABELS,
    change_diff,
    in_scope,
    mark_conflicting,
    record_title,
)
from service.approvals.batch import Batch
from service.approvals.models import ChangeKind, ChangeRequest, ChangeStatus
from service.audit import AuditAction
from service.catalogue import editing
from service.catalogue.editing import CooperationData
from service.catalogue.models import Contact, ContactState, Cooperation
from service.config import get_settings
from service.errors import Conflict, InvalidInput, NotAllowed, NotFound
from service.mail.outbox import enqueue
from service.time import german_datetime, now

MAX_NOTE = 2000


async def _reviewable(principal: Principal, change_id: int) -> ChangeRequest:
    """The pending change, locked together with its record. Call inside a transaction.

    Lock order, the same for every writer: the record (contact or cooperation) first, then
    the change row. A rival decision waits here and then sees the outcome of the first one,
    so the scope and status checks below always judge the current state.
    """
    require(principal, Role.APPROVER)
    peek = await ChangeRequest.get_or_none(id=change_id)
    if peek is None:
        raise NotFound(f"No change with id {change_id}.")
    if peek.contact_id is not None:
        await Contact.select_for_update().get_or_none(id=peek.contact_id)
    elif peek.cooperation_id is not None:
        await editing.lock_cooperation(peek.cooperation_id)
    change = await ChangeRequest.select_for_update().get(id=change_id)
    if not await in_scope(principal, change):
        raise NotAllowed("This change is outside your approval scope.")
    ensure_not_self(principal, change)
    if change.status is not ChangeStatus.PENDING:
        reason = f" ({change.conflict_reason})" if change.conflict_reason else ""
        raise Conflict(f"This change is {change.status.value.lower()}, not pending{reason}.", details={
            "status": change.status.value})
    return change


async def _decide(change: ChangeRequest, status: ChangeStatus, **values) -> None:
    """Record the decision only if the change is still pending (rows changed checked)."""
    updated = await ChangeRequest.filter(id=change.id, status=ChangeStatus.PENDING).update(status=status, **values)
    if not updated:  # rows changed (SQLite also counts rows its triggers touch)
        raise Conflict("This change was decided meanwhile; reload it.")
    change.status = status
    for name, value in values.items():
        setattr(change, name, value)


async def _notify_submitter(change: ChangeRequest, template: str, extra: dict) -> None:
    account = await Account.get_or_none(id=change.submitted_by_id)
    if account is None or not account.email or not account.is_active:
        return
    await enqueue(template, account.email, {
        "recipient_name": await addressed_name(account),
        "change_kind": KIND_LABELS[change.kind],
        "record_title": await record_title(change),
        **extra,
    }, account_id=account.id)


async def approve(principal: Principal, change_id: int, comment: str | None) -> ChangeRequest:
    if comment and len(comment) > MAX_NOTE:
        raise InvalidInput(f"'comment' is longer than {MAX_NOTE} characters.", field="comment")
    settings = get_settings()
    async with in_transaction():
        change = await _reviewable(principal, change_id)
        moment = now()
        diff_fields = [c.field for c in await change_diff(change)]
        if change.kind in CONTACT_KINDS:
            contact = await Contact.get_or_none(id=change.contact_id)
            if contact is None or contact.state is ContactState.DELETED:
                raise Conflict("The contact person has deleted their data meanwhile.")
            if contact.version != change.base_version:
                raise Conflict("The contact data changed since this proposal; it cannot be approved as it is.")
            after = ContactData(**change.payload["after"])
            version = contact.version + 1
            updated = await Contact.filter(id=contact.id, version=contact.version).update(
                **after.to_json(), version=version, last_approved_change_at=moment, state=ContactState.PUBLIC
            )
            if not updated:
                raise Conflict("The contact data changed since this proposal; it cannot be approved as it is.")
            await mark_conflicting(contact_id=contact.id, approved_change_id=change.id, new_version=version)
            details = {"changeId": change.id, "version": version, "fields": diff_fields}
            subject = ("contact", contact.id)
            record_url = None
        elif change.kind is ChangeKind.DOCUMENT_ADD:
            from service.documents.publishing import publish_proposed

            document = await publish_proposed(change, moment)
            details = {"changeId": change.id, "documentId": document.id}
            subject = ("cooperation", change.cooperation_id)
            record_url = settings.link("cooperations/" + str(change.cooperation_id))
        else:
            data = await editing.validate(CooperationData.from_json(change.payload), cooperation_id=change.cooperation_id)
            if change.kind is ChangeKind.COOPERATION_CREATE:
                created = await editing.create_cooperation(data, approved_at=moment)
                change.cooperation_id, version, before = created.id, 1, None
            else:
                current = await Cooperation.get_or_none(id=change.cooperation_id)
                if current is None or current.version != change.base_version:
                    raise Conflict("The cooperation changed since this proposal; it cannot be approved as it is.")
                before = (await editing.snapshot(change.cooperation_id)).to_json()
                version = await editing.replace_cooperation(change.cooperation_id, data, approved_at=moment,
                                                            expected_version=current.version)
            change.payload = {**change.payload, "before": before}
            await mark_conflicting(cooperation_id=change.cooperation_id, approved_change_id=change.id,
                                   new_version=version)
            details = {"changeId": change.id, "version": version, "before": before, "after": data.to_json()}
            subject = ("cooperation", change.cooperation_id)
            record_url = settings.link("cooperations/" + str(change.cooperation_id))
        await _decide(change, ChangeStatus.APPROVED, reviewed_by_id=principal.account_id, reviewed_at=moment,
                      review_note=comment or None, payload=change.payload, cooperation_id=change.cooperation_id)
        await audit.record(AuditAction.CHANGE_APPROVED, actor_id=principal.account_id, actor_role=Role.APPROVER.value,
                           subject_type=subject[0], subject_id=subject[1], details=details)
        await _notify_submitter(change, "change_approved", {
            "approved_at": german_datetime(moment), "comment": comment or None, "record_url": record_url,
        })
        await publication.bump()  # last: after the record locks (see service/publication.py)
    return change


async def reject(principal: Principal, change_id: int, reason: str) -> ChangeRequest:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the change is rejected; the submitter reads the reason.", field="reason")
    if len(reason) > MAX_NOTE:
        raise InvalidInput(f"'reason' is longer than {MAX_NOTE} characters.", field="reason")
    async with in_transaction():
        change = await _reviewable(principal, change_id)
        moment = now()
        await _decide(change, ChangeStatus.REJECTED, reviewed_by_id=principal.account_id, reviewed_at=moment,
                      review_note=reason)
        if change.kind is ChangeKind.DOCUMENT_ADD:
            from service.documents.publishing import reject_proposed

            await reject_proposed(change)
        if change.kind is ChangeKind.CONTACT_CONFIRMATION:
            # The person confirms again; until then they stay hidden.
            await Contact.filter(id=change.contact_id, state=ContactState.AWAITING_APPROVAL).update(
                state=ContactState.INVITED)
        await audit.record(AuditAction.CHANGE_REJECTED, actor_id=principal.account_id, actor_role=Role.APPROVER.value,
                           subject_type="contact" if change.contact_id else "cooperation",
                           subject_id=change.contact_id or change.cooperation_id,
                           details={"changeId": change.id})
        await _notify_submitter(change, "change_rejected", {"reason": reason, "rejected_at": german_datetime(moment)})
    return change


@dataclass(frozen=True)
class ChangeFilter:
    statuses: tuple[ChangeStatus, ...] = (ChangeStatus.PENDING,)
    kinds: tuple[ChangeKind, ...] = ()
    cooperation_id: int | None = None


async def visible_changes(principal: Principal, flt: ChangeFilter, *, limit: int, after_id: int | None) -> list[ChangeRequest]:
    """Approvers see the changes in their scope (the rule approving follows), admins all, everyone their own."""
    require(principal)
    query = ChangeRequest.all()
    if flt.statuses:
        query = query.filter(status__in=list(flt.statuses))
    if flt.kinds:
        query = query.filter(kind__in=list(flt.kinds))
    if flt.cooperation_id:
        query = query.filter(cooperation_id=flt.cooperation_id)
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    if not (principal.has(Role.ADMIN) or principal.has(Role.APPROVER)):
        query = query.filter(submitted_by_id=principal.account_id)
        return await query.order_by("id").limit(limit)
    if principal.has(Role.ADMIN) or None in principal.approver_scopes:
        return await query.order_by("id").limit(limit)
    result: list[ChangeRequest] = []
    # Scope filtering needs each change's organisations; walk in id order until the page is full.
    cursor = after_id
    while len(result) < limit:
        batch = await query.filter(id__gt=cursor or 0).order_by("id").limit(200)
        if not batch:
            break
        loaded = await Batch.load(batch, people=False)  # the scope check for the whole batch at once
        for change in batch:
            if change.submitted_by_id == principal.account_id or loaded.in_scope(principal, change):
                result.append(change)
                if len(result) == limit:
                    break
        if len(batch) < 200:
            break  # that was the last batch
        cursor = batch[-1].id
    return result


async def get_visible(principal: Principal, change_id: int) -> ChangeRequest:
    require(principal)
    change = await ChangeRequest.get_or_none(id=change_id)
    if change is not None:
        if change.submitted_by_id == principal.account_id or principal.has(Role.ADMIN):
            return change
        if await in_scope(principal, change):
            return change
    raise NotFound(f"No change with id {change_id}.")


def ensure_not_self(principal: Principal, change: ChangeRequest) -> None:
    if change.submitted_by_id == principal.account_id:
        raise NotAllowed("You cannot review your own change.")
