from __future__ import annotations

import pytest

from palier.lib.files import RejectedFile, sanitise_filename, sniff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
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


def test_disguised_and_executable_files_are_refused():
    with pytest.raises(RejectedFile, match="disguised"):
        sniff("invoice.pdf", PNG)
    with pytest.raises(RejectedFile, match="blocked"):
        sniff("readme.txt", b"MZ\x90\x00" + b"\x00" * 60)
    with pytest.raises(RejectedFile, match="blocked"):
        sniff("setup.exe", b"hello")
