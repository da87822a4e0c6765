"""The codes themselves, without the database: TOTP (RFC 6238 through pyotp) and recovery codes."""

from __future__ import annotations

import hashlib
import re
import secrets
import time

import pyotp

STEP_SECONDS = 30
WINDOW = 1  # steps accepted either side of now (clock drift, a code typed at the end of its step)
RECOVERY_COUNT = 10
# no 0/O, 1/I/L: read from paper without doubt; 16 of 31 symbols ≈ 79 random bits
_RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_RECOVERY_LENGTH = 16
TOTP_SHAPE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    """A TOTP secret: 160 random bits in base32 (what authenticator apps expect)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def matching_step(secret: str, code: str, *, after: int, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to, within the window around now and later than ``after``
    (the last step accepted: a code is never accepted twice), or None."""
    code = normalise_totp(code)
    if not secret or not TOTP_SHAPE.match(code):
        return None
    here = current_step(now)
    found = None
    for step in range(here - WINDOW, here + WINDOW + 1):
        if step > after and secrets.compare_digest(code_at(secret, step), code):
            found = step if found is None else found
    return found


def normalise_totp(code: str) -> str:
    return re.sub(r"\s", "", code or "")


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def normalise_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()[:64]


def recovery_digest(code: str) -> str:
    return hashlib.sha256(normalise_recovery(code).encode()).hexdigest()


def looks_like_totp(code: str) -> bool:
    return bool(TOTP_SHAPE.match(normalise_totp(code)))
