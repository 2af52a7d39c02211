"""The delivery worker: claims due mails one at a time, sends them, records each outcome.

Runs inside `ikz serve` (unless RUN_MAIL_WORKER=false) or alone as `ikz worker`; several
may run at once. Every mail is claimed on its own, with a lease of its own
(MAIL_LEASE_SECONDS): on PostgreSQL with SELECT … FOR UPDATE SKIP LOCKED, on SQLite with a
compare-and-set update. A send is cut off before its lease ends, and an outcome is only
recorded while the lease is still this worker's, so a second worker can take over a mail
only once the first can no longer be sending it: no mail is sent twice by two workers.
What a crash leaves is one mail in flight, sent again once its lease has run out; every
attempt carries the same Message-ID, so a receiver can drop the duplicate.

One mail's failure never holds another: each mail's outcome is recorded as it happens.
A permanent refusal (5xx, an address the server cannot take, content that cannot be
opened) makes the mail FAILED at once with its reason; a transient one (4xx, a dropped
connection, a timeout) retries it with exponential backoff until MAIL_MAX_ATTEMPTS, then
FAILED. A mail whose worker died while sending it counts that attempt too. When the
server cannot be reached at all, the mail is put back untouched (that is not its fault)
and the worker itself backs off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import re
import time
from dataclasses import dataclass

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from service import db
from service.config import Settings, get_settings
from service.mail import mime
from service.mail.models import MailStatus, OutboxMail
from service.mail.sealing import SealBroken, unseal
from service.mail.transports import DeliveryError, OutgoingMail, Transport, transport_for
from service.time import now

logger = logging.getLogger("ikz.mail")
MAX_BACKOFF = dt.timedelta(hours=6)
MAX_SERVER_BACKOFF = 300.0  # seconds between connection attempts while the SMTP server is unreachable
_wake = asyncio.Event()


def wake() -> None:
    """Tell an in-process worker that new mail is waiting (after the caller's commit)."""
    _wake.set()


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unavailable: bool = False  # the SMTP server could not be reached; the pass stopped there


def backoff(attempts: int, settings: Settings) -> dt.timedelta:
    """Exponential with full jitter: base·2^(n−1), capped, scaled by a random factor in [0.5, 1]."""
    ceiling = min(dt.timedelta(seconds=settings.mail_retry_base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return ceiling * random.uniform(0.5, 1.0)


def _lease(settings: Settings) -> dt.timedelta:
    return dt.timedelta(seconds=settings.mail_lease)


def _send_budget(settings: Settings) -> float:
    """Seconds a claimed mail may take to send: its lease less a margin for recording the outcome
    (and for clocks of different hosts that disagree a little)."""
    lease = settings.mail_lease
    return lease - min(30.0, lease / 4)


def _due(moment: dt.datetime, settings: Settings):
    return OutboxMail.filter(
        Q(status=MailStatus.PENDING, next_attempt_at__lte=moment)
        # its worker died while sending it: sent again, unless that has happened too often (see below)
        | Q(status=MailStatus.SENDING, claimed_until__lt=moment, attempts__lt=settings.mail_max_attempts)
    )


async def _sweep_interrupted(settings: Settings, result: BatchResult) -> None:
    """A mail whose sending stopped its worker MAIL_MAX_ATTEMPTS times is not tried again: FAILED."""
    error = (f"delivery was interrupted {settings.mail_max_attempts} time(s) (the worker stopped while "
             "sending it)")
    failed = await OutboxMail.filter(status=MailStatus.SENDING, claimed_until__lt=now(),
                                     attempts__gte=settings.mail_max_attempts).update(
        status=MailStatus.FAILED, last_error=error, claimed_until=None)
    if failed:
        result.failed += failed
        logger.warning("%s mail(s) failed for good: %s", failed, error)


class _Claims:
    """Claims one mail at a time for one pass, each with a lease of its own.

    PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED for each mail. SQLite (no SKIP LOCKED, one writer at a
    time): the due mails are read once a pass, and each is claimed with a compare-and-set update that
    changes the row only while it is still due, so of two workers exactly one wins it.
    """

    def __init__(self, settings: Settings, limit: int) -> None:
        self.settings, self.limit = settings, limit
        self.candidates: list[OutboxMail] = []
        self.read = False

    async def next(self) -> OutboxMail | None:
        """Call inside a transaction (the worker records the previous mail's outcome in the same one)."""
        settings = self.settings
        while True:
            moment = now()
            # A lease end unique to this claim (random microseconds): it marks the row as ours, and every
            # later update of the row is conditional on it.
            mark = moment + _lease(settings) + dt.timedelta(microseconds=random.randrange(1, 999_999))
            claim = {"status": MailStatus.SENDING, "claimed_until": mark, "attempts": F("attempts") + 1}
            due = _due(moment, settings).order_by("next_attempt_at", "id")
            if db.dialect() == "postgres":
                # The whole row (the large sealed content is TOASTed: the top-1 sort does not carry it).
                mail = await due.select_for_update(skip_locked=True).first()
                if mail is None:
                    return None
                await OutboxMail.filter(id=mail.id).update(**claim)
                mail.status, mail.attempts = MailStatus.SENDING, mail.attempts + 1
            else:
                if not self.candidates:
                    if self.read:
                        return None
                    ids = list(await due.limit(self.limit).values_list("id", flat=True))
                    rows = {m.id: m for m in await OutboxMail.filter(id__in=ids)} if ids else {}
                    self.candidates = [rows[i] for i in ids if i in rows]
                    self.read = True
                    if not self.candidates:
                        return None
                mail = self.candidates.pop(0)
                # Unchanged since read (same attempts) and still due: then the row read is the row claimed.
                if not await _due(moment, settings).filter(id=mail.id, attempts=mail.attempts).update(**claim):
                    continue  # another worker won it
                mail.status, mail.attempts = MailStatus.SENDING, mail.attempts + 1
            mail.claimed_until = mark  # the value written (later updates are conditional on it)
            return mail


def build_message(mail: OutboxMail, content: dict[str, str], settings: Settings) -> OutgoingMail:
    raw = mime.build(
        sender=settings.mail_from, recipient=mail.recipient, subject=content["subject"], message_id=mail.message_id,
        date=mail.created_at, text=content["text"], html=content["html"], headers={"X-IKZ-Template": mail.template},
    )
    return OutgoingMail(outbox_id=mail.id, template=mail.template, sender=mime.envelope_sender(settings.mail_from),
                        recipient=mail.recipient, raw=raw, text=content["text"])


def _ours(mail: OutboxMail):
    """The row, as long as this worker's lease on it holds."""
    return OutboxMail.filter(id=mail.id, status=MailStatus.SENDING, claimed_until=mail.claimed_until)


def _lost(mail: OutboxMail, outcome: str) -> None:
    logger.warning("mail %s (%s): its lease ran out before the outcome (%s) was recorded; another worker has "
                   "taken it over", mail.id, mail.template, outcome)


async def _record_failure(mail: OutboxMail, error: str, permanent: bool, settings: Settings, result: BatchResult) -> None:
    error = error[:500]
    if permanent or mail.attempts >= settings.mail_max_attempts:
        if not await _ours(mail).update(status=MailStatus.FAILED, last_error=error, claimed_until=None):
            return _lost(mail, "failed")
        result.failed += 1
        logger.warning("mail %s (%s) failed for good after %s attempt(s): %s", mail.id, mail.template, mail.attempts, error)
    else:
        if not await _ours(mail).update(status=MailStatus.PENDING, last_error=error, claimed_until=None,
                                        next_attempt_at=now() + backoff(mail.attempts, settings)):
            return _lost(mail, "retry")
        result.retried += 1
        logger.info("mail %s (%s) will be retried (attempt %s): %s", mail.id, mail.template, mail.attempts, error)


async def _release(mail: OutboxMail, error: str, settings: Settings) -> None:
    """Give the mail back without counting the attempt: the server was unreachable, the mail is fine."""
    await _ours(mail).update(status=MailStatus.PENDING, attempts=F("attempts") - 1, last_error=error[:500],
                             claimed_until=None,
                             next_attempt_at=now() + dt.timedelta(seconds=settings.mail_retry_base_seconds))


def _scrub(text: str) -> str:
    return re.sub(r"\S+@\S+", "<address>", text)[:200]


@dataclass
class _Outcome:
    sent: bool = False
    error: str = ""
    permanent: bool = False
    unreachable: bool = False  # the server could not be reached: give the mail back


async def _attempt(mail: OutboxMail, transport: Transport, settings: Settings, deadline: float) -> _Outcome:
    try:
        message = build_message(mail, unseal(mail.sealed_content or ""), settings)
    except SealBroken as exc:
        return _Outcome(error=str(exc), permanent=True)
    except Exception as exc:  # the same content fails the same way every time
        logger.exception("mail %s (%s) cannot be built", mail.id, mail.template)
        return _Outcome(error=f"cannot build the message: {type(exc).__name__}: {_scrub(str(exc))}", permanent=True)
    try:
        async with asyncio.timeout(max(deadline - time.monotonic(), 0.001)):
            if not transport.is_open:
                await transport.open()
            await transport.send(message)
    except DeliveryError as exc:
        if exc.connection:
            logger.warning("mail worker: %s", exc)
        return _Outcome(error=str(exc), permanent=exc.permanent, unreachable=exc.connection)
    except TimeoutError:
        transport.drop()
        return _Outcome(error="the SMTP server did not finish within the mail's lease")
    except Exception as exc:  # an unforeseen error is this mail's; the next one gets a fresh connection
        transport.drop()
        logger.exception("mail %s (%s): unexpected error while sending", mail.id, mail.template)
        return _Outcome(error=f"{type(exc).__name__}: {_scrub(str(exc))}")
    return _Outcome(sent=True)


async def _record(mail: OutboxMail, outcome: _Outcome, settings: Settings, result: BatchResult) -> None:
    if outcome.unreachable:
        result.unavailable = True
        return await _release(mail, outcome.error, settings)
    if not outcome.sent:
        return await _record_failure(mail, outcome.error, outcome.permanent, settings, result)
    # Delivered: the content (possibly an initial password) is no longer kept.
    if not await _ours(mail).update(status=MailStatus.SENT, sent_at=now(), sealed_content=None, last_error=None,
                                    claimed_until=None):
        return _lost(mail, "sent")
    result.sent += 1


async def deliver_due(settings: Settings | None = None, *, limit: int | None = None,
                      transport: Transport | None = None, stop: asyncio.Event | None = None) -> BatchResult:
    """One pass: claim and send due mails one by one (over one connection), up to `limit`.

    Each mail's outcome is recorded in one transaction with the claim of the next mail. Stops early
    when `stop` is set (after the mail in hand) or when the server cannot be reached.
    """
    settings = settings or get_settings()
    limit = limit or settings.mail_batch_size
    result = BatchResult()
    transport = transport or transport_for(settings)
    claims = _Claims(settings, limit)
    try:
        await _sweep_interrupted(settings, result)
        deadline = time.monotonic() + _send_budget(settings)
        if db.dialect() == "postgres":
            async with in_transaction():
                mail = await claims.next()
        else:  # a read-then-write transaction could not wait for SQLite's lock; the compare-and-set needs none
            mail = await claims.next()
        while mail is not None:
            result.claimed += 1
            outcome = await _attempt(mail, transport, settings, deadline)
            more = not outcome.unreachable and result.claimed < limit and not (stop is not None and stop.is_set())
            async with in_transaction():
                await _record(mail, outcome, settings, result)
                deadline = time.monotonic() + _send_budget(settings)
                mail = await claims.next() if more else None
    finally:
        await transport.close()
    return result


async def _invite_queued() -> int:
    """A batch of the bulk invitation (its mails are then delivered by the same pass); 0 on error."""
    from service.accounts.bulk_invitations import invite_queued

    try:
        return await invite_queued()
    except Exception:  # the worker must go on delivering; the next pass tries again
        logger.exception("bulk invitation batch failed")
        return 0


async def run_worker(stop: asyncio.Event, settings: Settings | None = None) -> None:
    """Deliver until `stop` is set; a stop lets the mail in hand finish, then returns."""
    settings = settings or get_settings()
    logger.info("mail worker started (%s)", "SMTP " + settings.smtp_host if settings.smtp_host else f"files in {settings.mail_dir}")
    unreachable = 0
    while not stop.is_set():
        delay = settings.mail_poll_seconds
        try:
            invited = await _invite_queued()
            result = await deliver_due(settings, stop=stop)
            if result.unavailable:
                unreachable += 1
                delay = min(settings.mail_retry_base_seconds * 2 ** (unreachable - 1), MAX_SERVER_BACKOFF)
                delay *= random.uniform(0.5, 1.0)
            else:
                unreachable = 0
                if result.claimed >= settings.mail_batch_size or invited:
                    continue
        except Exception:  # the worker must survive a bad pass; the next one retries
            logger.exception("mail worker pass failed")
        if stop.is_set():
            break
        _wake.clear()
        waiters = {asyncio.ensure_future(stop.wait())}
        if not unreachable:
            waiters.add(asyncio.ensure_future(_wake.wait()))
        await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters:
            task.cancel()
    logger.info("mail worker stopped")
