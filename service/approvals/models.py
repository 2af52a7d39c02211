"""Pending changes (proposals) and their review."""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class ChangeKind(str, Enum):
    COOPERATION_CREATE = "COOPERATION_CREATE"
    COOPERATION_UPDATE = "COOPERATION_UPDATE"
    CONTACT_UPDATE = "CONTACT_UPDATE"
    CONTACT_CONFIRMATION = "CONTACT_CONFIRMATION"  # first confirmation with changed data
    DOCUMENT_ADD = "DOCUMENT_ADD"  # a document proposed for a cooperation (service/documents)


class ChangeStatus(str, Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CONFLICTING = "CONFLICTING"  # another change to the same record was approved first
    WITHDRAWN = "WITHDRAWN"  # the record went away (a contact deleted their data)


class ChangeRequest(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ChangeKind, max_length=30)
    status = fields.CharEnumField(ChangeStatus, max_length=20, default=ChangeStatus.PENDING, db_index=True)
    cooperation = fields.ForeignKeyField(
        "ikz.Cooperation", related_name="change_requests", null=True, on_delete=fields.CASCADE, db_index=True
    )
    contact = fields.ForeignKeyField(
        "ikz.Contact", related_name="change_requests", null=True, on_delete=fields.CASCADE, db_index=True
    )
    base_version = fields.IntField(null=True)
    payload = fields.JSONField()
    submitted_by = fields.ForeignKeyField(
        "ikz.Account", related_name="submitted_changes", on_delete=fields.RESTRICT, db_index=True
    )
    submitted_at = fields.DatetimeField(db_index=True)
    reviewed_by = fields.ForeignKeyField(
        "ikz.Account", related_name="reviewed_changes", null=True, on_delete=fields.RESTRICT, db_index=True
    )
    reviewed_at = fields.DatetimeField(null=True)
    review_note = fields.TextField(null=True)
    conflict_reason = fields.TextField(null=True)

    class Meta:
        table = "change_request"
