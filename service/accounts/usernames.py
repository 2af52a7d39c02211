"""Usernames (the ministry's "Kennung") for contact persons.

The ministry letter asks that every contact person gets a Kennung made of the
first letter of the first name and the surname (Bernd Müller -> b.mueller), and
that a clash is resolved by taking more letters of the first name (Jutta Becker
-> j.becker, then Jasmin Becker -> ja.becker). Our product rule is the same
without the dot: "bmueller", "jbecker", "jabecker", ...; once every prefix of
the first name is taken, a number is appended to the one-letter form
("jbecker2", "jbecker3", ...).

A username is never reused: the set of taken usernames a caller passes in must
include the usernames of deleted accounts, so an old Kennung quoted in a letter
or an audit record always means the same person.

Everything here is pure (no database); the caller supplies what is taken.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Container, Iterator

MAX_USERNAME_LENGTH = 32

_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")

# Applied after lowercasing, before NFKD. German umlauts and ß are transcribed
# (not just stripped of their dots); the rest are letters NFKD does not
# decompose into a base letter plus combining marks.
_TRANSCRIPTIONS = {
    "ä": "ae",
    "ö": "oe",
    "ü": "ue",
    "ß": "ss",  # "ẞ".lower() == "ß"
    "æ": "ae",
    "ø": "oe",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "ı": "i",
    "þ": "th",
}
_TRANSCRIPTION_TABLE = str.maketrans(_TRANSCRIPTIONS)


def normalise_name_part(text: str) -> str:
    """Lowercase ASCII form of a name part: only a-z and 0-9 remain.

    Umlauts and ß are transcribed (Müller -> mueller, Strauß -> strauss), other
    diacritics are dropped (Núñez -> nunez, Łukasz -> lukasz), and everything
    else (spaces, hyphens, apostrophes, dots, letters of other scripts) is
    removed: "von der Heide" -> "vonderheide", "O'Neill" -> "oneill".
    """
    # NFKC first, so a decomposed "u" + U+0308 is transcribed like "ü".
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRANSCRIPTION_TABLE)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch in _ALLOWED)


def username_candidates(first_name: str, last_name: str) -> Iterator[str]:
    """Yield the usernames to try for a person, best first (infinite, no repeats).

    1. One, two, three, ... letters of the first name + the surname, up to the
       whole first name: "jbecker", "jabecker", "jasbecker", ...
    2. The one-letter form with a number: "jbecker2", "jbecker3", ...

    Without letters in the first name the surname alone is the base
    ("mueller", "mueller2", ...). Every candidate matches ``^[a-z0-9]+$`` and
    has at most MAX_USERNAME_LENGTH characters: a longer first-name prefix is
    only tried while the whole surname still fits, and the surname is
    truncated where the one-letter or numbered forms would be too long.

    Raises ValueError if the surname has no letters (after normalisation);
    callers are expected to have validated the name already.
    """
    surname = normalise_name_part(last_name)
    if not _LETTERS.intersection(surname):
        raise ValueError("surname has no letters")
    # Only letters of the first name are used as the prefix (digits there are
    # noise, and would blur the numbered forms).
    given = "".join(ch for ch in normalise_name_part(first_name) if ch in _LETTERS)
    return _candidates(given, surname)


def _candidates(given: str, surname: str) -> Iterator[str]:
    seen: set[str] = set()

    def fresh(candidate: str) -> bool:
        if candidate in seen:
            return False
        seen.add(candidate)
        return True

    base = given[:1] + surname
    first = base[:MAX_USERNAME_LENGTH]
    if fresh(first):
        yield first
    for length in range(2, len(given) + 1):
        if length + len(surname) > MAX_USERNAME_LENGTH:
            break
        candidate = given[:length] + surname
        if fresh(candidate):
            yield candidate
    number = 2
    while True:
        suffix = str(number)
        candidate = base[: MAX_USERNAME_LENGTH - len(suffix)] + suffix
        if fresh(candidate):
            yield candidate
        number += 1


def choose_username(first_name: str, last_name: str, taken: Container[str]) -> str:
    """The first of ``username_candidates(first_name, last_name)`` not in ``taken``.

    ``taken`` must contain every username ever allocated, including those of
    deleted accounts: a username is never reused. Raises ValueError if the
    surname has no letters.
    """
    for candidate in username_candidates(first_name, last_name):
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable: username_candidates is infinite")
