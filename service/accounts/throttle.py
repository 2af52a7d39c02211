"""Login throttling: repeated failures per typed username and per client address slow
down exponentially, capped, and never lock anyone out for good.

Keys are built from what the client typed, so an unknown username is throttled exactly
like a real one and throttling reveals nothing about which accounts exist.
"""

from __future__ import annotations

import datetime as dt

from service.accounts.models import LoginThrottle
from service.accounts.secrets import keyed_hash
from service.time import now

FREE_FAILURES = 5  # per typed username, before any delay
FREE_FAILURES_PER_ADDRESS = 20  # an office behind one address has many people
MAX_DELAY = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=24)


def keys(username: str, client_address: str | None) -> list[str]:
    result = [f"user:{keyed_hash(username.strip().lower(), 'throttle')[:40]}"]
    if client_address:
        result.append(f"addr:{keyed_hash(client_address, 'throttle')[:40]}")
    return result


def delay_after(failures: int, free: int = FREE_FAILURES) -> dt.timedelta:
    if failures < free:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** min(failures - free, 30)), MAX_DELAY)


async def retry_after(throttle_keys: list[str]) -> dt.timedelta | None:
    """How long the caller must still wait, or None if a login may be tried now."""
    moment = now()
    rows = await LoginThrottle.filter(key__in=throttle_keys, blocked_until__gt=moment).values_list(
        "blocked_until", flat=True
    )
    return max(rows) - moment if rows else None


async def failed(throttle_keys: list[str]) -> None:
    moment = now()
    for key in throttle_keys:
        row = await LoginThrottle.get_or_none(key=key)
        if row is None:
            await LoginThrottle.create(key=key, failures=1, last_failure_at=moment, blocked_until=None)
            continue
        failures = 1 if moment - row.last_failure_at > FORGET_AFTER else row.failures + 1
        delay = delay_after(failures, FREE_FAILURES if key.startswith("user:") else FREE_FAILURES_PER_ADDRESS)
        await LoginThrottle.filter(id=row.id).update(
            failures=failures, last_failure_at=moment, blocked_until=moment + delay if delay else None
        )


async def succeeded(throttle_keys: list[str]) -> None:
    # Only the username key is forgiven: a success on one account does not clear an address.
    await LoginThrottle.filter(key__in=[k for k in throttle_keys if k.startswith("user:")]).delete()
