"""Building the bytes of a mail: multipart/alternative, UTF-8, quoted-printable.

Written by hand rather than with email.message.EmailMessage: the worker builds one
message per delivery, and the general-purpose email package spent more time on that
than the SMTP exchange itself (measured in bench/onboarding.py). Tests parse the
result with the standard email parser.
"""

from __future__ import annotations

import binascii
import datetime as dt
import secrets
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr


def _clean(value: str) -> str:
    """Header values never carry line breaks (no header injection)."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _encoded(value: str) -> str:
    value = _clean(value)
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address(value: str) -> str:
    name, address = parseaddr(_clean(value))
    return formataddr((name, address), charset="utf-8") if name else address


def _body(text: str) -> bytes:
    normalised = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    return binascii.b2a_qp(normalised, istext=True).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def build(*, sender: str, recipient: str, subject: str, message_id: str, date: dt.datetime, text: str, html: str,
          headers: dict[str, str] | None = None) -> bytes:
    boundary = f"=_ikz_{secrets.token_hex(12)}"
    lines = [
        f"From: {_address(sender)}",
        f"To: {_address(recipient)}",
        f"Subject: {_encoded(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {_clean(message_id)}",
        "MIME-Version: 1.0",
        "Auto-Submitted: auto-generated",
        *(f"{name}: {_encoded(value)}" for name, value in (headers or {}).items()),
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
    ]
    parts = []
    for subtype, content in (("plain", text), ("html", html)):
        parts.append(
            f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode()
            + _body(content)
            + b"\r\n"
        )
    return "\r\n".join(lines).encode() + b"\r\n" + b"".join(parts) + f"--{boundary}--\r\n".encode()


def envelope_sender(sender: str) -> str:
    return parseaddr(sender)[1]
