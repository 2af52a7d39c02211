"""Automatic persisted queries (Apollo's APQ protocol) and the trusted-documents mode.

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without the document; if the
server knows the hash it runs the document, else it answers PERSISTED_QUERY_NOT_FOUND and the client
sends hash and document together once (checked: the hash must be the document's sha256, else
BAD_USER_INPUT), which registers it. With GET this keeps URLs short and cacheable. The store is an
LRU bounded by PERSISTED_QUERIES_BYTES.

TRUSTED_DOCUMENTS_ONLY=true: only the listed documents run, by hash or by their exact text (the web
pages' operations in ikz/operations/*.graphql, plus TRUSTED_DOCUMENTS_PATHS); any other document is
refused with DOCUMENT_NOT_TRUSTED and nothing is registered.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import orjson
from cachetools import LRUCache

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
BAD_USER_INPUT = "BAD_USER_INPUT"
_HASH = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(Exception):
    """A request error (no `data`): the message and code go to the client as they are."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_trusted(paths: list[Path] | tuple[Path, ...]) -> dict[str, str]:
    """hash -> document from `.graphql` files, folders of them, or JSON objects {sha256: document}.

    Raises ValueError naming the file when one cannot be read or a JSON hash is not its document's.
    """
    documents: dict[str, str] = {}
    for path in paths:
        path = Path(path)
        files = sorted(path.glob("*.graphql")) if path.is_dir() else [path]
        for file in files:
            try:
                raw = file.read_bytes()
            except OSError as exc:
                raise ValueError(f"{file}: cannot be read ({exc.strerror or exc})") from None
            if file.suffix == ".json":
                try:
                    listed = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    raise ValueError(f"{file}: not JSON ({exc})") from None
                if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
                    raise ValueError(f"{file}: expected a JSON object {{sha256: document}}")
                for digest, text in listed.items():
                    if sha256(text) != digest:
                        raise ValueError(f"{file}: {digest[:12]}… is not the sha256 of its document")
                    documents[digest] = text
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise ValueError(f"{file}: not UTF-8") from None
                documents[sha256(text)] = text
    return documents


class PersistedQueries:
    def __init__(self, max_bytes: int, known: dict[str, str] | None = None, *, trusted_only: bool = False) -> None:
        """`known`: documents always found by hash (the pages' operations); with `trusted_only` the only ones run."""
        self.known = dict(known or {})
        self.trusted = self.known if trusted_only else None
        self._store: LRUCache = LRUCache(maxsize=max(max_bytes, 1), getsizeof=lambda text: len(text) + 128)
        self.max_bytes = max_bytes

    def resolve(self, query: object, extensions: object) -> object:
        """The document to run for this request (raises PersistedQueryError)."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            if self.trusted is not None and isinstance(query, str) and sha256(query) not in self.trusted:
                raise PersistedQueryError(
                    "This service runs only its trusted documents (TRUSTED_DOCUMENTS_ONLY); send one of them, "
                    "or its sha256 as extensions.persistedQuery.sha256Hash.", DOCUMENT_NOT_TRUSTED)
            return query
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError("extensions.persistedQuery must be {version: 1, sha256Hash: …}.", BAD_USER_INPUT)
        if not isinstance(digest, str) or not _HASH.fullmatch(digest):
            raise PersistedQueryError("extensions.persistedQuery.sha256Hash must be 64 lowercase hex digits.",
                                      BAD_USER_INPUT)
        if query is None:
            known = self.known.get(digest)
            if known is None and self.trusted is None:
                known = self._store.get(digest)
            if known is None:
                if self.trusted is not None:
                    raise PersistedQueryError("No trusted document has this sha256Hash (TRUSTED_DOCUMENTS_ONLY).",
                                              DOCUMENT_NOT_TRUSTED)
                raise PersistedQueryError("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
            return known
        if not isinstance(query, str):
            return query  # the normal path refuses a query that is not a string
        if sha256(query) != digest:
            raise PersistedQueryError("provided sha does not match query: sha256Hash must be the sha256 of the "
                                      "query's UTF-8 text.", BAD_USER_INPUT)
        if self.trusted is not None:
            if digest not in self.trusted:
                raise PersistedQueryError("This service runs only its trusted documents (TRUSTED_DOCUMENTS_ONLY).",
                                          DOCUMENT_NOT_TRUSTED)
        elif digest not in self.known and self.max_bytes > 0 and len(query) + 128 <= self.max_bytes:
            self._store[digest] = query
        return query
