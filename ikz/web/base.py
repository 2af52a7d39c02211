"""What every page shares.

- `run(request, "search")` executes `ikz/operations/search.graphql` in-process through the
  same schema and the same context getter as `/graphql` (so the same session, rules and
  errors); the cookies and background tasks that the operation sets go onto the page.
- `render(...)` draws a template inside the common layout and sends the security headers
  (CSP without inline script or style, `frame-ancestors 'none'`, no caching, no referrer).
- CSRF: every form carries `csrf`, an HMAC of a random per-browser cookie; every POST is
  checked for it and for a same-origin `Origin` (or `Referer`) header.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from schema.response_cache import etag_for, matches
from service.accounts.secrets import keyed_hash
from service.config import Settings, get_settings
from service.db import count_queries
from service.mail.outbox import track_queued
from service.mail.render import SERVICE_NAME
from service.mail.worker import wake as wake_mail_worker

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "templates"
OPERATIONS = PACKAGE / "operations"
STATIC = PACKAGE / "static"

CSRF_COOKIE = "ikz_csrf"
FORM_LIMIT = 64 * 1024
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    # same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with form posts,
    # and the origin check needs the real one. Nothing (no token in a URL) leaves for another site.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CSP,
}
# Public pages may be cached briefly by the browser; pages with personal data never.
PUBLIC_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}

STATUS_LABELS = {"PLANNED": "geplant", "ACTIVE": "aktiv", "ENDED": "beendet", "NOT_REALIZED": "nicht umgesetzt"}
ROLE_LABELS = {"LEAD": "federführend", "PARTNER": "Partner", "ASSOCIATED": "assoziiert"}
KIND_LABELS = {"STATE": "Land", "DISTRICT": "Kreis", "INDEPENDENT_CITY": "kreisfreie Stadt",
               "MUNICIPALITY": "Gemeinde / Stadt"}
PERFORMER_LABELS = {"PARTNER": "ein Partner", "THIRD_PARTY": "Dritte", "JOINT": "Beteiligte (gemeinsam)",
                    "UNKNOWN": "nicht angegeben"}
CONTACT_STATE_LABELS = {
    "CREATED": "angelegt", "INVITED": "eingeladen, noch nicht bestätigt",
    "AWAITING_APPROVAL": "bestätigt, wartet auf Freigabe durch das Ministerium",
    "PUBLIC": "öffentlich sichtbar", "DELETED": "gelöscht",
}
CHANGE_STATUS_LABELS = {"PENDING": "wartet auf Freigabe", "APPROVED": "freigegeben", "REJECTED": "abgelehnt",
                        "CONFLICTING": "überholt", "WITHDRAWN": "zurückgezogen"}
CHANGE_KIND_LABELS = {"COOPERATION_CREATE": "neue Kooperation", "COOPERATION_UPDATE": "Änderung einer Kooperation",
                      "CONTACT_UPDATE": "Änderung der Kontaktdaten",
                      "CONTACT_CONFIRMATION": "Bestätigung der Kontaktdaten", "DOCUMENT_ADD": "neues Dokument"}


# --- ids ---------------------------------------------------------------------------------------

def ascii_id(value: str | None) -> str | None:
    """A database id as typed in a URL: ASCII decimal digits only (not '¹', not '٣'), else None."""
    if not value or len(value) > 10 or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return str(number) if 0 < number <= 2**31 - 1 else None


# --- operations ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def operation(name: str) -> str:
    """The text of ikz/operations/<name>.graphql (read once)."""
    path = OPERATIONS / f"{name}.graphql"
    if path.parent != OPERATIONS or not path.is_file():
        raise KeyError(name)
    return path.read_text(encoding="utf-8")


@dataclass
class Error:
    message: str
    code: str | None
    field: str | None
    path: tuple
    retry_after: int | None = None  # TOO_MANY_ATTEMPTS: seconds until the next try is let through


@dataclass
class Result:
    data: dict[str, Any] | None
    errors: list[Error] = field(default_factory=list)
    response: Response | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def code(self) -> str | None:
        return self.errors[0].code if self.errors else None

    def apply(self, page: Response) -> Response:
        """Carry what the operation set (session cookie, background work) onto the page's response."""
        if self.response is not None:
            for name, value in self.response.headers.raw:
                if name.lower() == b"set-cookie":
                    page.headers.raw.append((name, value))
            if self.response.background is not None:
                page.background = self.response.background
        return page


async def run(request: Request, name: str, variables: dict[str, Any] | None = None,
              operation_name: str | None = None) -> Result:
    """Execute a page's operation in-process with the request's session, as /graphql would."""
    from schema.errors import with_codes

    import orjson

    from schema.response_cache import Entry

    view = request.app.state.graphql_view
    with count_queries() as counter:
        # An anonymous page's public data come from the response cache too (keyed by the data version).
        key = await view.page_cache_key(request, operation(name), operation_name, variables or {})
        request.state.page_cache_key = key  # render() derives the page's ETag from it
        kept = view.response_cache.get(key) if key is not None else None
    if kept is not None:
        data = orjson.loads(kept.body)
        request.state.me = data.get("me")
        return Result(data, [], None)
    response = Response()
    context = await view.get_context(request, response)
    queued = track_queued()
    with count_queries() as counter:
        request.state.sql_counter = counter
        result = await view.schema.execute(operation(name), variable_values=variables or {},
                                           context_value=context, operation_name=operation_name)
    if key is not None and not result.errors and isinstance(result.data, dict):
        view.response_cache.put(key, Entry(orjson.dumps(result.data), "page"))
    if queued:
        wake_mail_worker()
    errors = []
    for error in with_codes(result.errors or []):
        extensions = error.extensions or {}
        retry = extensions.get("retryAfterSeconds")
        errors.append(Error(error.message, extensions.get("code"), extensions.get("field"), tuple(error.path or ()),
                            retry if isinstance(retry, int) else None))
    request.state.me = (result.data or {}).get("me") if isinstance(result.data, dict) else None
    return Result(result.data, errors, response)


# --- CSRF and origin --------------------------------------------------------------------------

def _csrf_secret(request: Request) -> str | None:
    value = request.cookies.get(CSRF_COOKIE, "")
    return value if 20 <= len(value) <= 100 else None


def csrf_token(request: Request) -> str:
    """The token for this browser's forms (a new browser gets a cookie with the render)."""
    secret = _csrf_secret(request) or getattr(request.state, "new_csrf_secret", None)
    if secret is None:
        secret = request.state.new_csrf_secret = secrets.token_urlsafe(32)
    return keyed_hash(secret, "csrf-form")[:40]


def same_origin(request: Request, settings: Settings) -> bool:
    """The POST comes from a page of this service (Origin, else Referer); absent both, the token decides."""
    expected = _origin(settings.public_base_url)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and origin.rstrip("/") == expected
    referer = request.headers.get("referer")
    if referer:
        return _origin(referer) == expected
    return True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def form_data(request: Request) -> dict[str, Any] | None:
    """The POSTed form (lists for repeated names), or None if the CSRF check fails."""
    settings = app_settings(request)
    if int(request.headers.get("content-length") or 0) > FORM_LIMIT:
        return None
    if not same_origin(request, settings):
        return None
    form = await request.form(max_files=0, max_fields=400)
    secret = _csrf_secret(request)
    sent = form.get("csrf")
    if secret is None or not isinstance(sent, str) or not hmac.compare_digest(sent, keyed_hash(secret, "csrf-form")[:40]):
        return None
    values: dict[str, Any] = {}
    for key in form.keys():
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = items if len(items) > 1 else (items[0] if items else "")
    return values


def getlist(form: dict[str, Any], key: str) -> list[str]:
    value = form.get(key)
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def getstr(form: dict[str, Any], key: str, limit: int = 5000) -> str:
    value = form.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip()[:limit]


# --- rendering --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(STATUS_LABELS=STATUS_LABELS, ROLE_LABELS=ROLE_LABELS, KIND_LABELS=KIND_LABELS,
                       PERFORMER_LABELS=PERFORMER_LABELS, CONTACT_STATE_LABELS=CONTACT_STATE_LABELS,
                       CHANGE_STATUS_LABELS=CHANGE_STATUS_LABELS, CHANGE_KIND_LABELS=CHANGE_KIND_LABELS)
    env.filters["date_de"] = date_de
    env.filters["datetime_de"] = datetime_de
    env.filters["filesize"] = filesize
    return env


def date_de(value: str | None) -> str:
    if not value:
        return "–"
    text = str(value)[:10]
    try:
        year, month, day = text.split("-")
        return f"{int(day):02d}.{int(month):02d}.{year}"
    except ValueError:
        return text


def filesize(value: int | None) -> str:
    from service.documents.publishing import human_size

    return human_size(int(value or 0))


def datetime_de(value: str | None) -> str:
    if not value:
        return "–"
    import datetime as dt
    from service.time import german_datetime

    try:
        return german_datetime(dt.datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def render(request: Request, name: str, status: int = 200, *, public: bool = False, **values) -> Response:
    settings = app_settings(request)
    me = values.pop("me", None) or getattr(request.state, "me", None)
    validator = page_etag(request) if public and not me and status == 200 else None
    if validator is not None and request.method in ("GET", "HEAD") and matches(request.headers.get("if-none-match"), validator):
        return Response(status_code=304, headers={**PUBLIC_HEADERS, "ETag": validator, "Vary": "Cookie"})
    html = environment().get_template(name).render(
        service_name=SERVICE_NAME, support_contact=settings.support_contact,
        imprint_url=settings_value(settings, "imprint_url") or "/impressum",
        privacy_url=settings_value(settings, "privacy_url") or "/datenschutz",
        me=me, form_token=lambda: csrf_token(request), path=request.url.path, ide=not settings.is_production, **values,
    )
    headers = PUBLIC_HEADERS if public and not me else SECURITY_HEADERS
    if validator is not None and getattr(request.state, "new_csrf_secret", None) is None:
        headers = {**headers, "ETag": validator, "Vary": "Cookie"}
    response = HTMLResponse(html, status_code=status, headers=headers)
    set_csrf_cookie(request, response, settings)
    return response


def page_etag(request: Request) -> str | None:
    """A weak validator for an anonymous public page: its operation's response-cache key (document,
    variables, data version), the URL (the form echoes the query string) and the build (schema,
    settings, templates). None when the operation is not cacheable (signed in, the cache off). A page
    whose rendering hands out a CSRF cookie (it holds a form) gets no ETag: its body is this browser's own."""
    key = getattr(request.state, "page_cache_key", None)
    if key is None:
        return None
    view, settings = request.app.state.graphql_view, app_settings(request)
    url = request.url.path + ("?" + request.url.query if request.url.query else "")
    shown = (settings.support_contact, settings_value(settings, "imprint_url"), settings_value(settings, "privacy_url"))
    return etag_for(f"{view.fingerprint}|{templates_fingerprint()}|{shown}|{url}", key)


@functools.lru_cache(maxsize=1)
def templates_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES.rglob("*.html")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def app_settings(request: Request) -> Settings:
    return getattr(request.app.state, "settings", None) or get_settings()


def settings_value(settings: Settings, name: str) -> str:
    return getattr(settings, name, "") or ""


def set_csrf_cookie(request: Request, response: Response, settings: Settings) -> None:
    secret = getattr(request.state, "new_csrf_secret", None)
    if secret is not None:
        response.set_cookie(CSRF_COOKIE, secret, httponly=True, samesite="strict", secure=settings.is_production,
                            path="/", max_age=12 * 3600)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def not_found(request: Request, message: str = "Diese Seite gibt es nicht.") -> HTMLResponse:
    return render(request, "not_found.html", status=404, message=message)


def forbidden_form(request: Request) -> HTMLResponse:
    return render(request, "message.html", status=403, title="Formular abgelaufen",
                  message="Das Formular ist abgelaufen oder kam nicht von dieser Seite. "
                          "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.")


def safe_next(value: str | None, default: str = "/me") -> str:
    """Only a local path: no scheme, no host, no '//' or backslash tricks, no control characters."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 500:
        return default
    if any(ord(c) < 0x21 or ord(c) == 0x7f for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
