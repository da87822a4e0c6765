"""Sessions: a person sees and ends theirs, an administrator signs a person out everywhere,
deactivation ends sessions and tokens at once, and the policy's lifetime and idle timeout hold."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.audit.models import AuditEvent
from palier.identity import policy
from palier.people import services as people
from palier.people import sessions
from palier.people.models import User, UserSession

pytestmark = pytest.mark.django_db

SECURITY = "/accounts/profile/security/"


def browser(user: User, agent: str = "Firefox") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_USER_AGENT=agent)
    client.post(reverse("login"), {"username": user.email, "password": PASSWORDS[user.email]})
    assert "_auth_user_id" in client.session
    return client


PASSWORDS = {"alice@acme.test": "pw-alice-123!", "root@desk.test": "pw-ada-123!"}


def signed_in(client: Client) -> bool:
    return client.get(SECURITY).status_code == 200


def test_another_person_cannot_end_my_sessions(requester: User, requester_b: User) -> None:
    mine = browser(requester)
    row = UserSession.objects.get(user=requester)
    intruder = Client()
    intruder.force_login(requester_b)
    assert intruder.post(reverse("account:session-end", args=[row.pk])).status_code == 302
    assert signed_in(mine)
    assert not AuditEvent.objects.filter(action="auth.session_ended").exists()


def test_i_see_my_sessions_and_end_one_or_all_others(requester: User) -> None:
    assert requester.email in PASSWORDS
    mine, laptop, phone = browser(requester, "Firefox"), browser(requester, "Laptop"), browser(requester, "Phone")
    page = mine.get(SECURITY).content.decode()
    assert len(re.findall(r"/sessions/[0-9]+/end/", page)) == 2 and "This session" in page and "Phone" in page
    phone_row = UserSession.objects.get(user=requester, user_agent="Phone")
    assert mine.post(reverse("account:session-end", args=[phone_row.pk])).status_code == 302
    assert not signed_in(phone) and signed_in(laptop)
    mine.post(reverse("account:sessions-end-others"))
    assert not signed_in(laptop) and signed_in(mine)
    assert UserSession.objects.filter(user=requester).count() == 1
    token = people.create_api_token(requester, by=requester).token
    assert mine.post(reverse("account:token-revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action__in=["auth.session_ended", "auth.sessions_ended"]).count() == 2


def test_an_administrator_signs_a_person_out_everywhere(requester: User, admin_user: User, agent: User) -> None:
    theirs = browser(requester)
    snoop = Client()
    snoop.force_login(agent)
    assert snoop.post(reverse("identity:user-sign-out", args=[requester.pk])).status_code == 404
    assert signed_in(theirs)
    admin = browser(admin_user)
    assert admin.post(reverse("identity:user-sign-out", args=[requester.pk])).status_code == 302
    assert not signed_in(theirs) and signed_in(admin)
    assert AuditEvent.objects.filter(action="auth.sessions_ended", actor_id=admin_user.pk).exists()


def test_deactivation_ends_sessions_and_tokens_at_once(requester: User, admin_user: User) -> None:
    theirs = browser(requester)
    secret = people.create_api_token(requester, by=requester).secret
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    assert api.get("/api/v1/users/me").status_code == 200
    people.set_user_active(requester, active=False, by=admin_user)
    assert not signed_in(theirs)
    assert api.get("/api/v1/users/me").status_code == 401
    assert not UserSession.objects.filter(user=requester).exists()


def _age(client: Client, **back: float) -> None:
    """Move the session's clocks back by the given seconds (started, seen)."""
    session = client.session
    state = dict(session[sessions.STATE])
    for name, seconds in back.items():
        state[name] = float(state[name]) - seconds
    session[sessions.STATE] = state
    session.save()


def test_the_session_lifetime_and_idle_timeout_are_enforced(requester: User) -> None:
    rules = policy.current()
    rules.session_hours, rules.idle_minutes = 2, 30
    rules.save()
    fresh = browser(requester)
    _age(fresh, started=3600, seen=29 * 60 + 30)
    assert signed_in(fresh)  # an hour old, seen 29½ minutes ago (its last request may be a minute later)
    assert time.time() - float(fresh.session[sessions.STATE]["seen"]) < 5  # seen again, once a minute
    old = browser(requester)
    _age(old, started=3 * 3600, seen=120)
    assert not signed_in(old)
    idle = browser(requester)
    _age(idle, started=60, seen=31 * 60 + 1)
    assert not signed_in(idle)
    assert signed_in(fresh)


def test_most_requests_cost_no_query_for_the_session_policy(
    requester: User, django_assert_max_num_queries: Any
) -> None:
    client = browser(requester)
    client.get("/accounts/profile/")
    with django_assert_max_num_queries(20) as counted:
        assert client.get("/accounts/profile/").status_code == 200
    sql = " ".join(query["sql"] for query in counted.captured_queries)
    assert "identity_signinpolicy" not in sql and "people_usersession" not in sql
