"""Faults with real processes (issue 9): `python -m ikz.cli worker` subprocesses against a real
SMTP server (aiosmtpd in a thread) that goes down, is slow, or outlives a killed worker.

Every test counts Message-IDs at the server: each queued mail must arrive, and only a mail in
flight when its worker was killed may arrive twice (with the same Message-ID). Short leases,
poll intervals and backoff come from the environment, so the whole file runs in seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from service.accounts.contact_data import ContactData
from service.accounts.onboarding import NewContact, create_and_invite
from service.config import load_settings
from service.mail.models import MailStatus, OutboxMail
from service.mail.outbox import enqueue
from service.sql import fetch
from tests.conftest import BASE_URL, SmtpServer, free_port, unique

ROOT = Path(__file__).resolve().parents[1]


class Worker:
    """An `ikz worker` process with its log in a file."""

    def __init__(self, settings, smtp_port: int, log: Path, **env: str) -> None:
        self.log = log
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "MAIL_", "SECRET_KEY"))},
            "APP_ENV": "development", "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key,
            "VAR_DIR": str(log.parent), "PUBLIC_BASE_URL": BASE_URL, "RUN_MAIL_WORKER": "false",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_STARTTLS": "false", "SMTP_TIMEOUT": "5",
            "MAIL_POLL_SECONDS": "0.1", "MAIL_RETRY_BASE_SECONDS": "0.2", "MAIL_LEASE_SECONDS": "10",
            **env,
        }
        self.process: subprocess.Popen | None = None

    async def start(self) -> Worker:
        handle = open(self.log, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "ikz.cli", "worker"], cwd=ROOT, env=self.env,
                                        stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        await until(lambda: "mail worker started" in self.output(), timeout=30, what=f"worker start: {self.log}")
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def send_signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def wait(self, timeout: float = 15) -> int:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            assert time.monotonic() < deadline, f"worker did not exit:\n{self.output()[-3000:]}"
            await asyncio.sleep(0.05)
        return self.process.returncode

    async def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.send_signal(signal.SIGTERM)
        try:
            return await self.wait()
        finally:
            if self.process.poll() is None:
                self.process.kill()


async def until(condition, *, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(interval)


@pytest.fixture(autouse=True)
async def isolate_outbox(database):
    await OutboxMail.filter(status__in=[MailStatus.PENDING, MailStatus.SENDING]).update(
        status=MailStatus.FAILED, last_error="parked by test isolation")


@pytest.fixture
def workers(settings, tmp_path):
    started: list[Worker] = []

    async def make(port: int, **env: str) -> Worker:
        worker = await Worker(settings, port, tmp_path / f"worker-{len(started)}.log", **env).start()
        started.append(worker)
        return worker

    yield make
    for worker in started:
        if worker.process is not None and worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()


@pytest.fixture
def server():
    made: list[SmtpServer] = []

    def make(port: int | None = None) -> SmtpServer:
        smtp = SmtpServer(port or free_port())
        smtp.start()
        made.append(smtp)
        return smtp

    yield make
    for smtp in made:
        smtp.stop()


async def queue_resets(count: int) -> list[OutboxMail]:
    async with in_transaction():
        return [await enqueue("password_reset", f"{unique('f')}@example.org",
                              {"recipient_name": "Frau Test", "username": "test", "valid_minutes": 60,
                               "reset_url": f"{BASE_URL}/reset-password?token=x"}) for _ in range(count)]


async def statuses(mails: list[OutboxMail]) -> Counter:
    return Counter(s for s in await OutboxMail.filter(id__in=[m.id for m in mails]).values_list("status", flat=True))


async def all_sent(mails: list[OutboxMail]) -> bool:
    return await OutboxMail.filter(id__in=[m.id for m in mails], status=MailStatus.SENT).count() == len(mails)


def test_worker_settings_from_the_environment(tmp_path):
    loaded = load_settings({"VAR_DIR": str(tmp_path), "MAIL_POLL_SECONDS": "0.1", "MAIL_RETRY_BASE_SECONDS": "0.2",
                            "MAIL_LEASE_SECONDS": "7", "MAIL_BATCH_SIZE": "5", "SMTP_TIMEOUT": "3"})
    assert (loaded.mail_poll_seconds, loaded.mail_retry_base_seconds, loaded.mail_lease, loaded.mail_batch_size) == (
        0.1, 0.2, 7, 5)
    assert load_settings({"VAR_DIR": str(tmp_path), "SMTP_TIMEOUT": "3"}).mail_lease == 3 * 4 + 60


async def test_server_down_then_back_delivers_each_of_100_invitations_once(workers, server):
    org = (await fetch("SELECT id FROM organization WHERE name = 'Kamen'"))[0]["id"]
    accounts = []
    for i in range(100):
        last = unique("Ausfall")
        _, account = await create_and_invite(
            NewContact(org, ContactData(first_name="Udo", last_name=last, email=f"{last.lower()}@example.org")),
            actor=None)
        accounts.append(account.id)
    mails = await OutboxMail.filter(account_id__in=accounts, template="invitation")
    assert len(mails) == 100
    port = free_port()
    worker = await workers(port)

    async def refused_connection():
        return await OutboxMail.filter(id__in=[m.id for m in mails], last_error__contains="cannot connect").exists()

    await until(refused_connection, timeout=30, what="a failed connection attempt")
    await asyncio.sleep(1.0)  # the outage goes on
    assert await statuses(mails) == Counter({MailStatus.PENDING: 100})
    assert await OutboxMail.filter(id__in=[m.id for m in mails], attempts__gt=0).count() == 0  # not the mails' fault

    smtp = server(port)
    await until(lambda: all_sent(mails), timeout=40, what="all 100 invitations sent")
    assert Counter(smtp.sink.message_ids()) == Counter(m.message_id for m in mails)  # each exactly once
    assert all(m["X-IKZ-Template"] == "invitation" for m in smtp.sink.messages)
    assert set(await OutboxMail.filter(id__in=[m.id for m in mails]).values_list("attempts", flat=True)) == {1}
    assert await worker.stop() == 0


async def test_worker_killed_mid_batch_loses_nothing_and_resends_at_most_the_mail_in_flight(workers, server):
    smtp = server()
    smtp.sink.delay = 0.05
    mails = await queue_resets(40)
    lease = {"MAIL_LEASE_SECONDS": "3"}
    first = await workers(smtp.port, **lease)
    await until(lambda: len(smtp.sink.messages) >= 10, timeout=20, what="ten mails delivered")
    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    at_kill = await statuses(mails)
    assert at_kill[MailStatus.SENDING] <= 1 and 0 < at_kill[MailStatus.PENDING] < 40
    in_flight = await OutboxMail.filter(id__in=[m.id for m in mails], status=MailStatus.SENDING).first()

    second = await workers(smtp.port, **lease)
    await until(lambda: all_sent(mails), timeout=30, what="all mails sent after the restart")
    counts = Counter(smtp.sink.message_ids())
    assert set(counts) == {m.message_id for m in mails}  # none lost
    twice = [message_id for message_id, n in counts.items() if n > 1]
    assert len(twice) <= 1 and all(counts[i] == 2 for i in twice)
    if twice:  # the duplicate can only be the mail that was in flight, resent under its own Message-ID
        assert in_flight is not None and twice == [in_flight.message_id]
    if in_flight is not None:
        assert (await OutboxMail.get(id=in_flight.id)).attempts == 2
    assert await second.stop() == 0


async def test_two_workers_against_a_slow_server_never_send_a_mail_twice(workers, server):
    """The batch takes 16 × 0.25 s but a lease lasts 3 s: a lease per batch would let the second worker
    take over mails the first still holds. With a lease per mail they share the work."""
    smtp = server()
    smtp.sink.delay = 0.25
    mails = await queue_resets(16)
    env = {"MAIL_LEASE_SECONDS": "3", "MAIL_BATCH_SIZE": "50"}
    started = time.monotonic()
    first, second = await workers(smtp.port, **env), await workers(smtp.port, **env)
    await until(lambda: all_sent(mails), timeout=30, what="all mails sent")
    elapsed = time.monotonic() - started
    counts = Counter(smtp.sink.message_ids())
    assert counts == Counter(m.message_id for m in mails), counts.most_common(3)
    assert await first.stop() == 0 and await second.stop() == 0
    assert "lease ran out" not in first.output() + second.output()
    assert elapsed < 30


async def test_sigterm_lets_the_mail_in_hand_finish_then_exits_cleanly(workers, server):
    smtp = server()
    smtp.sink.delay = 1.0
    mails = await queue_resets(3)
    worker = await workers(smtp.port)
    await until(lambda: smtp.sink.data_started >= 1, timeout=20, what="the first mail in flight")
    worker.send_signal(signal.SIGTERM)
    assert await worker.wait(timeout=15) == 0
    assert "mail worker stopped" in worker.output()
    assert len(smtp.sink.messages) == 1 and smtp.sink.data_started == 1
    assert await statuses(mails) == Counter({MailStatus.SENT: 1, MailStatus.PENDING: 2})
    assert await OutboxMail.filter(id__in=[m.id for m in mails], status=MailStatus.PENDING, attempts=0).count() == 2
