"""What a file is, judged by its content alone (never by its name or the client's type).

Why not a library: the maintained sniffers (filetype, puremagic, libmagic) tell DOCX and XLSX
apart by looking for "word/" or "xl/" in the first bytes of the zip, which depends on the order
in which a program wrote the members, and call any other zip "application/zip" or guess. Here the
zip-based formats are recognised the way their readers do: ODT by its `mimetype` member
(ODF 1.2, part 3, 3.3), DOCX and XLSX by their main part (`word/document.xml`, `xl/workbook.xml`)
declared in `[Content_Types].xml` with the plain, not the macro-enabled, content type. Only the
allowed types are recognised; everything else is None.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class FileType:
    code: str  # PDF, ODT, DOCX, XLSX, PNG, JPEG
    content_type: str
    extension: str
    label: str  # as the pages name it


PDF = FileType("PDF", "application/pdf", "pdf", "PDF")
ODT = FileType("ODT", "application/vnd.oasis.opendocument.text", "odt", "ODT (OpenDocument-Text)")
DOCX = FileType("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx",
                "DOCX (Word)")
XLSX = FileType("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx",
                "XLSX (Excel)")
PNG = FileType("PNG", "image/png", "png", "PNG-Bild")
JPEG = FileType("JPEG", "image/jpeg", "jpg", "JPEG-Bild")
ALLOWED = (PDF, ODT, DOCX, XLSX, PNG, JPEG)
BY_CONTENT_TYPE = {t.content_type: t for t in ALLOWED}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZIP_SIGNATURE = b"PK\x03\x04"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
MAX_ZIP_MEMBERS = 10_000  # a real office file has a few dozen
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def _overrides(xml: bytes) -> dict[str, str]:
    """PartName → ContentType of the package's [Content_Types].xml (ECMA-376 part 2, 10.1.2.2)."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return {}
    return {o.get("PartName", ""): o.get("ContentType", "") for o in root.iter(_CONTENT_TYPES_NS + "Override")}


def _zip_type(stream: BinaryIO) -> FileType | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                return None
            names = {i.filename for i in infos}
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 200:
                    if archive.read(info).strip() == ODT_MIMETYPE and "content.xml" in names:
                        return ODT
                return None
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size > MAX_CONTENT_TYPES_BYTES:
                    return None
                declared = _overrides(archive.read(info))
                # The main part must be declared as the plain document: a macro-enabled one (.docm,
                # .xlsm) names another content type for the same part and is not accepted.
                if "word/document.xml" in names and declared.get("/word/document.xml") == DOCX_MAIN:
                    return DOCX
                if "xl/workbook.xml" in names and declared.get("/xl/workbook.xml") == XLSX_MAIN:
                    return XLSX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None
    return None


def detect(stream: BinaryIO) -> FileType | None:
    """The allowed type of the file's content, or None. Reads from the start; leaves the position at 0."""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return PDF
        if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR":
            return PNG
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith(_ZIP_SIGNATURE):
            return _zip_type(stream)
        return None
    finally:
        stream.seek(0)
