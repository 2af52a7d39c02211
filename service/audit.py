"""The audit trail: append-only entries of who did what, when.

Entries name accounts by id, never by name or username, and keep before/after only
for non-personal fields; so once a person deletes their data the trail holds none of it.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from service.time import now


class AuditAction(str, Enum):
    LOGIN_SUCCEEDED = "LOGIN_SUCCEEDED"
    LOGIN_FAILED = "LOGIN_FAILED"
    CONTACT_CREATED = "CONTACT_CREATED"
    INVITATION_SENT = "INVITATION_SENT"
    ACCOUNT_ACTIVATED = "ACCOUNT_ACTIVATED"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"
    PASSWORD_RESET = "PASSWORD_RESET"
    DATA_CONFIRMED = "DATA_CONFIRMED"
    CHANGE_PROPOSED = "CHANGE_PROPOSED"
    CHANGE_APPROVED = "CHANGE_APPROVED"
    CHANGE_REJECTED = "CHANGE_REJECTED"
    CHANGE_CONFLICTING = "CHANGE_CONFLICTING"
    DIRECT_EDIT = "DIRECT_EDIT"
    CONTACT_DELETED = "CONTACT_DELETED"
    USER_CREATED = "USER_CREATED"
    MAIL_RETRIED = "MAIL_RETRIED"
    USER_DISABLED = "USER_DISABLED"
    DOCUMENT_ATTACHED = "DOCUMENT_ATTACHED"
    DOCUMENT_WITHDRAWN = "DOCUMENT_WITHDRAWN"


class AuditEntry(Model):
    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(db_index=True)
    actor = fields.ForeignKeyField("ikz.Account", related_name="audit_entries", null=True,
                                   on_delete=fields.SET_NULL, db_index=True)
    actor_role = fields.CharField(max_length=20, null=True)
    action = fields.CharField(max_length=40, db_index=True)
    subject_type = fields.CharField(max_length=40, null=True)
    subject_id = fields.IntField(null=True)
    details = fields.JSONField(null=True)

    class Meta:
        table = "audit_entry"


async def record(
    action: AuditAction,
    *,
    actor_id: int | None = None,
    actor_role: str | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an entry (inside the caller's transaction, so it shares its fate)."""
    await AuditEntry.create(
        created_at=now(),
        actor_id=actor_id,
        actor_role=actor_role,
        action=action.value,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
    )


async def entries(*, actions: list[str] | None = None, actor_id: int | None = None, subject_type: str | None = None,
                  subject_id: int | None = None, since=None, until=None, limit: int, before_id: int | None
                  ) -> list[AuditEntry]:
    """Newest first, paged by the last id seen (callers check the ADMIN role)."""
    query = AuditEntry.all()
    if actions:
        query = query.filter(action__in=actions)
    if actor_id is not None:
        query = query.filter(actor_id=actor_id)
    if subject_type:
        query = query.filter(subject_type=subject_type)
    if subject_id is not None:
        query = query.filter(subject_id=subject_id)
    if since is not None:
        query = query.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)
