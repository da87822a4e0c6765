"""``palier check --deploy``: Django's deployment checks and Palier's, each with its fix; the
command fails on anything unsafe and passes on a safe configuration."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from palier.system import checks

# the variables a deployment sets; the tests start from none of them
_DEPLOYMENT = (
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "ALLOWED_HOSTS",
    "PALIER_HTTPS",
    "PALIER_TRUSTED_PROXIES",
    "PALIER_BASE_URL",
    "PALIER_SILENCED_CHECKS",
    "PALIER_CLAMD",
    "CSRF_TRUSTED_ORIGINS",
)


# The tests running `palier check` in a process of its own always use their own SQLite file: the
# same whichever pass runs them, so they run in the PostgreSQL pass only (``engine_independent``,
# conftest.py), which keeps the SQLite pass within its time budget.


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Any) -> Path:
    """A migrated SQLite database without any account, shared by the command runs (a copy of the
    test run's freshly migrated one when there is one: the first command writes the secret key)."""
    path = tmp_path_factory.mktemp("deploy")
    if migrated_sqlite(path / "palier.sqlite3"):
        _palier(path, {}, "check").check_returncode()
    else:
        _palier(path, {}, "migrate", "--verbosity", "0").check_returncode()
    return path


def _palier(data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # not DJANGO_ALLOW_ASYNC_UNSAFE either, which the browser tests set in this process
    skip = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in _DEPLOYMENT and k not in skip}
    base |= {"PALIER_DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{data_dir / 'palier.sqlite3'}"}
    return subprocess.run(
        [sys.executable, "-m", "palier.cli", *args],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.engine_independent
def test_an_unsafe_deployment_fails_with_each_fix(data_dir: Path) -> None:
    (data_dir / "secret_key").chmod(0o644)
    try:
        result = _palier(data_dir, {"DEBUG": "true", "ALLOWED_HOSTS": "*"}, "check", "--deploy")
    finally:
        (data_dir / "secret_key").chmod(0o600)
    report = result.stdout + result.stderr
    assert result.returncode != 0
    for check_id, fix in [
        ("palier.E001", "DEBUG=false"),
        ("palier.E003", f"chmod 600 {data_dir / 'secret_key'}"),
        ("palier.W001", "PALIER_HTTPS=true"),
        ("palier.W004", "Set ALLOWED_HOSTS"),
        ("palier.W005", "PALIER_CLAMD"),
        ("palier.backups.W001", "PALIER_BACKUP_DIR"),
    ]:
        assert f"({check_id})" in report, check_id
        assert fix in report, fix
    assert "palier.E002" not in report  # no account at all yet


@pytest.mark.engine_independent
def test_https_without_a_trusted_proxy_or_an_https_address_is_reported(data_dir: Path) -> None:
    result = _palier(data_dir, {"PALIER_HTTPS": "true"}, "check", "--deploy")
    report = result.stdout + result.stderr
    assert result.returncode != 0
    assert "(palier.W002)" in report and "PALIER_TRUSTED_PROXIES" in report
    assert "(palier.W003)" in report and "PALIER_BASE_URL" in report
    assert "(palier.W001)" not in report


@pytest.mark.engine_independent
def test_a_safe_deployment_passes(data_dir: Path) -> None:
    safe = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "desk.example.org",
        "PALIER_HTTPS": "true",
        "PALIER_TRUSTED_PROXIES": "127.0.0.1",
        "PALIER_BASE_URL": "https://desk.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://desk.example.org",
        # no clamd for this check; backups into a folder of their own
        "PALIER_SILENCED_CHECKS": "palier.W005",
        "PALIER_BACKUP_DIR": str(data_dir / "backups"),
    }
    backup = _palier(data_dir, safe, "backup", str(data_dir / "backups" / "first.tar.gz"))
    assert backup.returncode == 0, backup.stdout + backup.stderr  # and one backup made today
    result = _palier(data_dir, safe, "check", "--deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    # Django's own deployment checks ran too: a weak key fails
    weak = _palier(data_dir, safe | {"SECRET_KEY": "too-short"}, "check", "--deploy")
    assert weak.returncode != 0 and "security.W009" in weak.stdout + weak.stderr


@pytest.mark.engine_independent
def test_plain_check_still_fails_on_errors_only(data_dir: Path) -> None:
    assert _palier(data_dir, {}, "check").returncode == 0


@pytest.mark.django_db
def test_open_demo_accounts_fail_the_deployment_check(settings: object) -> None:
    call_command("demo", tickets=0, seed=1, stdout=StringIO())
    with pytest.raises(SystemCheckError, match=r"(?s)palier\.E002.*palier-demo.*palier demo --lock"):
        call_command("check", deploy=True, stdout=StringIO(), stderr=StringIO())
    call_command("demo", lock=True, stdout=StringIO())
    assert checks.check_demo_accounts() == []


def test_a_configured_antivirus_is_not_reported(settings: object) -> None:
    settings.PALIER_CLAMD = "127.0.0.1:3310"  # type: ignore[attr-defined]
    assert checks.check_antivirus() == []
    settings.PALIER_CLAMD = ""  # type: ignore[attr-defined]
    assert [m.id for m in checks.check_antivirus()] == ["palier.W005"]
