"""What a contact person does with their own data: confirm, change, delete, export.

Personal contact data can be changed or deleted only by the person themselves; changes
wait for the ministry's approval, a deletion takes effect at once and erases the data.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from service import audit, publication
from service.accounts import sessions
from service.accounts.contact_data import ContactData, differences, normalise
from service.accounts.models import Account, AccountRole, OneTimeToken, Role, Session
from service.accounts.principal import Principal, RequiredAction, require
from service.approvals import scopes
from service.approvals.changes import ERASED, check_base_version, lock_own_contact, submit
from service.approvals.models import ChangeKind, ChangeRequest, ChangeStatus
from service.audit import AuditAction, AuditEntry
from service.documents.publishing import erase_unpublished_documents
from service.catalogue.models import Contact, ContactCooperation, ContactState, Cooperation, Organization
from service.errors import ActionRequired, Conflict, InvalidInput, NotAllowed
from service.mail.models import MailStatus, OutboxMail
from service.mail.outbox import enqueue
from service.time import german_datetime, now

PASSWORD_FIRST_MESSAGE = (
    "Set your own password first (changePassword), then confirm your data. / "
    "Bitte legen Sie zuerst Ihr eigenes Passwort fest und bestätigen Sie danach Ihre Daten."
)
PERSONAL_FIELDS = ("salutation", "title", "first_name", "last_name", "function", "email", "phone")


async def _own_contact(principal: Principal) -> Contact:
    if principal.contact_id is None:
        raise NotAllowed("Only contact persons have contact data of their own.")
    contact = await Contact.get_or_none(id=principal.contact_id)
    if contact is None or contact.state is ContactState.DELETED:
        raise NotAllowed("Your contact data no longer exist.")
    return contact


async def confirm_my_data(principal: Principal, data: ContactData, consent: bool) -> Contact:
    """The first confirmation: unchanged data go public at once, changed data after approval."""
    require(principal, allow_pending_actions=True)
    await _own_contact(principal)
    # Read from the account, not from the session: a session opened with the initial password
    # must set the person's own password before anything is published.
    if await Account.filter(id=principal.account_id, password_hash__isnull=True).exists():
        raise ActionRequired(PASSWORD_FIRST_MESSAGE, details={"requiredActions": RequiredAction.SET_PASSWORD.value})
    if consent is not True:
        raise InvalidInput("Your data are published only with your consent: tick the consent box.", field="consent")
    data = normalise(data)
    moment = now()
    async with in_transaction():
        # Locked and checked again inside: two confirmations at once must not both submit.
        contact = await lock_own_contact(principal)
        if contact.state not in (ContactState.CREATED, ContactState.INVITED):
            raise Conflict("Your data are already confirmed; use updateMyContact to change them.")
        current = ContactData.of(contact)
        await Contact.filter(id=contact.id).update(consent_at=moment, confirmed_at=moment)
        if not differences(current, data):
            await Contact.filter(id=contact.id).update(state=ContactState.PUBLIC)
        else:
            await Contact.filter(id=contact.id).update(state=ContactState.AWAITING_APPROVAL)
            await submit(principal, ChangeKind.CONTACT_CONFIRMATION,
                         {"before": current.to_json(), "after": data.to_json()},
                         contact_id=contact.id, base_version=contact.version)
        await audit.record(AuditAction.DATA_CONFIRMED, actor_id=principal.account_id, actor_role=Role.CONTACT.value,
                           subject_type="contact", subject_id=contact.id,
                           details={"changed": [f for f, _, _ in differences(current, data)]})
        if not differences(current, data):
            await publication.bump()  # the person is public from now on
    return await Contact.get(id=contact.id)


async def update_my_contact(principal: Principal, data: ContactData, base_version: int | None) -> ChangeRequest:
    """Propose new contact data; checked against the locked contact row, so a deletion or an
    approval that lands meanwhile is seen (no proposal for erased data, no stale base version)."""
    require(principal, Role.CONTACT)
    await _own_contact(principal)
    data = normalise(data)
    async with in_transaction():
        contact = await lock_own_contact(principal)
        if contact.state not in (ContactState.PUBLIC, ContactState.AWAITING_APPROVAL):
            raise Conflict("Confirm your data first (confirmMyData).")
        check_base_version(contact.version, base_version)
        current = ContactData.of(contact)
        if not differences(current, data):
            raise InvalidInput("The proposal does not change anything.")
        return await submit(principal, ChangeKind.CONTACT_UPDATE, {"before": current.to_json(), "after": data.to_json()},
                            contact_id=contact.id, base_version=base_version)


WITHDRAWN_REASON = "The contact person deleted their data; the proposal was withdrawn."


async def delete_my_contact(principal: Principal) -> None:
    """Erase the person's data at once; the account is disabled, the username stays reserved.

    Every proposal the person submitted that is still pending is withdrawn and its data
    erased (it may hold their name or phone in a free text), so it can never be approved
    and published afterwards. Approved changes stay: their content is the public record.
    """
    require(principal, Role.CONTACT, allow_pending_actions=True)
    await _own_contact(principal)
    moment = now()
    async with in_transaction():
        # Lock order as for approvals: contact, then the cooperations concerned (in id order), then change rows.
        contact = await lock_own_contact(principal)
        organization = await Organization.get_or_none(id=contact.organization_id) if contact.organization_id else None
        mine = Q(submitted_by_id=principal.account_id) | Q(contact_id=contact.id)
        cooperation_ids = sorted(set(await ChangeRequest.filter(
            mine, status=ChangeStatus.PENDING, cooperation_id__isnull=False).values_list("cooperation_id", flat=True)))
        if cooperation_ids:
            await Cooperation.select_for_update().filter(id__in=cooperation_ids).order_by("id")
        await Contact.filter(id=contact.id).update(
            state=ContactState.DELETED, consent_at=None, confirmed_at=None, updated_at=moment,
            **{f: None for f in PERSONAL_FIELDS},
        )
        await ContactCooperation.filter(contact_id=contact.id).delete()
        await ChangeRequest.filter(mine, status=ChangeStatus.PENDING).update(
            status=ChangeStatus.WITHDRAWN, conflict_reason=WITHDRAWN_REASON)
        await erase_unpublished_documents(principal.account_id)
        # Mails about the person's changes quote their name and data: undelivered ones are dropped.
        concerning = await ChangeRequest.filter(Q(contact_id=contact.id) | Q(submitted_by_id=principal.account_id)
                                                ).values_list("id", flat=True)
        if concerning:
            await OutboxMail.filter(change_id__in=list(concerning), status__in=[
                MailStatus.PENDING, MailStatus.FAILED, MailStatus.SENDING]).delete()
        # Contact changes are the person's data whatever their status; proposals unless published.
        await ChangeRequest.filter(Q(contact_id=contact.id) | Q(submitted_by_id=principal.account_id,
                                                                 status__not=ChangeStatus.APPROVED)).update(
            payload=ERASED)
        await Account.filter(id=principal.account_id).update(
            is_active=False, deleted_at=moment, email=None, first_name=None, last_name=None,
            password_hash=None, initial_password_hmac=None, initial_password_expires_at=None,
        )
        await OneTimeToken.filter(account_id=principal.account_id).delete()
        await sessions.revoke_all(principal.account_id)
        # Mails to the person: undelivered ones are dropped, delivered ones lose the address.
        await OutboxMail.filter(account_id=principal.account_id, status__in=[MailStatus.PENDING, MailStatus.FAILED,
                                                                            MailStatus.SENDING]).delete()
        await OutboxMail.filter(account_id=principal.account_id).update(recipient="(gelöscht)", sealed_content=None)
        await audit.record(AuditAction.CONTACT_DELETED, actor_id=principal.account_id, actor_role=Role.CONTACT.value,
                           subject_type="contact", subject_id=contact.id,
                           details={"organizationId": contact.organization_id})
        if contact.organization_id:
            for approver in await scopes.approvers_covering([contact.organization_id]):
                if approver.email:
                    await enqueue("contact_deleted", approver.email, {
                        "approver_name": approver.staff_name,
                        "organization_name": organization.name if organization else None,
                        "deleted_at": german_datetime(moment),
                    }, account_id=approver.id)
        await publication.bump()  # last: after the record locks (see service/publication.py)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


async def my_data(principal: Principal) -> dict[str, Any]:
    """Everything the service holds about the signed-in person, as one document."""
    require(principal, allow_pending_actions=True)
    account = await Account.get(id=principal.account_id)
    roles = await AccountRole.filter(account_id=account.id).values("role", "scope_id")
    document: dict[str, Any] = {
        "exportedAt": now().isoformat(),
        "account": {
            "id": account.id, "username": account.username, "email": account.email,
            "firstName": account.first_name, "lastName": account.last_name,
            "roles": [{"role": r["role"], "scopeOrganizationId": r["scope_id"]} for r in roles],
            "createdAt": _iso(account.created_at), "invitedAt": _iso(account.invited_at),
            "passwordSetAt": _iso(account.password_set_at), "lastLoginAt": _iso(account.last_login_at),
        },
        "contact": None,
        "sessions": [
            {"createdAt": _iso(s.created_at), "lastSeenAt": _iso(s.last_seen_at), "expiresAt": _iso(s.expires_at),
             "revokedAt": _iso(s.revoked_at)}
            for s in await Session.filter(account_id=account.id).order_by("id")
        ],
        "changes": [
            {"id": c.id, "kind": c.kind.value, "status": c.status.value, "submittedAt": _iso(c.submitted_at),
             "reviewedAt": _iso(c.reviewed_at), "reviewNote": c.review_note, "proposal": c.payload}
            for c in await ChangeRequest.filter(submitted_by_id=account.id).order_by("id")
        ],
        "mails": [
            {"template": m.template, "status": m.status.value, "createdAt": _iso(m.created_at), "sentAt": _iso(m.sent_at)}
            for m in await OutboxMail.filter(account_id=account.id).order_by("id")
        ],
        "auditTrail": [
            {"at": _iso(e.created_at), "action": e.action, "subjectType": e.subject_type, "subjectId": e.subject_id}
            for e in await AuditEntry.filter(actor_id=account.id).order_by("id")
        ],
    }
    if account.contact_id:
        contact = await Contact.get(id=account.contact_id)
        organization = await Organization.get_or_none(id=contact.organization_id) if contact.organization_id else None
        cooperation_ids = await ContactCooperation.filter(contact_id=contact.id).values_list("cooperation_id", flat=True)
        document["contact"] = {
            "id": contact.id, "state": contact.state.value,
            **{"".join(w.capitalize() if i else w for i, w in enumerate(f.split("_"))): getattr(contact, f)
               for f in PERSONAL_FIELDS},
            "organization": {"id": organization.id, "name": organization.name} if organization else None,
            "cooperations": [
                {"id": c["id"], "title": c["title"]}
                for c in await Cooperation.filter(id__in=list(cooperation_ids)).order_by("id").values("id", "title")
            ],
            "consentAt": _iso(contact.consent_at), "confirmedAt": _iso(contact.confirmed_at),
            "lastApprovedChangeAt": _iso(contact.last_approved_change_at), "version": contact.version,
        }
    return document
