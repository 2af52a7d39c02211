"""What admins see of mail delivery, and retrying a mail that failed."""

from __future__ import annotations

from service import audit
from service.accounts.models import Role
from service.accounts.principal import Principal, require
from service.audit import AuditAction
from service.errors import Conflict, NotFound
from service.mail.models import MailStatus, OutboxMail
from service.time import now


async def deliveries(principal: Principal, status: MailStatus | None, *, limit: int, before_id: int | None) -> list[OutboxMail]:
    """Newest first; page with the last id seen."""
    require(principal, Role.ADMIN)
    query = OutboxMail.all()
    if status is not None:
        query = query.filter(status=status)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)


async def retry(principal: Principal, mail_id: int) -> OutboxMail:
    require(principal, Role.ADMIN)
    mail = await OutboxMail.get_or_none(id=mail_id)
    if mail is None:
        raise NotFound(f"No mail delivery with id {mail_id}.")
    if mail.status is MailStatus.SENT:
        raise Conflict("This mail has been delivered already.")
    if mail.sealed_content is None:
        raise Conflict("This mail's content was erased; it cannot be sent again.")
    if mail.status is MailStatus.SENDING and mail.claimed_until is not None and mail.claimed_until > now():
        raise Conflict("This mail is being sent right now; look again in a moment.")
    # Conditional on the row as read: a worker claiming it meanwhile keeps it (no second send).
    lease = {"claimed_until__isnull": True} if mail.claimed_until is None else {"claimed_until": mail.claimed_until}
    changed = await OutboxMail.filter(id=mail.id, status=mail.status, **lease).update(
        status=MailStatus.PENDING, attempts=0, next_attempt_at=now(), claimed_until=None)
    if not changed:
        raise Conflict("This mail is being sent right now; look again in a moment.")
    await audit.record(AuditAction.MAIL_RETRIED, actor_id=principal.account_id, actor_role=Role.ADMIN.value,
                       subject_type="mail", subject_id=mail.id)
    return await OutboxMail.get(id=mail.id)
