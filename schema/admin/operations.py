"""ADMIN views: mail deliveries, the audit trail, the contact persons."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from service import audit
from service.accounts.models import Account, Role
from service.audit import AuditAction, AuditEntry
from service.catalogue.models import Contact, ContactState
from service.errors import InvalidInput
from service.accounts import contact_records, staff
from service.mail import admin as mail_admin
from service.mail.models import MailStatus, OutboxMail
from schema.accounts.types import ContactRecord, ContactStateEnum, RoleAssignment, RoleEnum, contact_record, contact_record_of
from schema.auth import principal
from schema.common import parse_id, require_text

MailStatusEnum = strawberry.enum(MailStatus, name="MailStatus")
AuditActionEnum = strawberry.enum(AuditAction, name="AuditAction")


def _page_size(first: int) -> int:
    if not 1 <= first <= 100:
        raise InvalidInput("'first' must be between 1 and 100.", field="first")
    return first


@strawberry.type
class MailDelivery:
    id: strawberry.ID
    template: str
    recipient: str
    status: MailStatusEnum
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    message_id: str


def mail_object(mail: OutboxMail) -> MailDelivery:
    return MailDelivery(
        id=strawberry.ID(str(mail.id)), template=mail.template, recipient=mail.recipient, status=mail.status,
        attempts=mail.attempts, last_error=mail.last_error, created_at=mail.created_at,
        next_attempt_at=mail.next_attempt_at if mail.status is MailStatus.PENDING else None,
        sent_at=mail.sent_at, message_id=mail.message_id,
    )


@strawberry.type(description="One entry of the audit trail. Accounts appear by id and, while they exist, username.")
class AuditLogEntry:
    id: strawberry.ID
    at: dt.datetime
    action: AuditActionEnum
    actor_id: strawberry.ID | None
    actor_role: str | None
    subject_type: str | None
    subject_id: strawberry.ID | None
    details: JSON | None
    known_usernames: strawberry.Private[dict[int, str] | None] = None

    @strawberry.field(description="Username of the actor; null once the account was deleted.")
    async def actor_username(self) -> str | None:
        if self.actor_id is None:
            return None
        if self.known_usernames is not None:  # looked up for the whole page at once
            return self.known_usernames.get(int(self.actor_id))
        account = await Account.get_or_none(id=int(self.actor_id), deleted_at__isnull=True)
        return account.username if account else None


def audit_object(entry: AuditEntry) -> AuditLogEntry:
    return AuditLogEntry(
        id=strawberry.ID(str(entry.id)), at=entry.created_at, action=AuditAction(entry.action),
        actor_id=strawberry.ID(str(entry.actor_id)) if entry.actor_id else None, actor_role=entry.actor_role,
        subject_type=entry.subject_type,
        subject_id=strawberry.ID(str(entry.subject_id)) if entry.subject_id is not None else None,
        details=entry.details,
    )


@strawberry.input
class AuditLogFilter:
    actions: list[AuditActionEnum] | None = None
    actor_id: strawberry.ID | None = None
    subject_type: str | None = None
    subject_id: strawberry.ID | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@strawberry.type(description="A ministry account (admin or approver).")
class StaffAccount:
    id: strawberry.ID
    username: str
    email: str | None
    name: str | None
    active: bool
    last_login_at: dt.datetime | None
    roles: list[RoleAssignment]


@strawberry.type
class StaffQuery:
    @strawberry.field(description=(
        "ADMIN: the ministry's accounts (admins, approvers) by username, at most 200; `search` keeps those "
        "whose username, name or e-mail address contains every word."))
    async def staff_accounts(self, info: Info, search: str | None = None) -> list[StaffAccount]:
        rows = await staff.list_staff(principal(info, Role.ADMIN), search=search)
        return [StaffAccount(id=strawberry.ID(str(a.id)), username=a.username, email=a.email, name=a.staff_name,
                             active=a.is_active, last_login_at=a.last_login_at,
                             roles=[RoleAssignment(role=r.role, scope_id=r.scope_id) for r in roles])
                for a, roles in rows]


@strawberry.type
class StaffMutation:
    @strawberry.mutation(description=(
        "ADMIN: create an approver (scope: state or district key/AGS; empty = everything) or an admin; "
        "the person is mailed a link to set their password."))
    async def create_staff_account(self, info: Info, username: str, email: str, first_name: str, last_name: str,
                                   role: RoleEnum,
                                   scope: str | None = None) -> strawberry.ID:
        account = await staff.create_staff(principal(info, Role.ADMIN), username=username, email=email,
                                           first_name=first_name, last_name=last_name, role=Role(role), scope=scope)
        return strawberry.ID(str(account.id))

    @strawberry.mutation(description="ADMIN: disable a ministry account; its sessions end at once.")
    async def disable_staff_account(self, info: Info, id: strawberry.ID) -> bool:
        await staff.disable_staff(principal(info, Role.ADMIN), parse_id(id, "account"))
        return True


@strawberry.type(description="What an import did: created rows, and skipped or bad rows by line number.")
class ImportLine:
    line: int
    message: str


@strawberry.type
class ImportResult:
    created: int
    skipped: list[ImportLine]
    errors: list[ImportLine]


@strawberry.type(description="Invitation mails by delivery state (the mail worker sends them in the background).")
class InvitationProgress:
    pending: int = strawberry.field(description="Contacts created but not invited yet (nor queued for it).")
    queued: int = strawberry.field(description="Contacts queued for the bulk invitation plus invitation mails "
                                               "waiting to be sent.")
    sent: int
    failed: int


@strawberry.type
class ImportQuery:
    @strawberry.field(description="ADMIN: contacts waiting for an invitation, and the invitation mails by state.")
    async def invitation_progress(self, info: Info) -> InvitationProgress:
        principal(info, Role.ADMIN)
        from service.accounts.bulk_invitations import pending_count, queued_count

        pending = await pending_count()
        counts = {s: await OutboxMail.filter(template="invitation", status=s).count() for s in MailStatus}
        return InvitationProgress(pending=pending,
                                  queued=await queued_count() + counts[MailStatus.PENDING] + counts[MailStatus.SENDING],
                                  sent=counts[MailStatus.SENT], failed=counts[MailStatus.FAILED])


@strawberry.type
class ImportMutation:
    @strawberry.mutation(description="ADMIN: import contact persons from CSV text (the `ikz contacts import` format).")
    async def import_contacts(self, info: Info, csv: str) -> ImportResult:
        from service.accounts.importing import import_contacts_text

        who = principal(info, Role.ADMIN)
        if len(csv) > 2_000_000:
            raise InvalidInput("The CSV is larger than 2 MB; split it.", field="csv")
        report = await import_contacts_text(csv, actor=who)
        return ImportResult(created=report.created, skipped=[ImportLine(line=l, message=m) for l, m in report.skipped],
                            errors=[ImportLine(line=l, message=m) for l, m in report.errors])

    @strawberry.mutation(description="ADMIN: queue every contact not yet invited for the invitation; returns how many "
                                      "were queued. The mail worker opens the accounts and sends the mails in the "
                                      "background (see invitationProgress).")
    async def invite_pending_contacts(self, info: Info) -> int:
        from service.accounts.bulk_invitations import queue_pending
        from service.mail.worker import wake

        queued = await queue_pending(principal(info, Role.ADMIN))
        if queued:
            wake()
        return queued


@strawberry.type
class AdminQuery(StaffQuery, ImportQuery):
    @strawberry.field(description="ADMIN: mail deliveries, newest first; page with 'before' (the last id seen).")
    async def mail_deliveries(self, info: Info, status: MailStatusEnum | None = None, first: int = 50,
                              before: strawberry.ID | None = None) -> list[MailDelivery]:
        who = principal(info, Role.ADMIN)
        rows = await mail_admin.deliveries(who, status, limit=_page_size(first),
                                           before_id=parse_id(before, "mail", field="before") if before else None)
        return [mail_object(m) for m in rows]

    @strawberry.field(description="ADMIN: the audit trail, newest first; page with 'after' (the last id seen).")
    async def audit_log(self, info: Info, filter: AuditLogFilter | None = None, first: int = 50,
                        after: strawberry.ID | None = None) -> list[AuditLogEntry]:
        principal(info, Role.ADMIN)
        flt = filter or AuditLogFilter()
        rows = await audit.entries(
            actions=[a.value for a in flt.actions] if flt.actions else None,
            actor_id=parse_id(flt.actor_id, "account", field="actorId") if flt.actor_id else None,
            subject_type=require_text(flt.subject_type, "subjectType", 40),
            subject_id=parse_id(flt.subject_id, "record", field="subjectId") if flt.subject_id else None,
            since=flt.since, until=flt.until, limit=_page_size(first),
            before_id=parse_id(after, "entry", field="after") if after else None,
        )
        entries = [audit_object(e) for e in rows]
        actor_ids = {e.actor_id for e in rows if e.actor_id}
        names = dict(await Account.filter(id__in=list(actor_ids), deleted_at__isnull=True).values_list("id", "username")) \
            if actor_ids else {}
        for entry in entries:
            entry.known_usernames = names
        return entries

    @strawberry.field(description="ADMIN: contact persons of every state except deleted, by name.")
    async def contact_persons(self, info: Info, states: list[ContactStateEnum] | None = None,
                              municipality_id: strawberry.ID | None = None, first: int = 50,
                              after: strawberry.ID | None = None, search: str | None = None) -> list[ContactRecord]:
        principal(info, Role.ADMIN)
        query = Contact.exclude(state=ContactState.DELETED)
        if search and search.strip():
            from tortoise.expressions import Q

            words = search.strip()[:100].split()[:5]
            for word in words:
                query = query.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word)
                                     | Q(email__icontains=word))
        if states:
            query = query.filter(state__in=list(states))
        if municipality_id:
            query = query.filter(organization_id=parse_id(municipality_id, "municipal body", field="municipalityId"))
        if after:
            query = query.filter(id__gt=parse_id(after, "contact person", field="after"))
        rows = await query.order_by("id").limit(_page_size(first))
        accounts = await contact_records.accounts_of_contacts([c.id for c in rows])
        return [contact_record_of(c, accounts.get(c.id)) for c in rows]

    @strawberry.field(description="ADMIN: one contact person (any state but deleted).")
    async def contact_person(self, info: Info, id: strawberry.ID) -> ContactRecord | None:
        principal(info, Role.ADMIN)
        contact = await Contact.exclude(state=ContactState.DELETED).get_or_none(id=parse_id(id, "contact person"))
        return await contact_record(contact) if contact else None


@strawberry.type
class AdminMutation(StaffMutation, ImportMutation):
    @strawberry.mutation(description="ADMIN: send a failed (or waiting) mail again now.")
    async def retry_mail_delivery(self, info: Info, id: strawberry.ID) -> MailDelivery:
        who = principal(info, Role.ADMIN)
        return mail_object(await mail_admin.retry(who, parse_id(id, "mail delivery")))

