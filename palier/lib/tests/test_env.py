from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from palier.lib.env import envbool, envint, envlist, envstr


def test_invalid_values_fail_loudly(monkeypatch):
    monkeypatch.setenv("PALIER_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="PALIER_X"):
        envbool("PALIER_X", False)
    monkeypatch.setenv("PALIER_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="PALIER_N"):
        envint("PALIER_N", 1)
    monkeypatch.setenv("PALIER_N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        envint("PALIER_N", 5, minimum=1)


def test_defaults_and_lists(monkeypatch):
    monkeypatch.delenv("PALIER_B", raising=False)
    assert envbool("PALIER_B", True) is True
    monkeypatch.setenv("PALIER_B", "No")
    assert envbool("PALIER_B", True) is False
    monkeypatch.setenv("PALIER_L", "a.example, b.example,,")
    assert envlist("PALIER_L", []) == ["a.example", "b.example"]


def test_secrets_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("EMAIL_HOST_PASSWORD_FILE", str(secret))
    assert envstr("EMAIL_HOST_PASSWORD", "") == "s3cret"
    monkeypatch.setenv("EMAIL_HOST_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        envstr("EMAIL_HOST_PASSWORD", "")
