"""Pure upload checks: file-name sanitising, content sniffing, and the one reading of an upload
(size limit, digest, virus scan) with its user-facing messages. No ORM; tickets, mail intake and
the knowledge base use it."""

from __future__ import annotations

import codecs
import hashlib
import io
import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from typing import IO

import magic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from palier.lib import antivirus
from palier.lib.errors import Unavailable

MAX_NAME = 150
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
BLOCKED_EXTENSIONS = frozenset(
    {
        "exe",
        "dll",
        "com",
        "scr",
        "bat",
        "cmd",
        "msi",
        "msp",
        "pif",
        "cpl",
        "vbs",
        "vbe",
        "js",
        "jse",
        "wsf",
        "wsh",
        "ps1",
        "psm1",
        "hta",
        "jar",
        "lnk",
        "reg",
        "sh",
        "app",
    }
)
EXECUTABLE_MIMES = frozenset(
    {
        "application/x-msdownload",
        "application/x-executable",
        "application/x-elf",
        "application/x-sharedlib",
        "application/x-mach-binary",
        "application/vnd.microsoft.portable-executable",
        "application/x-dosexec",
    }
)
# file extensions whose bytes are a recognisable format: the sniffed type must agree
_FAMILY = {
    "jpg": {"jpg"},
    "jpeg": {"jpg"},
    "png": {"png"},
    "gif": {"gif"},
    "webp": {"webp"},
    "bmp": {"bmp"},
    "tif": {"tif"},
    "tiff": {"tif"},
    "pdf": {"pdf"},
    "heic": {"heic"},
    "zip": {"zip"},
    "gz": {"gz"},
    "7z": {"7z"},
    "rar": {"rar"},
    "mp3": {"mp3"},
    "mp4": {"mp4"},
    "docx": {"docx", "zip"},
    "xlsx": {"xlsx", "zip"},
    "pptx": {"pptx", "zip"},
    "odt": {"odt", "zip"},
    "ods": {"ods", "zip"},
    "odp": {"odp", "zip"},
}


# the formats libmagic names that Palier recognises, as the family tokens above; any other answer
# (plain text, "data", a guess such as image/x-tga for random bytes) counts as "not recognised"
_MIME_FAMILY = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "image/x-ms-bmp": "bmp",
    "image/tiff": "tif",
    "image/heic": "heic",
    "image/heif": "heic",
    "application/pdf": "pdf",
    "application/zip": "zip",
    "application/gzip": "gz",
    "application/x-gzip": "gz",
    "application/x-7z-compressed": "7z",
    "application/x-rar": "rar",
    "application/vnd.rar": "rar",
    "audio/mpeg": "mp3",
    "video/mp4": "mp4",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}


def _libmagic(head: bytes) -> str:
    """The MIME type libmagic (Debian's libmagic1, through python-magic) reads in the first bytes."""
    return str(magic.from_buffer(head, mime=True)) if head else "application/x-empty"


class RejectedFile(ValueError):
    """The file is refused; the message says why (user-facing, translated by the caller)."""


def sanitise_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _FORBIDDEN.sub("", name).strip().strip(".").strip()
    name = re.sub(r"\s+", " ", name)
    if not name:
        return "attachment"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep_ext = bool(dot) and 0 < len(ext) <= 10
        name = stem[: MAX_NAME - len(ext) - 1] + "." + ext if keep_ext else name[:MAX_NAME]
    return name


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def sniff(name: str, head: bytes) -> str:
    """Return the content type to store, or raise ``RejectedFile`` for dangerous or disguised files."""
    ext = extension(name)
    if ext in BLOCKED_EXTENSIONS:
        raise RejectedFile("blocked-type")
    mime = _libmagic(head)
    if mime in EXECUTABLE_MIMES or mime.startswith("application/x-pie-executable"):
        raise RejectedFile("blocked-type")
    if head[:2] == b"MZ" or head[:4] == b"\x7fELF":
        raise RejectedFile("blocked-type")
    family = _MIME_FAMILY.get(mime)
    expected = _FAMILY.get(ext)
    if expected is not None and family not in expected:
        raise RejectedFile("disguised")
    if family is not None:
        return mime
    guessed, _enc = mimetypes.guess_type(name)
    if guessed and (guessed.startswith("text/") or guessed in {"application/json", "application/xml"}):
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return "application/octet-stream"
        return guessed
    return "application/octet-stream"


class QuarantineUpload(io.BytesIO):
    """A file from a channel that keeps the whole message (mail intake): when infected it is
    recorded as such, never stored nor served, instead of refusing the message."""

    def __init__(self, content: bytes, name: str) -> None:
        super().__init__(content)
        self.name = name


@dataclass(frozen=True)
class Upload:
    """What a checked upload is: its sanitised name, sniffed type, size and SHA-256."""

    name: str
    content_type: str
    size: int
    sha256: str
    scan: antivirus.Verdict = antivirus.NOT_SCANNED

    @property
    def infected(self) -> bool:
        return self.scan.infected


def max_attachment_bytes() -> int:
    """The one attachment size limit (``PALIER_MAX_ATTACHMENT_MB``): every upload path, the request
    parsing (``lib/uploads.py``), the API and mail intake read it here."""
    return int(settings.PALIER_MAX_ATTACHMENT_BYTES)


def limit_megabytes() -> int:
    return max(1, max_attachment_bytes() // 1048576)


def too_large_message(name: str) -> str:
    return _("The file “%(name)s” is larger than %(mb)d MB.") % {"name": name, "mb": limit_megabytes()}


def _measure(upload: IO[bytes], name: str, head: bytes) -> tuple[int, str]:
    digest, size, limit = hashlib.sha256(head), len(head), max_attachment_bytes()
    while size <= limit and (chunk := upload.read(1 << 20)):
        size += len(chunk)
        digest.update(chunk)
    if size == 0:
        raise ValidationError({"file": _("The file “%(name)s” is empty.") % {"name": name}})
    if size > limit:  # also when the first bytes alone pass the limit
        raise ValidationError({"file": too_large_message(name)})
    return size, digest.hexdigest()


def read_upload(upload: IO[bytes], *, quarantine: bool = False) -> Upload:
    """Check an upload (size limit, blocked or disguised type, virus scan) and rewind it for
    storage, or raise ``ValidationError`` on ``file`` with the sentence to show.

    An infected file is refused, unless ``quarantine`` (mail intake: the message is kept and the
    file recorded as infected, never stored nor served): then the returned ``Upload`` says so.
    Scanning on but clamd unreachable raises ``Unavailable`` (503): nothing is stored unchecked."""
    name, size, sha256, content_type = _inspect(upload)
    verdict = scan_upload(upload, name)
    if verdict.infected and not quarantine:
        raise ValidationError({"file": infected_message(name, verdict)})
    return Upload(name=name, content_type=content_type, size=size, sha256=sha256, scan=verdict)


def refusal(upload: IO[bytes]) -> str:
    """Why ``read_upload`` would refuse this file short of the virus scan (empty, too large, blocked
    or disguised type), or ""; rewound. Mail intake drops such a file and keeps the message."""
    try:
        _inspect(upload)
    except ValidationError as exc:
        return "; ".join(exc.messages)
    finally:
        upload.seek(0)
    return ""


def _inspect(upload: IO[bytes]) -> tuple[str, int, str, str]:
    """The sanitised name, size, SHA-256 and sniffed type, rewound; ``ValidationError`` when refused."""
    name = sanitise_filename(getattr(upload, "name", "") or "")
    head = upload.read(8192)
    size, sha256 = _measure(upload, name, head)
    try:
        content_type = sniff(name, head)
    except RejectedFile as exc:
        if str(exc) == "disguised":
            message = _("The file “%(name)s” does not contain what its name says.")
        else:
            message = _("Files of this type (“%(name)s”) are not accepted for security reasons.")
        raise ValidationError({"file": message % {"name": name}}) from exc
    upload.seek(0)
    return name, size, sha256, content_type


def scan_upload(upload: IO[bytes], name: str) -> antivirus.Verdict:
    """The virus scan of a whole file, rewound afterwards."""
    try:
        return antivirus.scan(upload)
    except antivirus.ScannerUnavailable as exc:
        raise Unavailable(
            _("The file “%(name)s” could not be checked for viruses right now; please try again later.")
            % {"name": name}
        ) from exc
    finally:
        upload.seek(0)


def infected_message(name: str, verdict: antivirus.Verdict) -> str:
    return _("The file “%(name)s” contains a virus (%(signature)s) and was refused.") % {
        "name": name,
        "signature": verdict.signature,
    }


# types a browser may show in its own tab; anything else downloads
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


def stored_file_response(stored: FieldFile, *, name: str, content_type: str) -> FileResponse:
    """The response serving an uploaded file the caller may read: shown inline only for the safe
    types, never sniffed, sandboxed, never cached. ``stored``: the model's ``FieldFile``."""
    from django.http import FileResponse

    response = FileResponse(
        stored.open("rb"),
        as_attachment=content_type not in INLINE_TYPES,
        filename=name,
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=0, no-store"
    return response
