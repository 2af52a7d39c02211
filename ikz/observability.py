"""Operations: request ids and access log, JSON logs, Prometheus metrics, /healthz, /readyz, /metrics.

- Every request gets an id: the client's (or proxy's) `X-Request-ID` when it is sane, else a new one;
  it is echoed in the response and carried by every log line written while the request runs.
- Metrics are process-local counters and histograms (prometheus_client; with `ikz serve --workers N`
  in its multiprocess mode, PROMETHEUS_MULTIPROC_DIR, which `ikz serve` sets up) plus gauges read
  from the database at scrape time (mail queue, pending changes, throttled logins), which are the
  same whichever instance is scraped.
- /metrics is open in development; in production only to METRICS_ALLOW_IPS or with
  `Authorization: Bearer METRICS_TOKEN`, and refused (404) when neither is configured.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hmac
import ipaddress
import json
import logging
import os
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service.config import Settings

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("ikz_request_id", default=None)
access_logger = logging.getLogger("ikz.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s\"]+")

# --- metrics -------------------------------------------------------------------------------

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
HTTP_REQUESTS = Counter("ikz_http_requests", "HTTP requests answered", ["route", "method", "status"])
HTTP_LATENCY = Histogram("ikz_http_request_duration_seconds", "HTTP request latency", ["route"],
                         buckets=LATENCY_BUCKETS)
GRAPHQL_REQUESTS = Counter("ikz_graphql_requests", "GraphQL requests by operation name", ["operation"])
GRAPHQL_LATENCY = Histogram("ikz_graphql_request_duration_seconds", "GraphQL request latency by operation name",
                            ["operation"], buckets=LATENCY_BUCKETS)
GRAPHQL_ERRORS = Counter("ikz_graphql_errors", "GraphQL errors by extensions.code", ["code"])
LOGIN_FAILURES = Counter("ikz_login_failures", "Failed sign-ins (bad credentials or throttled)", ["reason"])

ROUTES = frozenset({"/", "/graphql", "/activate", "/reset-password", "/review", "/review/login", "/review/decide",
                    "/health", "/healthz", "/readyz", "/metrics"})
_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_FIRST_OPERATION = re.compile(r"\b(?:query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)")
MAX_OPERATION_NAMES = 200  # client-chosen label values: bounded per process
_seen_operations: set[str] = set()
KNOWN_CODES = frozenset({"NOT_FOUND", "BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN", "ACTION_REQUIRED", "CONFLICT",
                         "TOO_MANY_ATTEMPTS", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED",
                         "INTERNAL_SERVER_ERROR", "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND"})


def operation_label(operation_name: str | None, query: str | None) -> str:
    name = operation_name
    if not name and query:
        found = _FIRST_OPERATION.search(query[:2000])
        name = found.group(1) if found else None
    if not name:
        return "anonymous"
    if not _OPERATION_NAME.match(name):
        return "invalid"
    if name not in _seen_operations:
        if len(_seen_operations) >= MAX_OPERATION_NAMES:
            return "other"
        _seen_operations.add(name)
    return name


def record_graphql_result(request: Request, data: dict) -> None:
    """Count the errors of one GraphQL result by code (and failed logins)."""
    for error in data.get("errors") or ():
        code = (error.get("extensions") or {}).get("code") or "UNKNOWN"
        GRAPHQL_ERRORS.labels(code if code in KNOWN_CODES else "OTHER").inc()
        path = error.get("path") or ()
        if path and path[0] == "login":
            if code == "UNAUTHENTICATED":
                LOGIN_FAILURES.labels("bad_credentials").inc()
            elif code == "TOO_MANY_ATTEMPTS":
                LOGIN_FAILURES.labels("throttled").inc()


def observed_view(base: type) -> type:
    """The GraphQL view with per-operation metrics (a subclass: the view itself stays as it is)."""

    class ObservedGraphQLView(base):
        async def run(self, request, context=None, root_value=None):
            request.state.graphql_operation = None
            started = time.perf_counter()
            response = await super().run(request, context=context, root_value=root_value)
            operation = getattr(request.state, "graphql_operation", None)
            if operation is not None:
                GRAPHQL_REQUESTS.labels(operation).inc()
                GRAPHQL_LATENCY.labels(operation).observe(time.perf_counter() - started)
            return response

        async def _from_cache(self, request):
            response = await super()._from_cache(request)
            if response is not None:  # a kept answer or a 304 counts as a request of its operation too
                data = getattr(request.state, "graphql_request_data", None)
                request.state.graphql_operation = operation_label(getattr(data, "operation_name", None),
                                                                  getattr(data, "query", None))
            return response

        async def execute_single(self, request, *args, **kwargs):
            request_data = kwargs.get("request_data") or (args[-1] if args else None)
            request.state.graphql_operation = operation_label(getattr(request_data, "operation_name", None),
                                                              getattr(request_data, "query", None))
            return await super().execute_single(request, *args, **kwargs)

        async def process_result(self, request, result):
            data = await super().process_result(request, result)
            try:
                record_graphql_result(request, data)
            except Exception:  # metrics never break a response
                logging.getLogger("ikz.metrics").exception("recording GraphQL metrics failed")
            return data

    return ObservedGraphQLView


async def database_gauges() -> list[GaugeMetricFamily]:
    """Gauges read from the database when scraped: the same on every instance."""
    from service.sql import fetch

    moment = dt.datetime.now(dt.timezone.utc)
    queue = GaugeMetricFamily("ikz_mail_queue", "Mails in the outbox by status", labels=["status"])
    counts = {row["status"]: row["n"] for row in
              await fetch("SELECT status, COUNT(*) AS n FROM outbox_mail GROUP BY status")}
    for status in ("PENDING", "SENDING", "SENT", "FAILED"):
        queue.add_metric([status], counts.get(status, 0))
    oldest = await oldest_pending_mail_age(moment)
    age = GaugeMetricFamily("ikz_mail_oldest_pending_age_seconds",
                            "Age of the oldest mail not yet delivered (0 when none)")
    age.add_metric([], oldest or 0.0)
    rows = await fetch("SELECT COUNT(*) AS n FROM change_request WHERE status = 'PENDING'")
    changes = GaugeMetricFamily("ikz_pending_changes", "Change requests waiting for an approver")
    changes.add_metric([], rows[0]["n"])
    from service.accounts.models import LoginThrottle

    throttled = GaugeMetricFamily("ikz_login_throttled_keys", "Usernames and addresses currently slowed down")
    throttled.add_metric([], await LoginThrottle.filter(blocked_until_ms__gt=int(moment.timestamp() * 1000)).count())
    return [queue, age, changes, throttled]


async def oldest_pending_mail_age(moment: dt.datetime | None = None) -> float | None:
    from service.mail.models import MailStatus, OutboxMail

    moment = moment or dt.datetime.now(dt.timezone.utc)
    oldest = await (OutboxMail.filter(status__in=[MailStatus.PENDING, MailStatus.SENDING]).order_by("created_at")
                    .first().values_list("created_at", flat=True))
    if oldest is None:
        return None
    return max(0.0, (moment - oldest).total_seconds())


class _Static:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def process_metrics() -> bytes:
    """This process's metrics, or every worker's when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY)


def metrics_allowed(request: Request, settings: Settings) -> bool:
    if settings.metrics_token:
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode()):
            return True
    if settings.metrics_allow_ips and request.client:
        try:
            address = ipaddress.ip_address(request.client.host)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(net, strict=False) for net in settings.metrics_allow_ips)
    return not settings.is_production and not settings.metrics_token


async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not metrics_allowed(request, settings):
        return Response("Not Found", status_code=404, media_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    try:
        registry.register(_Static(await database_gauges()))
        up = 1
    except Exception:
        logging.getLogger("ikz.metrics").exception("database gauges failed")
        up = 0
    database_up = GaugeMetricFamily("ikz_database_up", "Whether the scrape could read the database")
    database_up.add_metric([], up)
    registry.register(_Static([database_up]))
    body = process_metrics() + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


# --- health --------------------------------------------------------------------------------


async def healthz(request: Request) -> JSONResponse:
    """Alive: the process answers. Touches nothing else (a database outage must not restart it)."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def pending_migrations() -> list[str]:
    """Migrations shipped with the code that the database has not applied."""
    import importlib.resources

    from service.db import APP_LABEL
    from service.sql import fetch

    shipped = sorted(p.name[:-3] for p in importlib.resources.files("service.migrations").iterdir()
                     if p.name.endswith(".py") and p.name[0].isdigit())
    try:
        rows = await fetch("SELECT name FROM tortoise_migrations WHERE app = ?", [APP_LABEL])
    except Exception:
        return shipped  # no migration table: nothing applied
    applied = {row["name"] for row in rows}
    return [name for name in shipped if name not in applied]


async def readiness() -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    try:
        from service import db

        await db.connection().execute_query("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        return False, checks
    missing = await pending_migrations()
    checks["migrations"] = "ok" if not missing else f"pending: {', '.join(missing)}"
    age = await oldest_pending_mail_age()
    # Reported, not failed on: a slow mail server must not take the API out of the load balancer.
    checks["oldestPendingMailSeconds"] = round(age, 1) if age is not None else None
    return not missing, checks


async def readyz(request: Request) -> JSONResponse:
    ready, checks = await readiness()
    return JSONResponse({"status": "ok" if ready else "unavailable", **checks}, status_code=200 if ready else 503,
                        headers={"Cache-Control": "no-store"})


# --- request ids, access log, HTTP metrics -------------------------------------------------


class RequestContextMiddleware:
    """Pure ASGI: request id in and out, one access log line and the HTTP metrics per request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        header = (b"x-request-id", request_id.encode("latin-1"))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            path = scope.get("path", "")
            route = path if path in ROUTES else "other"
            HTTP_REQUESTS.labels(route, scope.get("method", ""), str(status)).inc()
            HTTP_LATENCY.labels(route).observe(elapsed)
            if route not in ("/healthz", "/readyz", "/metrics") and access_logger.isEnabledFor(logging.INFO):
                query = scope.get("query_string", b"").decode("latin-1")
                target = _TOKEN_IN_QUERY.sub(r"\1[redacted]", f"{path}?{query}" if query else path)
                client = scope.get("client")
                access_logger.info('%s - "%s %s" %d %.1fms rid=%s', client[0] if client else "-", scope.get("method"),
                                   target, status, elapsed * 1000, request_id,
                                   extra={"client": client[0] if client else None, "method": scope.get("method"),
                                          "path": target, "status": status,
                                          "duration_ms": round(elapsed * 1000, 2)})
            request_id_var.reset(token)


# --- logging ---------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and an access line's fields."""

    EXTRA = ("client", "method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key in self.EXTRA:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def logging_config(log_format: str = "text", level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for the CLI and for uvicorn (which applies it again in every worker process)."""
    formatter = {"()": "ikz.observability.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "ikz.observability.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default",
                                 "filters": ["request_id"], "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": True, "level": level},
            "tortoise": {"level": "WARNING"},
        },
    }
