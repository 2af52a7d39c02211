"""The hand-built MIME (service/mail/mime.py) checked with the standard email parser: what a
hand-written builder must get right, since it is kept for speed (see README, Speed)."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

from service.mail.mime import build

DATE = dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.timezone.utc)
TEXT = "Guten Tag Frau Müller,\n\nIhr Passwort: Kx7mP-q2Wz9-RtbHa\n.\nFrom here on: ß€ " + "lange Zeile " * 20 + "\n"
HTML = "<p>Grüße aus Saarbrücken – " + "<b>Straße</b> " * 30 + "</p>\n"


def make(**overrides) -> bytes:
    values = dict(sender="Kooperationsdatenbank <noreply@example.org>", recipient="renate.muster@example.org",
                  subject="Ihr Zugang zur Kooperationsdatenbank", message_id="<0123abcd@ikz.example.org>", date=DATE,
                  text=TEXT, html=HTML, headers={"X-IKZ-Template": "invitation"})
    values.update(overrides)
    return build(**values)


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def header_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def test_structure_bodies_and_line_ends():
    raw = make()
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n") == HTML
    assert message["Message-ID"] == "<0123abcd@ikz.example.org>"
    assert message["Date"].datetime == DATE
    assert message["X-IKZ-Template"] == "invitation" and message["Auto-Submitted"] == "auto-generated"


def test_non_ascii_subject_is_encoded_and_folded():
    subject = "Änderung genehmigt: Gemeinsame Beschaffung von Streusalz für Bönen, Fröndenberg/Ruhr und Lünen – Straße"
    raw = make(subject=subject)
    lines = header_lines(raw)
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
    subject_lines = lines[next(i for i, l in enumerate(lines) if l.startswith(b"Subject:")):]
    assert subject_lines[1].startswith(b" ")  # folded onto continuation lines
    assert all(len(line) <= 78 for line in lines)
    assert parse(raw)["Subject"] == subject


def test_long_ascii_subject_is_folded():
    subject = "Neue Kooperation zur Freigabe " + "Interkommunale Zusammenarbeit " * 5
    raw = make(subject=subject)
    assert all(len(line) <= 78 for line in header_lines(raw))
    assert parse(raw)["Subject"] == " ".join(subject.split())


def test_non_ascii_display_names_and_quoted_names():
    raw = make(sender="Ministerium für Inneres und Sport <noreply@example.org>",
               recipient='"Weiß, Jürgen" <j.weiss@example.org>')
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
    message = parse(raw)
    assert message["From"].addresses[0].display_name == "Ministerium für Inneres und Sport"
    assert message["From"].addresses[0].addr_spec == "noreply@example.org"
    assert message["To"].addresses[0].display_name == "Weiß, Jürgen"
    raw = make(recipient='"Dr. Muster, Renate (Kamen)" <r@example.org>')
    assert parse(raw)["To"].addresses[0].display_name == "Dr. Muster, Renate (Kamen)"


def test_utf8_address_is_written_as_utf8():
    raw = make(recipient="jürgen.weiß@example.org")
    message = email.message_from_string(raw.decode("utf-8"), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "jürgen.weiß@example.org"


def test_no_header_injection():
    raw = make(subject="Hallo\r\nBcc: victim@example.org", recipient="a@example.org\nBcc: b@example.org",
               message_id="<x@ikz.example.org>\r\nX-Evil: 1")
    message = parse(raw)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "Hallo Bcc: victim@example.org"
