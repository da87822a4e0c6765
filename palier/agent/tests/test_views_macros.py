"""Client tests for the macro pages, the reply box's picker and a reply sent with a macro."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.macros.models import Macro
from palier.macros.tests.builders import make_macro
from palier.people.models import User
from palier.tickets.models import Comment
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_requesters_cannot_reach_macros(client: Client, requester: User) -> None:
    client.force_login(requester)
    assert client.get(reverse("macros:list")).status_code == 404


def test_agent_creates_a_personal_macro(client: Client, agent: User) -> None:
    client.force_login(agent)
    page = client.get(reverse("macros:list"), **EN).content.decode()
    assert "A support group" not in page  # agents cannot share
    data = {"name": "Ask for a screenshot", "body_fr": "Bonjour {requester_first_name}", "visibility": "personal"}
    response = client.post(reverse("macros:list"), {**data, "is_active": "on"})
    assert response.status_code == 302
    macro = Macro.objects.get()
    assert (macro.owner, macro.visibility, macro.is_active) == (agent, "personal", True)
    assert "Ask for a screenshot" in client.get(reverse("macros:list")).content.decode()


def test_unknown_placeholder_is_shown_next_to_the_field(client: Client, agent: User) -> None:
    client.force_login(agent)
    data = {"name": "Oops", "body_en": "Hi {name}", "visibility": "personal"}
    response = client.post(reverse("macros:list"), data, **EN)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Unknown placeholder: {name}" in html and "{requester_name}" in html
    assert not Macro.objects.exists()


def test_agent_edits_and_deletes_own_macro_but_not_others(client: Client, agent: User, manager: User) -> None:
    mine = make_macro(agent)
    theirs = make_macro(manager, name="Manager's")
    client.force_login(agent)
    assert client.get(reverse("macros:edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("macros:delete", args=[theirs.pk])).status_code == 404
    data = {"name": "Renamed", "body_fr": "Texte", "visibility": "personal", "set_status": "resolved"}
    assert client.post(reverse("macros:edit", args=[mine.pk]), data).status_code == 302
    mine.refresh_from_db()
    assert (mine.name, mine.set_status, mine.is_active) == ("Renamed", "resolved", False)
    assert client.post(reverse("macros:delete", args=[mine.pk])).status_code == 302
    assert list(Macro.objects.all()) == [theirs]


def test_admin_shares_a_macro_with_everyone(client: Client, admin_user: User, agent: User, requester: User) -> None:
    client.force_login(admin_user)
    data = {"name": "Welcome", "body_en": "Hello {requester_name}", "visibility": "everyone", "is_active": "on"}
    assert client.post(reverse("macros:list"), data).status_code == 302
    shared = Macro.objects.get()
    assert shared.visibility == "everyone"
    client.force_login(agent)
    html = client.get(reverse("macros:list")).content.decode()
    assert f'data-macro="{shared.pk}"' not in html  # agents list what they may edit
    ticket = make_ticket(requester)
    html = client.get(reverse("macros:picker", args=[ticket.pk])).content.decode()
    assert "Hello Alice Martin" in html


def test_picker_lists_macros_rendered_for_the_ticket(client: Client, agent: User, requester: User) -> None:
    make_macro(agent, name="Need more details")
    make_macro(agent, name="Closing")
    ticket = make_ticket(requester)
    client.force_login(agent)
    html = client.get(reverse("macros:picker", args=[ticket.pk]), {"macro_q": "detail"}).content.decode()
    assert "Need more details" in html and "Closing" not in html
    assert f"Bonjour Alice, pouvez-vous préciser ({ticket.reference})" in html


def test_picker_refuses_tickets_the_agent_cannot_see(client: Client, agent_l2: User, requester: User) -> None:
    ticket = make_ticket(requester)  # in the triage group
    client.force_login(agent_l2)
    assert client.get(reverse("macros:picker", args=[ticket.pk])).status_code == 404


def test_reply_with_a_macro_applies_its_changes(client: Client, agent: User, requester: User) -> None:
    macro = make_macro(agent, set_status="pending_requester", add_tags=["photo"])
    ticket = make_ticket(requester)
    client.force_login(agent)
    page = client.get(reverse("agent:ticket-detail", args=[ticket.pk])).content.decode()
    assert 'id="macro-search"' in page and 'name="macro"' in page
    data = {"visibility": "public", "body": "Send a photo please", "version": ticket.version, "macro": macro.pk}
    response = client.post(reverse("agent:ticket-reply", args=[ticket.pk]), data)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "pending_requester"
    assert list(ticket.tags.values_list("name", flat=True)) == ["photo"]
    assert Comment.objects.filter(ticket=ticket, body="Send a photo please").exists()


def test_reply_with_a_refused_macro_change_keeps_the_message(client: Client, agent: User, requester: User) -> None:
    macro = make_macro(agent, set_status="closed")
    ticket = make_ticket(requester)
    client.force_login(agent)
    data = {"visibility": "public", "body": "All done", "version": ticket.version, "macro": macro.pk}
    response = client.post(reverse("agent:ticket-reply", args=[ticket.pk]), data, **EN)
    assert response.status_code == 400
    html = response.content.decode()
    assert "All done" in html and "cannot go from" in html
    assert f'name="macro" id="reply-macro" value="{macro.pk}"' in html
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_macro_list_runs_a_constant_number_of_queries(
    client: Client, admin_user: User, agent: User, django_assert_max_num_queries: Any
) -> None:
    make_macro(agent)
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("macros:list"))
    for i in range(12):
        make_macro(agent, name=f"Macro {i}")
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("macros:list"))
    assert "Macro 11" in response.content.decode()
