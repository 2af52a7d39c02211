"""The transactional outbox. A mail is written in the same transaction as the change
that causes it, so a rolled-back change never mails and a committed one always does."""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class MailStatus(str, Enum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class OutboxMail(Model):
    id = fields.IntField(primary_key=True)
    template = fields.CharField(max_length=64)
    recipient = fields.CharField(max_length=254)
    account = fields.ForeignKeyField(
        "ikz.Account", related_name="mails", null=True, on_delete=fields.SET_NULL, db_index=True
    )
    # The change a mail is about (approver notifications): when that change is withdrawn because its
    # submitter deleted their data, its undelivered mails go too (they quote the person's data).
    change = fields.ForeignKeyField(
        "ikz.ChangeRequest", related_name="mails", null=True, on_delete=fields.SET_NULL, db_index=True
    )
    message_id = fields.CharField(max_length=255, unique=True)
    # Subject and bodies, encrypted with a key derived from SECRET_KEY (they can hold an
    # initial password); erased once the mail is delivered.
    sealed_content = fields.TextField(null=True)
    status = fields.CharEnumField(MailStatus, max_length=10, default=MailStatus.PENDING, db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_mail"
