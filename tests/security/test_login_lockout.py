"""Issue 10.3: wrong passwords must slow the attacker down, never lock the real user out.

Throttled is what an attacker controls: the address, and username with address; the username's
own wait applies only to addresses that have tried it before and never signed in with it. Every
test drives the real ASGI app from several client addresses.

The first waits are short (1 s, 2 s): where a test needs the attempt right after the last free one
to be refused, it sends the two together, so the result does not depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import re

from service.accounts import throttle
from service.accounts.models import Account, LoginThrottle
from tests.conftest import LOGIN, unique

ATTACKER = "198.51.100.66"
OWNER = "192.0.2.10"


async def _code(result) -> str:
    return result.codes[0] if result.errors else "OK"


async def _pass_time() -> None:
    """Let every current wait run out (as if the attacker waited for retryAfterSeconds)."""
    await LoginThrottle.filter(blocked_until_ms__isnull=False).update(blocked_until_ms=0)


async def _two_at_once(ask, username: str) -> tuple[list[str], int]:
    """Two guesses sent together when one more is free: one is verified, the other refused."""
    first, second = await asyncio.gather(ask(LOGIN, {"u": username, "p": "together-1"}),
                                         ask(LOGIN, {"u": username, "p": "together-2"}))
    refused = [r for r in (first, second) if r.codes == ["TOO_MANY_ATTEMPTS"]]
    wait = refused[0].errors[0]["extensions"]["retryAfterSeconds"] if refused else 0
    return sorted([await _code(first), await _code(second)]), wait


async def _use_up_the_free_guesses(ask, username: str) -> int:
    """Fail the free guesses; the last one goes together with a refused one. The wait then set."""
    for i in range(throttle.FREE_FAILURES - 1):
        assert (await ask(LOGIN, {"u": username, "p": f"guess-{i}-wrong"})).codes == ["UNAUTHENTICATED"]
    codes, wait = await _two_at_once(ask, username)
    assert codes == ["TOO_MANY_ATTEMPTS", "UNAUTHENTICATED"]
    return wait


async def test_the_owner_signs_in_from_a_clean_address_while_the_attacker_is_throttled(gql_from, make_user):
    username, password = await make_user("ADMIN")
    attacker = gql_from(ATTACKER)
    waits = [await _use_up_the_free_guesses(attacker, username)]
    for _ in range(4):  # the attacker keeps going, waiting out each wait
        await _pass_time()
        waits.append((await _two_at_once(attacker, username))[1])
    assert waits == [1, 2, 4, 8, 16]
    # At the attacker's address even the right password waits (so the wait reveals nothing) ...
    assert (await attacker(LOGIN, {"u": username, "p": password})).codes == ["TOO_MANY_ATTEMPTS"]
    # ... while the owner, from an address without failures, gets straight in.
    owner = await gql_from(OWNER)(LOGIN, {"u": username, "p": password})
    assert not owner.errors and owner.data["login"]["me"]["username"] == username
    # The owner's success does not clear the attacker's wait.
    assert (await attacker(LOGIN, {"u": username, "p": "guess-again-1"})).codes == ["TOO_MANY_ATTEMPTS"]


async def test_too_many_attempts_carries_retry_after_seconds(gql_from, make_user):
    username, _ = await make_user("ADMIN")
    attacker = gql_from(ATTACKER)
    for i in range(throttle.FREE_FAILURES - 1):
        await attacker(LOGIN, {"u": username, "p": f"guess-{i}-wrong"})
    first, second = await asyncio.gather(attacker(LOGIN, {"u": username, "p": "guess-a"}),
                                         attacker(LOGIN, {"u": username, "p": "guess-b"}))
    [refused] = [r for r in (first, second) if r.errors and r.codes == ["TOO_MANY_ATTEMPTS"]]
    [error] = refused.errors
    seconds = error["extensions"]["retryAfterSeconds"]
    assert isinstance(seconds, int) and 1 <= seconds <= 15 * 60
    assert re.fullmatch(rf"Too many failed sign-ins\. Try again in {seconds} seconds\.", error["message"])
    assert refused.data is None or refused.data.get("login") is None


async def test_an_attacker_at_one_address_is_slowed_down_exponentially(gql_from, make_user):
    username, password = await make_user("ADMIN")
    attacker = gql_from(ATTACKER)
    waits = [await _use_up_the_free_guesses(attacker, username)]
    for _ in range(3):
        await _pass_time()
        # Once the wait is over exactly one more guess is verified, then the next, longer wait begins.
        codes, wait = await _two_at_once(attacker, username)
        assert codes == ["TOO_MANY_ATTEMPTS", "UNAUTHENTICATED"]
        waits.append(wait)
    assert waits == [1, 2, 4, 8]
    # The refused attempts are counted, the verified ones too.
    row = await LoginThrottle.get(key=throttle.PAIR.key(username, ATTACKER))
    assert (row.count, row.refused) == (throttle.FREE_FAILURES + 3, 4)
    assert not (await gql_from(OWNER)(LOGIN, {"u": username, "p": password})).errors


async def test_a_distributed_attack_gets_one_guess_per_address_then_the_accounts_wait(gql_from, make_user):
    """Many addresses, few guesses each: the username's own count slows every address that failed."""
    username, password = await make_user("ADMIN")
    bots = [f"198.51.100.{n}" for n in range(100, 100 + throttle.USER.free + 5)]
    for bot in bots:  # one failure each: no address reaches its own limit; the username's wait is 32 s
        assert (await gql_from(bot)(LOGIN, {"u": username, "p": f"bot-{bot}"})).codes == ["UNAUTHENTICATED"]
    # The username has now failed often enough: an address that failed before must wait ...
    second = await gql_from(bots[0])(LOGIN, {"u": username, "p": "bot-second-guess"})
    assert second.codes == ["TOO_MANY_ATTEMPTS"] and second.errors[0]["extensions"]["retryAfterSeconds"] >= 30
    # ... the owner from an address without failures is not held back by it.
    assert not (await gql_from(OWNER)(LOGIN, {"u": username, "p": password})).errors


async def test_one_address_trying_many_usernames_is_slowed_down(gql_from):
    attacker = gql_from(ATTACKER)
    codes = [await _code(await attacker(LOGIN, {"u": unique("spray"), "p": "Sommer2026!"}))
             for _ in range(throttle.FREE_FAILURES_PER_ADDRESS - 1)]
    last = await asyncio.gather(*[attacker(LOGIN, {"u": unique("spray"), "p": "Sommer2026!"}) for _ in range(3)])
    assert codes == ["UNAUTHENTICATED"] * (throttle.FREE_FAILURES_PER_ADDRESS - 1)
    assert sorted([await _code(r) for r in last]) == ["TOO_MANY_ATTEMPTS", "TOO_MANY_ATTEMPTS", "UNAUTHENTICATED"]
    assert (await gql_from(OWNER)(LOGIN, {"u": unique("spray"), "p": "Sommer2026!"})).codes == ["UNAUTHENTICATED"]


async def test_an_ipv6_client_is_one_address_per_64_prefix(gql_from, make_user):
    username, password = await make_user("ADMIN")
    for n in range(1, throttle.FREE_FAILURES):  # a new address in the same /64 for every guess
        assert (await gql_from(f"2001:db8:1:2::{n:x}")(LOGIN, {"u": username, "p": f"v6-{n}"})).codes == [
            "UNAUTHENTICATED"]
    last = await asyncio.gather(gql_from("2001:db8:1:2::fffe")(LOGIN, {"u": username, "p": "v6-x"}),
                                gql_from("2001:db8:1:2::ffff")(LOGIN, {"u": username, "p": "v6-y"}))
    assert sorted([await _code(r) for r in last]) == ["TOO_MANY_ATTEMPTS", "UNAUTHENTICATED"]
    assert not (await gql_from("2001:db8:1:3::1")(LOGIN, {"u": username, "p": password})).errors


async def test_errors_stay_generic_and_the_throttle_table_holds_no_names(gql_from, make_user):
    username, password = await make_user("ADMIN")
    ghost = unique("ghost")
    wrong = await gql_from(ATTACKER)(LOGIN, {"u": username, "p": "nope-nope-1"})
    unknown = await gql_from(ATTACKER)(LOGIN, {"u": ghost, "p": "nope-nope-1"})
    assert wrong.errors[0]["message"] == unknown.errors[0]["message"] == "Unknown username or wrong password."
    keys = await LoginThrottle.all().values_list("key", flat=True)
    assert keys and not any(username in k or ghost in k or ATTACKER in k for k in keys)


async def test_the_owner_who_mistypes_at_a_known_address_is_not_held_back_by_the_attack(gql_from, make_user):
    username, password = await make_user("ADMIN")
    home, cafe = gql_from("192.0.2.20"), gql_from("192.0.2.21")
    assert not (await home(LOGIN, {"u": username, "p": password})).errors  # home is now known
    for n in range(throttle.USER.free + 5):  # a distributed attack pushes the username's own wait
        await gql_from(f"198.51.100.{n + 1}")(LOGIN, {"u": username, "p": f"bot-{n}"})
    assert (await home(LOGIN, {"u": username, "p": "mistyped-1"})).codes == ["UNAUTHENTICATED"]
    assert not (await home(LOGIN, {"u": username, "p": password})).errors
    # An address that failed for this username and never signed in with it waits.
    assert (await cafe(LOGIN, {"u": username, "p": "mistyped-2"})).codes == ["UNAUTHENTICATED"]
    assert (await cafe(LOGIN, {"u": username, "p": password})).codes == ["TOO_MANY_ATTEMPTS"]


async def test_records_nobody_needs_are_purged(gql_from, make_user):
    username, password = await make_user("ADMIN")
    await gql_from(ATTACKER)(LOGIN, {"u": username, "p": "nope-nope-2"})
    await gql_from(OWNER)(LOGIN, {"u": username, "p": password})
    kinds = sorted(k.split(":")[0] for k in await LoginThrottle.all().values_list("key", flat=True))
    assert kinds == ["addr", "addr", "known", "pair", "user"]
    later = max(await LoginThrottle.all().values_list("last_ms", flat=True)) + 3 * throttle.DAY_MS
    assert await throttle.purge_stale(later) == 4  # the known address stays
    assert await throttle.purge_stale(later + throttle.KNOWN_FOR_MS) == 1


async def test_a_signed_in_session_cannot_guess_the_current_password_unhindered(gql, make_user, login):
    """changePassword verifies the current password: it is throttled per account like a sign-in."""
    username, password = await make_user("ADMIN")
    headers = await login(username, password)
    change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { username } }"
    codes = [(await gql(change, {"c": f"guess-{i}-pw", "n": "Ganz-neues-Kennwort-5"}, headers=headers)).codes[0]
             for i in range(throttle.CURRENT_PASSWORD.free - 1)]
    last = await asyncio.gather(*[gql(change, {"c": f"guess-{i}-pw", "n": "Ganz-neues-Kennwort-5"}, headers=headers)
                                  for i in range(3)])
    assert codes == ["BAD_USER_INPUT"] * (throttle.CURRENT_PASSWORD.free - 1)
    assert sorted(r.codes[0] for r in last) == ["BAD_USER_INPUT", "TOO_MANY_ATTEMPTS", "TOO_MANY_ATTEMPTS"]
    await _pass_time()
    assert not (await gql(change, {"c": password, "n": "Ganz-neues-Kennwort-5"}, headers=headers)).errors
    account = await Account.get(username=username)
    assert not await LoginThrottle.filter(key=throttle.CURRENT_PASSWORD.key(str(account.id))).exists()


async def test_the_wait_is_capped_at_fifteen_minutes_and_forgotten_after_a_day(gql_from, make_user):
    username, _ = await make_user("ADMIN")
    attacker = gql_from(ATTACKER)
    await attacker(LOGIN, {"u": username, "p": "first-guess-1"})
    key = throttle.PAIR.key(username, ATTACKER)
    await LoginThrottle.filter(key=key).update(count=500)  # a long, patient attack
    assert (await attacker(LOGIN, {"u": username, "p": "next-guess-1"})).codes == ["UNAUTHENTICATED"]
    capped = await attacker(LOGIN, {"u": username, "p": "next-guess-2"})
    assert capped.errors[0]["extensions"]["retryAfterSeconds"] == 15 * 60
    row = await LoginThrottle.get(key=key)
    await LoginThrottle.filter(key=key).update(last_ms=row.last_ms - throttle.DAY_MS, blocked_until_ms=0)
    assert (await attacker(LOGIN, {"u": username, "p": "a-day-later-1"})).codes == ["UNAUTHENTICATED"]
    assert (await LoginThrottle.get(key=key)).count == 1
