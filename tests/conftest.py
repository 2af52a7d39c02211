"""Test harness: a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
migrated and seeded once per run, and the real ASGI app driven through httpx.

PostgreSQL runs get a database of their own (created next to the one in
TEST_DATABASE_URL and dropped afterwards), so a run never touches other data.
"""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import pytest_asyncio

from service import db
from service.catalogue.seed import load_seeds
from service.config import Settings, set_settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
POSTGRES_REASON = "PostgreSQL-only: set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run it"
requires_postgres = pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgres"), reason=POSTGRES_REASON)
BASE_URL = "https://ikz.example.org"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def create_postgres_database(url: str) -> str:
    import asyncpg

    name = f"ikz_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_database(url, name)


async def drop_postgres_database(url: str, admin_url: str) -> None:
    import asyncpg

    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def fresh_database_url(tmp_path: Path) -> str:
    """A new, empty database of the run's kind (for tests that need a pristine one)."""
    if TEST_DATABASE_URL.startswith("postgres"):
        return await create_postgres_database(TEST_DATABASE_URL)
    return f"sqlite://{tmp_path / ('fresh-' + uuid.uuid4().hex[:8] + '.sqlite3')}"


async def discard_database(url: str) -> None:
    if url.startswith("postgres"):
        await drop_postgres_database(url, TEST_DATABASE_URL)


def make_settings(var_dir: Path, database_url: str, **overrides) -> Settings:
    values = dict(
        app_env="development",
        var_dir=var_dir,
        database_url=database_url,
        public_base_url=BASE_URL,
        secret_key=secrets.token_urlsafe(48),
        run_mail_worker=False,
        # OWASP's minimum argon2id profile (19 MiB, 2 passes): fast enough for a test suite.
        argon2_time_cost=2,
        argon2_memory_kib=19456,
        argon2_parallelism=1,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest_asyncio.fixture(scope="session")
async def database(var_dir: Path):
    """The run's database: migrated with the real migrations and seeded with the real seed files."""
    if TEST_DATABASE_URL.startswith("postgres"):
        url = await create_postgres_database(TEST_DATABASE_URL)
    elif TEST_DATABASE_URL:
        pytest.exit(f"TEST_DATABASE_URL must be a postgres:// URL, got {TEST_DATABASE_URL!r}", returncode=2)
    else:
        url = f"sqlite://{var_dir / 'test.sqlite3'}"
    settings = make_settings(var_dir, url)
    set_settings(settings)
    db.install_query_counting()
    await db.migrate(url)
    await db.close_db()
    await db.init_db(url)
    await load_seeds()
    yield settings
    await db.close_db()
    if url.startswith("postgres"):
        await drop_postgres_database(url, TEST_DATABASE_URL)


@pytest.fixture(scope="session")
def settings(database) -> Settings:
    return database


@pytest.fixture(scope="session")
def app(settings):
    from service.web.app import create_app

    return create_app(settings, manage_db=False)


@pytest_asyncio.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


class GraphQLResult(dict):
    @property
    def data(self):
        return self.get("data")

    @property
    def errors(self):
        return self.get("errors") or []

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


@pytest.fixture
def gql(client):
    """POST a GraphQL operation; returns the decoded body (status 200 asserted)."""

    async def run(query: str, variables: dict | None = None, *, headers: dict | None = None) -> GraphQLResult:
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        return GraphQLResult(response.json())

    return run
