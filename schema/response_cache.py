"""Anonymous answers kept per process, keyed by the data version (service/publication.py).

Why it is never stale: the key holds the data version read *before* the operation runs. Every
published change moves the version in its own transaction, so data read after that version was
read are at least as new as it; an answer stored under version v is served only to requests that
read v themselves. An entry under an old version is simply never asked for again and ages out of
the LRU. Several instances share nothing but the database, and the version is read from it on
every request (one indexed statement), so an approval on one instance is seen by all at once.

What is cached: queries (never mutations) of an anonymous request (no session cookie, no bearer
token) whose root fields are all in CACHEABLE_ROOT_FIELDS (answers that depend only on the
published data), with data and no error at all (a partial answer is not kept). Bounded by
RESPONSE_CACHE_BYTES (LRU by the size of the stored answers).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson
from cachetools import LRUCache
from strawberry.extensions import SchemaExtension
from graphql import FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, OperationDefinitionNode, parse
from graphql.language import OperationType, print_ast

from service import publication

# Root fields whose answer to an anonymous reader is a function of the published data alone.
# tests/test_response_cache.py fails when a Query field is in neither set, so a new one is decided on.
CACHEABLE_ROOT_FIELDS = frozenset({
    "__typename", "__schema", "__type",
    "cooperations", "cooperation", "municipalities", "municipality", "organization", "topicFields", "legalForms",
    "document", "statistics",
    "me",  # null without a session, and requests with one never reach the cache
})
# Depend on something besides the published data (a token's state, the clock) or need a session.
UNCACHED_ROOT_FIELDS = frozenset({
    "invitation", "myData", "pendingChanges", "change", "staffAccounts", "invitationProgress", "mailDeliveries",
    "auditLog", "contactPersons", "contactPerson",
})
ENTRY_OVERHEAD = 256  # bytes counted per entry besides the answer (key, tuple, object headers)


@dataclass(frozen=True)
class Operation:
    name: str  # "" for an anonymous operation
    kind: OperationType
    cacheable: bool


@dataclass
class Document:
    """What the cache needs to know about a document, worked out once per text."""

    digest: str  # sha256 of the normalised (parsed and printed) document
    operations: dict[str, Operation]  # by name
    single: Operation | None  # the document's only operation (what a request without operationName runs)
    size: int
    validated: bool = False  # answered without error once (this text or one that normalises the same)

    def operation(self, name: str | None) -> Operation | None:
        return self.single if name is None else self.operations.get(name)


def _root_fields(selection_set, fragments: dict, memo: dict[str, set[str] | None]) -> set[str] | None:
    """The field names a selection set asks for at its own level, through fragments (each walked once:
    a fragment bomb spreading F1 twice, F1 spreading F2 twice, … stays linear)."""
    names: set[str] = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
            continue
        if isinstance(selection, InlineFragmentNode):
            inner = _root_fields(selection.selection_set, fragments, memo)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in memo:
                memo[name] = set()  # a cycle (invalid anyway) ends here
                fragment = fragments.get(name)
                memo[name] = None if fragment is None else _root_fields(fragment.selection_set, fragments, memo)
            inner = memo[name]
        else:
            inner = None
        if inner is None:
            return None  # invalid; the normal path says so
        names |= inner
    return names


def analyse(text: str, max_tokens: int) -> Document | None:
    """The document's digest and operations, or None if it does not parse (the normal path answers)."""
    try:
        document = parse(text, no_location=True, max_tokens=max_tokens)
    except (GraphQLError, RecursionError):
        return None
    fragments = {d.name.value: d for d in document.definitions if not isinstance(d, OperationDefinitionNode)
                 and getattr(d, "name", None) is not None}

    def describe(definition: OperationDefinitionNode) -> Operation:
        roots = _root_fields(definition.selection_set, fragments, {})
        return Operation(definition.name.value if definition.name else "", definition.operation,
                         definition.operation is OperationType.QUERY
                         and roots is not None and roots <= CACHEABLE_ROOT_FIELDS)

    described = [(d, describe(d)) for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operations = {d.name.value: operation for d, operation in described if d.name is not None}
    single = described[0][1] if len(described) == 1 else None
    digest = hashlib.sha256(print_ast(document).encode()).hexdigest()
    return Document(digest, operations, single, len(text) * 2 + 200)


class Documents:
    """Analysed documents by their text (LRU bounded by bytes; parsing happens once per text)."""

    def __init__(self, max_bytes: int, max_tokens: int) -> None:
        self._cache: LRUCache = LRUCache(maxsize=max(max_bytes, 1), getsizeof=lambda d: d.size if d else 64)
        self.max_tokens = max_tokens
        self._validated: LRUCache = LRUCache(maxsize=4096)  # digests of documents answered without error

    def mark_validated(self, document: Document) -> None:
        document.validated = True
        self._validated[document.digest] = True

    def get(self, text: str) -> Document | None:
        try:
            return self._cache[text]
        except KeyError:
            pass
        document = analyse(text, self.max_tokens)
        if document is not None and document.digest in self._validated:
            document.validated = True
        try:
            self._cache[text] = document
        except ValueError:  # larger than the whole cache
            pass
        return document


def cache_key(document: Document, operation: Operation, variables: dict | None, version: int,
              media_type: str) -> tuple:
    try:
        canonical = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        canonical = repr(variables).encode()
    return (document.digest, operation.name, canonical, version, media_type)


def etag_for(fingerprint: str, key: tuple) -> str:
    """A weak validator (equivalent answers: the development extensions may differ byte by byte)."""
    digest = hashlib.sha256(repr((fingerprint, key)).encode()).hexdigest()[:32]
    return f'W/"{key[3]}-{digest}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of If-None-Match against our tag."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))


@dataclass(frozen=True)
class Entry:
    body: bytes
    media_type: str


class DataVersionRead(SchemaExtension):
    """Reads the data version for a cacheable request whose document this process has not answered yet.

    Its hook runs after validation and the limits (which are `on_validate`) and before execution, so a
    request that is refused costs no statement, and the version is still read before the data.
    """

    async def on_execute(self):
        request = getattr(self.execution_context.context, "request", None)
        pending = getattr(request.state, "cache_pending", None) if request is not None else None
        if pending is not None:
            request.state.cache_pending = None
            await pending()
        yield


class ResponseCache:
    """LRU of answers, bounded by the bytes they hold (0 bytes: off)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lru: LRUCache = LRUCache(maxsize=max(max_bytes, 1), getsizeof=self._size)

    @staticmethod
    def _size(entry: Entry) -> int:
        return len(entry.body) + ENTRY_OVERHEAD

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def bytes_used(self) -> int:
        return int(self._lru.currsize) if self._lru else 0

    def __len__(self) -> int:
        return len(self._lru)

    def get(self, key: tuple) -> Entry | None:
        return self._lru.get(key) if self.enabled else None

    def put(self, key: tuple, entry: Entry) -> bool:
        if not self.enabled or self._size(entry) > self.max_bytes:
            return False
        self._lru[key] = entry
        return True

    def clear(self) -> None:
        self._lru.clear()
