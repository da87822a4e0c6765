from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from palier.lib.files import RejectedFile, read_upload, sanitise_filename, sniff

PNG = (  # a real 1×1 image: libmagic wants the IHDR chunk, not only the signature
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.7\n" + b"x" * 32


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\bob\\rapport final.pdf", "rapport final.pdf"),
        ('bad<>:"|?*name.txt', "badname.txt"),
        ("\x00\x1f", "attachment"),
        ("...", "attachment"),
        ("é" * 300 + ".docx", "é" * 145 + ".docx"),
    ],
)
def test_file_names_are_sanitised(raw, clean):
    assert sanitise_filename(raw) == clean


def test_content_type_comes_from_the_bytes():
    assert sniff("photo.png", PNG) == "image/png"
    assert sniff("scan.pdf", PDF) == "application/pdf"
    assert sniff("notes.txt", "Bonjour, ça va ?".encode()) == "text/plain"
    assert sniff("data.bin", b"\x01\x02\x03") == "application/octet-stream"
    assert sniff("data.bin", bytes(range(256))) == "application/octet-stream"  # libmagic guesses image/x-tga
    assert sniff("page.html", b"<html><script>alert(1)</script></html>") == "text/html"
    assert sniff("report.docx", _docx()) == "application/zip" or sniff("report.docx", _docx()).endswith(".document")


def test_disguised_and_executable_files_are_refused():
    with pytest.raises(RejectedFile, match="disguised"):
        sniff("invoice.pdf", PNG)
    with pytest.raises(RejectedFile, match="blocked"):
        sniff("readme.txt", b"MZ\x90\x00" + b"\x00" * 60)
    with pytest.raises(RejectedFile, match="blocked"):
        sniff("setup.exe", b"hello")


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def _upload(name: str, data: bytes) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def test_an_upload_is_read_checked_and_rewound():
    upload = _upload("../photo.png", PNG)
    checked = read_upload(upload)
    assert (checked.name, checked.content_type, checked.size) == ("photo.png", "image/png", len(PNG))
    assert checked.sha256 == hashlib.sha256(PNG).hexdigest()
    assert upload.read() == PNG


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "The file “empty.txt” is empty."),
        ("big.bin", b"x" * 2048, "The file “big.bin” is larger than 1 MB."),
        ("invoice.pdf", PNG, "The file “invoice.pdf” does not contain what its name says."),
        ("setup.exe", b"hello", "Files of this type (“setup.exe”) are not accepted for security reasons."),
    ],
)
def test_refused_uploads_say_why_on_the_file_field(settings, name, data, message):
    settings.PALIER_MAX_ATTACHMENT_BYTES = 1024
    with pytest.raises(ValidationError) as refused:
        read_upload(_upload(name, data))
    assert refused.value.message_dict == {"file": [message]}
