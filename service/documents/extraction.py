"""The text inside a document, for the search index: PDF (pypdf), ODT and DOCX (their XML parts).

Reading a PDF is also how a broken one is recognised: a file that starts like a PDF but that
pypdf cannot open or read the pages of is refused (`BrokenFile`), so nothing unreadable is
published. Images have no text. Extraction is bounded (characters and pages) so that a hostile
file cannot make the index or the request unbounded.
"""

from __future__ import annotations

import logging
import zipfile
from typing import BinaryIO
from xml.etree import ElementTree

from service.documents.sniffing import DOCX, ODT, PDF, FileType

MAX_TEXT_CHARS = 1_000_000
MAX_PDF_PAGES = 2_000
MAX_XML_BYTES = 50 * 1024 * 1024  # an unpacked content.xml / document.xml (zip bombs stop here)

logging.getLogger("pypdf").setLevel(logging.ERROR)  # warnings about sloppy PDFs are no faults of ours


class BrokenFile(ValueError):
    """The content looks like an allowed type but cannot be read."""


def _pdf_text(stream: BinaryIO) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            # An owner-password-only PDF opens with the empty password; anything else cannot be read.
            if not reader.decrypt(""):
                raise BrokenFile("The PDF is password-protected.")
        pages = reader.pages
        if len(pages) == 0:
            raise BrokenFile("The PDF has no pages.")
        parts: list[str] = []
        size = 0
        for index, page in enumerate(pages):
            if index >= MAX_PDF_PAGES or size >= MAX_TEXT_CHARS:
                break
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
        return "\n".join(parts)[:MAX_TEXT_CHARS]
    except BrokenFile:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError, NotImplementedError, AssertionError, ZeroDivisionError) as exc:
        raise BrokenFile("The PDF cannot be read.") from exc


class _TextTarget:
    """An XML parser target that keeps the character data in document order, a line break per paragraph."""

    def __init__(self, paragraph_tags: set[str]) -> None:
        self.paragraph_tags = paragraph_tags
        self.parts: list[str] = []
        self.size = 0
        self.skip = 0  # inside field codes (w:instrText): not text a reader sees

    def start(self, tag, attrib) -> None:
        if tag.endswith("}instrText"):
            self.skip += 1

    def end(self, tag) -> None:
        if tag.endswith("}instrText"):
            self.skip -= 1
        elif tag in self.paragraph_tags:
            self.parts.append("\n")

    def data(self, data: str) -> None:
        if not self.skip and self.size < MAX_TEXT_CHARS:
            self.parts.append(data)
            self.size += len(data)

    def close(self) -> str:
        return "".join(self.parts)[:MAX_TEXT_CHARS]


def _xml_text(stream: BinaryIO, member: str, paragraph_tags: set[str]) -> str:
    """The text of one XML part of a zip-based document."""
    try:
        with zipfile.ZipFile(stream) as archive:
            info = archive.getinfo(member)
            if info.file_size > MAX_XML_BYTES:
                raise BrokenFile("The document's text part is too large.")
            target = _TextTarget(paragraph_tags)
            parser = ElementTree.XMLParser(target=target)
            with archive.open(info) as part:
                while chunk := part.read(64 * 1024):
                    parser.feed(chunk)
            return parser.close()
    except BrokenFile:
        raise
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError) as exc:
        raise BrokenFile("The document cannot be read.") from exc


_ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def extract_text(stream: BinaryIO, file_type: FileType) -> str | None:
    """The document's text (None for types without text); raises BrokenFile for unreadable PDFs/documents."""
    stream.seek(0)
    try:
        if file_type is PDF:
            return _pdf_text(stream)
        if file_type is ODT:
            return _xml_text(stream, "content.xml", {_ODF_TEXT + "p", _ODF_TEXT + "h"})
        if file_type is DOCX:
            return _xml_text(stream, "word/document.xml", {_WORD + "p"})
        return None
    finally:
        stream.seek(0)
