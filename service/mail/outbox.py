"""The one way to send mail: `enqueue` inside the caller's transaction.

The mail is rendered now (it shows the state of the moment it was caused), sealed and
written to the outbox; the delivery worker sends it after the transaction commits.
"""

from __future__ import annotations

import contextvars
import secrets
from typing import Any
from urllib.parse import urlsplit

from service.config import get_settings
from service.mail.models import MailStatus, OutboxMail
from service.mail.render import render
from service.mail.sealing import seal
from service.time import now


_queued: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("ikz_mails_queued", default=None)


def track_queued() -> list[int]:
    """Collect the ids of mails queued from here on (the web layer wakes the worker afterwards)."""
    queued: list[int] = []
    _queued.set(queued)
    return queued


def _message_id() -> str:
    host = urlsplit(get_settings().public_base_url).hostname or "localhost"
    return f"<{secrets.token_hex(16)}@{host}>"


async def enqueue(template: str, recipient: str, context: dict[str, Any], *, account_id: int | None = None,
                  change_id: int | None = None) -> OutboxMail:
    rendered = render(template, context)
    moment = now()
    mail = await OutboxMail.create(
        template=template,
        recipient=recipient,
        account_id=account_id,
        change_id=change_id,
        message_id=_message_id(),
        sealed_content=seal({"subject": rendered.subject, "text": rendered.text, "html": rendered.html}),
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=moment,
        created_at=moment,
    )
    queued = _queued.get()
    if queued is not None:
        queued.append(mail.id)
    return mail
