"""Cursor (keyset) pagination: stable under inserts, one indexed range scan per page.

A cursor is opaque to clients: base64url of [ordering, sort value, id]. It is
bound to its ordering, so a cursor from one ordering is refused by another. Decoding is
strict, since a client can write any cursor: the sort value must have the ordering's type
(a text without NUL of bounded length, or an integer within the databases' INTEGER) and the
id must be a positive 32-bit integer; anything else is 'Invalid cursor', never a database error.
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
MAX_CURSOR_LENGTH = 4_000
MAX_SORT_TEXT = 1_000
INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: tuple[Any, int] | None  # (sort value, id) of the last row seen


def encode_cursor(ordering: str, value: Any, row_id: int) -> str:
    raw = json.dumps([ordering, value, row_id], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _valid_value(value: Any, value_type: type) -> bool:
    if value_type is int:
        return _is_int(value) and INT32[0] <= value <= INT32[1]
    if not isinstance(value, str) or len(value) > MAX_SORT_TEXT or "\x00" in value:
        return False
    value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError: invalid
    return True


def decode_cursor(cursor: str, ordering: str, value_type: type = str) -> tuple[Any, int]:
    """(sort value, id) of a cursor made for `ordering`, whose sort values are of `value_type`."""
    try:
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
        if not isinstance(data, list) or len(data) != 3:
            raise ValueError
        kind, value, row_id = data
        if not isinstance(kind, str):
            raise ValueError
        if not _is_int(row_id) or not 0 < row_id <= INT32[1]:
            raise ValueError
        if kind == ordering and not _valid_value(value, value_type):
            raise ValueError
    except (ValueError, TypeError, UnicodeError, binascii.Error, RecursionError):
        raise InvalidInput("Invalid cursor: use a cursor exactly as returned by this API.", field="after") from None
    if kind != ordering:
        raise InvalidInput(
            "This cursor belongs to another ordering; start again without 'after' when you change orderBy.",
            field="after",
        )
    return value, row_id


def page_request(first: int | None, after: str | None, ordering: str, max_size: int = MAX_PAGE_SIZE,
                 value_type: type = str) -> PageRequest:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if size < 0 or size > max_size:
        raise InvalidInput(f"'first' must be between 0 and {max_size}, got {size}.", field="first")
    return PageRequest(first=size, after=decode_cursor(after, ordering, value_type) if after else None)
