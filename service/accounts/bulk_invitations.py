"""Bulk invitation in the background ("alle noch nicht eingeladenen einladen").

`queue_pending` only marks every contact still in state CREATED (one UPDATE, returns at once);
`invite_queued` (run by the mail worker's loop, see service.mail.worker) then opens the accounts
and queues the invitation mails in small batches, one transaction per contact.

Safe with several instances: each contact is claimed by a conditional UPDATE on the marker as
read (on PostgreSQL the candidates are also read with FOR UPDATE SKIP LOCKED), and `invite`
moves the contact to INVITED in the same transaction, so a contact is invited once. Running
`queue_pending` twice marks nothing new; a contact that cannot be invited is unmarked and logged.
"""

from __future__ import annotations

import logging

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service import db
from service.accounts.models import Role
from service.accounts.onboarding import invite
from service.accounts.principal import Principal, require
from service.catalogue.models import Contact, ContactState
from service.errors import DomainError
from service.time import now

logger = logging.getLogger("ikz.invitations")
BATCH = 20


async def queue_pending(principal: Principal) -> int:
    """Mark every contact not yet invited (and not yet marked) for the background invitation."""
    require(principal, Role.ADMIN)
    # Demo contacts are invented people (ikz seed --demo): never mailed.
    return await Contact.filter(state=ContactState.CREATED, demo=False, invitation_queued_at__isnull=True).update(
        invitation_queued_at=now(), invitation_queued_by=principal.account_id)


async def queued_count() -> int:
    return await _queued().count()


async def pending_count() -> int:
    """Contacts that "alle noch nicht eingeladenen einladen" would mark now."""
    return await Contact.filter(state=ContactState.CREATED, demo=False, invitation_queued_at__isnull=True).count()


def _queued():
    return Contact.filter(state=ContactState.CREATED, demo=False, invitation_queued_at__isnull=False)


def _actor(account_id: int | None) -> Principal | None:
    """Who queued the invitation, for the audit trail of each one."""
    if account_id is None:
        return None
    return Principal(account_id=account_id, username="", session_id=None, roles=frozenset({Role.ADMIN}))


async def _invite_one(contact_id: int) -> bool:
    """Invite one marked contact in its own transaction; False if another worker had it or it was unmarked."""
    for attempt in range(3):  # two creations may pick the same username at once; the loser tries again
        try:
            async with in_transaction():
                query = _queued().filter(id=contact_id)
                if db.dialect() == "postgres":
                    query = query.select_for_update(skip_locked=True)
                contact = await query.first()
                if contact is None:
                    return False
                # The claim: the row as read, still marked. Of two workers one changes it, the other none.
                if not await _queued().filter(id=contact.id, invitation_queued_at=contact.invitation_queued_at).update(
                        invitation_queued_at=None, invitation_queued_by=None):
                    return False
                await invite(contact, actor=_actor(contact.invitation_queued_by))
                return True
        except IntegrityError:
            if attempt == 2:
                raise
    return False


async def _unmark(contact_id: int, error: str) -> None:
    await Contact.filter(id=contact_id, state=ContactState.CREATED).update(invitation_queued_at=None,
                                                                           invitation_queued_by=None)
    logger.warning("contact %s was not invited: %s", contact_id, error)


async def invite_queued(limit: int = BATCH) -> int:
    """One batch: invite up to `limit` marked contacts, oldest first; returns how many were invited."""
    invited = 0
    ids = await _queued().order_by("invitation_queued_at", "id").limit(limit).values_list("id", flat=True)
    for contact_id in ids:
        try:
            if await _invite_one(contact_id):
                invited += 1
        except (DomainError, IntegrityError) as exc:
            await _unmark(contact_id, str(exc))
    return invited
