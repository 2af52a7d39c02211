"""Signing in and out, changing and resetting passwords.

Every failed login answers the same generic message and costs the same work (one
argon2 verification, even for unknown usernames or accounts that only have an
initial password), so neither the message nor the timing tells whether a username exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from service import audit
from service.accounts import passwords, sessions, throttle
from service.accounts.contact_data import ContactData, addressed_name
from service.accounts.models import Account, OneTimeToken, TokenPurpose
from service.accounts.onboarding import INITIAL_PASSWORD_PURPOSE, TOKEN_PURPOSE, set_first_password
from service.accounts.principal import Principal
from service.accounts.secrets import keyed_hash, keyed_hashes, matches, new_token
from service.audit import AuditAction
from service.catalogue.models import Contact, ContactState, Organization
from service.config import get_settings
from service.errors import InvalidInput, TooManyAttempts, Unauthenticated  # noqa: F401 (TooManyAttempts re-exported)
from service.mail.outbox import enqueue
from service.time import now

LOGIN_FAILED_MESSAGE = "Unknown username or wrong password."


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _initial_password_valid(account: Account, password: str) -> bool:
    if account.password_hash is not None or not account.initial_password_hmac:
        return False
    if account.initial_password_expires_at is None or account.initial_password_expires_at <= now():
        return False
    return matches(password, account.initial_password_hmac, INITIAL_PASSWORD_PURPOSE)


async def login(username: str, password: str, client_address: str | None) -> tuple[str, Principal]:
    name = normalise_username(username)
    # Counted before the password is checked (and refunded on success): under any number of
    # simultaneous attempts, at most the free ones reach the verification.
    attempt = await throttle.begin_login(name, client_address)
    account = await Account.get_or_none(username=name) if name else None
    usable = account is not None and account.is_active and account.deleted_at is None
    via_initial = False
    if usable and account.password_hash:
        ok = await passwords.verify_password(account.password_hash, password)
    else:
        await passwords.verify_password(None, password)  # same cost as a real check
        ok = usable and _initial_password_valid(account, password)
        via_initial = ok
    if not ok:
        await audit.record(AuditAction.LOGIN_FAILED, actor_id=account.id if usable else None,
                           subject_type="account", subject_id=account.id if usable else None)
        raise Unauthenticated(LOGIN_FAILED_MESSAGE)
    async with in_transaction():
        updates = {"last_login_at": now()}
        if account.password_hash and passwords.needs_rehash(account.password_hash):
            updates["password_hash"] = await passwords.hash_password(password)
        await Account.filter(id=account.id).update(**updates)
        await throttle.login_succeeded(attempt)
        token, session = await sessions.open_session(account, via_initial_password=via_initial)
        principal = await sessions.principal_for(account, session_id=session.id)
        await audit.record(AuditAction.LOGIN_SUCCEEDED, actor_id=account.id, actor_role=principal.primary_role,
                           subject_type="account", subject_id=account.id,
                           details={"initialPassword": True} if via_initial else None)
    return token, principal


async def logout(principal: Principal) -> None:
    if principal.session_id is not None:
        await sessions.revoke(principal.session_id)


async def change_password(principal: Principal, current_password: str, new_password: str) -> None:
    """Also the way to leave the initial password behind; ends the account's other sessions."""
    account = await Account.get(id=principal.account_id)
    check = await throttle.begin_current_password_check(account.id)
    if account.password_hash:
        if not await passwords.verify_password(account.password_hash, current_password):
            raise InvalidInput("The current password is not correct.", field="currentPassword")
        await throttle.current_password_confirmed(check)
        passwords.check_policy(new_password, username=account.username)
        if new_password == current_password:
            raise InvalidInput("The new password must differ from the current one.", field="newPassword")
        async with in_transaction():
            await Account.filter(id=account.id).update(
                password_hash=await passwords.hash_password(new_password), password_set_at=now()
            )
            await sessions.revoke_all(account.id, except_session_id=principal.session_id)
            await audit.record(AuditAction.PASSWORD_CHANGED, actor_id=account.id, actor_role=principal.primary_role,
                               subject_type="account", subject_id=account.id)
        return
    await passwords.verify_password(None, current_password)
    if not _initial_password_valid(account, current_password):
        raise InvalidInput("The current password is not correct.", field="currentPassword")
    await throttle.current_password_confirmed(check)
    async with in_transaction():
        await set_first_password(account, new_password)
        await sessions.revoke_all(account.id, except_session_id=principal.session_id)


async def activate_with_token(token: str, new_password: str) -> tuple[str, Principal]:
    """Set the first password through the activation link; returns a signed-in session."""
    from service.accounts.onboarding import TokenInvalid, find_activation

    try:
        activation = await find_activation(token)
    except TokenInvalid:
        raise InvalidInput(
            "This activation link is unknown, already used or expired. Ask the ministry for a new invitation.",
            field="token",
        ) from None
    async with in_transaction():
        await set_first_password(activation.account, new_password, token_id=activation.token_id)
        account = await Account.get(id=activation.account.id)
        session_token, session = await sessions.open_session(account)
        principal = await sessions.principal_for(account, session_id=session.id)
    return session_token, principal


@dataclass
class Invitation:
    """What an activation link's holder may see: the account and the data they are asked to confirm."""

    username: str
    contact: Contact | None
    municipality: str | None


async def describe_invitation(token: str) -> Invitation | None:
    """The invitation behind a valid activation token; None for an unknown, used or expired one."""
    from service.accounts.onboarding import TokenInvalid, find_activation

    try:
        activation = await find_activation(token)
    except TokenInvalid:
        return None
    contact = activation.contact
    org = await Organization.get_or_none(id=contact.organization_id) if contact and contact.organization_id else None
    return Invitation(username=activation.account.username, contact=contact, municipality=org.name if org else None)


async def accept_invitation(token: str, new_password: str, data: ContactData | None,
                            consent: bool) -> tuple[str, ContactState | None]:
    """The activation page in one transaction: the first password and, for a contact person, the
    confirmation of their data with consent. Nothing is kept (the link stays usable) if a part fails.
    Opens no session; returns the username and the contact's new state (None without a contact)."""
    from service.accounts import self_service
    from service.accounts.onboarding import TokenInvalid, find_activation

    try:
        activation = await find_activation(token)
    except TokenInvalid:
        raise InvalidInput(
            "This activation link is unknown, already used or expired. Ask the ministry for a new invitation.",
            field="token",
        ) from None
    if activation.contact is not None and data is None:
        raise InvalidInput("Confirm your contact data with the password.", field="input")
    state = None
    async with in_transaction():
        await set_first_password(activation.account, new_password, token_id=activation.token_id)
        if activation.contact is not None:
            account = await Account.get(id=activation.account.id)
            who = await sessions.principal_for(account)
            state = (await self_service.confirm_my_data(who, data, consent)).state
    return activation.account.username, state


async def request_password_reset(username_or_email: str, client_address: str | None = None) -> None:
    """Mail a one-time reset link to matching activated accounts; silent otherwise.

    Throttled per client address (every request counts, whether or not an account matches) and per
    account (one mail per 5 minutes, a few a day): the answer is the same either way. The account's
    count and its mail are written in one transaction, so simultaneous requests send one mail.
    """
    value = (username_or_email or "").strip()
    if not value or len(value) > 254:
        return
    if not await throttle.take_reset_address(client_address):
        return
    settings = get_settings()
    if "@" in value:
        accounts = await Account.filter(email__iexact=value, is_active=True, deleted_at__isnull=True,
                                        password_hash__isnull=False)
    else:
        accounts = await Account.filter(username=normalise_username(value), is_active=True,
                                        deleted_at__isnull=True, password_hash__isnull=False)
    for account in accounts:
        async with in_transaction() as conn:
            if not await throttle.take_reset_account(conn, account.id):
                continue
            token = new_token()
            moment = now()
            await OneTimeToken.filter(account_id=account.id, purpose=TokenPurpose.PASSWORD_RESET,
                                      used_at__isnull=True).update(used_at=moment)
            await OneTimeToken.create(
                account_id=account.id, purpose=TokenPurpose.PASSWORD_RESET,
                token_hmac=keyed_hash(token, TOKEN_PURPOSE),
                expires_at=moment + dt.timedelta(minutes=settings.reset_ttl_minutes),
            )
            await enqueue(
                "password_reset",
                account.email,
                {"recipient_name": await addressed_name(account), "username": account.username,
                 "reset_url": settings.link("reset-password", token=token), "valid_minutes": settings.reset_ttl_minutes},
                account_id=account.id,
            )


async def reset_password(token: str, new_password: str) -> None:
    invalid = InvalidInput("This reset link is unknown, already used or expired. Ask for a new one.", field="token")
    if not token or len(token) > 200:
        raise invalid
    row = await OneTimeToken.filter(
        token_hmac__in=keyed_hashes(token, TOKEN_PURPOSE), purpose=TokenPurpose.PASSWORD_RESET
    ).select_related("account").first()
    if row is None or row.used_at is not None or row.expires_at <= now():
        raise invalid
    account = row.account
    if not account.is_active or account.deleted_at is not None:
        raise invalid
    passwords.check_policy(new_password, username=account.username)
    async with in_transaction():
        used = await OneTimeToken.filter(id=row.id, used_at__isnull=True).update(used_at=now())
        if not used:
            raise invalid
        await Account.filter(id=account.id).update(
            password_hash=await passwords.hash_password(new_password), password_set_at=now()
        )
        await sessions.revoke_all(account.id)
        await audit.record(AuditAction.PASSWORD_RESET, actor_id=account.id, subject_type="account",
                           subject_id=account.id)
