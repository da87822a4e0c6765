"""``palier demo --logins``: the lines ``palier up`` shows in its banner, asked by command name so
the launcher does not import the demo app and still starts without it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from palier.demo.tickets import DEMO_LOGINS, DEMO_PASSWORD
from palier.system.management.commands.up import _demo_logins

pytestmark = pytest.mark.django_db


def test_no_logins_without_the_demo_people():
    out = StringIO()
    call_command("demo", logins=True, stdout=out)
    assert out.getvalue() == ""
    assert _demo_logins() == []


def test_the_banner_lists_the_demo_logins_once_the_demo_is_loaded():
    call_command("demo", tickets=0, seed=1, stdout=StringIO())
    lines = _demo_logins()
    assert lines[0] == f"Demo logins (password: {DEMO_PASSWORD}):"
    assert lines[1:] == [f"  {role:<10} {email}" for role, email in DEMO_LOGINS.items()]


def test_the_banner_has_no_logins_when_the_demo_app_is_not_installed():
    call_command("demo", tickets=0, seed=1, stdout=StringIO())
    with override_settings(INSTALLED_APPS=[app for app in settings.INSTALLED_APPS if app != "palier.demo"]):
        assert _demo_logins() == []
