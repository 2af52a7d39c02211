"""Recognising a document's type by its content, and the file names a download offers."""

from __future__ import annotations

import io
import zipfile

import pytest

from service.documents.extraction import extract_text
from service.documents.names import sanitise
from service.documents.sniffing import DOCX, JPEG, ODT, PDF, PNG, XLSX, detect
from tests import document_files as files


@pytest.mark.parametrize("data, expected", [
    (files.pdf(), PDF), (files.odt(), ODT), (files.docx(), DOCX), (files.docx(document_first=True), DOCX),
    (files.xlsx(), XLSX), (files.png(), PNG), (files.jpeg(), JPEG),
    (files.plain_zip(), None), (files.fake_odt_mimetype(), None), (files.windows_exe(), None),
    (b"<html><script>alert(1)</script></html>", None), (b"PK\x03\x04 not really a zip", None),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, None),  # a PNG signature without its IHDR chunk
])
def test_types_are_told_apart_by_content(data, expected):
    stream = io.BytesIO(data)
    assert detect(stream) is expected
    assert stream.tell() == 0  # the caller reads the file again from the start


def test_a_docx_missing_its_content_types_is_no_docx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert detect(io.BytesIO(out.getvalue())) is None


def test_text_comes_out_in_reading_order():
    assert extract_text(io.BytesIO(files.odt("erste Zeile")), ODT) == "Vereinbarung\nerste Zeile\n"
    assert "Zweckverband" in extract_text(io.BytesIO(files.pdf("Satzung Zweckverband (2020)")), PDF)
    assert extract_text(io.BytesIO(files.png()), PNG) is None


@pytest.mark.parametrize("name, file_type, expected", [
    ("Satzung.pdf", PDF, "Satzung.pdf"),
    ("C:\\Users\\amt\\Satzung 2020.PDF", PDF, "Satzung 2020.pdf"),
    ("../../etc/passwd", PDF, "passwd.pdf"),
    ("foto.pdf", JPEG, "foto.jpg"),
    ("foto.jpeg", JPEG, "foto.jpeg"),
    ("setup.exe", PDF, "setup.pdf"),
    ("Beschluss \"Rat\";\r\n.docx", DOCX, "Beschluss _Rat____.docx"),
    ("", ODT, "dokument.odt"),
    ("...", ODT, "dokument.odt"),
    ("Übersicht Kosten.v2", XLSX, "Übersicht Kosten.v2.xlsx"),
])
def test_file_names_are_cleaned_and_carry_the_real_extension(name, file_type, expected):
    assert sanitise(name, file_type) == expected


def test_a_macro_enabled_word_file_is_no_docx():
    """Same package, its main part declared as macro-enabled (.docm): not accepted as DOCX."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(files.docx())) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "[Content_Types].xml":
                body = body.replace(b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                                    b"application/vnd.ms-word.document.macroEnabled.main+xml")
            target.writestr(item, body)
    assert detect(io.BytesIO(files.docx())) is DOCX
    assert detect(io.BytesIO(out.getvalue())) is None
