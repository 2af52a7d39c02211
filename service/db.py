"""Database configuration, start-up and the per-request SQL statement counter.

One Tortoise app ("ikz") holds every model; its migrations live in
`service.migrations` and are applied by `ikz migrate` (tortoise's built-in
migration engine, configured in pyproject.toml under [tool.tortoise]).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient

from service.config import database_url_from_env, get_settings

MODEL_MODULES = [
    "service.catalogue.models",
    "service.accounts.models",
    "service.approvals.models",
    "service.mail.models",
    "service.audit",
    "service.publication",

    "service.documents.models",
]
APP_LABEL = "ikz"


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = database_url or get_settings().database_url
    return {
        "connections": {"default": url},
        "apps": {
            APP_LABEL: {
                "models": list(MODEL_MODULES),
                "migrations": "service.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For the `tortoise` CLI (makemigrations, migrate, history): read from DATABASE_URL.
TORTOISE_ORM = tortoise_config(database_url_from_env())


def connection() -> BaseDBAsyncClient:
    return connections.get("default")


def dialect() -> str:
    return connection().capabilities.dialect


async def init_db(database_url: str | None = None, *, global_fallback: bool = True) -> None:
    """Open the connections. The global fallback lets requests, which run in other tasks, see them."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=global_fallback)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str | None = None, *, reporter=None) -> None:
    """Apply every pending migration (the same engine as `tortoise migrate`); `reporter` sees the plan first."""
    from tortoise.migrations.api.migrate import migrate as run_migrations

    await run_migrations(config=tortoise_config(database_url), reporter=reporter)


# --- SQL statement counter ------------------------------------------------------------
# Tortoise logs every statement at DEBUG on "tortoise.db_client". A filter on that
# logger counts them into the current request's counter and drops the record, so
# statements (and the personal data in their parameters) are never written out.


class QueryCounter:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


_current_counter: contextvars.ContextVar[QueryCounter | None] = contextvars.ContextVar(
    "ikz_sql_counter", default=None
)


class _CountingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        counter = _current_counter.get()
        message = record.msg if isinstance(record.msg, str) else ""
        if counter is not None and not message.startswith(("Created connection", "Closed connection")):
            counter.count += 1
        return False


_counting_installed = False


def install_query_counting() -> None:
    """Enable counting (development and tests only: it turns on DEBUG for the db logger)."""
    global _counting_installed
    if _counting_installed:
        return
    db_logger = logging.getLogger("tortoise.db_client")
    db_logger.addFilter(_CountingFilter())
    db_logger.setLevel(logging.DEBUG)
    _counting_installed = True


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    counter = QueryCounter()
    parent = _current_counter.get()
    token = _current_counter.set(counter)
    try:
        yield counter
    finally:
        _current_counter.reset(token)
        if parent is not None:  # nested counting: the outer counter sees the inner statements too
            parent.count += counter.count


# --- scratch databases (tests and benchmarks) ------------------------------------------


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def create_database_beside(url: str, prefix: str) -> str:
    """Create an empty PostgreSQL database on the server of `url`; returns its URL."""
    import uuid

    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_database(url, name)


async def drop_database(url: str, admin_url: str) -> None:
    """Drop the PostgreSQL database of `url`, connecting through `admin_url`."""
    from urllib.parse import urlsplit

    import asyncpg

    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
