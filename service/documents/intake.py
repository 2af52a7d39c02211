"""Checking an uploaded file before anything is stored: size, type by content, readable text.

Everything here only reads the upload (a spooled temporary file the HTTP layer already bounded);
a file that fails any check leaves no trace: no row, no stored bytes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import BinaryIO

from service.catalogue.text import search_document
from service.documents.extraction import BrokenFile, extract_text
from service.documents.models import DocumentKind
from service.documents.names import sanitise
from service.documents.sniffing import FileType, detect
from service.documents.storage import digest_of
from service.errors import InvalidInput

MAX_TITLE = 300
MAX_INDEX_CHARS = 100_000  # folded words one document adds to its cooperation's search index
ALLOWED_TEXT = "PDF, ODT, DOCX, XLSX, PNG or JPEG"


@dataclass(frozen=True)
class DocumentMeta:
    title: str
    kind: DocumentKind
    date: dt.date | None = None


@dataclass(frozen=True)
class Inspected:
    file_type: FileType
    size: int
    sha256: str
    text: str | None
    search_words: str
    file_name: str


def megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def check_meta(meta: DocumentMeta) -> DocumentMeta:
    title = " ".join((meta.title or "").split())
    if not title:
        raise InvalidInput("A document needs a title.", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"'title' is longer than {MAX_TITLE} characters.", field="title")
    if meta.date is not None and not 1800 <= meta.date.year <= 2200:
        raise InvalidInput("'date' must lie between the years 1800 and 2200.", field="date")
    return DocumentMeta(title=title, kind=DocumentKind(meta.kind), date=meta.date)


def index_words(text: str | None) -> str:
    """The document's words as the search index stores them (both spellings, each once), bounded."""
    words = search_document(text)
    if len(words) > MAX_INDEX_CHARS:
        words = words[:MAX_INDEX_CHARS].rsplit(" ", 1)[0]
    return words


def inspect_file(stream: BinaryIO, file_name: str | None, max_bytes: int) -> Inspected:
    """Raises InvalidInput (field 'file') for an empty, too large, unknown or unreadable file."""
    sha256, size = digest_of(stream)
    if size == 0:
        raise InvalidInput("The file is empty.", field="file")
    if size > max_bytes:
        raise InvalidInput(f"The file is larger than {megabytes(max_bytes)} MB ({size:,} bytes).", field="file",
                           details={"maxBytes": max_bytes})
    file_type = detect(stream)
    if file_type is None:
        raise InvalidInput(f"The file is not a {ALLOWED_TEXT} document (judged by its content, not its name).",
                           field="file")
    try:
        text = extract_text(stream, file_type)
    except BrokenFile as exc:
        raise InvalidInput(f"The {file_type.code} file is damaged or cannot be read ({exc}).", field="file") from None
    if text:  # PostgreSQL text holds neither NUL nor lone surrogates
        text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return Inspected(file_type, size, sha256, text or None, index_words(text), sanitise(file_name, file_type))


async def inspect(stream: BinaryIO, file_name: str | None, max_bytes: int) -> Inspected:
    """`inspect_file` off the event loop (reading a PDF is CPU work)."""
    return await asyncio.to_thread(inspect_file, stream, file_name, max_bytes)

