"""Shared GraphQL pieces: ids, page info, selection inspection."""

from __future__ import annotations

import re
from collections.abc import Iterable

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from service.errors import InvalidInput, NotFound

MAX_DB_ID = 2**31 - 1
_ASCII_ID = re.compile(r"[0-9]{1,40}")  # not \d: that matches Arabic-Indic, Devanagari, … digits too


def parse_id(value: str | strawberry.ID, noun: str, *, field: str = "id") -> int:
    """Turn a client id into a database id.

    Ids are ASCII decimal only ("١٢", "²", " 12", "+12" are not ids): anything else is a client's
    mistake and says so (BAD_USER_INPUT). A well-formed id beyond the databases' integer columns
    cannot exist, so it is simply not found.
    """
    text = value if isinstance(value, str) else str(value)
    if not _ASCII_ID.fullmatch(text):
        raise InvalidInput(f"'{field}' must be an id of ASCII digits, not {text[:40]!r}.", field=field)
    if not 0 < int(text) <= MAX_DB_ID:
        raise NotFound(f"No {noun} with id {text[:40]!r}.", field=field)
    return int(text)


def parse_ids(values: Iterable[strawberry.ID] | None, noun: str, field: str) -> tuple[int, ...]:
    if not values:
        return ()
    return tuple(dict.fromkeys(parse_id(v, noun, field=field) for v in values))


def require_text(value: str | None, field: str, limit: int = 200) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise InvalidInput(f"'{field}' is longer than {limit} characters.", field=field)
    return value


def require_texts(values: Iterable[str] | None, field: str, limit: int) -> tuple[str, ...]:
    """A list of short strings (filter values); each at most `limit` characters."""
    if not values:
        return ()
    for value in values:
        require_text(value, field, limit)
    return tuple(dict.fromkeys(values))


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_info(cursors: list[str], has_next: bool, has_previous: bool) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


def _walk(selections, prefix: str, out: set[str]) -> None:
    for selection in selections:
        if isinstance(selection, SelectedField):
            path = f"{prefix}{selection.name}"
            out.add(path)
            _walk(selection.selections, f"{path}.", out)
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            _walk(selection.selections, prefix, out)


def selected_paths(info: Info) -> set[str]:
    """Dotted paths of every field selected below the current one (fragments flattened)."""
    out: set[str] = set()
    for field in info.selected_fields:
        _walk(field.selections, "", out)
    return out


def selects(paths: set[str], prefix: str) -> bool:
    return prefix in paths or any(p.startswith(prefix + ".") for p in paths)
