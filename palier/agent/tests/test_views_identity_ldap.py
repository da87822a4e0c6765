"""The directory admin pages: bad input refused field by field and nothing saved, a write-only
service password, "test this provider", dry run and sync with the result shown; admins only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.identity.models import DirectorySyncRun, Provider
from palier.identity.tests.conftest import slapd, tree  # noqa: F401 (the session's slapd)
from palier.identity.tests.slapd import ADMIN_DN, ADMIN_PASSWORD, Person, Slapd, Tree
from palier.mail import secrets
from palier.people.models import SupportGroup, User

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Corp AD", "slug": "corp-ad", "enabled": "on", "url": "ldap://dc.corp.test", "start_tls": "",
        "ca_certificate": "", "bind_dn": ADMIN_DN, "bind_password": ADMIN_PASSWORD, "secret_env": "",
        "base_dn": "dc=palier,dc=test", "user_filter": "(|(mail={login})(sAMAccountName={login}))",
        "sync_filter": "(objectClass=inetOrgPerson)", "attributes": "subject = entryUUID", "fallback": "local",
        "timeout": "5", "page_size": "500", "max_shrink_percent": "10", "sync": "on", "create_organisations": "on",
        "create_accounts": "on", "default_role": "requester", "default_organisation": "", "organisation_by_domain": "on",
        "link_verified_email": "", "sync_groups": "", "role_map": "", "group_map": "", "position": "0",
    }  # fmt: skip
    data.update(overrides)
    return {k: v for k, v in data.items() if v}


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_pages_are_for_administrators_only(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert client.get(reverse("identity_ldap:list")).status_code == 404
    assert client.post(reverse("identity_ldap:list"), _form()).status_code == 404
    assert not Provider.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "http://dc.corp.test"}, "url"),
        ({"user_filter": "(mail=*)"}, "user_filter"),
        ({"group_map": "agents = No Such Group"}, "group_map"),
        ({"group_map": "just a line"}, "group_map"),
        ({"role_map": "agents = superuser"}, "role_map"),
        ({"secret_env": "HOME"}, "secret_env"),
        ({"attributes": "password = userPassword"}, "attributes"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_saved(
    admin_client: Client, overrides: dict[str, str], field: str
) -> None:
    response = admin_client.post(reverse("identity_ldap:list"), _form(**overrides), **EN)
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not Provider.objects.exists()


def test_create_edit_test_dry_run_sync_and_delete(
    admin_client: Client,
    slapd: Slapd,  # noqa: F811
    tree: Tree,  # noqa: F811
    django_assert_max_num_queries: Any,
) -> None:
    tree.add(Person(uid="ana", mail="ana@acme.test", name="Ana Lopez", groups=("l1",)))
    SupportGroup.objects.create(name="Desk L1")
    form = _form(url=slapd.url, base_dn=tree.base, group_map="l1 = Desk L1", role_map="l1 = agent", sync_groups="on")
    response = admin_client.post(reverse("identity_ldap:list"), form, **EN)
    provider = Provider.objects.get()
    edit = reverse("identity_ldap:edit", args=[provider.pk])
    assert response.status_code == 302 and response["Location"] == edit
    assert provider.kind == "ldap" and provider.group_map == {"l1": ["Desk L1"]}
    assert secrets.decrypt(provider.secret) == ADMIN_PASSWORD
    page = admin_client.get(edit, **EN).content.decode()
    assert ADMIN_PASSWORD not in page and provider.secret not in page  # write-only
    # saved again without a password: the stored one stays
    assert admin_client.post(edit, {**form, "bind_password": "", "name": "Corp"}, **EN).status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Corp" and secrets.decrypt(provider.secret) == ADMIN_PASSWORD

    page = admin_client.post(reverse("identity_ldap:test", args=[provider.pk]), **EN).content.decode()
    assert "1 person found under" in page

    response = admin_client.post(reverse("identity_ldap:sync", args=[provider.pk]), {"dry_run": "1"}, **EN)
    page = admin_client.get(response["Location"], **EN).content.decode()
    assert "Dry run: the changes below were not made." in page and "ana@acme.test" in page
    assert not User.objects.filter(email="ana@acme.test").exists()

    response = admin_client.post(reverse("identity_ldap:sync", args=[provider.pk]), **EN)
    page = admin_client.get(response["Location"], **EN).content.decode()
    assert "The directory is synced." in page
    ana = User.objects.get(email="ana@acme.test")
    assert list(ana.support_groups.values_list("name", flat=True)) == ["Desk L1"]
    assert DirectorySyncRun.objects.filter(provider=provider).count() == 2
    with django_assert_max_num_queries(7):  # the latest run of every provider in one query; the backup check
        listing = admin_client.get(reverse("identity_ldap:list"), **EN).content.decode()
    assert "Corp" in listing and "+1" in listing

    admin_client.post(reverse("identity_ldap:enabled", args=[provider.pk]), {"enabled": "0"}, **EN)
    provider.refresh_from_db()
    assert not provider.enabled
    response = admin_client.post(reverse("identity_ldap:delete", args=[provider.pk]), **EN)
    assert response["Location"] == reverse("identity_ldap:list")
    assert not Provider.objects.exists() and User.objects.filter(email="ana@acme.test").exists()
