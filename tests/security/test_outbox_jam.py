"""Issue 10.6: one bad address must not jam the outbox.

An address the SMTP server cannot take (non-ASCII before the @, no SMTPUTF8 offered), a
recipient that is always deferred, a mail whose worker keeps dying and content that cannot
be opened each end FAILED with their reason, within MAIL_MAX_ATTEMPTS, and never hold the
other mails of the same pass. Real aiosmtpd servers on loopback, the real worker.
"""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise.transactions import in_transaction

from service.mail.models import MailStatus, OutboxMail
from service.mail.outbox import enqueue
from service.mail.worker import deliver_due
from service.time import now
from tests.conftest import SmtpServer, free_port, text_part, unique

UMLAUT_LOCAL = "jürgen.weiß"
CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) { id username email } }"""
DELIVERIES = "{ mailDeliveries(first: 100) { id recipient status attempts lastError template } }"


@pytest.fixture(autouse=True)
async def isolate_outbox(database):
    await OutboxMail.filter(status__in=[MailStatus.PENDING, MailStatus.SENDING]).update(
        status=MailStatus.FAILED, last_error="parked by test isolation")


def umlaut_address() -> str:
    return f"{UMLAUT_LOCAL}.{unique('x')}@example.org"


async def queue(template: str, recipient: str) -> OutboxMail:
    contexts = {
        "password_reset": {"recipient_name": "Frau Test", "username": "test", "valid_minutes": 60,
                           "reset_url": "https://ikz.example.org/reset-password?token=x"},
        "invitation": {"recipient_name": "Herr Weiß", "username": "jweiss", "initial_password": "Abcde-fghij-kmnop",
                       "activation_url": "https://ikz.example.org/activate?token=y", "expires_on": "1. Januar 2027",
                       "organization_name": "Kamen", "is_resend": False},
    }
    async with in_transaction():
        return await enqueue(template, recipient, contexts[template])


def server_settings(settings, server: SmtpServer, **overrides):
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=server.port, smtp_starttls=False, smtp_timeout=5,
                                   mail_retry_base_seconds=1, **overrides)


@pytest.fixture
def plain_server():
    """A server without SMTPUTF8 (aiosmtpd's Controller offers it unless told not to)."""
    server = SmtpServer(free_port(), enable_SMTPUTF8=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def utf8_server():
    server = SmtpServer(free_port(), enable_SMTPUTF8=True)
    server.start()
    yield server
    server.stop()


async def make_due(*mails: OutboxMail) -> None:
    await OutboxMail.filter(id__in=[m.id for m in mails], status=MailStatus.PENDING).update(
        next_attempt_at=now() - dt.timedelta(seconds=1))


async def test_umlaut_address_without_smtputf8_fails_at_once_and_holds_nothing(
        gql, make_user, login, settings, plain_server):
    admin = await login(*await make_user("ADMIN"))
    org = (await gql('{ municipalities(search: "Kamen") { edges { node { id name } } } }')).data
    org_id = next(e["node"]["id"] for e in org["municipalities"]["edges"] if e["node"]["name"] == "Kamen")
    address = umlaut_address()
    created = await gql(CREATE, {"input": {"municipalityId": org_id, "firstName": "Jürgen", "lastName": "Weiß",
                                           "email": address}}, headers=admin)
    assert not created.errors, created.errors  # createContact accepts the address ...
    bad = await OutboxMail.get(recipient=address)
    # ... queued first, ahead of an invitation and a password reset to ordinary addresses.
    reset, invitation = await queue("password_reset", f"{unique('r')}@example.org"), await queue(
        "invitation", f"{unique('i')}@example.org")

    result = await deliver_due(server_settings(settings, plain_server))

    assert (result.claimed, result.sent, result.failed, result.retried) == (3, 2, 1, 0)
    bad = await OutboxMail.get(id=bad.id)
    assert bad.status is MailStatus.FAILED and bad.attempts == 1
    assert "SMTPUTF8" in bad.last_error and "non-ASCII" in bad.last_error
    assert {m["Message-ID"] for m in plain_server.sink.messages} == {reset.message_id, invitation.message_id}
    assert await OutboxMail.filter(id__in=[bad.id, reset.id, invitation.id], status=MailStatus.SENDING).count() == 0
    # The admin sees why.
    rows = (await gql(DELIVERIES, headers=admin)).data["mailDeliveries"]
    row = next(r for r in rows if r["id"] == str(bad.id))
    assert row["status"] == "FAILED" and row["template"] == "invitation" and "SMTPUTF8" in row["lastError"]
    assert (await deliver_due(server_settings(settings, plain_server))).claimed == 0  # nothing comes back


async def test_umlaut_address_is_delivered_with_smtputf8(settings, utf8_server):
    address = umlaut_address()
    mail = await queue("invitation", address)
    result = await deliver_due(server_settings(settings, utf8_server))
    assert result.sent == 1
    [message] = utf8_server.sink.messages
    [(sender, recipients, options)] = utf8_server.sink.envelopes
    assert recipients == [address] and "SMTPUTF8" in options
    assert message["To"].addresses[0].addr_spec == address
    assert message["Message-ID"] == mail.message_id
    assert "Abcde-fghij-kmnop" in text_part(message)
    assert (await OutboxMail.get(id=mail.id)).status is MailStatus.SENT


async def test_ascii_mail_goes_without_smtputf8(settings, utf8_server):
    await queue("password_reset", f"{unique('r')}@example.org")
    await deliver_due(server_settings(settings, utf8_server))
    [(_, _, options)] = utf8_server.sink.envelopes
    assert "SMTPUTF8" not in options


async def test_permanently_refused_recipient_fails_at_once(settings, plain_server):
    refused = f"{unique('gone')}@example.org"
    plain_server.sink.refuse_rcpt[refused] = "550 5.1.1 No such user"
    bad, good = await queue("invitation", refused), await queue("password_reset", f"{unique('r')}@example.org")
    result = await deliver_due(server_settings(settings, plain_server))
    assert (result.sent, result.failed) == (1, 1)
    bad = await OutboxMail.get(id=bad.id)
    assert bad.status is MailStatus.FAILED and bad.attempts == 1 and "550" in bad.last_error
    assert refused not in bad.last_error  # the reason names no address
    assert plain_server.sink.message_ids() == [good.message_id]


async def test_always_deferred_recipient_ends_failed_at_max_attempts_and_never_holds_others(settings, plain_server):
    deferred = f"{unique('later')}@example.org"
    plain_server.sink.refuse_rcpt[deferred] = "451 4.2.0 Mailbox busy, try later"
    config = server_settings(settings, plain_server, mail_max_attempts=3)
    bad = await queue("invitation", deferred)
    others = []
    for attempt in range(1, 4):
        others.append(await queue("password_reset", f"{unique('r')}@example.org"))
        result = await deliver_due(config)
        assert result.sent == 1, attempt  # the new mail of this round went out at once
        bad = await OutboxMail.get(id=bad.id)
        assert bad.attempts == attempt and "451" in bad.last_error
        await make_due(bad)
    assert bad.status is MailStatus.FAILED and bad.attempts == 3  # never past the maximum
    assert (await deliver_due(config)).claimed == 0
    assert plain_server.sink.message_ids() == [m.message_id for m in others]


async def test_mail_whose_worker_keeps_dying_ends_failed(settings, plain_server):
    """A mail whose sending kills the worker each time (left SENDING with an expired lease) is not
    claimed again once it has used up its attempts; the mail behind it is sent in the same pass."""
    config = server_settings(settings, plain_server, mail_max_attempts=3)
    poison, good = await queue("invitation", f"{unique('p')}@example.org"), await queue(
        "password_reset", f"{unique('r')}@example.org")
    await OutboxMail.filter(id=poison.id).update(status=MailStatus.SENDING, attempts=3,
                                                 claimed_until=now() - dt.timedelta(seconds=1))
    result = await deliver_due(config)
    assert (result.sent, result.failed) == (1, 1)
    poison = await OutboxMail.get(id=poison.id)
    assert poison.status is MailStatus.FAILED and poison.attempts == 3 and "interrupted 3 time" in poison.last_error
    assert plain_server.sink.message_ids() == [good.message_id]


async def test_content_that_cannot_be_opened_fails_alone(settings, plain_server):
    broken, good = await queue("invitation", f"{unique('b')}@example.org"), await queue(
        "password_reset", f"{unique('r')}@example.org")
    await OutboxMail.filter(id=broken.id).update(sealed_content="gAAAAA-not-a-fernet-token")
    result = await deliver_due(server_settings(settings, plain_server))
    assert (result.sent, result.failed) == (1, 1)
    broken = await OutboxMail.get(id=broken.id)
    assert broken.status is MailStatus.FAILED and "SECRET_KEY" in broken.last_error
    assert plain_server.sink.message_ids() == [good.message_id]


async def test_admin_cannot_retry_a_mail_a_worker_is_sending(gql, make_user, login, settings):
    """Retrying a mail under a live lease would make it due while its worker still sends it."""
    admin = await login(*await make_user("ADMIN"))
    mail = await queue("password_reset", f"{unique('r')}@example.org")
    await OutboxMail.filter(id=mail.id).update(status=MailStatus.SENDING, attempts=1,
                                               claimed_until=now() + dt.timedelta(seconds=60))
    retried = await gql("mutation($id: ID!) { retryMailDelivery(id: $id) { status } }", {"id": str(mail.id)},
                        headers=admin)
    assert retried.codes == ["CONFLICT"]
    assert (await OutboxMail.get(id=mail.id)).status is MailStatus.SENDING
