"""Passwords: reset by email (same answer for every address, single use, short life, rate limits,
accounts without a password claim one), change with the current one, the administrator's actions,
and password sign-in switched off per role or organisation without locking administrators out."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from palier.audit.models import AuditEvent
from palier.identity import passwords
from palier.identity.models import Provider
from palier.notifications.models import OutgoingEmail
from palier.people import services as people
from palier.people.models import Organisation, User

pytestmark = pytest.mark.django_db

NEW = "Tr0mbone-Gazelle-42"
FORGOT = "/accounts/password/forgot/"


def english(ip: str = "198.51.100.7") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=ip)


def ask(address: str, ip: str = "198.51.100.7") -> Any:
    return english(ip).post(FORGOT, {"email": address})


def link_of(user: User) -> str:
    row = OutgoingEmail.objects.filter(recipient=user).order_by("-pk").first()
    assert row is not None
    match = re.search(r"https?://\S+/accounts/password/reset/\S+/", row.text)
    assert match, row.text
    return urlsplit(match.group(0)).path


def reset_with(client: Client, link: str, password: str = NEW) -> Any:
    opened = client.get(link)
    assert opened.status_code == 302, opened.status_code
    return client.post(opened["Location"], {"new_password1": password, "new_password2": password})


def signs_in(email: str, password: str) -> bool:
    client = english("203.0.113.50")
    client.post(reverse("login"), {"username": email, "password": password})
    return "_auth_user_id" in client.session


# --- attacker's tests first ---------------------------------------------------------------------------


def test_the_answer_is_the_same_for_known_unknown_inactive_and_system_addresses(requester: User) -> None:
    ghost = people.create_user(email="ghost@desk.test", password="pw-ghost-123!")
    people.set_user_active(ghost, active=False, by=None)
    robot = people.system_account(email="robot@palier.invalid", full_name="Robot")
    pages = [
        ask(address, ip=f"198.51.100.{n}")
        for n, address in enumerate([requester.email, "nobody@desk.test", ghost.email, robot.email], start=10)
    ]
    bodies = {re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', "", p.content.decode()) for p in pages}
    assert [p.status_code for p in pages] == [200] * 4
    assert len(bodies) == 1 and "If an account uses this address" in bodies.pop()
    assert list(OutgoingEmail.objects.values_list("address", flat=True)) == [requester.email]
    assert AuditEvent.objects.filter(action="auth.password_reset_requested").count() == 4
    french = Client().get(reverse("login")).content.decode()  # the default language
    assert 'lang="fr"' in french and FORGOT in french


def test_a_link_works_once_and_a_second_use_gets_a_clear_page(requester: User) -> None:
    ask(requester.email)
    link = link_of(requester)
    client = english()
    assert reset_with(client, link).status_code == 302
    assert signs_in(requester.email, NEW)
    again = english().get(link)
    assert again.status_code == 400
    assert "expired or was already used" in again.content.decode()
    assert AuditEvent.objects.filter(action="auth.password_reset", target_id=str(requester.pk)).count() == 1
    assert AuditEvent.objects.filter(action="auth.password_reset_refused").exists()


def test_an_expired_tampered_or_foreign_link_is_refused_and_changes_nothing(requester: User, agent: User) -> None:
    class Past(passwords.ResetTokens):
        def _now(self) -> datetime:
            return datetime.now() - timedelta(minutes=61)

    old_hash = requester.password
    expired = urlsplit(passwords.reset_url(requester, Past().make_token(requester))).path
    good = urlsplit(passwords.reset_url(requester, passwords.tokens.make_token(requester))).path
    uid_of_agent = passwords.reset_url(agent, "x").split("/")[-3]
    forged = good.replace(good.split("/")[-3], uid_of_agent)  # the requester's token on the agent's account
    for link in (expired, good[:-3] + "zz/", forged, "/accounts/password/reset/%%%/abc/"):
        assert english().get(link).status_code in (400, 404), link
    # the set-password step without a token in the session is refused too
    assert (
        english()
        .post(good.rsplit("/", 2)[0] + "/set-password/", {"new_password1": NEW, "new_password2": NEW})
        .status_code
        == 400
    )
    requester.refresh_from_db()
    assert requester.password == old_hash


def test_the_new_password_goes_through_the_validators_and_the_link_survives_a_refusal(requester: User) -> None:
    ask(requester.email)
    client = english()
    page = reset_with(client, link_of(requester), password="12345678")
    assert page.status_code == 400
    assert "too common" in page.content.decode() or "entirely numeric" in page.content.decode()
    page = client.post(page.request["PATH_INFO"], {"new_password1": NEW, "new_password2": NEW})
    assert page.status_code == 302


def test_reset_requests_are_limited_per_address_and_per_client(requester: User, settings: Any) -> None:
    settings.PALIER_PASSWORD_RESET_EMAIL_LIMIT = 2
    settings.PALIER_PASSWORD_RESET_IP_LIMIT = 3
    assert [ask(requester.email, ip=f"192.0.2.{n}").status_code for n in range(3)] == [200, 200, 429]
    assert [ask(f"n{n}@desk.test", ip="192.0.2.99").status_code for n in range(4)] == [200, 200, 200, 429]
    assert OutgoingEmail.objects.count() == 2
    assert AuditEvent.objects.filter(action="auth.password_reset_limited").count() == 2


def test_an_account_created_from_email_claims_a_password_through_the_reset(db: None) -> None:
    sender = people.create_user(email="walk-in@desk.test")  # no password: the mail intake's accounts
    assert not sender.has_usable_password()
    ask(sender.email)
    assert reset_with(english(), link_of(sender)).status_code == 302
    assert signs_in(sender.email, NEW)


def test_change_needs_the_current_password_and_signs_out_every_other_session(requester: User) -> None:
    mine, other = english(), english("203.0.113.8")
    mine.force_login(requester)
    other.force_login(requester)
    url = reverse("account:password-change")
    wrong = mine.post(url, {"current_password": "nope", "new_password1": NEW, "new_password2": NEW})
    assert wrong.status_code == 400 and "current password" in wrong.content.decode()
    weak = mine.post(url, {"current_password": "pw-alice-123!", "new_password1": "alice", "new_password2": "alice"})
    assert weak.status_code == 400
    differ = mine.post(url, {"current_password": "pw-alice-123!", "new_password1": NEW, "new_password2": NEW + "x"})
    assert differ.status_code == 400
    done = mine.post(url, {"current_password": "pw-alice-123!", "new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302
    assert mine.get(reverse("account:security")).status_code == 200  # this session stays
    assert other.get(reverse("account:security")).status_code == 302  # the other one is signed out
    assert AuditEvent.objects.filter(action="auth.password_changed", actor_id=requester.pk).count() == 1
    assert signs_in(requester.email, NEW)


# --- the policy ------------------------------------------------------------------------------------------


def test_a_role_without_passwords_gets_a_clear_message_only_with_the_right_password(
    requester: User, admin_user: User
) -> None:
    client = english()
    client.force_login(admin_user)
    form = {"password_roles": ["agent", "manager", "admin"], "session_hours": 24, "idle_minutes": 0,
            "mfa_grace_days": 7, "mfa_remember_days": 30}  # fmt: skip
    assert client.post(reverse("identity:index"), form).status_code == 302
    refused = english().post(reverse("login"), {"username": requester.email, "password": "pw-alice-123!"})
    assert "Password sign-in is switched off" in refused.content.decode()
    wrong = english().post(reverse("login"), {"username": requester.email, "password": "guess-guess"})
    assert "Password sign-in is switched off" not in wrong.content.decode()
    # the reset is refused the same way: the email explains (in her language), and no link is in it
    requester.language = "en"
    requester.save(update_fields=["language"])
    ask(requester.email)
    row = OutgoingEmail.objects.get(recipient=requester)
    assert "single sign-on" in row.text and "/accounts/password/reset/" not in row.text
    with pytest.raises(Exception, match="switched off"):
        passwords.send_reset_link(requester, by=admin_user)


def test_an_organisation_without_passwords(requester: User, admin_user: User, org: Organisation) -> None:
    passwords.update_policy(
        by=admin_user, password_roles=list(User.Role.values), password_off_organisations=[org],
        mfa_required_roles=[], mfa_grace_days=7, mfa_remember_days=30, session_hours=24, idle_minutes=0,
    )  # fmt: skip
    org.refresh_from_db()
    assert not org.password_sign_in
    assert not signs_in(requester.email, "pw-alice-123!")
    assert signs_in(admin_user.email, "pw-ada-123!")


def test_the_policy_never_locks_every_administrator_out(admin_user: User, org: Organisation) -> None:
    admin_user.organisation = org
    admin_user.save()
    client = english()
    client.force_login(admin_user)
    base = {"session_hours": 24, "idle_minutes": 0, "mfa_grace_days": 7, "mfa_remember_days": 30}
    for form in (
        {**base, "password_roles": ["requester", "agent"]},
        {**base, "password_roles": ["admin"], "password_off_organisations": [org.pk]},
    ):
        page = client.post(reverse("identity:index"), form)
        assert page.status_code == 400 and "No administrator could sign in" in page.content.decode()
    Provider.objects.create(slug="corp", name="Corp", kind="oidc", enabled=True)
    assert client.post(reverse("identity:index"), {**base, "password_roles": ["requester"]}).status_code == 302


def test_the_identity_page_is_for_administrators_and_lists_every_kind(agent: User, admin_user: User) -> None:
    client = english()
    client.force_login(agent)
    assert client.get(reverse("identity:index")).status_code == 404
    Provider.objects.create(slug="corp-ad", name="Corp AD", kind="ldap")
    client.force_login(admin_user)
    page = client.get(reverse("identity:index")).content.decode()
    for href in ('href="/agent/identity/oidc/"', 'href="/agent/identity/saml/"', 'href="/agent/identity/ldap/"'):
        assert href in page
    assert "Corp AD" in page and "Sign-in and identity" in page


# --- the administrator's actions ----------------------------------------------------------------------


def test_an_administrator_sets_a_password_or_sends_a_link_never_sees_one(
    requester: User, agent: User, admin_user: User
) -> None:
    client = english()
    client.force_login(agent)
    assert client.post(reverse("identity:user-password", args=[requester.pk]), {"password": NEW}).status_code == 404
    client.force_login(admin_user)
    weak = client.post(reverse("identity:user-password", args=[requester.pk]), {"password": "123"}, follow=True)
    assert "too short" in weak.content.decode()
    assert client.post(reverse("identity:user-password", args=[requester.pk]), {"password": NEW}).status_code == 302
    assert signs_in(requester.email, NEW)
    client.post(reverse("identity:user-reset-link", args=[requester.pk]))
    assert OutgoingEmail.objects.filter(recipient=requester).count() == 1
    events = AuditEvent.objects.filter(target_id=str(requester.pk), action__startswith="auth.password")
    assert sorted(events.values_list("action", flat=True)) == ["auth.password_reset_sent", "auth.password_set"]
    assert NEW not in str(list(AuditEvent.objects.values_list("changes", flat=True)))
    page = client.get(reverse("agent:admin-user-edit", args=[requester.pk])).content.decode()
    assert "Nobody can read it" in page and NEW not in page


def test_a_link_sent_before_passwords_were_switched_off_is_refused_with_the_reason(
    requester: User, admin_user: User, org: Organisation
) -> None:
    ask(requester.email)
    link = link_of(requester)
    passwords.update_policy(
        by=admin_user, password_roles=list(User.Role.values), password_off_organisations=[org],
        mfa_required_roles=[], mfa_grace_days=7, mfa_remember_days=30, session_hours=24, idle_minutes=0,
    )  # fmt: skip
    client = english()
    opened = client.get(client.get(link)["Location"])
    assert opened.status_code == 403 and "Password sign-in is switched off" in opened.content.decode()
    client.force_login(requester)
    page = client.get(reverse("account:security")).content.decode()
    assert "has no password here" in page and 'id="password-form"' not in page
    requester.refresh_from_db()  # its organisation as saved now
    with pytest.raises(Exception, match="switched off"):
        passwords.change_password(requester, current="pw-alice-123!", new=NEW, keep=None)
