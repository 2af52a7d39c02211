"""One clock for the service (timezone-aware UTC), and German date formats for mails and pages."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def german_date(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = value.astimezone(BERLIN).date()
    return value.strftime("%d.%m.%Y")


def german_datetime(value: dt.datetime) -> str:
    return value.astimezone(BERLIN).strftime("%d.%m.%Y, %H:%M Uhr")
