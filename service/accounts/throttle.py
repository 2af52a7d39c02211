"""Throttling of sign-ins and password-reset mails: slow attackers down, never lock the real user out.

Every check-and-count is one atomic upsert per key (``INSERT … ON CONFLICT DO UPDATE … WHERE
not blocked … RETURNING``, the same statement on SQLite and PostgreSQL): an attempt is let through
only if the statement that counts it also saw the key unblocked, so concurrent attempts cannot all
slip through between a read and a write, and no two inserts of one key collide.

Sign-ins are charged before the password is verified (the count is a reservation) and refunded on
success, so at most the free number of attempts per key is ever verified, however many arrive at once.
What is throttled is what an attacker controls:

- ``addr``: the client address (an IPv6 address by its /64): 20 free, for offices behind one address;
- ``pair``: username and address together: 5 free;
- ``user``: the typed username across all addresses: 10 free, but its wait holds back only addresses
  that have tried this username before and never signed in with it (``known``: an address where the
  username signed in, remembered for 90 days). A correct password from an address without failures,
  or from the owner's usual address, always gets through, so a flood of wrong passwords never closes
  the account for its owner; a distributed attack gets one try per fresh address, and every further
  try from an address waits the account's wait.

Waits grow exponentially (1 s, 2 s, 4 s, … capped at 15 minutes) and are forgotten after 24 hours
without attempts. Refused attempts are counted (``refused``) but cost no password verification and
do not extend the wait. Keys are keyed hashes of what the client typed, so an unknown username is
throttled exactly like a real one and the table holds neither usernames nor addresses.

Reset mails use the same statement with a spacing rule: per account one mail per 5 minutes and at
most 3 a day; per address at most 10 an hour.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import random
import re
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from service import db
from service.accounts.secrets import keyed_hash
from service.errors import TooManyAttempts
from service.sql import render
from service.time import now

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
KNOWN_FOR_MS = 90 * DAY_MS  # an address where a username signed in stays known for it this long
PURGE_CHANCE = 0.01  # about every hundredth sign-in deletes records nobody needs any more


@dataclass(frozen=True)
class Rule:
    """How one kind of key counts and when it blocks.

    Exponential rules (``spacing_ms`` None) block after the ``free``-th counted attempt for
    2^(count − free) seconds, capped; a key is forgotten ``window_ms`` after its last attempt.
    Spacing rules allow ``free`` attempts per window (counted from the window's first attempt),
    at least ``spacing_ms`` apart.
    """

    prefix: str
    free: int
    window_ms: int = DAY_MS
    max_wait_ms: int = 15 * 60 * 1000
    spacing_ms: int | None = None

    def wait_sql(self, n: str, start: str) -> str:
        """SQL for the new ``blocked_until_ms`` after the n-th attempt of a window begun at ``start``."""
        if self.spacing_ms is None:
            cap_s = self.max_wait_ms // 1000
            exponent = f"({n} - {self.free})"
            seconds = f"(CASE WHEN {exponent} >= 20 THEN {cap_s} ELSE (1 << {exponent}) END)"
            capped = f"(CASE WHEN {seconds} > {cap_s} THEN {cap_s} ELSE {seconds} END)"
            return f"(CASE WHEN {n} < {self.free} THEN NULL ELSE :now + 1000 * {capped} END)"
        spaced = f":now + {self.spacing_ms}" if self.spacing_ms else "NULL"
        return f"(CASE WHEN {n} >= {self.free} THEN {start} + {self.window_ms} ELSE {spaced} END)"

    def stale_sql(self) -> str:
        column = "last_ms" if self.spacing_ms is None else "window_started_ms"
        return f"(throttle.{column} <= :now - {self.window_ms})"

    def key(self, *parts: str) -> str:
        return f"{self.prefix}:{keyed_hash(chr(0).join(parts), 'throttle')[:40]}"

    def delay_after(self, count: int) -> dt.timedelta:
        """The wait an exponential rule sets after its ``count``-th counted attempt (as the SQL does)."""
        if count < self.free:
            return dt.timedelta(0)
        return dt.timedelta(milliseconds=min(2 ** min(count - self.free, 20) * 1000, self.max_wait_ms))


ADDRESS = Rule("addr", free=20)
PAIR = Rule("pair", free=5)
USER = Rule("user", free=10)
CURRENT_PASSWORD = Rule("current-pw", free=5)  # changePassword's check of the current password, per account
RESET_ACCOUNT = Rule("reset-acct", free=3, window_ms=DAY_MS, spacing_ms=5 * 60 * 1000)
RESET_ADDRESS = Rule("reset-addr", free=10, window_ms=HOUR_MS, spacing_ms=0)

# Kept for callers that name the per-username numbers.
FREE_FAILURES = PAIR.free
FREE_FAILURES_PER_ADDRESS = ADDRESS.free
MAX_DELAY = dt.timedelta(milliseconds=PAIR.max_wait_ms)


def delay_after(failures: int) -> dt.timedelta:
    return PAIR.delay_after(failures)


def address_key(client_address: str | None) -> str | None:
    """The part of an address one client controls: the address itself, an IPv6 address's /64."""
    if not client_address:
        return None
    try:
        address = ipaddress.ip_address(client_address.strip())
    except ValueError:
        return client_address.strip()[:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def _now_ms() -> int:
    return int(now().timestamp() * 1000)


def _statement(sql: str, dialect: str, values: dict[str, object]) -> tuple[str, list[object]]:
    """``:name`` markers to positional parameters (integers cast to BIGINT for PostgreSQL)."""
    params: list[object] = []

    def placeholder(match: re.Match) -> str:
        value = values[match.group(1)]
        params.append(value)
        return "CAST(? AS BIGINT)" if isinstance(value, int) else "?"

    return render(re.sub(r":([a-z_][a-z0-9_]*)", placeholder, sql), dialect), params


async def _run(conn, sql: str, **values: object) -> list[dict]:
    statement, params = _statement(sql, conn.capabilities.dialect, values)
    return await conn.execute_query_dict(statement, params)


def _take_sql(rule: Rule, check: bool) -> str:
    stale = rule.stale_sql()
    n = f'(CASE WHEN {stale} THEN 1 ELSE throttle."count" + 1 END)'
    start = f"(CASE WHEN {stale} THEN :now ELSE throttle.window_started_ms END)"
    condition = "WHERE throttle.blocked_until_ms IS NULL OR throttle.blocked_until_ms <= :now" if check else ""
    return (
        'INSERT INTO throttle ("key", "count", refused, window_started_ms, last_ms, blocked_until_ms) '
        f"VALUES (:key, 1, 0, :now, :now, {rule.wait_sql('1', ':now')}) "
        f'ON CONFLICT ("key") DO UPDATE SET "count" = {n}, '
        f"refused = CASE WHEN {stale} THEN 0 ELSE throttle.refused END, "
        f"window_started_ms = {start}, last_ms = :now, blocked_until_ms = {rule.wait_sql(n, start)} "
        f'{condition} RETURNING "count"'
    )


async def _take(conn, rule: Rule, key: str, now_ms: int, *, check: bool = True) -> int | None:
    """Count one attempt on ``key``: the new count, or None (nothing counted) if blocked and ``check``."""
    rows = await _run(conn, _take_sql(rule, check), key=key, now=now_ms)
    return rows[0]["count"] if rows else None


async def _refuse(refusing: str, keys: list[str] | None = None) -> int:
    """Count the refusal on the key that refused; the longest remaining wait among it and ``keys``
    (the other keys whose waits apply to this client), in whole seconds, at least 1.

    Only the refusing row is written (one row lock, so no lock-order cycle with `begin_login`);
    the others are read."""
    conn = db.connection()
    await _run(conn, 'UPDATE throttle SET refused = refused + 1 WHERE "key" = :key RETURNING refused', key=refusing)
    keys = list(dict.fromkeys([refusing, *(keys or [])]))
    values: dict[str, object] = {f"k{i}": k for i, k in enumerate(keys)}
    rows = await _run(conn, "SELECT MAX(blocked_until_ms) AS until FROM throttle WHERE \"key\" IN ("
                      + ", ".join(f":{name}" for name in values) + ")", **values)
    until = (rows[0]["until"] if rows else None) or 0
    return max(1, math.ceil((until - _now_ms()) / 1000))


class _Blocked(Exception):
    def __init__(self, refusing: str, keys: list[str]) -> None:
        self.refusing = refusing
        self.keys = keys


def too_many(seconds: int, what: str) -> TooManyAttempts:
    return TooManyAttempts(f"Too many {what}. Try again in {seconds} seconds.", retry_after_seconds=seconds)


async def purge_stale(now_ms: int | None = None) -> int:
    """Delete records nobody needs any more (counts are forgotten after a day, known addresses after 90)."""
    now_ms = now_ms if now_ms is not None else _now_ms()
    rows = await _run(db.connection(),
                      "DELETE FROM throttle WHERE last_ms < :old AND (\"key\" NOT LIKE 'known:%' OR last_ms < :ancient) "
                      'RETURNING "key"', old=now_ms - 2 * DAY_MS, ancient=now_ms - KNOWN_FOR_MS)
    return len(rows)


# --- sign-in ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginAttempt:
    """A counted sign-in attempt; pass it to `login_succeeded` to refund it."""

    pair: str
    address: str
    user: str
    known: str


def _login_keys(username: str, client_address: str | None) -> LoginAttempt:
    address = address_key(client_address) or "-"
    return LoginAttempt(pair=PAIR.key(username, address), address=ADDRESS.key(address), user=USER.key(username),
                        known=f"known:{PAIR.key(username, address).split(':', 1)[1]}")


async def begin_login(username: str, client_address: str | None) -> LoginAttempt:
    """Count a sign-in attempt before the password is checked; TooManyAttempts if it must wait.

    One transaction counts on all keys or (when one is blocked) on none; the kinds are always
    taken in the same order (pair, address, username), so concurrent attempts cannot deadlock.
    """
    attempt = _login_keys(username, client_address)
    now_ms = _now_ms()
    if random.random() < PURGE_CHANCE:
        await purge_stale(now_ms)
    try:
        async with in_transaction() as conn:
            pair = await _take(conn, PAIR, attempt.pair, now_ms)
            if pair is None:
                raise _Blocked(attempt.pair, [attempt.address])
            # The username's own wait holds back only addresses that have tried this username before
            # and never signed in with it: a flood of wrong passwords does not close the account for
            # its owner at a clean or known address (both still count towards it).
            user_checked = pair > 1 and not await _run(
                conn, 'SELECT 1 AS known FROM throttle WHERE "key" = :key AND last_ms > :since',
                key=attempt.known, since=now_ms - KNOWN_FOR_MS)
            applying = [attempt.pair, attempt.address, attempt.user] if user_checked else [attempt.pair, attempt.address]
            if await _take(conn, ADDRESS, attempt.address, now_ms) is None:
                raise _Blocked(attempt.address, applying)
            if await _take(conn, USER, attempt.user, now_ms, check=user_checked) is None:
                raise _Blocked(attempt.user, applying)
    except _Blocked as refused:
        raise too_many(await _refuse(refused.refusing, refused.keys), "failed sign-ins") from None
    return attempt


async def login_succeeded(attempt: LoginAttempt) -> None:
    """Refund the attempt and remember the address as known for this username.

    The (username, address) record is cleared; the address and the username lose this one count
    only: one success does not clear what an attacker did from elsewhere or under other usernames.
    Run it in the transaction that opens the session.
    """
    conn = db.connection()
    now_ms = _now_ms()
    await _run(conn, 'DELETE FROM throttle WHERE "key" = :key RETURNING "key"', key=attempt.pair)
    for rule, key in ((ADDRESS, attempt.address), (USER, attempt.user)):
        await _run(conn, f'UPDATE throttle SET "count" = "count" - 1, blocked_until_ms = CASE WHEN "count" - 1 < '
                   f'{rule.free} THEN NULL ELSE blocked_until_ms END WHERE "key" = :key AND "count" > 0 '
                   'RETURNING "count"', key=key)
    await _run(conn, 'INSERT INTO throttle ("key", "count", refused, window_started_ms, last_ms, blocked_until_ms) '
               'VALUES (:key, 1, 0, :now, :now, NULL) ON CONFLICT ("key") DO UPDATE SET "count" = throttle."count" + 1, '
               'last_ms = :now RETURNING "count"', key=attempt.known, now=now_ms)


# --- the current password, checked by changePassword ---------------------------------------------


async def begin_current_password_check(account_id: int) -> str:
    """Count a check of the current password (a signed-in session must not guess it unhindered)."""
    key = CURRENT_PASSWORD.key(str(account_id))
    now_ms = _now_ms()
    async with in_transaction() as conn:
        counted = await _take(conn, CURRENT_PASSWORD, key, now_ms)
    if counted is None:
        raise too_many(await _refuse(key), "wrong current passwords")
    return key


async def current_password_confirmed(key: str) -> None:
    await _run(db.connection(), 'DELETE FROM throttle WHERE "key" = :key RETURNING "key"', key=key)


# --- password-reset mails -------------------------------------------------------------------------


async def take_reset_address(client_address: str | None) -> bool:
    """Count one reset request from the address; False if the address has asked too often."""
    key = RESET_ADDRESS.key(address_key(client_address) or "-")
    now_ms = _now_ms()
    async with in_transaction() as conn:
        counted = await _take(conn, RESET_ADDRESS, key, now_ms)
    if counted is None:
        await _refuse(key)
        return False
    return True


async def take_reset_account(conn, account_id: int) -> bool:
    """Count one reset mail for the account in the caller's transaction (which holds the row until it
    commits, so simultaneous requests send one mail); False if it is too soon."""
    key = RESET_ACCOUNT.key(str(account_id))
    now_ms = _now_ms()
    if await _take(conn, RESET_ACCOUNT, key, now_ms) is None:
        await _refuse(key)
        return False
    return True
