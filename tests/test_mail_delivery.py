"""The outbox and its worker against a real SMTP server: retries, backoff, exactly-once, admin views."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from tortoise.transactions import in_transaction

from service.mail.models import MailStatus, OutboxMail
from service.mail.outbox import enqueue
from service.mail.worker import backoff, deliver_due
from service.time import now
from tests.conftest import free_port, text_part, unique


async def queue_mails(count: int) -> list[int]:
    ids = []
    async with in_transaction():
        for _ in range(count):
            address = f"{unique('r')}@example.org"
            mail = await enqueue("password_reset", address, {"recipient_name": "Frau Test", "username": "test",
                                                             "reset_url": "https://ikz.example.org/reset-password?token=x",
                                                             "valid_minutes": 60})
            ids.append(mail.id)
    return ids


async def make_due(ids: list[int]) -> None:
    await OutboxMail.filter(id__in=ids, status=MailStatus.PENDING).update(next_attempt_at=now() - dt.timedelta(seconds=1))


@pytest.fixture(autouse=True)
async def isolate_outbox(database):
    # Mails other tests left queued would be claimed by these tests' passes; park them.
    await OutboxMail.filter(status__in=[MailStatus.PENDING, MailStatus.SENDING]).update(
        status=MailStatus.FAILED, last_error="parked by test isolation")


async def test_a_rolled_back_change_mails_nothing(database):
    before = await OutboxMail.all().count()
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await queue_mails(1)
            raise RuntimeError("the caller's change fails")
    assert await OutboxMail.all().count() == before


async def test_refusing_server_gets_the_mail_later_exactly_once(mail_settings, smtp):
    [mail_id] = await queue_mails(1)
    smtp.sink.refuse = "451 4.3.0 Try again later"
    result = await deliver_due(mail_settings)
    assert (result.claimed, result.sent, result.retried) == (1, 0, 1)
    mail = await OutboxMail.get(id=mail_id)
    assert mail.status is MailStatus.PENDING and mail.attempts == 1 and "451" in mail.last_error
    assert mail.next_attempt_at > now()  # backed off
    assert (await deliver_due(mail_settings)).claimed == 0  # not due yet
    smtp.sink.refuse = None
    await make_due([mail_id])
    assert (await deliver_due(mail_settings)).sent == 1
    assert (await deliver_due(mail_settings)).claimed == 0
    delivered = [m for m in smtp.sink.messages if m["Message-ID"] == mail.message_id]
    assert len(delivered) == 1
    assert (await OutboxMail.get(id=mail_id)).status is MailStatus.SENT


async def test_server_down_then_up(settings):
    port = free_port()
    down = settings.with_overrides(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_timeout=2)
    [mail_id] = await queue_mails(1)
    result = await deliver_due(down)
    mail = await OutboxMail.get(id=mail_id)
    # An unreachable server is not the mail's fault: it waits, its attempts untouched, the reason recorded.
    assert result.unavailable and (result.claimed, result.sent, result.retried, result.failed) == (1, 0, 0, 0)
    assert mail.status is MailStatus.PENDING and mail.attempts == 0 and "cannot connect" in mail.last_error
    from tests.conftest import SmtpServer

    server = SmtpServer(port)
    server.start()
    try:
        await make_due([mail_id])
        assert (await deliver_due(down)).sent == 1
        [message] = server.sink.messages
        assert message["Message-ID"] == mail.message_id
        assert message["Subject"] == "Passwort zurücksetzen – Kooperationsdatenbank"
        assert "neues Passwort" in text_part(message)
        assert (await OutboxMail.get(id=mail_id)).status is MailStatus.SENT
    finally:
        server.stop()


async def test_gives_up_after_max_attempts_and_admin_can_retry(gql, make_user, login, mail_settings, smtp):
    settings = mail_settings.with_overrides(mail_max_attempts=2)
    [mail_id] = await queue_mails(1)
    smtp.sink.refuse = "451 4.3.0 Try again later"
    await deliver_due(settings)
    await make_due([mail_id])
    await deliver_due(settings)
    assert (await OutboxMail.get(id=mail_id)).status is MailStatus.FAILED
    admin = await login(*await make_user("ADMIN"))
    failed = await gql("{ mailDeliveries(status: FAILED, first: 100) { id status attempts lastError template } }",
                       headers=admin)
    row = next(d for d in failed.data["mailDeliveries"] if d["id"] == str(mail_id))
    assert row["attempts"] == 2 and "451" in row["lastError"]
    smtp.sink.refuse = None
    retried = await gql("mutation($id: ID!) { retryMailDelivery(id: $id) { status } }", {"id": str(mail_id)},
                        headers=admin)
    assert retried.data["retryMailDelivery"]["status"] == "PENDING"
    assert (await deliver_due(settings)).sent == 1
    again = await gql("mutation($id: ID!) { retryMailDelivery(id: $id) { status } }", {"id": str(mail_id)},
                      headers=admin)
    assert again.codes == ["CONFLICT"]
    contact_view = await gql("{ mailDeliveries { id } }")
    assert contact_view.codes == ["UNAUTHENTICATED"]


async def test_permanent_refusal_fails_at_once(mail_settings, smtp):
    [mail_id] = await queue_mails(1)
    smtp.sink.refuse = "554 5.7.1 Rejected"
    await deliver_due(mail_settings)
    mail = await OutboxMail.get(id=mail_id)
    assert mail.status is MailStatus.FAILED and mail.attempts == 1


async def test_two_workers_never_send_the_same_mail(mail_settings, smtp):
    ids = await queue_mails(30)
    settings = mail_settings.with_overrides(mail_batch_size=7)

    async def worker():
        sent = 0
        for _ in range(20):
            result = await deliver_due(settings)
            sent += result.sent
            if result.claimed == 0:
                break
        return sent

    sent = await asyncio.gather(worker(), worker(), worker())
    assert sum(sent) == 30
    ours = [m for m in smtp.sink.messages if m["To"] and m["X-IKZ-Template"] == "password_reset"]
    message_ids = [m["Message-ID"] for m in ours]
    assert len(message_ids) == len(set(message_ids)) == 30
    assert await OutboxMail.filter(id__in=ids, status=MailStatus.SENT).count() == 30


def test_backoff_is_exponential_with_jitter_and_capped(settings):
    base = settings.mail_retry_base_seconds
    for attempt in range(1, 6):
        delays = [backoff(attempt, settings).total_seconds() for _ in range(50)]
        ceiling = base * 2 ** (attempt - 1)
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(set(delays)) > 1
    assert backoff(40, settings) <= dt.timedelta(hours=6)
