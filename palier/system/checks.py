"""Palier's deployment checks, run by ``palier check --deploy`` beside Django's own.

Each message says what is unsafe and its hint is the fix, in one line. Errors are settings that
expose the desk as it stands (debug pages, accounts with a published password, a readable signing
key); warnings are protections not configured. ``palier check --deploy`` fails on either
(``palier/system/management/commands/check.py``). An operator who handles a warning outside
Palier (backups made by the host, say) acknowledges it with ``PALIER_SILENCED_CHECKS``.

The module registers its checks when imported; the ``check`` command imports it.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

from palier.system.demo_accounts import DEMO_PASSWORD, exposed_demo_accounts

Messages = list[CheckMessage]


@register(Tags.security, deploy=True)
def check_debug(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> Messages:
    if not settings.DEBUG:
        return []
    return [
        Error(
            "DEBUG is on: error pages show the code, the settings and the request to anyone.",
            hint="Unset DEBUG (or set DEBUG=false) in the environment of every Palier process.",
            id="palier.E001",
        )
    ]


@register(Tags.security, deploy=True)
def check_demo_accounts(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> Messages:
    try:
        count = exposed_demo_accounts()
    except DatabaseError as exc:
        return [
            Warning(
                f"Cannot check for demo accounts: the database cannot be read ({exc}).",
                hint="Run `palier migrate` with the same environment, then check again.",
                id="palier.W007",
            )
        ]
    if not count:
        return []
    return [
        Error(
            f"{count:,} accounts can be signed in to with the demo's published password “{DEMO_PASSWORD}”.",
            hint="Run `palier demo --lock` (they keep their tickets), or start from an empty database.",
            id="palier.E002",
        )
    ]


@register(Tags.security, deploy=True)
def check_secret_key_file(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> Messages:
    path: Path | None = getattr(settings, "PALIER_SECRET_KEY_PATH", None)
    if path is None:
        return []  # from the environment; Django's security.W009 judges its strength
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        return [Error(f"The secret key file cannot be read: {exc}.", hint=f"Check {path}.", id="palier.E003")]
    if mode & 0o077:
        return [
            Error(
                f"The secret key file {path} can be read by other users of this machine (mode {mode:o}): "
                "with it they can sign in as anyone.",
                hint=f"chmod 600 {path}  (or give the key as SECRET_KEY / SECRET_KEY_FILE).",
                id="palier.E003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_https(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> Messages:
    if not settings.SECURE_HTTPS:
        return [
            Warning(
                "PALIER_HTTPS is off: passwords and session cookies cross the network unencrypted.",
                hint="Serve Palier behind an HTTPS reverse proxy, then set PALIER_HTTPS=true and "
                "PALIER_TRUSTED_PROXIES=<the proxy's address>.",
                id="palier.W001",
            )
        ]
    found: Messages = []
    if not settings.PALIER_TRUSTED_PROXIES:
        found.append(
            Warning(
                "PALIER_HTTPS is on but no proxy is trusted: Palier cannot tell HTTPS requests, so it "
                "sends no HSTS header and sign-in forms fail their origin check.",
                hint="Set PALIER_TRUSTED_PROXIES to the address of the proxy that terminates TLS "
                "(e.g. 127.0.0.1); it must set X-Forwarded-Proto.",
                id="palier.W002",
            )
        )
    if not settings.PALIER_BASE_URL.startswith("https://"):
        found.append(
            Warning(
                f"PALIER_BASE_URL is {settings.PALIER_BASE_URL}: links in emails lead to plain HTTP.",
                hint="Set PALIER_BASE_URL to the https:// address people reach Palier at.",
                id="palier.W003",
            )
        )
    return found


@register(Tags.security, deploy=True)
def check_allowed_hosts(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> Messages:
    if "*" not in settings.ALLOWED_HOSTS:
        return []
    return [
        Warning(
            "ALLOWED_HOSTS accepts any host name: a forged Host header can put another site in links.",
            hint="Set ALLOWED_HOSTS to the names people reach Palier at (e.g. desk.example.org).",
            id="palier.W004",
        )
    ]


@register(Tags.security, deploy=True)
def check_antivirus(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> Messages:
    if getattr(settings, "PALIER_CLAMD", ""):
        return []
    return [
        Warning(
            "No antivirus: attachments are stored and served without being scanned.",
            hint="Run ClamAV's clamd and set PALIER_CLAMD to its address (docs/security.md), or acknowledge "
            "with PALIER_SILENCED_CHECKS=palier.W005.",
            id="palier.W005",
        )
    ]
