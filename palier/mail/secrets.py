"""Mailbox secrets: IMAP passwords and OAuth2 client secrets (or Google service-account keys).

Stored in the database, Fernet-encrypted with a key derived from ``SECRET_KEY`` by HKDF-SHA256
(``cryptography``); they are write-only in the admin pages. Rotation: set the new ``SECRET_KEY``,
keep the old one in ``SECRET_KEY_FALLBACKS`` (decryption tries every key), run
``palier rotate-secrets`` (everything re-encrypted under the new key), then drop the fallback.
Values encrypted before HKDF (a SHA-256 of the key) still decrypt and are re-encrypted by the
command.

An operator may instead keep a secret in the server's environment, but only in a variable whose
name starts with ``PALIER_SECRET_``: an administrator of the application must not be able to make
Palier send ``DATABASE_URL`` or ``SECRET_KEY`` as a password to a server of their choosing.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext as _

ENV_PREFIX = "PALIER_SECRET_"
_HKDF_INFO = b"palier.mail.secrets.v1"


class SecretError(Exception):
    """A secret that cannot be read: a refused variable name, or a key that changed."""


def _hkdf_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived)


def _legacy_key(secret_key: str) -> bytes:
    """The derivation used before HKDF, kept so stored passwords still decrypt until rotated."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"palier.mail.password:" + secret_key.encode()).digest())


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_hkdf_key(k)) for k in keys] + [Fernet(_legacy_key(k)) for k in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretError(_("The stored secret cannot be decrypted (SECRET_KEY changed?): enter it again.")) from exc


def rotate(token: str) -> str:
    """The same secret encrypted under the current key (raises ``SecretError`` when unreadable)."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretError(_("The stored secret cannot be decrypted with any known key.")) from exc


# what else holds secrets encrypted with this module (``SECRET_HOLDERS`` of ``palier/events.py``,
# set by ``events.wire()``): ``palier rotate-secrets`` calls each; it returns (how many it
# re-encrypted, what no known key opens)
holders: list[Callable[[], tuple[int, list[str]]]] = []


def env_name_allowed(name: str) -> bool:
    return name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX)


def from_environment(name: str) -> str:
    """The value of ``name``, only when it is a ``PALIER_SECRET_…`` variable (else ``SecretError``,
    without reading it)."""
    if not env_name_allowed(name):
        raise SecretError(
            _("Only environment variables whose name starts with %(prefix)s can hold a mailbox secret, not %(name)s.")
            % {"prefix": ENV_PREFIX, "name": name}
        )
    value = os.environ.get(name, "")
    if not value:
        raise SecretError(_("The environment variable %(name)s is not set or empty.") % {"name": name})
    return value
