"""The delivery worker: claims due mails, sends them over one connection, records the outcome.

Runs inside `ikz serve` (unless RUN_MAIL_WORKER=false) or alone as `ikz worker`. On
PostgreSQL rows are claimed with SELECT … FOR UPDATE SKIP LOCKED, so several workers
never send the same mail; on SQLite a compare-and-set update does the same job.
Every attempt of a mail carries the same Message-ID, so a receiver can drop a
duplicate if a worker dies between sending and recording.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from dataclasses import dataclass

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from service import db
from service.config import Settings, get_settings
from service.mail.models import MailStatus, OutboxMail
from service.mail.sealing import SealBroken, unseal
from service.mail import mime
from service.mail.transports import DeliveryError, OutgoingMail, Transport, transport_for
from service.time import now

logger = logging.getLogger("ikz.mail")
MAX_BACKOFF = dt.timedelta(hours=6)
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


def backoff(attempts: int, settings: Settings) -> dt.timedelta:
    """Exponential with full jitter: base·2^(n−1), capped, scaled by a random factor in [0.5, 1]."""
    ceiling = min(dt.timedelta(seconds=settings.mail_retry_base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return ceiling * random.uniform(0.5, 1.0)


def _lease(settings: Settings) -> dt.timedelta:
    return dt.timedelta(seconds=settings.smtp_timeout * 4 + 60)


async def _claim(limit: int, settings: Settings) -> list[OutboxMail]:
    moment = now()
    claim = {"status": MailStatus.SENDING, "claimed_until": moment + _lease(settings), "attempts": F("attempts") + 1}
    if db.dialect() == "postgres":
        async with in_transaction():
            # Objects, not values_list(): tortoise drops FOR UPDATE from values queries.
            rows = await (
                _due(moment).select_for_update(skip_locked=True).order_by("next_attempt_at", "id").limit(limit)
                .only("id")
            )
            ids = [row.id for row in rows]
            if ids:
                await OutboxMail.filter(id__in=ids).update(**claim)
    else:
        # SQLite has no SKIP LOCKED. One conditional update claims the due candidates, marking them with a
        # lease end unique to this pass (random microseconds); the rows carrying that mark are ours, so two
        # processes never both win a row.
        candidates = await _due(moment).order_by("next_attempt_at", "id").limit(limit).values_list("id", flat=True)
        if not candidates:
            return []
        mark = moment + _lease(settings) + dt.timedelta(microseconds=random.randrange(1, 999_999))
        await _due(moment).filter(id__in=list(candidates)).update(**{**claim, "claimed_until": mark})
        return await OutboxMail.filter(id__in=list(candidates), status=MailStatus.SENDING,
                                       claimed_until=mark).order_by("id")
    return await OutboxMail.filter(id__in=ids).order_by("id") if ids else []


def _due(moment: dt.datetime):
    return OutboxMail.filter(
        Q(status=MailStatus.PENDING, next_attempt_at__lte=moment)
        | Q(status=MailStatus.SENDING, claimed_until__lt=moment)  # a worker died mid-batch
    )


def build_message(mail: OutboxMail, content: dict[str, str], settings: Settings) -> OutgoingMail:
    raw = mime.build(
        sender=settings.mail_from, recipient=mail.recipient, subject=content["subject"], message_id=mail.message_id,
        date=mail.created_at, text=content["text"], html=content["html"], headers={"X-IKZ-Template": mail.template},
    )
    return OutgoingMail(outbox_id=mail.id, template=mail.template, sender=mime.envelope_sender(settings.mail_from),
                        recipient=mail.recipient, raw=raw, text=content["text"])


async def _record_failure(mail: OutboxMail, error: str, permanent: bool, settings: Settings, result: BatchResult) -> None:
    if permanent or mail.attempts >= settings.mail_max_attempts:
        await OutboxMail.filter(id=mail.id).update(status=MailStatus.FAILED, last_error=error, claimed_until=None)
        result.failed += 1
        logger.warning("mail %s (%s) failed for good after %s attempt(s): %s", mail.id, mail.template, mail.attempts, error)
    else:
        await OutboxMail.filter(id=mail.id).update(
            status=MailStatus.PENDING,
            last_error=error,
            claimed_until=None,
            next_attempt_at=now() + backoff(mail.attempts, settings),
        )
        result.retried += 1
        logger.info("mail %s (%s) will be retried (attempt %s): %s", mail.id, mail.template, mail.attempts, error)


async def deliver_due(settings: Settings | None = None, *, limit: int | None = None,
                      transport: Transport | None = None) -> BatchResult:
    """One pass: claim up to `limit` due mails and try each once."""
    settings = settings or get_settings()
    result = BatchResult()
    mails = await _claim(limit or settings.mail_batch_size, settings)
    result.claimed = len(mails)
    if not mails:
        return result
    transport = transport or transport_for(settings)
    try:
        await transport.open()
    except DeliveryError as exc:
        for mail in mails:
            await _record_failure(mail, str(exc), False, settings, result)
        return result
    try:
        for mail in mails:
            try:
                content = unseal(mail.sealed_content or "")
            except SealBroken as exc:
                await _record_failure(mail, str(exc), True, settings, result)
                continue
            try:
                await transport.send(build_message(mail, content, settings))
            except DeliveryError as exc:
                await _record_failure(mail, str(exc), exc.permanent, settings, result)
                continue
            # Delivered: the content (possibly an initial password) is no longer kept.
            await OutboxMail.filter(id=mail.id).update(
                status=MailStatus.SENT, sent_at=now(), sealed_content=None, last_error=None, claimed_until=None
            )
            result.sent += 1
    finally:
        await transport.close()
    return result


async def run_worker(stop: asyncio.Event, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    logger.info("mail worker started (%s)", "SMTP " + settings.smtp_host if settings.smtp_host else f"files in {settings.mail_dir}")
    while not stop.is_set():
        try:
            result = await deliver_due(settings)
            if result.claimed >= settings.mail_batch_size:
                continue
        except Exception:  # the worker must survive a bad pass; the next one retries
            logger.exception("mail worker pass failed")
        _wake.clear()
        sleeper = asyncio.ensure_future(_wake.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({sleeper, stopper}, timeout=settings.mail_poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeper, stopper):
            task.cancel()
    logger.info("mail worker stopped")
