"""File names as the download offers them: no path, no control or reserved characters, the
extension of the type the content really is (a JPEG sent as `vertrag.pdf` is offered as
`vertrag.jpg`)."""

from __future__ import annotations

import re
import unicodedata

from service.documents.sniffing import ALLOWED, JPEG, FileType

MAX_NAME = 150
_RESERVED = re.compile(r'[\x00-\x1f\x7f-\x9f"*/:<>?\\|;%#]')
_SPACES = re.compile(r"\s+")
_KNOWN_EXTENSIONS = {t.extension for t in ALLOWED} | {"jpeg", "exe", "zip", "doc", "xls", "odt", "txt", "html", "htm"}
FALLBACK = "dokument"


def sanitise(name: str | None, file_type: FileType) -> str:
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]  # a browser may send a whole path
    name = _SPACES.sub(" ", _RESERVED.sub("_", name)).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if extension.lower() in _KNOWN_EXTENSIONS:
        if file_type is JPEG and extension.lower() == "jpeg":
            return _fit(stem, "jpeg")
        name = stem
    return _fit(name.strip(" .") or FALLBACK, file_type.extension)


def _fit(stem: str, extension: str) -> str:
    stem = stem.strip(" .") or FALLBACK
    return f"{stem[:MAX_NAME].rstrip(' .')}.{extension}"
