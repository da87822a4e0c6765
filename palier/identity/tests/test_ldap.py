"""Sign-in against a real slapd with an Active Directory-like schema: attacker's cases first."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from palier.audit.models import AuditEvent
from palier.identity import ldap, policy
from palier.identity.models import ExternalIdentity, Provider
from palier.identity.tests.slapd import ADMIN_DN, ADMIN_PASSWORD, Person, Slapd, Tree, free_port
from palier.mail import secrets
from palier.people.models import Organisation, SupportGroup, User

pytestmark = pytest.mark.django_db

ALICE = Person(
    uid="alice", mail="alice@acme.test", name="Alice Martin", password="alice-pw-1", groups=("helpdesk",), language="fr"
)


def make_provider(url: str, tree: Tree, **config: Any) -> Provider:
    settings = {
        "url": url,
        "bind_dn": ADMIN_DN,
        "base_dn": tree.base,
        "attributes": {"subject": "entryUUID"},
        **config,
    }
    return Provider.objects.create(
        slug="ad",
        name="Active Directory",
        kind=Provider.Kind.LDAP,
        enabled=True,
        config=ldap.clean_config(settings),
        secret=secrets.encrypt(ADMIN_PASSWORD),
    )


@pytest.fixture
def provider(slapd: Slapd, tree: Tree) -> Provider:
    tree.add(ALICE)
    return make_provider(slapd.url, tree)


def sign_in(login: str, password: str) -> Any:
    return authenticate(RequestFactory().post("/accounts/login/"), username=login, password=password)


def test_login_is_escaped_so_a_filter_cannot_be_injected(provider: Provider) -> None:
    # unescaped, "ali*" would match sAMAccountName=alice and sign in with her password
    for login in ("ali*", "*", "*)(sAMAccountName=alice", "alice)(|(uid=*"):
        assert sign_in(login, ALICE.password) is None
    assert not User.objects.filter(email=ALICE.mail).exists()


def test_an_empty_password_never_reaches_the_directory(slapd: Slapd, provider: Provider, tree: Tree) -> None:
    # the trap is real: this directory takes a DN with an empty password as an anonymous bind
    if tool := shutil.which("ldapwhoami"):
        done = subprocess.run(
            [tool, "-x", "-H", slapd.url, "-D", tree.dn("alice"), "-w", ""], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0 and "anonymous" in done.stdout
    assert sign_in("alice", "") is None
    assert ldap.authenticate(provider, "alice", "") is None
    assert not User.objects.exists()


def test_wrong_password_refuses_and_a_linked_person_cannot_use_a_local_one(provider: Provider) -> None:
    assert sign_in("alice@acme.test", "wrong") is None
    user = sign_in("alice@acme.test", ALICE.password)
    assert user is not None
    user.set_password("local-pw-123")
    user.save()
    failures = AuditEvent.objects.filter(action="auth.login_failed").count()
    # the directory knows her: its answer is final, the Palier password is not tried
    assert sign_in("alice@acme.test", "local-pw-123") is None
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == failures + 1  # counted by the throttle


def test_directory_sign_in_creates_and_maps_the_account(provider: Provider, tree: Tree) -> None:
    group = SupportGroup.objects.create(name="Directory desk")
    provider.sync_groups = True
    provider.role_map = {"helpdesk": "agent"}
    provider.group_map = {tree.group_dn("helpdesk"): ["Directory desk"]}
    provider.save()
    user = sign_in("alice", ALICE.password)  # by sAMAccountName
    assert user is not None
    assert (user.email, user.full_name, user.language, user.role) == ("alice@acme.test", "Alice Martin", "fr", "agent")
    assert list(group.members.all()) == [user]
    identity = ExternalIdentity.objects.get(provider=provider)
    assert len(identity.subject) == 36  # slapd's entryUUID, stable across renames
    assert sign_in("ALICE@acme.test", ALICE.password) == user  # by mail, found by subject again


def test_password_form_signs_a_directory_person_in_and_shows_a_refusal(provider: Provider) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "Email address or directory login" in client.get("/accounts/login/").content.decode()
    response = client.post("/accounts/login/", {"username": "alice", "password": ALICE.password})
    assert response.status_code == 302
    User.objects.filter(email="alice@acme.test").update(is_active=False)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/accounts/login/", {"username": "alice@acme.test", "password": ALICE.password}
    )
    assert response.status_code == 200
    assert "Your account is deactivated." in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.sso_refused").exists()
    # a directory password is a password: switched off for her role, she is sent to single sign-on
    User.objects.filter(email="alice@acme.test").update(is_active=True)
    rules = policy.current()
    rules.password_roles = ["agent", "manager", "admin"]
    rules.save()
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/accounts/login/", {"username": "alice", "password": ALICE.password}
    )
    assert response.status_code == 200 and "Password sign-in is switched off" in response.content.decode()


def test_unreachable_directory_falls_back_as_configured(provider: Provider) -> None:
    alice = sign_in("alice@acme.test", ALICE.password)
    admin = User.objects.create_user("root@palier.test", "root-pw-123", role=User.Role.ADMIN)
    provider.config = {**provider.config, "url": f"ldap://127.0.0.1:{free_port()}", "timeout": 1}
    provider.save()
    with pytest.raises(ValidationError):  # local, but she has no Palier password: told why
        sign_in("alice@acme.test", ALICE.password)
    alice.set_password("local-pw-123")
    alice.save()
    # local: her Palier password works while the directory is down
    assert sign_in("alice@acme.test", "local-pw-123") == alice
    provider.config = {**provider.config, "fallback": "refuse"}
    provider.save()
    with pytest.raises(ValidationError) as refused:
        sign_in("alice@acme.test", "local-pw-123")
    assert "cannot be reached" in refused.value.messages[0]
    # accounts of no directory still sign in
    assert sign_in("root@palier.test", "root-pw-123") == admin
    assert AuditEvent.objects.filter(action="identity.directory_unreachable").count() == 4


def test_ldaps_and_starttls_check_the_certificate(slapd: Slapd, tree: Tree) -> None:
    tree.add(ALICE)
    provider = make_provider(slapd.ldaps_url, tree, ca_certificate=slapd.ca_pem)
    assert ldap.authenticate(provider, "alice", ALICE.password) is not None
    checks = ldap.test_provider(provider)
    assert all(check.ok for check in checks), checks
    assert "LDAPS" in checks[1].detail and "1 person found" in checks[-1].detail
    provider.config = {**provider.config, "url": f"ldap://localhost:{slapd.port}", "start_tls": True}
    provider.save()
    assert all(check.ok for check in ldap.test_provider(provider))
    provider.config = {**provider.config, "ca_certificate": slapd.other_ca_pem}
    provider.save()
    failed = ldap.test_provider(provider)
    assert not failed[-1].ok and "certificate" in failed[-1].detail.lower(), failed
    with pytest.raises(ldap.DirectoryUnavailable):
        ldap.authenticate(provider, "alice", ALICE.password)


def test_provider_says_what_failed(provider: Provider) -> None:
    checks = ldap.test_provider(provider)
    assert [check.ok for check in checks] == [True, True, True, True]
    provider.secret = secrets.encrypt("wrong")
    provider.save()
    failed = ldap.test_provider(provider)
    assert not failed[-1].ok and "refused the service account" in failed[-1].detail


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"url": "http://dc.example", "base_dn": "DC=x"}, "url"),
        ({"url": "ldaps://dc.example", "base_dn": "DC=x", "start_tls": True}, "start_tls"),
        ({"url": "ldap://dc.example", "base_dn": ""}, "base_dn"),
        ({"url": "ldap://dc.example", "base_dn": "DC=x", "user_filter": "(mail=alice)"}, "user_filter"),
        ({"url": "ldap://dc.example", "base_dn": "DC=x", "user_filter": "(mail={login}"}, "user_filter"),
        ({"url": "ldap://dc.example", "base_dn": "DC=x", "fallback": "anyone"}, "fallback"),
        ({"url": "ldap://dc.example", "base_dn": "DC=x", "ca_certificate": "not a cert"}, "ca_certificate"),
        ({"url": "ldap://dc.example", "base_dn": "DC=x", "page_size": 0}, "page_size"),
        ({"url": "ldap://dc.example", "base_dn": "DC=x", "attributes": {"password": "userPassword"}}, "attributes"),
    ],
)
def test_bad_settings_are_refused_with_the_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ldap.clean_config(config)
    assert field in refused.value.message_dict


def test_organisation_is_kept(provider: Provider) -> None:
    Organisation.objects.create(name="Acme", email_domain="acme.test")
    user = sign_in("alice", ALICE.password)
    assert user.organisation.name == "Acme"


def test_active_directory_values_become_claims() -> None:
    guid = uuid.UUID("c5d7a4e1-0b6f-4b8e-9a41-2f3c4d5e6f70")
    config = ldap.clean_config({"url": "ldaps://dc.corp.test", "base_dn": "DC=corp,DC=test"})
    entry = ldap.to_entry(
        config,
        "CN=Ana,OU=Staff,DC=corp,DC=test",
        {
            "objectGUID": [guid.bytes_le],
            "mail": [b"Ana@Corp.test"],
            "displayName": [b"Ana Lopez"],
            "memberOf": [b"CN=Helpdesk L1,OU=Groups,DC=corp,DC=test"],
        },
    )
    assert entry.subject == str(guid)  # AD's binary objectGUID, as a UUID
    assert entry.email == "ana@corp.test"
    assert entry.groups == ("CN=Helpdesk L1,OU=Groups,DC=corp,DC=test", "Helpdesk L1")
