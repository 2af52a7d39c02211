"""Bulk invitation in the background: the mutation only marks; batches invite each contact once."""

from __future__ import annotations

import asyncio

from tortoise.transactions import in_transaction

from tests.conftest import unique


async def _created_contacts(n: int) -> list[int]:
    from service.accounts.contact_data import ContactData
    from service.accounts.onboarding import NewContact, create_contact
    from service.sql import fetch

    org = (await fetch("SELECT id FROM organization WHERE name = ?", ["Kamen"]))[0]["id"]
    ids = []
    for _ in range(n):
        last = unique("Sammel")
        async with in_transaction():
            contact = await create_contact(NewContact(org, ContactData(first_name="Bea", last_name=last,
                                                                       email=f"{last.lower()}@example.org"), ()),
                                           actor=None)
        ids.append(contact.id)
    return ids


async def test_bulk_invitation_is_queued_at_once_and_invites_each_contact_once(database, make_user):
    from service.accounts import sessions
    from service.accounts.bulk_invitations import invite_queued, queue_pending, queued_count
    from service.accounts.models import Account
    from service.audit import AuditEntry
    from service.catalogue.models import Contact, ContactState
    from service.mail.models import OutboxMail

    admin, _ = await make_user("ADMIN")
    who = await sessions.principal_for(await Account.get(username=admin))
    ids = await _created_contacts(5)
    queued = await queue_pending(who)
    assert queued >= 5
    assert await queue_pending(who) == 0  # idempotent: nothing new to mark
    assert await queued_count() == queued
    assert await Account.filter(contact_id__in=ids).count() == 0  # nothing invited inside the request

    invited = 0
    for _ in range(20):  # two workers at once, small batches, until the queue is empty
        done = await asyncio.gather(invite_queued(2), invite_queued(2))
        invited += sum(done)
        if not await queued_count():
            break
    assert invited == queued and await queued_count() == 0
    assert await invite_queued() == 0
    for contact_id in ids:
        contact = await Contact.get(id=contact_id)
        assert contact.state is ContactState.INVITED and contact.invitation_queued_at is None
        account = await Account.get(contact_id=contact_id)
        assert await OutboxMail.filter(account_id=account.id, template="invitation").count() == 1
        entry = await AuditEntry.filter(action="INVITATION_SENT", subject_type="contact", subject_id=contact_id).first()
        assert entry is not None and entry.actor_id == who.account_id


async def test_the_invented_demo_contacts_are_never_queued_nor_invited(database, make_user):
    from service.accounts import sessions
    from service.accounts.bulk_invitations import invite_queued, queue_pending
    from service.accounts.models import Account
    from service.catalogue.models import Contact, ContactState

    demo = await Contact.filter(demo=True, state=ContactState.CREATED).values_list("id", flat=True)
    assert demo  # the test database is seeded with --demo
    admin, _ = await make_user("ADMIN")
    await queue_pending(await sessions.principal_for(await Account.get(username=admin)))
    while await invite_queued():
        pass
    assert await Contact.filter(id__in=list(demo), invitation_queued_at__isnull=False).count() == 0
    assert await Contact.filter(id__in=list(demo), state=ContactState.CREATED).count() == len(demo)
    assert await Account.filter(contact_id__in=list(demo)).count() == 0
