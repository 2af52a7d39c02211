"""Opaque, revocable sessions with idle and absolute expiry."""

from __future__ import annotations

import datetime as dt

from service.accounts.models import Account, AccountRole, Role, Session
from service.accounts.principal import Principal, RequiredAction
from service.accounts.secrets import keyed_hash, keyed_hashes, new_token
from service.catalogue.models import Contact, ContactState
from service.catalogue.views import as_datetime
from service.config import get_settings
from service.sql import fetch_one, placeholders
from service.time import now

SESSION_PURPOSE = "session"
COOKIE_NAME = "ikz_session"
TOUCH_INTERVAL = dt.timedelta(minutes=1)


async def open_session(account: Account, *, via_initial_password: bool = False) -> tuple[str, Session]:
    settings = get_settings()
    token = new_token()
    moment = now()
    session = await Session.create(
        account_id=account.id,
        token_hmac=keyed_hash(token, SESSION_PURPOSE),
        created_at=moment,
        last_seen_at=moment,
        expires_at=moment + dt.timedelta(hours=settings.session_absolute_hours),
        via_initial_password=via_initial_password,
    )
    return token, session


def idle_deadline(session: Session) -> dt.datetime:
    return session.last_seen_at + dt.timedelta(minutes=get_settings().session_idle_minutes)


_RESOLVE_SQL = (
    "SELECT s.id AS session_id, s.last_seen_at, s.expires_at, s.revoked_at, a.id AS account_id, a.username, "
    "a.is_active, a.deleted_at, a.contact_id, a.password_hash IS NULL AS no_password, c.state AS contact_state, "
    "c.organization_id FROM session s JOIN account a ON a.id = s.account_id "
    "LEFT JOIN contact c ON c.id = a.contact_id WHERE s.token_hmac IN ({keys})"
)


async def resolve(token: str | None) -> Principal | None:
    """The principal of a live session, or None (unknown, expired, revoked, disabled account).

    Two statements on every signed-in request (session with account and contact, then roles),
    a third at most once a minute to record activity.
    """
    if not token or len(token) > 200:
        return None
    hashes = keyed_hashes(token, SESSION_PURPOSE)  # under SECRET_KEY and each fallback
    row = await fetch_one(_RESOLVE_SQL.format(keys=placeholders(len(hashes))), hashes)
    if row is None or row["revoked_at"] is not None or not row["is_active"] or row["deleted_at"] is not None:
        return None
    moment = now()
    last_seen, expires = as_datetime(row["last_seen_at"]), as_datetime(row["expires_at"])
    idle = dt.timedelta(minutes=get_settings().session_idle_minutes)
    if moment >= expires or moment >= last_seen + idle:
        return None
    if moment - last_seen >= TOUCH_INTERVAL:
        await Session.filter(id=row["session_id"]).update(last_seen_at=moment)
    roles = await AccountRole.filter(account_id=row["account_id"]).values("role", "scope_id")
    actions = []
    if row["no_password"]:
        actions.append(RequiredAction.SET_PASSWORD)
    if row["contact_state"] in (ContactState.CREATED.value, ContactState.INVITED.value):
        actions.append(RequiredAction.CONFIRM_DATA)
    return Principal(
        account_id=row["account_id"],
        username=row["username"],
        session_id=row["session_id"],
        roles=frozenset(Role(r["role"]) for r in roles),
        approver_scopes=tuple(r["scope_id"] for r in roles if r["role"] == Role.APPROVER.value),
        contact_id=row["contact_id"],
        organization_id=row["organization_id"],
        required_actions=tuple(actions),
    )


async def principal_for(account: Account, *, session_id: int | None = None) -> Principal:
    roles = await AccountRole.filter(account_id=account.id).values("role", "scope_id")
    role_set = frozenset(Role(r["role"]) for r in roles)
    scopes = tuple(r["scope_id"] for r in roles if r["role"] == Role.APPROVER.value)
    contact = await Contact.get_or_none(id=account.contact_id) if account.contact_id else None
    return Principal(
        account_id=account.id,
        username=account.username,
        session_id=session_id,
        roles=role_set,
        approver_scopes=scopes,
        contact_id=account.contact_id,
        organization_id=contact.organization_id if contact else None,
        required_actions=required_actions(account, contact),
    )


def required_actions(account: Account, contact: Contact | None) -> tuple[RequiredAction, ...]:
    actions = []
    if account.password_hash is None:
        actions.append(RequiredAction.SET_PASSWORD)
    if contact is not None and contact.state in (ContactState.CREATED, ContactState.INVITED):
        actions.append(RequiredAction.CONFIRM_DATA)
    return tuple(actions)


async def revoke(session_id: int) -> None:
    await Session.filter(id=session_id, revoked_at__isnull=True).update(revoked_at=now())


async def revoke_all(account_id: int, *, except_session_id: int | None = None) -> int:
    query = Session.filter(account_id=account_id, revoked_at__isnull=True)
    if except_session_id is not None:
        query = query.exclude(id=except_session_id)
    return await query.update(revoked_at=now())
