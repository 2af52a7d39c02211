"""Building the bytes of a mail with the standard library's email package.

multipart/alternative (plain text and HTML), UTF-8, quoted-printable bodies; headers
are encoded (RFC 2047) and folded by the package. A mail whose sender or recipient
address is not ASCII is built under the SMTPUTF8 policy (RFC 6532: UTF-8 headers), and
must then be sent with the SMTPUTF8 extension (see transports.py).

(An earlier version built the bytes by hand for speed; bench/onboarding.py no longer
shows a difference worth it: see README, "Speed".)
"""

from __future__ import annotations

import datetime as dt
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

_ASCII = policy.SMTP  # CRLF line ends, RFC 2047 for non-ASCII header text
_UTF8 = policy.SMTPUTF8


def _clean(value: str) -> str:
    """Header values never carry line breaks (no header injection)."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def needs_smtputf8(*addresses: str) -> bool:
    """True when an address has non-ASCII characters before the @ (a non-ASCII domain can use IDNA)."""
    return any(not parseaddr(a)[1].rpartition("@")[0].isascii() for a in addresses)


def _address(value: str) -> Address:
    name, address = parseaddr(_clean(value))
    local, _, domain = address.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def build(*, sender: str, recipient: str, subject: str, message_id: str, date: dt.datetime, text: str, html: str,
          headers: dict[str, str] | None = None) -> bytes:
    utf8 = needs_smtputf8(sender, recipient) or not (sender + recipient).isascii()
    message = EmailMessage(policy=_UTF8 if utf8 else _ASCII)
    message["From"] = _address(sender)
    message["To"] = _address(recipient)
    message["Subject"] = _clean(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = _clean(message_id)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        message[name] = _clean(value)
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


def envelope_sender(sender: str) -> str:
    return parseaddr(sender)[1]
