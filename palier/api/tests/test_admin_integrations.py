"""Integrations, surveys, the email outbox and personal notifications through the API."""

from __future__ import annotations

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.integrations.models import AlertSource, ChatApp, ChatIdentity
from palier.integrations.services import alerts
from palier.notifications import services as notifications
from palier.notifications.models import Notification, NotificationPreference, OutgoingEmail
from palier.surveys.models import SurveyOptOut


def test_agents_cannot_reach_the_integrations(client_for, agent, manager):
    for user in (agent, manager):
        client = client_for(user)
        assert_problem(
            client.call("POST", "/alert-sources", {"name": "Prom", "kind": "alertmanager", "user": user.pk}), 403
        )
        assert_problem(client.get(f"{API}/chat-apps"), 403)
        assert_problem(client.get(f"{API}/outgoing-emails"), 403)
        assert_problem(client.call("PUT", "/survey-settings", {"opted_out": []}), 403)
    assert not AlertSource.objects.exists()


def test_an_alert_source_shows_its_token_once_and_is_revoked(client_for, admin_user, agent, triage):
    client = client_for(admin_user)
    made = client.call(
        "POST", "/alert-sources", {"name": "Prometheus", "kind": "alertmanager", "user": agent.pk, "group": triage.pk}
    )
    assert made.status_code == 201, made.content
    token = made.json()["token"]
    assert alerts.authenticate_source(token) is not None
    pk = made.json()["id"]
    for response in (client.get(f"{API}/alert-sources"), client.get(f"{API}/alert-sources/{pk}")):
        assert token not in response.content.decode() and "digest" not in response.content.decode()
    assert_problem(
        client.call("POST", "/alert-sources", {"name": "prometheus", "kind": "alertmanager", "user": agent.pk}), 409
    )
    assert client.call("DELETE", f"/alert-sources/{pk}").status_code == 204
    assert alerts.authenticate_source(token) is None


def test_chat_apps_never_show_secrets_and_switch_off(client_for, admin_user, monkeypatch):
    monkeypatch.setenv("PALIER_TEST_SLACK_SECRET", "very-secret-value")
    client = client_for(admin_user)
    body = {"kind": "slack", "name": "Slack", "slug": "acme", "secret_env": "PALIER_TEST_SLACK_SECRET"}
    made = client.call("POST", "/chat-apps", body)
    assert made.status_code == 201, made.content
    assert made.json()["secret_set"] is True and made.json()["bot_token_set"] is False
    assert "very-secret-value" not in made.content.decode()
    assert_problem(client.call("POST", "/chat-apps", {**body, "slug": "Bad Slug!"}), 422, "slug")
    assert_problem(
        client.call("POST", "/chat-apps", {**body, "slug": "t", "kind": "teams", "bot_token_env": "X"}),
        422,
        "bot_token_env",
    )
    off = client.call("PATCH", f"/chat-apps/{made.json()['id']}", {"is_active": False}, **{"If-Match": made["ETag"]})
    assert off.status_code == 200 and not ChatApp.objects.get().is_active


def test_chat_accounts_are_linked_and_unlinked(client_for, admin_user, requester):
    client = client_for(admin_user)
    linked = client.call("POST", "/chat-identities", {"kind": "slack", "external_id": "U123", "user": requester.pk})
    assert linked.status_code == 201, linked.content
    assert_problem(
        client.call("POST", "/chat-identities", {"kind": "slack", "external_id": "U123", "user": requester.pk}), 409
    )
    assert [i["external_id"] for i in client.get(f"{API}/chat-identities?user={requester.pk}").json()["items"]] == [
        "U123"
    ]
    assert client.call("DELETE", f"/chat-identities/{linked.json()['id']}").status_code == 204
    assert not ChatIdentity.objects.exists()


def test_survey_opt_outs_are_set_as_a_whole(client_for, admin_user, org, other_org):
    client = client_for(admin_user)
    assert client.call("PUT", "/survey-settings", {"opted_out": [org.pk]}).json()["opted_out"] == [org.pk]
    assert client.call("PUT", "/survey-settings", {"opted_out": [other_org.pk]}).json()["opted_out"] == [other_org.pk]
    assert_problem(client.call("PUT", "/survey-settings", {"opted_out": [org.pk, 999999]}), 422, "opted_out")
    assert list(SurveyOptOut.objects.values_list("organisation_id", flat=True)) == [other_org.pk]


def test_a_failed_email_is_sent_again(client_for, admin_user):
    failed = OutgoingEmail.objects.create(
        address="x@desk.test",
        from_address="p@desk.test",
        subject="Hello",
        text="t",
        key="k1",
        message_id="<m1@x>",
        state="failed",
    )
    sent = OutgoingEmail.objects.create(
        address="y@desk.test",
        from_address="p@desk.test",
        subject="Hi",
        text="t",
        key="k2",
        message_id="<m2@x>",
        state="sent",
    )
    client = client_for(admin_user)
    assert [e["id"] for e in client.get(f"{API}/outgoing-emails?state=failed").json()["items"]] == [failed.pk]
    again = client.call("POST", f"/outgoing-emails/{failed.pk}/retry")
    assert again.status_code == 200 and again.json()["state"] == "queued"
    assert_problem(client.call("POST", f"/outgoing-emails/{sent.pk}/retry"), 422, "id")


@pytest.fixture
def notes(requester, requester_b):
    for n in range(3):
        notifications.notify([requester], kind=Notification.Kind.MENTION, key=f"n{n}")
    notifications.notify([requester_b], kind=Notification.Kind.MENTION, key="other")
    return list(Notification.objects.filter(recipient=requester).order_by("-id"))


def test_people_read_and_mark_only_their_own_notifications(
    client_for, requester, requester_b, notes, django_assert_max_num_queries
):
    client = client_for(requester)
    with django_assert_max_num_queries(6):
        listed = client.get(f"{API}/notifications?limit=2").json()
    assert [n["id"] for n in listed["items"]] == [n.pk for n in notes[:2]] and listed["next_cursor"]
    foreign = Notification.objects.get(recipient=requester_b)
    assert client.call("POST", f"/notifications/{foreign.pk}/read").json() == {"marked": 0}
    assert client.call("POST", f"/notifications/{notes[0].pk}/read").json() == {"marked": 1}
    assert len(client.get(f"{API}/notifications?unread=true").json()["items"]) == 2
    assert client.call("POST", "/notifications/read-all").json() == {"marked": 2}
    assert Notification.objects.get(pk=foreign.pk).read_at is None


def test_notification_preferences(client_for, requester, agent):
    client = client_for(requester)
    rows = client.get(f"{API}/users/me/notification-preferences").json()
    assert {r["event"] for r in rows} and all(r["email"] and r["in_app"] for r in rows)
    event = rows[0]["event"]
    changed = client.call(
        "PUT", "/users/me/notification-preferences", {"preferences": [{"event": event, "email": False, "in_app": True}]}
    )
    assert changed.status_code == 200, changed.content
    assert NotificationPreference.objects.filter(user=requester, enabled=False).count() == 1
    agent_only = {r["event"] for r in client_for(agent).get(f"{API}/users/me/notification-preferences").json()} - {
        r["event"] for r in rows
    }
    refused = client.call(
        "PUT",
        "/users/me/notification-preferences",
        {"preferences": [{"event": sorted(agent_only)[0], "email": False, "in_app": False}]},
    )
    assert_problem(refused, 422)
    assert NotificationPreference.objects.filter(user=requester, enabled=False).count() == 1
