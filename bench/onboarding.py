"""Onboarding throughput: create and invite contacts end to end into a local SMTP sink.

What is measured, in one run and process, on a fresh database (SQLite file by default,
PostgreSQL with --database-url):

  graphql    the ministry's path: POST createContact through the real ASGI app (validation,
             username allocation, keyed-hash secrets, one transaction with the outbox mail),
             then the delivery worker sends every invitation over SMTP to an aiosmtpd sink.
  service    the same work without HTTP/GraphQL: service.accounts.onboarding.create_and_invite,
             then the worker.
  baseline   the floor: the same number of plain INSERTs of a contact row each (one
             transaction each) plus sending the same number of ready-made mails over one
             SMTP connection. Nothing the service does can be faster than this.

It prints contacts per second and the ratio to the baseline. Target: graphql ≥ 100/s.
Run:  .venv/bin/python bench/onboarding.py [--count 1000] [--database-url postgres://…]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service import db  # noqa: E402
from service.config import Settings, set_settings  # noqa: E402

FIRST_NAMES = ["Anna", "Bernd", "Carla", "Dieter", "Eva", "Frank", "Gerda", "Hans", "Ilse", "Jan", "Karin", "Lutz"]
LAST_NAMES = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
              "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann"]


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def fresh_database(url: str | None, tmp: Path) -> tuple[str, str | None]:
    if not url:
        return f"sqlite://{tmp / ('bench-' + uuid.uuid4().hex[:6] + '.sqlite3')}", None
    created = await db.create_database_beside(url, "ikz_bench")
    return created, created


async def drain(settings: Settings) -> int:
    from service.mail.worker import deliver_due

    sent = 0
    while True:
        result = await deliver_due(settings)
        sent += result.sent
        if result.claimed == 0:
            return sent


def person(i: int) -> tuple[str, str, str]:
    first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return first, last, f"{first.lower()}.{i}@example.org"


async def run_graphql(settings: Settings, count: int, org_id: int) -> float:
    from service.accounts.models import Role
    from service.accounts.users import create_user
    from ikz.app import create_app

    password = "Bench-" + secrets.token_hex(8)
    await create_user(username="benchadmin", email="bench@example.org", first_name="Bench", last_name="Admin",
                      password=password, roles=[(Role.ADMIN, None)])
    app = create_app(settings, manage_db=False)
    mutation = """mutation($i: CreateContactInput!) { createContact(input: $i) { id username } }"""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.public_base_url) as http:
        login = await http.post("/graphql", json={"query": "mutation($p: String!) { login(username: \"benchadmin\", "
                                                           "password: $p) { token } }", "variables": {"p": password}})
        headers = {"authorization": "Bearer " + login.json()["data"]["login"]["token"]}
        start = time.perf_counter()
        for i in range(count):
            first, last, email = person(i)
            response = await http.post("/graphql", headers=headers, json={"query": mutation, "variables": {"i": {
                "municipalityId": str(org_id), "firstName": first, "lastName": last, "email": email,
                "function": "Sachbearbeitung"}}})
            body = response.json()
            if "errors" in body:
                raise SystemExit(f"createContact failed: {body['errors']}")
        sent = await drain(settings)
        elapsed = time.perf_counter() - start
    if sent != count:
        raise SystemExit(f"expected {count} mails, sent {sent}")
    return elapsed


async def run_service(settings: Settings, count: int, org_id: int) -> float:
    from service.accounts.contact_data import ContactData
    from service.accounts.onboarding import NewContact, create_and_invite

    start = time.perf_counter()
    for i in range(count):
        first, last, email = person(i + count)
        await create_and_invite(NewContact(org_id, ContactData(first_name=first, last_name=last, email=email)),
                                actor=None)
    sent = await drain(settings)
    elapsed = time.perf_counter() - start
    if sent != count:
        raise SystemExit(f"expected {count} mails, sent {sent}")
    return elapsed


async def run_baseline(settings: Settings, count: int, org_id: int) -> float:
    from tortoise.transactions import in_transaction

    from service.sql import render

    conn = db.connection()
    sql = render("INSERT INTO contact (organization_id, state, first_name, last_name, email, version, created_at, "
                 "updated_at) VALUES (?, 'CREATED', ?, ?, ?, 1, ?, ?)", conn.capabilities.dialect)
    from service.time import now

    start = time.perf_counter()
    for i in range(count):
        first, last, email = person(i + 2 * count)
        async with in_transaction() as tx:
            moment = now()
            await tx.execute_query(sql, [org_id, first, last, email, moment, moment])
    smtp = aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, start_tls=False)
    await smtp.connect()
    for i in range(count):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = settings.mail_from, person(i)[2], "Ihr Zugang"
        message.set_content("Benutzername, Passwort, Link " * 40)
        message.add_alternative("<p>" + "Benutzername, Passwort, Link " * 40 + "</p>", subtype="html")
        await smtp.send_message(message)
    await smtp.quit()
    return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--database-url", help="postgres://… (default: a temporary SQLite file)")
    args = parser.parse_args()

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    tmp = Path(tempfile.mkdtemp(prefix="ikz-bench-"))
    url, pg_name = await fresh_database(args.database_url, tmp)
    settings = Settings(
        app_env="development", var_dir=tmp, database_url=url, public_base_url="https://ikz.example.org",
        secret_key=secrets.token_urlsafe(48), smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
        run_mail_worker=False, mail_batch_size=100,
    )
    set_settings(settings)
    try:
        await db.migrate(url)
        await db.close_db()
        await db.init_db(url)
        from service.catalogue.seed import load_seeds
        from service.sql import fetch

        await load_seeds()
        org_id = (await fetch("SELECT id FROM organization WHERE name = 'Kamen'"))[0]["id"]
        results = {
            "baseline": await run_baseline(settings, args.count, org_id),
            "service": await run_service(settings, args.count, org_id),
            "graphql": await run_graphql(settings, args.count, org_id),
        }
        assert sink.count == 3 * args.count, sink.count
        database = "postgresql" if pg_name else "sqlite"
        print(f"\nOnboarding {args.count} contacts end to end ({database}; mails into a local SMTP sink)\n")
        print(f"{'path':<10} {'seconds':>9} {'contacts/s':>11} {'× baseline':>11}")
        for name in ("baseline", "service", "graphql"):
            seconds = results[name]
            print(f"{name:<10} {seconds:>9.2f} {args.count / seconds:>11.0f} {seconds / results['baseline']:>11.1f}")
        print("\nbaseline = bare INSERT per contact + bare SMTP send; target: graphql ≥ 100 contacts/s.")
    finally:
        await db.close_db()
        controller.stop()
        if pg_name:
            await db.drop_database(pg_name, args.database_url)


if __name__ == "__main__":
    asyncio.run(main())
