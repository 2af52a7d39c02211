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
- ``user``: the typed username across all addresses: 10 free, but its wait applies only to addresses
  that have already failed for this username. A correct password from an address without failures
  always gets through, so a flood of wrong passwords never closes the account for its owner, while
  every address of a distributed attack gets one try before it is slowed down with the account's wait.

Waits grow exponentially (1 s, 2 s, 4 s, … capped at 15 minutes) and are forgotten after 24 hours
without failures. Refused attempts are counted (``refused``) but cost no password verification and do
not extend the wait. Keys are keyed hashes of what the client typed, so an unknown username is
throttled exactly like a real one and the table holds neither usernames nor addresses.

Reset mails use the same statement with a spacing rule: per account one mail per 5 minutes and at
most 3 a day; per address at most 10 an hour.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from service import db
from service.accounts.secrets import keyed_hash
from service.errors import TooManyAttempts
from service.sql import render
from service.time import now

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


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
    """Named ``:now`` / ``:key`` markers to positional parameters (integers cast for PostgreSQL)."""
    params: list[object] = []
    out = []
    for index, piece in enumerate(sql.split(":")):
        if index == 0:
            out.append(piece)
            continue
        name = next((n for n in values if piece.startswith(n)), None)
        if name is None:
            out.append(":" + piece)
            continue
        out.append(("CAST(? AS BIGINT)" if isinstance(values[name], int) else "?") + piece[len(name):])
        params.append(values[name])
    return render("".join(out), dialect), params


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
    """Count one attempt on ``key``; None (nothing counted) if the key is blocked and ``check``."""
    sql, params = _statement(_take_sql(rule, check), conn.capabilities.dialect, {"key": key, "now": now_ms})
    rows = await conn.execute_query_dict(sql, params)
    return rows[0]["count"] if rows else None


async def _refuse(keys: list[str], now_ms: int) -> dt.timedelta:
    """Count a refused attempt on the blocked ones among ``keys``; the longest remaining wait."""
    conn = db.connection()
    marks = ", ".join(f":key{i}" for i in range(len(keys)))
    values: dict[str, object] = {f"key{i}": k for i, k in enumerate(keys)}
    values["now"] = now_ms
    # Longer names first, so ":key1" is never read as ":key" followed by "1".
    ordered = dict(sorted(values.items(), key=lambda item: -len(item[0])))
    sql, params = _statement(
        f'UPDATE throttle SET refused = refused + 1 WHERE "key" IN ({marks}) AND blocked_until_ms > :now '
        "RETURNING blocked_until_ms", conn.capabilities.dialect, ordered)
    rows = await conn.execute_query_dict(sql, params)
    until = max((r["blocked_until_ms"] for r in rows), default=now_ms + 1000)
    return dt.timedelta(milliseconds=max(until - now_ms, 1000))


class _Blocked(Exception):
    def __init__(self, keys: list[str]) -> None:
        self.keys = keys


def too_many(wait: dt.timedelta, what: str) -> TooManyAttempts:
    seconds = max(1, math.ceil(wait.total_seconds()))
    return TooManyAttempts(f"Too many {what}. Try again in {seconds} seconds.", retry_after_seconds=seconds)


# --- sign-in ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginAttempt:
    """A counted sign-in attempt; pass it to `login_succeeded` to refund it."""

    keys: dict[str, str]
    user_checked: bool


async def begin_login(username: str, client_address: str | None) -> LoginAttempt:
    """Count a sign-in attempt before the password is checked; TooManyAttempts if it must wait.

    One transaction counts on all keys or (when one is blocked) on none; the kinds are always
    taken in the same order (pair, address, username), so concurrent attempts cannot deadlock.
    """
    address = address_key(client_address) or "-"
    keys = {"pair": PAIR.key(username, address), "addr": ADDRESS.key(address), "user": USER.key(username)}
    now_ms = _now_ms()
    try:
        async with in_transaction() as conn:
            pair = await _take(conn, PAIR, keys["pair"], now_ms)
            if pair is None:
                raise _Blocked(list(keys.values()))
            # An address without earlier attempts for this username is not held back by the
            # username's wait (it is still counted there).
            user_checked = pair > 1
            blocked = [keys["addr"], keys["user"]] if user_checked else [keys["addr"]]
            if await _take(conn, ADDRESS, keys["addr"], now_ms) is None:
                raise _Blocked(blocked)
            if await _take(conn, USER, keys["user"], now_ms, check=user_checked) is None:
                raise _Blocked(blocked)
    except _Blocked as refused:
        raise too_many(await _refuse(refused.keys, now_ms), "failed sign-ins") from None
    return LoginAttempt(keys=keys, user_checked=user_checked)


async def login_succeeded(attempt: LoginAttempt) -> None:
    """Refund the attempt: the (username, address) record is cleared, the others lose one count.

    Earlier failures of the address and of the username stay counted: one success does not clear
    what an attacker did from elsewhere or under other usernames.
    """
    conn = db.connection()
    dialect = conn.capabilities.dialect
    sql, params = _statement('DELETE FROM throttle WHERE "key" = :key', dialect, {"key": attempt.keys["pair"]})
    await conn.execute_query(sql, params)
    for rule, key in ((ADDRESS, attempt.keys["addr"]), (USER, attempt.keys["user"])):
        sql, params = _statement(
            f'UPDATE throttle SET "count" = "count" - 1, blocked_until_ms = CASE WHEN "count" - 1 < {rule.free} '
            'THEN NULL ELSE blocked_until_ms END WHERE "key" = :key AND "count" > 0', dialect, {"key": key})
        await conn.execute_query(sql, params)


# --- password-reset mails -------------------------------------------------------------------------


def reset_address_key(client_address: str | None) -> str:
    return RESET_ADDRESS.key(address_key(client_address) or "-")


async def take_reset_address(client_address: str | None) -> bool:
    """Count one reset request from the address; False if the address has asked too often."""
    now_ms = _now_ms()
    async with in_transaction() as conn:
        counted = await _take(conn, RESET_ADDRESS, reset_address_key(client_address), now_ms)
    if counted is None:
        await _refuse([reset_address_key(client_address)], now_ms)
        return False
    return True


async def take_reset_account(conn, account_id: int) -> bool:
    """Count one reset mail for the account inside the caller's transaction; False if too soon."""
    now_ms = _now_ms()
    key = RESET_ACCOUNT.key(str(account_id))
    if await _take(conn, RESET_ACCOUNT, key, now_ms) is None:
        return False
    return True
