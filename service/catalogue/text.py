"""Text folding for search and sorting, identical on SQLite and PostgreSQL.

Both databases index the same pre-folded document, so a search gives the same
results on either: "Bonen" finds Bönen, "Luenen" finds Lünen, "strassen" finds
Straßen. Every word is stored in two spellings (ü→ue and ü→u); a query word
matches either as a prefix.
"""

from __future__ import annotations

import re
import unicodedata

_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "œ": "oe"})
_STRIP = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "æ": "ae", "ø": "o", "œ": "oe"})
_NON_WORD = re.compile(r"[^a-z0-9]+")
MAX_QUERY_TERMS = 8
MAX_TERM_LENGTH = 40


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).encode("ascii", "ignore").decode()


def fold(text: str, *, transliterate: bool = True) -> str:
    """Lower-case ASCII words separated by single spaces (ä→ae, or ä→a with transliterate=False)."""
    lowered = unicodedata.normalize("NFC", text).lower()
    lowered = lowered.translate(_TRANSLITERATE if transliterate else _STRIP)
    return _NON_WORD.sub(" ", _ascii(lowered)).strip()


def search_document(*texts: str | None) -> str:
    """The indexed text: every word in both spellings, each once."""
    seen: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for variant in (fold(text), fold(text, transliterate=False)):
            for word in variant.split():
                seen.setdefault(word, None)
    return " ".join(seen)


def sort_key(text: str) -> str:
    """A byte-comparable sort key, so ORDER BY agrees on both databases."""
    return fold(text)[:255]


def query_terms(query: str) -> list[tuple[str, ...]]:
    """Split a user query into terms; each term is a tuple of spellings, any of which may match."""
    terms: list[tuple[str, ...]] = []
    words = re.split(r"\s+", unicodedata.normalize("NFC", query).strip())
    for raw in words:
        for index, word in enumerate(fold(raw).split()):
            stripped = fold(raw, transliterate=False).split()
            variants = [word[:MAX_TERM_LENGTH]]
            if index < len(stripped) and stripped[index][:MAX_TERM_LENGTH] != variants[0]:
                variants.append(stripped[index][:MAX_TERM_LENGTH])
            term = tuple(variants)
            if term not in terms:
                terms.append(term)
    return terms[:MAX_QUERY_TERMS]


def fts5_query(terms: list[tuple[str, ...]]) -> str:
    """SQLite FTS5 MATCH expression: every term must match one of its spellings as a prefix."""
    parts = []
    for variants in terms:
        alternatives = " OR ".join(f'"{v}"*' for v in variants)
        parts.append(f"({alternatives})" if len(variants) > 1 else alternatives)
    return " AND ".join(parts)


def tsquery(terms: list[tuple[str, ...]]) -> str:
    """PostgreSQL to_tsquery('simple', …) expression with the same meaning as fts5_query."""
    parts = []
    for variants in terms:
        alternatives = " | ".join(f"{v}:*" for v in variants)
        parts.append(f"({alternatives})" if len(variants) > 1 else alternatives)
    return " & ".join(parts)
