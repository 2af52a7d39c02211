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


async def create_postgres_database(url: str) -> str:
    return await db.create_database_beside(url, "ikz_test")


async def drop_postgres_database(url: str, admin_url: str) -> None:
    await db.drop_database(url, admin_url)


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
    await load_seeds(demo=True)
    yield settings
    await db.close_db()
    if url.startswith("postgres"):
        await drop_postgres_database(url, TEST_DATABASE_URL)


@pytest.fixture(scope="session")
def settings(database) -> Settings:
    return database


@pytest.fixture(scope="session")
def app(settings):
    from ikz.app import create_app

    return create_app(settings, manage_db=False)


@pytest_asyncio.fixture
async def client(app):
    from service.accounts.models import LoginThrottle

    await LoginThrottle.all().delete()  # every test starts without earlier tests' failed logins
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
        client.cookies.clear()  # who is signed in is said explicitly, by the headers passed
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        return GraphQLResult(response.json())

    return run


@pytest.fixture
def gql_from(app, client):
    """POST a GraphQL operation as a client at another address: `await gql_from("198.51.100.7")(query, vars)`.

    Each call is its own connection (no cookies kept), so many may run at once; `status` is
    not asserted, the decoded body carries it as `result["_status"]`.
    """

    def at(address: str):
        async def run(query: str, variables: dict | None = None, *, headers: dict | None = None) -> GraphQLResult:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                response = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                                           headers=headers)
            result = GraphQLResult(response.json() if response.headers.get("content-type", "").startswith(
                "application/") else {"errors": [{"message": response.text}]})
            result["_status"] = response.status_code
            return result

        return run

    return at


# --- mail: a real SMTP server on loopback ------------------------------------------------

import asyncio  # noqa: E402
import email  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
from email import policy  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """Collects every message it accepts; `refuse` makes it answer 451 (try again later)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: str | None = None  # e.g. "451 4.3.0 Try again later"
        self.refuse_rcpt: dict[str, str] = {}  # recipient -> reply to its RCPT (e.g. "550 5.1.1 No such user")
        self.delay = 0.0  # seconds each DATA takes (a slow server)
        self.data_started = 0  # DATA commands begun (a mail in flight)
        self.envelopes: list[tuple[str, list[str], list[str]]] = []  # (mail from, rcpt tos, MAIL options)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_started += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse:
            return self.refuse
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), list(envelope.mail_options)))
        if "SMTPUTF8" in envelope.mail_options:  # UTF-8 headers (RFC 6532): parse them as text
            self.messages.append(email.message_from_string(envelope.content.decode("utf-8"), policy=policy.default))
        else:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self, port: int, **smtp_parameters) -> None:  # e.g. enable_SMTPUTF8=True
        self.port = port
        self.sink = SmtpSink()
        self.smtp_parameters = smtp_parameters
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, **self.smtp_parameters)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings, smtp):
    """The run's settings pointed at the loopback SMTP server (for deliver_due)."""
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False,
                                   smtp_timeout=5, mail_retry_base_seconds=1)


@pytest_asyncio.fixture
async def deliver(mail_settings):
    """Run the delivery worker's passes until nothing is due (as the background worker would).

    Mails that earlier tests left queued are parked first, so a test counts only its own.
    """
    from service.mail.models import MailStatus, OutboxMail
    from service.mail.worker import deliver_due

    await OutboxMail.filter(status__in=[MailStatus.PENDING, MailStatus.SENDING]).update(
        status=MailStatus.FAILED, last_error="parked by test isolation")

    async def run():
        total = 0
        for _ in range(20):
            result = await deliver_due(mail_settings)
            total += result.sent
            if result.claimed == 0:
                break
        return total

    return run


def text_part(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(("html",)).get_content()


def link_in(message, path: str) -> str:
    found = re.search(re.escape(BASE_URL) + re.escape(path) + r"\?token=[A-Za-z0-9_\-]+", text_part(message))
    assert found, text_part(message)
    return found.group(0)


# --- accounts -------------------------------------------------------------------------------

_counter = iter(range(1, 10**6))


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}{uuid.uuid4().hex[:4]}"


@pytest_asyncio.fixture
async def make_user(database):
    """Create a ministry account with roles; returns (username, password)."""
    from service.accounts.models import Role
    from service.accounts.users import create_user, find_scope

    async def make(*roles: str, scope: str | None = None, email: str | None = None):
        username = unique("staff")
        password = f"Pw-{uuid.uuid4().hex}"
        scope_id = await find_scope(scope) if scope else None
        await create_user(username=username, email=email or f"{username}@example.org", first_name="Test",
                          last_name=username.title(), password=password,
                          roles=[(Role(r), scope_id) for r in roles])
        return username, password

    return make


LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
  token me { id username requiredActions roles { role } } } }"""


@pytest.fixture
def login(gql):
    """Sign in; returns the Authorization headers (asserts success)."""

    async def run(username: str, password: str) -> dict:
        result = await gql(LOGIN, {"u": username, "p": password})
        assert not result.errors, result.errors
        return {"authorization": f"Bearer {result.data['login']['token']}"}

    return run


@pytest_asyncio.fixture
async def confirmed_contact(database, login):
    """A contact person who went through onboarding (via the service) and is public."""
    from tortoise.transactions import in_transaction

    from service.accounts import sessions
    from service.accounts.contact_data import ContactData
    from service.accounts.models import Account
    from service.accounts.onboarding import NewContact, create_contact, invite, set_first_password
    from service.accounts.self_service import confirm_my_data
    from service.sql import fetch as sql_fetch

    async def make(municipality: str, cooperation_keys: list[str], *, first_name: str = "Petra"):
        org = (await sql_fetch("SELECT id FROM organization WHERE name = ?", [municipality]))[0]["id"]
        coops = [(await sql_fetch("SELECT id FROM cooperation WHERE key = ?", [k]))[0]["id"] for k in cooperation_keys]
        last = unique("Beispiel")
        data = ContactData(first_name=first_name, last_name=last, email=f"{last.lower()}@example.org",
                           salutation="Frau", function="Sachbearbeitung", phone="+49 000 111-1")
        async with in_transaction():
            contact = await create_contact(NewContact(org, data, tuple(coops)), actor=None)
            account = await invite(contact, actor=None)
        password = f"Pw-{uuid.uuid4().hex}"
        async with in_transaction():
            await set_first_password(account, password)
        who = await sessions.principal_for(await Account.get(id=account.id))
        await confirm_my_data(who, data, True)
        headers = await login(account.username, password)
        return {"contact_id": str(contact.id), "username": account.username, "password": password,
                "email": data.email, "last_name": last, "headers": headers, "organization_id": str(org),
                "cooperation_ids": [str(c) for c in coops]}

    return make
