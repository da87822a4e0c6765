"""The second factor, attacker first: a password alone opens nothing (pages nor API), a code
works once, guessing is locked and audited, recovery codes are single use, a remembered browser
stops being one when the factors change, and roles that require a factor get it enforced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from palier.audit.models import AuditEvent
from palier.identity import policy
from palier.identity.mfa import codes, flow, services
from palier.identity.mfa.models import MfaState, RecoveryCode, SecurityKey, TotpDevice
from palier.identity.provisioning import MFA_BY_PROVIDER_SESSION_KEY
from palier.mail import secrets
from palier.people.models import User, UserSession

pytestmark = pytest.mark.django_db

AGENT_PASSWORD = "pw-lea-123!"  # the agent persona's password
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _small_limits(settings: Any) -> None:
    settings.PALIER_LOGIN_FAILURES = 3
    settings.PALIER_LOGIN_LOCKOUT_MINUTES = 10


def enrol(user: User) -> tuple[str, list[str]]:
    """An authenticator app set up for ``user``: its secret and the recovery codes."""
    secret = services.pending_totp(user)
    fresh = services.confirm_totp(user, codes.code_at(secret, codes.current_step() - 1))
    return secret, fresh


def now_code(secret: str, offset: int = 0) -> str:
    return codes.code_at(secret, codes.current_step() + offset)


def password_sign_in(client: Client, user: User, password: str = AGENT_PASSWORD) -> Any:
    response = client.post(reverse("login"), {"username": user.email, "password": password}, **EN)
    assert response.status_code == 302, response.content[:300]
    return response


def second_step(client: Client, code: str, **extra: Any) -> Any:
    return client.post(reverse("mfa:verify"), {"code": code, **extra}, **EN)


def test_a_password_alone_opens_no_page_and_no_api(agent: User, client: Client) -> None:
    enrol(agent)
    password_sign_in(client, agent)
    page = client.get("/agent/", **EN)
    assert page.status_code == 302 and page["Location"].startswith(reverse("mfa:verify") + "?next=")
    assert client.get(reverse("profile"), **EN)["Location"].startswith(reverse("mfa:verify"))
    api = client.get("/api/v1/tickets", **EN)
    assert api.status_code == 401 and api["Content-Type"] == "application/problem+json"
    assert set(api.json()) == {"type", "title", "status", "detail"}
    htmx = client.get("/agent/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"].startswith(reverse("mfa:verify"))
    assert client.post(reverse("mfa:skip"), {"next": "/agent/"})["Location"].startswith(reverse("mfa:verify"))
    # the enrolment pages are closed too: a stolen password cannot swap the factor
    assert client.post(reverse("mfa:totp-remove"))["Location"].startswith(reverse("mfa:verify"))
    assert TotpDevice.objects.filter(user=agent, confirmed_at__isnull=False).exists()
    # the second-step page and sign-out stay open
    assert client.get(reverse("mfa:verify"), **EN).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/agent/")["Location"].startswith(reverse("login"))


def test_a_code_opens_the_session_once_and_never_again(agent: User, client: Client) -> None:
    secret, _codes = enrol(agent)
    password_sign_in(client, agent)
    before = client.session.session_key
    code = now_code(secret)
    done = second_step(client, code, next="/agent/")
    assert done.status_code == 302 and done["Location"] == "/agent/"
    assert client.session.session_key != before  # a new session id after the second step
    # and the person's list of sessions follows it: this one is still theirs, and the only one
    assert list(UserSession.objects.filter(user=agent).values_list("session_key", flat=True)) == [
        client.session.session_key
    ]
    assert client.get("/agent/", **EN).status_code == 200
    # the same code in another browser with the password: refused, it was used
    other = Client()
    password_sign_in(other, agent)
    replay = second_step(other, code)
    assert replay.status_code == 403 and b"not valid" in replay.content
    assert other.get("/agent/")["Location"].startswith(reverse("mfa:verify"))
    # an older code of the window is refused too: the last accepted step only moves forward
    assert second_step(other, now_code(secret, -1)).status_code == 403
    # the next step's code (clock drift) is accepted
    assert second_step(other, now_code(secret, 1)).status_code == 302


def test_guessing_locks_the_second_step_and_is_audited(agent: User, client: Client) -> None:
    secret, _codes = enrol(agent)
    password_sign_in(client, agent)
    for guess in ("000000", "123456", "XXXX-YYYY"):
        if guess == now_code(secret):
            guess = "999999"
        assert second_step(client, guess).status_code in (403, 429)
    assert AuditEvent.objects.filter(action="auth.mfa_failed", target_id=str(agent.pk)).count() == 3
    assert AuditEvent.objects.filter(action="auth.mfa_locked", target_id=str(agent.pk)).exists()
    locked = second_step(client, now_code(secret))  # even the right code waits for the lock
    assert locked.status_code == 429 and b"Too many wrong codes" in locked.content
    MfaState.objects.filter(user=agent).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert second_step(client, now_code(secret)).status_code == 302


def test_recovery_codes_are_single_use_hashed_and_audited(agent: User, client: Client) -> None:
    _secret, fresh = enrol(agent)
    assert len(fresh) == 10 and len(set(fresh)) == 10
    stored = list(RecoveryCode.objects.filter(user=agent).values_list("digest", flat=True))
    assert not set(fresh) & set(stored) and all(len(d) == 64 for d in stored)
    password_sign_in(client, agent)
    assert second_step(client, fresh[0].lower().replace("-", " ")).status_code == 302
    event = AuditEvent.objects.get(action="auth.mfa_recovery_used")
    assert event.changes["left"][1] == 9
    again = Client()
    password_sign_in(again, agent)
    assert second_step(again, fresh[0]).status_code == 403
    # new codes replace the old ones
    newer = services.regenerate_recovery_codes(agent)
    assert second_step(again, fresh[1]).status_code == 403
    assert second_step(again, newer[0]).status_code == 302


def test_the_secret_is_encrypted_and_an_unconfirmed_app_does_not_count(agent: User, client: Client) -> None:
    secret = services.pending_totp(agent)
    stored = TotpDevice.objects.get(user=agent).secret
    assert secret not in stored and secrets.decrypt(stored) == secret
    assert services.pending_totp(agent) == secret  # the page can be reloaded while scanning
    password_sign_in(client, agent)
    assert client.get("/agent/", **EN).status_code == 200  # no factor yet: nothing to ask
    with pytest.raises(services.CodeRefused):
        services.confirm_totp(agent, "000000" if now_code(secret) != "000000" else "111111")
    services.confirm_totp(agent, now_code(secret))
    with pytest.raises(services.DomainError):
        services.pending_totp(agent)  # a second app only after removing the first


def test_a_remembered_browser_skips_the_step_until_the_factors_change(agent: User, client: Client) -> None:
    secret, _codes = enrol(agent)
    password_sign_in(client, agent)
    done = second_step(client, now_code(secret), remember="on")
    cookie = done.cookies[flow.REMEMBER_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and int(cookie["max-age"]) == 30 * 86400
    client.post(reverse("logout"))
    password_sign_in(client, agent)
    assert client.get("/agent/", **EN).status_code == 200
    # another person on the same browser still gets asked
    admin = User.objects.create_user(email="ops@desk.test", password="pw-ops-123!", role=User.Role.ADMIN)
    enrol(admin)
    client.post(reverse("logout"))
    password_sign_in(client, admin, "pw-ops-123!")
    assert client.get("/agent/")["Location"].startswith(reverse("mfa:verify"))
    # a tampered cookie is nothing
    forged = Client()
    forged.cookies[flow.REMEMBER_COOKIE] = cookie.value.replace(f"{agent.pk}:", f"{admin.pk}:")
    password_sign_in(forged, admin, "pw-ops-123!")
    assert forged.get("/agent/")["Location"].startswith(reverse("mfa:verify"))
    # a reset (new factors) forgets the remembered browsers
    services.reset(agent, by=admin)
    enrol(agent)
    client.post(reverse("logout"))
    password_sign_in(client, agent)
    assert client.get("/agent/")["Location"].startswith(reverse("mfa:verify"))


def test_a_role_that_requires_a_factor_gets_a_grace_period_then_must_enrol(agent: User, client: Client) -> None:
    rules = policy.current()
    rules.mfa_required_roles = ["agent", "admin"]
    rules.mfa_grace_days = 7
    rules.save()
    password_sign_in(client, agent)
    asked = client.get("/agent/", **EN)
    assert asked["Location"].startswith(reverse("mfa:index"))
    page = client.get(asked["Location"], **EN)
    assert b"you may skip until" in page.content
    skipped = client.post(reverse("mfa:skip"), {"next": "/agent/"})
    assert skipped["Location"] == "/agent/" and client.get("/agent/", **EN).status_code == 200
    started = MfaState.objects.get(user=agent).required_since
    assert started is not None
    # asked again at the next sign-in; the grace period keeps its start
    client.post(reverse("logout"))
    password_sign_in(client, agent)
    assert client.get("/agent/")["Location"].startswith(reverse("mfa:index"))
    assert MfaState.objects.get(user=agent).required_since == started
    # after the grace period: no skipping
    MfaState.objects.filter(user=agent).update(required_since=timezone.now() - timedelta(days=8))
    client.post(reverse("logout"))
    password_sign_in(client, agent)
    client.post(reverse("mfa:skip"), {"next": "/agent/"})
    assert client.get("/agent/")["Location"].startswith(reverse("mfa:index"))
    assert b"Set it up to continue" in client.get(reverse("mfa:index"), **EN).content
    assert client.get("/api/v1/tickets").status_code == 401
    # enrolling through the pages opens the session
    client.get(reverse("mfa:totp"), **EN)
    secret = secrets.decrypt(TotpDevice.objects.get(user=agent).secret)
    shown = client.get(reverse("mfa:totp"), **EN)
    assert b"data:image/svg+xml" in shown.content and secret[:4].encode() in shown.content
    confirmed = client.post(reverse("mfa:totp-confirm"), {"code": now_code(secret)}, **EN)
    assert confirmed.status_code == 201 and b"recovery-codes" in confirmed.content
    assert client.get("/agent/", **EN).status_code == 200
    assert AuditEvent.objects.filter(action="auth.mfa_enrolled", target_id=str(agent.pk)).exists()
    # the last factor of a required role cannot be removed
    removed = client.post(reverse("mfa:totp-remove"), **EN)
    assert removed.status_code == 302 and TotpDevice.objects.filter(user=agent).exists()


def test_a_provider_that_asserted_its_own_second_factor_counts(agent: User, client: Client) -> None:
    enrol(agent)
    password_sign_in(client, agent)
    session = client.session
    session[MFA_BY_PROVIDER_SESSION_KEY] = True
    session.save()
    assert client.get("/agent/", **EN).status_code == 200


def test_the_next_address_after_the_second_step_stays_on_this_site(agent: User, client: Client) -> None:
    secret, _codes = enrol(agent)
    password_sign_in(client, agent)
    done = second_step(client, now_code(secret), next="https://evil.test/")
    assert done["Location"] == reverse("home")


def test_only_an_administrator_resets_a_second_factor(
    agent: User, admin_user: User, client: Client, agent_l2: User
) -> None:
    enrol(agent)
    url = reverse("agent:admin-user-mfa-reset", args=[agent.pk])
    client.force_login(agent_l2)
    assert client.post(url).status_code == 404
    assert TotpDevice.objects.filter(user=agent).exists()
    client.force_login(admin_user)
    page = client.get(reverse("agent:admin-user-edit", args=[agent.pk]), **EN)
    assert b"Reset the second factor" in page.content
    assert client.post(url, **EN).status_code == 302
    assert not TotpDevice.objects.filter(user=agent).exists()
    assert not RecoveryCode.objects.filter(user=agent).exists()
    event = AuditEvent.objects.get(action="auth.mfa_reset")
    assert event.actor_id == admin_user.pk and event.target_id == str(agent.pk)


def test_security_key_answers_that_are_not_a_credential_are_refused_and_counted(agent: User, client: Client) -> None:
    enrol(agent)
    password_sign_in(client, agent)
    options = client.post(reverse("mfa:verify-key-options"))
    assert options.status_code == 200 and options.json()["challenge"]
    for body in ('{"credential": {"id": "x"}}', "not json", '{"credential": []}'):
        answer = client.post(reverse("mfa:verify-key"), body, content_type="application/json")
        assert answer.status_code in (403, 429)
    assert AuditEvent.objects.filter(action="auth.mfa_failed", changes__method=["", "key"]).count() == 3
    assert client.get("/agent/")["Location"].startswith(reverse("mfa:verify"))


def test_a_forged_key_registration_stores_nothing(agent: User, client: Client) -> None:
    client.force_login(agent)
    url = reverse("mfa:key-register")
    no_ceremony = client.post(url, '{"name": "k", "credential": {"id": "x"}}', content_type="application/json")
    assert no_ceremony.status_code == 400  # no challenge was issued to this session
    client.post(reverse("mfa:key-options"))
    forged = {
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {"clientDataJSON": "e30", "attestationObject": "oA"},
    }
    answer = client.post(url, {"name": "k", "credential": forged}, content_type="application/json")
    assert answer.status_code == 400 and "error" in answer.json()
    assert not agent.security_keys.exists()


def test_removing_factors_is_audited_and_forgets_the_recovery_codes(agent: User, client: Client) -> None:
    enrol(agent)
    key = SecurityKey.objects.create(
        user=agent, name="Desk key", credential_id=b"cred", credential_id_hash="0" * 64, public_key=b"pk"
    )
    client.force_login(agent)
    assert client.post(reverse("mfa:totp-remove"))["Location"].startswith(reverse("mfa:verify"))  # half signed in
    session = client.session
    session[flow.SESSION_KEY] = flow.OK  # as after the second step
    session.save()
    stranger = User.objects.create_user(email="x@desk.test", password="pw-x-123456!")
    with pytest.raises(services.DomainError):
        services.remove_totp(agent, by=stranger)  # someone else's factor: administrators only
    client.post(reverse("mfa:totp-remove"))
    assert not TotpDevice.objects.filter(user=agent).exists()
    assert RecoveryCode.objects.filter(user=agent).count() == 10  # the key still needs them
    client.post(reverse("mfa:key-remove", args=[key.pk]))
    assert not SecurityKey.objects.filter(user=agent).exists()
    assert not RecoveryCode.objects.filter(user=agent).exists()
    removed = AuditEvent.objects.filter(action="auth.mfa_removed", target_id=str(agent.pk))
    assert sorted(e.changes["factor"][1] for e in removed) == ["key", "totp"]
    assert MfaState.objects.get(user=agent).generation >= 3


def test_no_remembered_browser_when_the_policy_says_zero_days(agent: User, client: Client) -> None:
    rules = policy.current()
    rules.mfa_remember_days = 0
    rules.save()
    secret, _codes = enrol(agent)
    password_sign_in(client, agent)
    page = client.get(reverse("mfa:verify"), **EN)
    assert b"Remember this browser" not in page.content
    done = second_step(client, now_code(secret), remember="on")
    assert done.status_code == 302 and flow.REMEMBER_COOKIE not in done.cookies
