"""Accounts, roles, one-time tokens, sessions and login throttling.

Secrets are never stored: user-chosen passwords as argon2id hashes, every random
token (initial password, activation, reset, session) as an HMAC-SHA256 keyed with
SECRET_KEY.
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class Role(str, Enum):
    ADMIN = "ADMIN"  # creates contacts and accounts, sees mail deliveries
    APPROVER = "APPROVER"  # reviews changes, optionally scoped to a state or district
    CONTACT = "CONTACT"  # a contact person's own account


class TokenPurpose(str, Enum):
    ACTIVATION = "ACTIVATION"
    PASSWORD_RESET = "PASSWORD_RESET"


class Account(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=254, null=True)
    first_name = fields.CharField(max_length=100, null=True)
    last_name = fields.CharField(max_length=100, null=True)
    contact = fields.OneToOneField(
        "ikz.Contact", related_name="account", null=True, on_delete=fields.RESTRICT, db_index=True
    )
    password_hash = fields.CharField(max_length=255, null=True)
    password_set_at = fields.DatetimeField(null=True)
    initial_password_hmac = fields.CharField(max_length=64, null=True)
    initial_password_expires_at = fields.DatetimeField(null=True)
    invited_at = fields.DatetimeField(null=True)
    is_active = fields.BooleanField(default=True)
    deleted_at = fields.DatetimeField(null=True)
    last_login_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"

    @property
    def staff_name(self) -> str:
        """How mails address a ministry account (contact persons are addressed by their contact data)."""
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.username


class AccountRole(Model):
    id = fields.IntField(primary_key=True)
    account = fields.ForeignKeyField("ikz.Account", related_name="roles", on_delete=fields.CASCADE, db_index=True)
    role = fields.CharEnumField(Role, max_length=20)
    scope = fields.ForeignKeyField(
        "ikz.Organization", related_name="approver_roles", null=True, on_delete=fields.RESTRICT, db_index=True
    )

    class Meta:
        table = "account_role"
        unique_together = (("account", "role", "scope"),)


class OneTimeToken(Model):
    id = fields.IntField(primary_key=True)
    account = fields.ForeignKeyField("ikz.Account", related_name="tokens", on_delete=fields.CASCADE, db_index=True)
    purpose = fields.CharEnumField(TokenPurpose, max_length=20)
    token_hmac = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "one_time_token"


class Session(Model):
    id = fields.IntField(primary_key=True)
    account = fields.ForeignKeyField("ikz.Account", related_name="sessions", on_delete=fields.CASCADE, db_index=True)
    token_hmac = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    via_initial_password = fields.BooleanField(default=False)

    class Meta:
        table = "session"


class LoginThrottle(Model):
    """One throttle counter per key (see service.accounts.throttle): failed or pending sign-ins per
    address, per (username, address) and per username; password-reset mails per account and address.

    Times are epoch milliseconds so that the one atomic upsert can compute a wait in plain SQL on
    SQLite and PostgreSQL alike.
    """

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=100, unique=True)
    count = fields.IntField(default=0)  # attempts let through in the current window
    refused = fields.IntField(default=0)  # attempts refused (not verified) in the current window
    window_started_ms = fields.BigIntField()
    last_ms = fields.BigIntField()
    blocked_until_ms = fields.BigIntField(null=True)

    class Meta:
        table = "throttle"
