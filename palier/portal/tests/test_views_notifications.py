"""The inbox and the notification settings page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from palier.notifications.models import Notification, NotificationPreference
from palier.notifications.services import notify
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_user_menu_links_to_inbox_and_settings(client: Client, requester: User) -> None:
    client.force_login(requester)
    page = client.get(reverse("portal:home"), **EN).content.decode()
    assert reverse("notifications:inbox") in page and reverse("notifications:preferences") in page


def test_inbox_lists_my_notifications_with_links_and_marks_read(
    client: Client, requester: User, requester_b: User
) -> None:
    ticket = make_ticket(requester)
    notify([requester], kind="reply", ticket=ticket, key="a")
    notify([requester_b], kind="reply", ticket=make_ticket(requester_b, subject="Other person's"), key="b")
    client.force_login(requester)
    page = client.get(reverse("notifications:inbox"), **EN).content.decode()
    assert "A new public reply" in page and ticket.subject in page and "Other person" not in page
    assert reverse("portal:ticket-detail", args=[ticket.pk]) in page
    note = Notification.objects.get(recipient=requester)
    foreign = Notification.objects.get(recipient=requester_b)
    client.post(reverse("notifications:read"), {"id": foreign.pk})
    foreign.refresh_from_db()
    assert foreign.read_at is None  # not mine: unchanged
    response = client.post(reverse("notifications:read"), {"id": note.pk})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None


def test_agents_get_agent_links(client: Client, requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    notify([agent], kind="assigned", ticket=ticket, key="a")
    client.force_login(agent)
    page = client.get(reverse("notifications:inbox"), **EN).content.decode()
    assert reverse("agent:ticket-detail", args=[ticket.pk]) in page


def test_inbox_is_paginated_with_constant_queries(
    client: Client, requester: User, django_assert_max_num_queries: object
) -> None:
    ticket = make_ticket(requester)
    notify([requester], kind="reply", ticket=ticket, key="first")
    client.force_login(requester)
    client.get(reverse("notifications:inbox"))
    with django_assert_max_num_queries(8) as few:  # type: ignore[operator]
        client.get(reverse("notifications:inbox"))
    for i in range(60):
        notify([requester], kind="reply", ticket=ticket, key=f"k{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):  # type: ignore[operator]
        response = client.get(reverse("notifications:inbox"), **EN)
    assert "Page 1 of 3" in response.content.decode()
    assert "Page 3 of 3" in client.get(reverse("notifications:inbox") + "?page=3", **EN).content.decode()


def test_requesters_see_only_events_that_concern_them(client: Client, requester: User, agent: User) -> None:
    client.force_login(requester)
    page = client.get(reverse("notifications:preferences"), **EN).content.decode()
    assert "A public reply on a ticket I follow" in page
    assert "assigned to me" not in page and "escalated" not in page
    client.force_login(agent)
    assert "A ticket was assigned to me" in client.get(reverse("notifications:preferences"), **EN).content.decode()


def test_saving_preferences(client: Client, requester: User) -> None:
    client.force_login(requester)
    events = ("created", "reply", "status", "merged", "mention", "approval")
    every = {f"{e}:{c}": "on" for e in events for c in ("email", "in_app", "teams")}
    del every["reply:email"]
    response = client.post(reverse("notifications:preferences"), every, **EN)
    assert response.status_code == 302
    off = set(NotificationPreference.objects.filter(user=requester, enabled=False).values_list("event", "channel"))
    assert off == {("reply", "email")}
    del every["status:teams"]  # the Microsoft Teams column (the bot's personal chat)
    client.post(reverse("notifications:preferences"), every, **EN)
    off = set(NotificationPreference.objects.filter(user=requester, enabled=False).values_list("event", "channel"))
    assert off == {("reply", "email"), ("status", "teams")}
    page = client.get(reverse("notifications:preferences"), **EN).content.decode()
    assert (
        'name="reply:email" id="pref-reply-email" ' in page
        and 'name="reply:in_app" id="pref-reply-in_app" checked' in page
    )


def test_a_requester_cannot_subscribe_to_agent_events(client: Client, requester: User) -> None:
    client.force_login(requester)
    response = client.post(reverse("notifications:preferences"), {"assigned:email": "on", "reply:email": "on"}, **EN)
    assert response.status_code == 400
    assert "not available to you" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=requester).exists()  # nothing changed


def test_pages_need_sign_in(client: Client) -> None:
    assert client.get(reverse("notifications:inbox")).status_code == 302
    assert client.get(reverse("notifications:preferences")).status_code == 302
