"""Accounts with the demo's published password: counted, shown to administrators, locked."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from palier.people.models import User
from palier.system.demo_accounts import DEMO_PASSWORD, demo_accounts_exposed, exposed_demo_accounts

pytestmark = pytest.mark.django_db

DEMO_ADMIN = "admin@demo.palier.test"
BANNER = 'id="demo-accounts-banner"'


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _demo() -> None:
    call_command("demo", tickets=0, seed=1, stdout=StringIO())


def test_no_demo_no_warning(admin_user: User) -> None:
    assert not demo_accounts_exposed() and exposed_demo_accounts() == 0
    assert BANNER not in _client(admin_user).get(reverse("agent:ticket-list")).content.decode()


def test_administrators_see_a_banner_while_the_demo_accounts_are_open(admin_user: User, agent: User) -> None:
    _demo()
    assert Client().login(username=DEMO_ADMIN, password=DEMO_PASSWORD)
    assert exposed_demo_accounts() > 2000
    for url in (reverse("agent:ticket-list"), reverse("agent:admin-users")):
        page = _client(admin_user).get(url).content.decode()
        assert BANNER in page and DEMO_PASSWORD in page and "palier demo --lock" in page
    assert BANNER not in _client(agent).get(reverse("agent:ticket-list")).content.decode()


def test_locking_closes_every_demo_account(admin_user: User) -> None:
    _demo()
    out = StringIO()
    call_command("demo", lock=True, stdout=out)
    assert "none can sign in with it now" in out.getvalue()
    assert not Client().login(username=DEMO_ADMIN, password=DEMO_PASSWORD)
    assert not demo_accounts_exposed() and exposed_demo_accounts() == 0
    assert BANNER not in _client(admin_user).get(reverse("agent:ticket-list")).content.decode()
    assert User.objects.filter(email=DEMO_ADMIN, is_active=True).exists()  # history and tickets stay


def test_an_account_given_its_own_password_no_longer_counts() -> None:
    _demo()
    before = exposed_demo_accounts()
    user = User.objects.get(email=DEMO_ADMIN)
    user.set_password("a-real-password-42")
    user.save(update_fields=["password"])
    assert exposed_demo_accounts() == before - 1
