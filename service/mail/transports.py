"""Where mail goes: an SMTP server (SMTP_HOST set) or `.eml` files under var/mail/."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiosmtplib

from service.config import Settings

logger = logging.getLogger("ikz.mail")


class DeliveryError(Exception):
    """A mail was not delivered. `permanent`: retrying cannot help (5xx, an address the server cannot take).
    `connection`: the server could not be reached at all (not the mail's fault; the worker backs off)."""

    def __init__(self, message: str, *, permanent: bool = False, connection: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.connection = connection


@dataclass(frozen=True)
class OutgoingMail:
    outbox_id: int
    template: str
    sender: str  # envelope sender (address only)
    recipient: str
    raw: bytes  # the complete message, CRLF line ends
    text: str  # the plain-text part (for the file transport's log line)


class Transport(Protocol):
    is_open: bool

    async def open(self) -> None: ...
    async def send(self, mail: OutgoingMail) -> None: ...
    def drop(self) -> None: ...
    async def close(self) -> None: ...


def _describe(exc: Exception) -> tuple[str, bool]:
    """A short error text without addresses, and whether retrying cannot help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [e.code for e in exc.recipients]
        return f"recipient refused ({', '.join(map(str, codes))})", all(500 <= c < 600 for c in codes)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = re.sub(r"\S+@\S+", "<address>", exc.message)[:200]
        return f"SMTP {exc.code}: {text}", 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPAuthenticationError)
    return f"{type(exc).__name__}: {str(exc)[:200]}", False


class SmtpTransport:
    """One connection per batch: connect, optionally authenticate, send each mail, quit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None

    async def open(self) -> None:
        s = self.settings
        implicit_tls = s.smtp_port == 465
        self.client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout,
            use_tls=implicit_tls,
            # True: require STARTTLS; False: never upgrade (aiosmtplib would otherwise upgrade by itself).
            start_tls=False if implicit_tls else s.smtp_starttls,
        )
        try:
            await self.client.connect()
            if self.client.is_ehlo_or_helo_needed:
                await self.client.ehlo()  # to know the extensions (SMTPUTF8) before the first mail
            if s.smtp_username:
                await self.client.login(s.smtp_username, s.smtp_password)
        except (aiosmtplib.SMTPException, OSError) as exc:
            self.client.close()
            self.client = None
            message, _ = _describe(exc)
            raise DeliveryError(f"cannot connect to the SMTP server: {message}", connection=True) from None

    @property
    def is_open(self) -> bool:
        return self.client is not None and self.client.is_connected

    def _envelope(self, mail: OutgoingMail) -> tuple[str, str, list[str]]:
        """Envelope addresses and MAIL options: SMTPUTF8 when an address needs it and the server offers it."""
        assert self.client is not None
        local, _, domain = mail.recipient.rpartition("@")
        if not domain.isascii():
            try:
                domain = domain.encode("idna").decode("ascii")
            except UnicodeError:
                raise DeliveryError("the recipient's domain is not a valid internationalised domain name",
                                    permanent=True) from None
        recipient = f"{local}@{domain}"
        if (recipient + mail.sender).isascii():
            return mail.sender, recipient, []
        if self.client.supports_extension("smtputf8"):
            return mail.sender, recipient, ["SMTPUTF8"]
        raise DeliveryError("the address has non-ASCII characters before the @ and the SMTP server does not offer "
                            "SMTPUTF8; ask the person for an ASCII address", permanent=True)

    async def send(self, mail: OutgoingMail) -> None:
        if self.client is None:
            raise DeliveryError("not connected")
        sender, recipient, options = self._envelope(mail)
        try:
            await self.client.sendmail(sender, [recipient], mail.raw, mail_options=options)
        except (aiosmtplib.SMTPException, OSError) as exc:
            text, permanent = _describe(exc)
            if isinstance(exc, (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError)):
                self.drop()
            raise DeliveryError(text, permanent=permanent) from None

    def drop(self) -> None:
        """Forget the connection without QUIT (its state is unknown after an error or a timeout)."""
        if self.client is not None:
            self.client.close()
            self.client = None

    async def close(self) -> None:
        if self.client is not None:
            try:
                await self.client.quit()
            except (aiosmtplib.SMTPException, OSError):
                pass
            self.client = None


class FileTransport:
    """Development: every mail becomes `var/mail/<id>-<template>.eml`; links are logged."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.directory: Path = settings.mail_dir

    is_open = True

    async def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def drop(self) -> None:
        return None

    async def send(self, mail: OutgoingMail) -> None:
        target = self.directory / f"{mail.outbox_id:06d}-{mail.template}.eml"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(mail.raw)
        temporary.replace(target)
        base = re.escape(self.settings.public_base_url.rstrip("/"))
        links = re.findall(base + r"/\S+", mail.text)
        logger.info("mail %s written to %s%s", mail.outbox_id, target, f"; link: {links[0]}" if links else "")

    async def close(self) -> None:
        return None


def transport_for(settings: Settings) -> Transport:
    return SmtpTransport(settings) if settings.smtp_host else FileTransport(settings)
