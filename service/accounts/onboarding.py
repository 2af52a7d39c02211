"""Onboarding contact persons, as the ministry letter describes it.

The ministry creates a contact person; the service gives them a username (first
initial + surname) and an initial password, mails both with an activation link, and
keeps the person out of the public catalogue until they have set a password and
confirmed their data with consent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service import audit
from service.accounts import passwords
from service.accounts.contact_data import ContactData, display_name, normalise
from service.accounts.models import Account, AccountRole, OneTimeToken, Role, TokenPurpose
from service.accounts.principal import Principal
from service.accounts.secrets import keyed_hash, keyed_hashes, matches, new_initial_password, new_token
from service.accounts.usernames import username_candidates
from service.audit import AuditAction
from service.catalogue.models import (
    Contact,
    ContactCooperation,
    ContactState,
    CooperationPartner,
    Organization,
    OrganizationKind,
)
from service.config import get_settings
from service.errors import Conflict, InvalidInput, NotFound
from service.mail.outbox import enqueue
from service.time import german_date, now

INITIAL_PASSWORD_PURPOSE = "initial-password"
TOKEN_PURPOSE = "one-time-token"
USERNAME_BATCH = 16


class TokenInvalid(Exception):
    """The link is unknown, used or expired; the page says so and whom to ask."""


@dataclass
class NewContact:
    organization_id: int
    data: ContactData
    cooperation_ids: tuple[int, ...] = ()


async def _check_references(new: NewContact) -> Organization:
    org = await Organization.get_or_none(id=new.organization_id)
    if org is None or org.kind is OrganizationKind.OTHER:
        raise NotFound(f"No municipal body with id {new.organization_id}.", field="organizationId")
    if new.cooperation_ids:
        partnered = set(
            await CooperationPartner.filter(
                organization_id=new.organization_id, cooperation_id__in=list(new.cooperation_ids)
            ).values_list("cooperation_id", flat=True)
        )
        missing = [c for c in new.cooperation_ids if c not in partnered]
        if missing:
            raise InvalidInput(
                f"Cooperation {missing[0]} does not exist or does not have this municipality as a partner.",
                field="cooperationIds",
            )
    return org


def _actor(actor: Principal | None) -> dict:
    return {"actor_id": actor.account_id if actor else None, "actor_role": actor.primary_role if actor else "SYSTEM"}


async def _store_contact(new: NewContact, state: ContactState, actor: Principal | None,
                         key: str | None = None) -> tuple[Contact, Organization]:
    new.data = normalise(new.data)
    org = await _check_references(new)
    contact = await Contact.create(key=key, organization_id=new.organization_id, state=state, **new.data.to_json())
    if new.cooperation_ids:
        await ContactCooperation.bulk_create(
            [ContactCooperation(contact_id=contact.id, cooperation_id=c) for c in new.cooperation_ids]
        )
    await audit.record(
        AuditAction.CONTACT_CREATED, **_actor(actor), subject_type="contact", subject_id=contact.id,
        details={"organizationId": new.organization_id, "cooperationIds": list(new.cooperation_ids)},
    )
    return contact, org


async def create_contact(new: NewContact, *, actor: Principal | None, key: str | None = None) -> Contact:
    """Store a contact person, not yet invited (bulk import). Call inside a transaction."""
    contact, _ = await _store_contact(new, ContactState.CREATED, actor, key)
    return contact


async def allocate_username(first_name: str, last_name: str) -> str:
    """The first free candidate; usernames of deleted accounts stay taken (never reused)."""
    candidates = username_candidates(first_name, last_name)
    while True:
        batch = [next(candidates) for _ in range(USERNAME_BATCH)]
        taken = set(await Account.filter(username__in=batch).values_list("username", flat=True))
        for candidate in batch:
            if candidate not in taken:
                return candidate


@dataclass
class _Invitation:
    initial_password: str
    token: str
    expires: dt.datetime


def _new_invitation() -> _Invitation:
    moment = now()
    return _Invitation(new_initial_password(), new_token(),
                       moment + dt.timedelta(days=get_settings().activation_ttl_days))


async def _mail_invitation(account: Account, contact: Contact, org: Organization | None, invitation: _Invitation,
                           *, resend: bool) -> None:
    await OneTimeToken.create(
        account_id=account.id, purpose=TokenPurpose.ACTIVATION,
        token_hmac=keyed_hash(invitation.token, TOKEN_PURPOSE), expires_at=invitation.expires,
    )
    await enqueue(
        "invitation",
        contact.email,
        {
            "recipient_name": display_name(contact),
            "username": account.username,
            "initial_password": invitation.initial_password,
            "activation_url": get_settings().link("activate", token=invitation.token),
            "expires_on": german_date(invitation.expires),
            "organization_name": org.name if org else "",
            "is_resend": resend,
        },
        account_id=account.id,
    )


async def _open_account(contact: Contact, org: Organization | None, actor: Principal | None) -> Account:
    """Username, account, role, initial password, activation link and mail. Call inside a transaction."""
    invitation = _new_invitation()
    account = await Account.create(
        username=await allocate_username(contact.first_name or "", contact.last_name or ""),
        email=contact.email,
        contact_id=contact.id,
        initial_password_hmac=keyed_hash(invitation.initial_password, INITIAL_PASSWORD_PURPOSE),
        initial_password_expires_at=invitation.expires,
        invited_at=now(),
    )
    await AccountRole.create(account_id=account.id, role=Role.CONTACT)
    await _mail_invitation(account, contact, org, invitation, resend=False)
    await audit.record(AuditAction.INVITATION_SENT, **_actor(actor), subject_type="contact", subject_id=contact.id,
                       details={"accountId": account.id})
    return account


async def invite(contact: Contact, *, actor: Principal | None) -> Account:
    """Give a created contact an account and mail the invitation. Call inside a transaction."""
    if contact.state is not ContactState.CREATED:
        raise Conflict("This contact person has already been invited.")
    await Contact.filter(id=contact.id).update(state=ContactState.INVITED)
    contact.state = ContactState.INVITED
    org = await Organization.get_or_none(id=contact.organization_id) if contact.organization_id else None
    return await _open_account(contact, org, actor)


async def _retry_on_username_race(work):
    """Two creations may pick the same username at once; the loser tries again."""
    for attempt in range(3):
        try:
            return await work()
        except IntegrityError:
            if attempt == 2:
                raise


async def create_and_invite(new: NewContact, *, actor: Principal) -> tuple[Contact, Account]:
    """What the ministry does in one step: the contact, the account and the invitation, in one transaction."""

    async def work():
        async with in_transaction():
            contact, org = await _store_contact(new, ContactState.INVITED, actor)
            return contact, await _open_account(contact, org, actor)

    return await _retry_on_username_race(work)


async def invite_pending(contact_id: int, *, actor: Principal | None = None) -> Account | None:
    """Invite one contact still in state CREATED; None if someone else did it meanwhile."""

    async def work():
        async with in_transaction():
            contact = await Contact.get_or_none(id=contact_id)
            if contact is None or contact.state is not ContactState.CREATED or contact.demo:
                return None  # demo contacts are invented people: never mailed
            return await invite(contact, actor=actor)

    return await _retry_on_username_race(work)


async def resend_invitation(contact_id: int, *, actor: Principal) -> Account:
    async with in_transaction():
        contact = await Contact.get_or_none(id=contact_id)
        if contact is None or contact.state is ContactState.DELETED:
            raise NotFound(f"No contact person with id {contact_id}.")
        account = await Account.get_or_none(contact_id=contact.id)
        if account is None or contact.state is ContactState.CREATED:
            raise Conflict("This contact person has not been invited yet; invite them first.")
        if account.password_hash is not None:
            raise Conflict("This account is already activated; the person can reset their password instead.")
        invitation = _new_invitation()
        # The earlier link and the earlier initial password stop working.
        await OneTimeToken.filter(account_id=account.id, purpose=TokenPurpose.ACTIVATION,
                                  used_at__isnull=True).update(used_at=now())
        await Account.filter(id=account.id).update(
            initial_password_hmac=keyed_hash(invitation.initial_password, INITIAL_PASSWORD_PURPOSE),
            initial_password_expires_at=invitation.expires, invited_at=now(),
        )
        org = await Organization.get_or_none(id=contact.organization_id) if contact.organization_id else None
        await _mail_invitation(account, contact, org, invitation, resend=True)
        await audit.record(AuditAction.INVITATION_SENT, **_actor(actor), subject_type="contact",
                           subject_id=contact.id, details={"accountId": account.id, "resend": True})
        return account


# --- activation ---------------------------------------------------------------------


@dataclass
class Activation:
    token_id: int
    account: Account
    contact: Contact | None


async def find_activation(token: str) -> Activation:
    if not token or len(token) > 200:
        raise TokenInvalid()
    row = await OneTimeToken.filter(
        token_hmac__in=keyed_hashes(token, TOKEN_PURPOSE), purpose=TokenPurpose.ACTIVATION
    ).select_related("account").first()
    if row is None or row.used_at is not None or row.expires_at <= now():
        raise TokenInvalid()
    account = row.account
    if not account.is_active or account.deleted_at is not None or account.password_hash is not None:
        raise TokenInvalid()
    contact = await Contact.get_or_none(id=account.contact_id) if account.contact_id else None
    return Activation(token_id=row.id, account=account, contact=contact)


async def set_first_password(account: Account, new_password: str, *, token_id: int | None = None) -> None:
    """Replace the initial password by a chosen one. Call inside a transaction."""
    passwords.check_policy(new_password, username=account.username)
    if matches(new_password, account.initial_password_hmac, INITIAL_PASSWORD_PURPOSE):
        raise InvalidInput("Choose a new password, not the initial one.", field="newPassword")
    moment = now()
    await Account.filter(id=account.id).update(
        password_hash=await passwords.hash_password(new_password),
        password_set_at=moment,
        initial_password_hmac=None,
        initial_password_expires_at=None,
    )
    await OneTimeToken.filter(account_id=account.id, purpose=TokenPurpose.ACTIVATION, used_at__isnull=True).update(
        used_at=moment
    )
    await audit.record(
        AuditAction.ACCOUNT_ACTIVATED, actor_id=account.id, actor_role=Role.CONTACT.value,
        subject_type="account", subject_id=account.id,
        details={"via": "activation link" if token_id else "initial password"},
    )
