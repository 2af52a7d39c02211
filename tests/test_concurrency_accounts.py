"""Accounts under simultaneous requests (issues 9.2, 10.9, and the first confirmation), through the real ASGI app on PostgreSQL.

Every check-and-count of the throttle is one atomic upsert: however many attempts arrive at once,
each is counted exactly once, none fails with a unique-key violation, and at most the free ones
reach the password verification (counted here by their LOGIN_FAILED audit entries).
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter

from tortoise.transactions import in_transaction

from service.accounts import throttle
from service.accounts.contact_data import ContactData
from service.accounts.onboarding import NewContact, create_contact, invite, set_first_password
from service.approvals.models import ChangeKind, ChangeRequest
from service.catalogue.models import Contact, ContactState
from service.sql import fetch_one
from service.accounts.models import Account, LoginThrottle
from service.audit import AuditAction, AuditEntry
from service.mail.models import OutboxMail
from tests.conftest import LOGIN, requires_postgres, unique

ATTACKER = "198.51.100.77"


async def _burst(calls):
    started = time.perf_counter()
    results = await asyncio.gather(*calls)
    return results, time.perf_counter() - started


def _summary(results) -> Counter:
    assert all(r["_status"] == 200 for r in results), [r["_status"] for r in results]
    return Counter(r.codes[0] if r.errors else "OK" for r in results)


@requires_postgres
async def test_fifty_simultaneous_wrong_passwords_are_all_counted_and_only_the_free_ones_verified(
        gql_from, make_user):
    username, _ = await make_user("ADMIN")
    account = await Account.get(username=username)
    attacker = gql_from(ATTACKER)
    results, seconds = await _burst(attacker(LOGIN, {"u": username, "p": f"wrong-{i}-pw"}) for i in range(50))
    codes = _summary(results)
    assert set(codes) <= {"UNAUTHENTICATED", "TOO_MANY_ATTEMPTS"}, codes  # no INTERNAL_SERVER_ERROR
    # Exactly the free ones are verified while the first wait (1 s) runs; should the burst outlast it
    # on a loaded machine, each later verification needs a wait to have passed (1 s, then 2 s, 4 s …),
    # so k extra ones need 2^k − 1 seconds.
    extra_allowed = math.floor(math.log2(1 + seconds))
    assert throttle.FREE_FAILURES <= codes["UNAUTHENTICATED"] <= throttle.FREE_FAILURES + extra_allowed, (
        codes, seconds)
    verified = await AuditEntry.filter(action=AuditAction.LOGIN_FAILED.value, subject_id=account.id).count()
    assert verified == codes["UNAUTHENTICATED"]
    pair = await LoginThrottle.get(key=throttle.PAIR.key(username, ATTACKER))
    assert (pair.count, pair.refused) == (codes["UNAUTHENTICATED"], codes["TOO_MANY_ATTEMPTS"])
    assert pair.count + pair.refused == 50
    assert all(r.errors[0]["extensions"]["retryAfterSeconds"] >= 1
               for r in results if r.codes == ["TOO_MANY_ATTEMPTS"])


@requires_postgres
async def test_fifty_simultaneous_usernames_from_one_address_reach_at_most_its_free_attempts(gql_from):
    attacker = gql_from(ATTACKER)
    results, seconds = await _burst(attacker(LOGIN, {"u": unique("spray"), "p": "Winter2026!"}) for _ in range(50))
    codes = _summary(results)
    assert set(codes) <= {"UNAUTHENTICATED", "TOO_MANY_ATTEMPTS"}, codes
    free = throttle.FREE_FAILURES_PER_ADDRESS
    assert free <= codes["UNAUTHENTICATED"] <= free + math.floor(math.log2(1 + seconds)), (codes, seconds)
    address = await LoginThrottle.get(key=throttle.ADDRESS.key(ATTACKER))
    assert (address.count, address.refused) == (codes["UNAUTHENTICATED"], codes["TOO_MANY_ATTEMPTS"])


@requires_postgres
async def test_the_owner_gets_in_during_a_simultaneous_attack(gql_from, make_user):
    username, password = await make_user("ADMIN")
    attack = [gql_from(ATTACKER)(LOGIN, {"u": username, "p": f"wrong-{i}-pw"}) for i in range(40)]
    bots = [gql_from(f"198.51.100.{150 + i}")(LOGIN, {"u": username, "p": f"bot-{i}-pw"}) for i in range(20)]
    owner = gql_from("192.0.2.44")(LOGIN, {"u": username, "p": password})
    results, _ = await _burst([*attack[:20], owner, *bots, *attack[20:]])
    codes = _summary(results)
    assert not results[20].errors, results[20].errors
    assert codes["OK"] == 1 and set(codes) <= {"OK", "UNAUTHENTICATED", "TOO_MANY_ATTEMPTS"}


@requires_postgres
async def test_simultaneous_logins_with_the_right_password_all_succeed(gql_from, make_user):
    """A refund is a conditional update too: successes never leave the address blocked."""
    username, password = await make_user("ADMIN")
    office = gql_from("192.0.2.99")
    results, _ = await _burst(office(LOGIN, {"u": username, "p": password}) for _ in range(throttle.FREE_FAILURES))
    assert _summary(results) == {"OK": throttle.FREE_FAILURES}
    assert await LoginThrottle.filter(key=throttle.PAIR.key(username, "192.0.2.99")).count() == 0
    address = await LoginThrottle.get(key=throttle.ADDRESS.key("192.0.2.99"))
    assert address.count == 0 and address.blocked_until_ms is None


REQUEST = "mutation($v: String!) { requestPasswordReset(usernameOrEmail: $v) }"


@requires_postgres
async def test_simultaneous_reset_requests_send_exactly_one_mail(gql_from, make_user):
    username, _ = await make_user("ADMIN")
    account = await Account.get(username=username)
    from_one = [gql_from("198.51.100.88")(REQUEST, {"v": username}) for _ in range(10)]
    from_many = [gql_from(f"198.51.100.{200 + i}")(REQUEST, {"v": f"{username}@example.org"}) for i in range(30)]
    results, _ = await _burst([*from_one, *from_many])
    assert _summary(results) == {"OK": 40}
    assert all(r.data == {"requestPasswordReset": True} for r in results)
    assert await OutboxMail.filter(account_id=account.id, template="password_reset").count() == 1


CONFIRM = """mutation($i: ContactDataInput!) { confirmMyData(input: $i, consent: true) { state } }"""


@requires_postgres
async def test_simultaneous_confirmations_publish_or_submit_once(gql_from, login):
    """The confirmation is a conditional update on the contact's state: ten at once submit one change."""
    org = (await fetch_one("SELECT id FROM organization WHERE name = ?", ["Werne"]))["id"]
    last = unique("Gleichzeitig")
    data = ContactData(first_name="Petra", last_name=last, email=f"{last.lower()}@example.org")
    async with in_transaction():
        contact = await create_contact(NewContact(org, data, ()), actor=None)
        account = await invite(contact, actor=None)
    password = f"Pw-{uuid.uuid4().hex}"
    async with in_transaction():
        await set_first_password(account, password)
    headers = await login(account.username, password)
    changed = {"firstName": "Petra", "lastName": last, "email": data.email, "phone": "+49 000 222-2"}
    results, _ = await _burst(gql_from(f"192.0.2.{60 + i}")(CONFIRM, {"i": changed}, headers=headers)
                              for i in range(10))
    assert _summary(results) == {"OK": 1, "CONFLICT": 9}
    assert (await Contact.get(id=contact.id)).state is ContactState.AWAITING_APPROVAL
    assert await ChangeRequest.filter(contact_id=contact.id, kind=ChangeKind.CONTACT_CONFIRMATION).count() == 1
