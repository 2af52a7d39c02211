"""GraphQL over HTTP: status codes and media types as the GraphQL-over-HTTP spec asks.

- `application/json` (the default): 200 for every well-formed request, errors in the body.
- `application/graphql-response+json` (when the client asks for it): a request error
  (unparsable, invalid, bad variables; no `data`) answers 400.
- A body that is not a GraphQL request answers 400 (not UTF-8, not JSON, not a JSON object,
  nested deeper than orjson's 1,024 levels, a lone surrogate); a mutation over GET 405.
- Multipart requests (the GraphQL multipart request spec: file uploads) are accepted only with a
  header a browser cannot send cross-site without a CORS preflight (`Apollo-Require-Preflight`,
  `X-Apollo-Operation-Name` or `Authorization`): a multipart form is a "simple" request, which a
  foreign page could otherwise post with the visitor's session cookie. The body is counted while
  it is read and refused (413) beyond DOCUMENT_MAX_BYTES plus room for the other fields.
- A request that runs longer than REQUEST_TIMEOUT_SECONDS is stopped (QUERY_TIMEOUT); an answer
  larger than MAX_RESPONSE_BYTES is replaced by an error (RESPONSE_TOO_LARGE).
- Caching: an anonymous query's answer is kept by data version (schema/response_cache.py) and sent
  with `Cache-Control: public, no-cache` and a weak `ETag`; a GET whose `If-None-Match` names it gets
  304 without running anything. Everything else is `private, no-store`. Persisted queries (APQ) and
  the trusted-documents mode: schema/persisted.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.http import process_result
from cross_web import HTTPException
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from service import publication
from service.config import Settings
from service.db import count_queries
from service.mail.outbox import track_queued
from service.mail.worker import wake as wake_mail_worker
from schema.auth import session_token
from schema.context import Context
from schema.errors import with_codes
from schema.persisted import PersistedQueries, PersistedQueryError
from schema.response_cache import Documents, Entry, ResponseCache, cache_key, etag_for, matches

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
QUERY_TIMEOUT = "QUERY_TIMEOUT"
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
logger = logging.getLogger("ikz.graphql")
VARY = "Accept, Authorization, Cookie"
PRIVATE = "private, no-store"
PUBLIC = "public, no-cache"  # a proxy or browser may keep it, and asks again (If-None-Match) before use
DOCUMENTS_BYTES = 4 * 1024 * 1024
# The request as parsed once per request (run() parses it to look in the cache; strawberry's run reuses it).
_parsed: contextvars.ContextVar[Any] = contextvars.ContextVar("ikz_graphql_request", default=None)


@dataclass(frozen=True)
class CacheSlot:
    key: tuple
    etag: str
    document: Any

    def headers(self) -> dict[str, str]:
        return {"Cache-Control": PUBLIC, "ETag": self.etag, "Vary": VARY}


def error_body(message: str, code: str, **extensions: Any) -> dict:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def _prefers_graphql_response_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if GRAPHQL_RESPONSE_JSON not in accept:
        return False
    # Honour an explicit preference for application/json listed first.
    json_pos = accept.find("application/json")
    return json_pos == -1 or accept.find(GRAPHQL_RESPONSE_JSON) < json_pos


# --- multipart uploads ------------------------------------------------------------------------

MAX_UPLOAD_FILES = 5
# Reading the text of a long PDF takes seconds of CPU: an upload's execution may take this long.
UPLOAD_TIMEOUT_SECONDS = 120.0
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name", "authorization")
MULTIPART_OVERHEAD = 256 * 1024  # the operations and map fields, part headers, boundaries


class BodyTooLarge(Exception):
    """The request body went past the limit while it was read."""


def multipart_limit(settings: Settings) -> int:
    return settings.document_max_bytes + MULTIPART_OVERHEAD


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data"


def _error_response(request: Request, status: int, message: str, **extensions: Any) -> Response:
    return Response(orjson.dumps(error_body(message, "BAD_USER_INPUT", **extensions)), status_code=status,
                    media_type=GRAPHQL_RESPONSE_JSON if _prefers_graphql_response_json(request) else "application/json")


def _too_large(request: Request, settings: Settings) -> Response:
    from service.documents.intake import megabytes

    return _error_response(request, 413, f"The upload is larger than {megabytes(settings.document_max_bytes)} MB.",
                           field="file", maxBytes=settings.document_max_bytes)


def _refuse_multipart(request: Request, settings: Settings) -> Response | None:
    if not any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        return _error_response(
            request, 400, "A multipart request needs the header 'Apollo-Require-Preflight: true' (or "
            "'X-Apollo-Operation-Name', or 'Authorization: Bearer …'), so that no other site can send one "
            "with your session.", header="Apollo-Require-Preflight")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > multipart_limit(settings):
        return _too_large(request, settings)
    return None


def _bounded(receive, limit: int):
    """An ASGI receive that raises BodyTooLarge once more than `limit` body bytes arrived (also
    for chunked bodies and lying Content-Length headers); nothing beyond is ever buffered."""
    seen = 0

    async def bounded_receive():
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return message

    return bounded_receive


class GraphQLView(GraphQL):
    def __init__(self, schema, settings: Settings, context_hooks: list | None = None,
                 known_documents: dict[str, str] | None = None) -> None:
        """`known_documents` (sha256 -> text): the pages' operations, the trusted list in TRUSTED_DOCUMENTS_ONLY."""
        from schema.auth import attach_principal

        super().__init__(
            schema,
            graphql_ide=None if settings.is_production else "graphiql",
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
        )
        self.settings = settings
        self.context_hooks = [attach_principal, *(context_hooks or [])]
        self.response_cache = ResponseCache(settings.response_cache_bytes)
        self.documents = Documents(DOCUMENTS_BYTES, settings.max_tokens)
        self.persisted = PersistedQueries(settings.persisted_queries_bytes, known_documents,
                                          trusted_only=settings.trusted_documents_only)
        # In keys and ETags: another build of the schema (a deploy) or mode never matches an older answer.
        self.fingerprint = hashlib.sha256(f"{settings.app_env}\n{schema}".encode()).hexdigest()[:16]

    async def get_context(self, request: Request, response: Response) -> Context:
        request.state.sub_response = response
        context = Context(request=request, response=response, settings=self.settings)
        for hook in self.context_hooks:
            await hook(context)
        return context

    async def run(self, request: Request, context: Any = None, root_value: Any = None) -> Response:
        if request.method == "POST" and _is_multipart(request):
            refused = _refuse_multipart(request, self.settings)
            if refused is not None:
                return refused
            request = Request(request.scope, receive=_bounded(request.receive, multipart_limit(self.settings)))
            try:
                # Read (and cache) the form before the request timeout starts: a 20 MB upload over a slow
                # line takes longer than an answer may. Files beyond 1 MB spool to disk, never to memory.
                await request.form(max_files=MAX_UPLOAD_FILES, max_fields=20)
            except BodyTooLarge:
                await request.close()
                return _too_large(request, self.settings)
            except (StarletteHTTPException, MultiPartException, ValueError, KeyError):
                await request.close()
                return _error_response(request, 400, "The multipart body cannot be read.")
            try:
                return await self._run(request, context, root_value, UPLOAD_TIMEOUT_SECONDS)
            finally:
                await request.close()  # the spooled upload files
        return await self._run(request, context, root_value)

    async def _run(self, request: Request, context: Any = None, root_value: Any = None,
                   timeout: float | None = None) -> Response:
        with count_queries() as counter:
            request.state.sql_counter = counter
            request.state.cache_slot = request.state.cache_pending = None
            queued = track_queued()
            parsed = _parsed.set(None)
            kwargs = {}
            if context is not None:
                kwargs["context"] = context
            if root_value is not None:
                kwargs["root_value"] = root_value
            try:
                seconds = max(self.settings.request_timeout_seconds, timeout or 0)
                async with asyncio.timeout(seconds):
                    response = await self._from_cache(request)
                    if response is None:
                        response = self._remember(request, await super().run(request, **kwargs))
            except TimeoutError:
                logger.warning("request stopped after %s s", seconds)
                response = self._request_error(request, (
                    f"The request took longer than {seconds:g} seconds and was stopped; "
                    "ask for less (smaller pages, fewer fields) and try again."), QUERY_TIMEOUT, 503,
                    timeoutSeconds=seconds)
            except PersistedQueryError as exc:
                response = self._request_error(request, exc.message, exc.code, 400)
            finally:
                _parsed.reset(parsed)
        if queued:
            wake_mail_worker()
        return response

    def _request_error(self, request: Request, message: str, code: str, status: int, **extensions: Any) -> Response:
        strict = _prefers_graphql_response_json(request)
        return Response(orjson.dumps(error_body(message, code, **extensions)), status_code=status if strict else 200,
                        media_type=GRAPHQL_RESPONSE_JSON if strict else "application/json",
                        headers={"Cache-Control": PRIVATE, "Vary": VARY})

    def should_render_graphql_ide(self, request) -> bool:
        # A persisted query over GET has no `query` parameter, only `extensions`.
        return super().should_render_graphql_ide(request) and request.query_params.get("extensions") is None

    async def parse_http_body(self, request_adapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        stashed = _parsed.get()
        if stashed is not None:
            return stashed
        data = await super().parse_http_body(request_adapter)
        if isinstance(data, GraphQLRequestData):
            data.query = self.persisted.resolve(data.query, data.extensions)
        return data

    async def _from_cache(self, request: Request) -> Response | None:
        """Parse the request once; an anonymous cacheable query is answered here (304 or a kept answer)."""
        if request.method not in ("GET", "POST"):
            return None
        adapter = self.request_adapter_class(request)
        if self.should_render_graphql_ide(adapter):
            return None
        try:
            data = await self.parse_http_body(adapter)
        except json.JSONDecodeError as exc:
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        _parsed.set(data)
        request.state.graphql_request_data = data
        if not isinstance(data, GraphQLRequestData) or not isinstance(data.query, str) \
                or session_token(request) is not None:
            return None
        document = self.documents.get(data.query)
        operation = document.operation(data.operation_name) if document is not None else None
        if operation is None or not operation.cacheable:
            return None
        media_type = GRAPHQL_RESPONSE_JSON if _prefers_graphql_response_json(request) else "application/json"
        if not document.validated:
            # Never run here before: the version is read only once the document has passed validation and
            # the limits (DataVersionRead, still before execution), so a refused request costs no statement.
            request.state.cache_pending = lambda: self._open_slot(request, document, operation, data, media_type)
            return None
        slot = await self._open_slot(request, document, operation, data, media_type)
        if request.method == "GET" and matches(request.headers.get("if-none-match"), slot.etag):
            return Response(status_code=304, headers=slot.headers())
        entry = self.response_cache.get(slot.key)
        if entry is None:
            return None
        body = entry.body
        if not self.settings.is_production:  # the statements of this request (the version read), not the first one's
            answer = orjson.loads(body)
            answer["extensions"] = {**(answer.get("extensions") or {}), "sqlQueries": request.state.sql_counter.count}
            body = orjson.dumps(answer)
        return Response(body, media_type=entry.media_type, headers=slot.headers())

    async def _open_slot(self, request: Request, document, operation, data: GraphQLRequestData,
                         media_type: str) -> CacheSlot:
        version = await publication.current()  # before the operation runs: see schema/response_cache.py
        key = cache_key(document, operation, data.variables, version, media_type)
        slot = request.state.cache_slot = CacheSlot(key, etag_for(self.fingerprint, key), document)
        return slot

    async def page_cache_key(self, request: Request, text: str, operation_name: str | None,
                             variables: dict | None) -> tuple | None:
        """For a page's in-process operation (ikz/web/base.py): the response-cache key, or None if not cacheable."""
        if not self.response_cache.enabled or session_token(request) is not None:
            return None
        document = self.documents.get(text)
        operation = document.operation(operation_name) if document is not None else None
        if operation is None or not operation.cacheable:
            return None
        return cache_key(document, operation, variables, await publication.current(), "page")

    def _remember(self, request: Request, response: Response) -> Response:
        """Keep a cacheable answer; a GET that already holds it gets 304 instead."""
        slot = request.state.cache_slot
        if slot is None or response.status_code != 200 or response.headers.get("etag") != slot.etag \
                or response.background is not None:
            return response
        self.documents.mark_validated(slot.document)
        self.response_cache.put(slot.key, Entry(bytes(response.body), response.media_type or "application/json"))
        if request.method == "GET" and matches(request.headers.get("if-none-match"), slot.etag):
            return Response(status_code=304, headers=slot.headers())
        return response

    async def execute_single(self, *args, **kwargs) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, "Mutations are only accepted over POST.") from None
            raise

    async def process_result(self, request: Request, result: ExecutionResult) -> dict:
        if result.errors:
            result.errors = with_codes(result.errors)
        data = process_result(result)
        if not self.settings.is_production:
            extensions = dict(data.get("extensions") or {})
            extensions["sqlQueries"] = request.state.sql_counter.count
            data["extensions"] = extensions
        sub_response = request.state.sub_response
        if _prefers_graphql_response_json(request):
            sub_response.media_type = GRAPHQL_RESPONSE_JSON
            if result.data is None and result.errors:
                sub_response.status_code = 400
        slot = getattr(request.state, "cache_slot", None)
        if slot is not None and not result.errors and result.data is not None:
            for name, value in slot.headers().items():
                sub_response.headers[name] = value
        return data

    def decode_json(self, data: str | bytes) -> object:
        # orjson is strict where json.loads is not: invalid UTF-8, lone surrogates and nesting
        # beyond 1,024 levels are JSON errors (400), not crashes.
        value = orjson.loads(data)
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "The request body (and its variables) must be a JSON object.")
        return value

    def parse_query_params(self, params) -> dict[str, Any]:
        # GET ?variables=null (or extensions=null) means none, as a JSON body's null does.
        params = {k: v for k, v in dict(params).items() if not (k in ("variables", "extensions") and v == "null")}
        return super().parse_query_params(params)

    def encode_json(self, data: object) -> bytes:
        # orjson: about five times faster than json.dumps on a page of 50 cooperations.
        return orjson.dumps(data)

    def create_response(self, response_data, sub_response: Response) -> Response:
        body = self.encode_json(response_data)
        limit = self.settings.max_response_bytes
        replaced = bool(limit and len(body) > limit)
        if replaced:
            logger.warning("response of %d bytes replaced (limit %d)", len(body), limit)
            body = self.encode_json(error_body(
                f"The answer would be {len(body):,} bytes, more than the {limit:,} allowed; "
                "ask for smaller pages or fewer fields.", RESPONSE_TOO_LARGE, size=len(body), maxSize=limit))
        response = Response(
            body,
            status_code=sub_response.status_code or 200,
            media_type=getattr(sub_response, "media_type", None) or "application/json",
        )
        for name, value in sub_response.headers.raw:
            if name.lower() not in (b"content-type", b"content-length"):
                response.headers.raw.append((name, value))
        if sub_response.background:
            response.background = sub_response.background
        if replaced or "cache-control" not in response.headers:
            # Signed in, a mutation, an error, or not a public read: nobody keeps it.
            if "etag" in response.headers:
                del response.headers["etag"]
            response.headers["Cache-Control"] = PRIVATE
            response.headers["Vary"] = VARY
        return response
