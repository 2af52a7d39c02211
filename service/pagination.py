"""Cursor (keyset) pagination: stable under inserts, one indexed range scan per page.

A cursor is opaque to clients: base64url of [ordering, sort value, id]. It is
bound to its ordering, so a cursor from one ordering is refused by another.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from service.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: tuple[Any, int] | None  # (sort value, id) of the last row seen


def encode_cursor(ordering: str, value: Any, row_id: int) -> str:
    raw = json.dumps([ordering, value, row_id], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
        kind, value, row_id = data
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError
        if value is not None and not isinstance(value, (str, int)):
            raise ValueError
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise InvalidInput("Invalid cursor: use a cursor exactly as returned by this API.", field="after") from None
    if kind != ordering:
        raise InvalidInput(
            "This cursor belongs to another ordering; start again without 'after' when you change orderBy.",
            field="after",
        )
    return value, row_id


def page_request(first: int | None, after: str | None, ordering: str, max_size: int = MAX_PAGE_SIZE) -> PageRequest:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if size < 0 or size > max_size:
        raise InvalidInput(f"'first' must be between 0 and {max_size}, got {size}.", field="first")
    return PageRequest(first=size, after=decode_cursor(after, ordering) if after else None)
