"""The agent ticket page's reply box: the folded history, the server-side draft (autosave, restore,
deleted on send, only its author's), and the keyboard attributes the shortcuts use."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets import selectors, services
from palier.tickets.models import ReplyDraft, Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _detail(ticket: Ticket) -> str:
    return reverse("agent:ticket-detail", args=[ticket.pk])


def _draft_url(ticket: Ticket) -> str:
    return reverse("agent:ticket-draft", args=[ticket.pk])


@pytest.fixture
def colleague(triage: SupportGroup) -> User:
    user = people.create_user(email="noe@desk.test", full_name="Noé L1", role=User.Role.AGENT)
    people.add_group_member(triage, user=user)
    return user


def test_a_long_conversation_folds_its_older_entries(
    client: Client, agent: User, requester: User, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "en"
    ticket = make_ticket(requester, subject="Long story")
    for i in range(14):
        services.comment_on_ticket(ticket, by=requester if i % 2 else agent, body=f"entry number {i:02d}")
    client.force_login(agent)
    html = client.get(_detail(ticket), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    folded, shown = html.split('id="timeline-older"')[1].split("</details>", 1)
    assert "entry number 00" in folded and "entry number 13" not in folded  # still on the page, folded
    assert "entry number 13" in shown and "earlier entries" in folded
    assert 'href="#reply"' in html  # a link straight to the reply box


def test_a_short_conversation_is_not_folded(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    services.comment_on_ticket(ticket, by=requester, body="only one")
    client.force_login(agent)
    html = client.get(_detail(ticket)).content.decode()
    assert "timeline-older" not in html and "only one" in html


def test_keyboard_targets_are_marked(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    html = client.get(_detail(ticket)).content.decode()
    for marker in ("data-kb-reply", "data-kb-note", "data-kb-assign-me", "data-kb-status", "data-kb-macro"):
        assert html.count(marker) == 1, marker
    assert '<textarea name="body"' in html.split("data-kb-reply")[0].rsplit("\n", 1)[-1]


def test_draft_is_saved_restored_and_deleted_on_send(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    answer = client.post(
        _draft_url(ticket), {"body": "Half-written <b>answer</b>", "visibility": "internal"}, headers=HTMX
    )
    assert answer.status_code == 200 and "data-draft-discard" in answer.content.decode()
    draft = ReplyDraft.objects.get(ticket=ticket, user=agent)
    assert draft.body == "Half-written <b>answer</b>" and draft.is_internal
    html = client.get(_detail(ticket)).content.decode()
    assert "Half-written &lt;b&gt;answer&lt;/b&gt;</textarea>" in html  # restored, escaped
    assert 'value="internal" class="form-check-input" id="id_visibility_1" checked' in html or (
        'value="internal"' in html and "checked" in html.split('value="internal"')[1][:80]
    )
    ticket.refresh_from_db()
    version = ticket.version
    response = client.post(
        reverse("agent:ticket-reply", args=[ticket.pk]),
        {"body": "Final answer", "visibility": "public", "version": version},
    )
    assert response.status_code == 302
    assert not ReplyDraft.objects.filter(ticket=ticket).exists()
    assert ticket.version == version  # a draft is not a change of the ticket


def test_an_empty_draft_is_forgotten(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    client.post(_draft_url(ticket), {"body": "something"}, headers=HTMX)
    assert ReplyDraft.objects.filter(ticket=ticket, user=agent).exists()
    client.post(_draft_url(ticket), {"body": "   "}, headers=HTMX)
    assert not ReplyDraft.objects.filter(ticket=ticket, user=agent).exists()


def test_too_long_a_draft_is_refused_and_the_previous_one_kept(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    client.post(_draft_url(ticket), {"body": "kept"}, headers=HTMX)
    response = client.post(_draft_url(ticket), {"body": "x" * (services.MAX_DRAFT + 1)}, headers=HTMX)
    assert response.status_code == 400
    assert ReplyDraft.objects.get(ticket=ticket, user=agent).body == "kept"
    bad = client.post(_draft_url(ticket), {"body": "y", "visibility": "everyone"}, headers=HTMX)
    assert bad.status_code == 400 and ReplyDraft.objects.get(ticket=ticket, user=agent).body == "kept"


def test_another_agent_neither_reads_nor_writes_my_draft(
    client: Client, agent: User, colleague: User, requester: User
) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    client.post(_draft_url(ticket), {"body": "my secret wording"}, headers=HTMX)
    client.force_login(colleague)
    assert "my secret wording" not in client.get(_detail(ticket)).content.decode()
    # posting to the same ticket only ever writes the colleague's own draft
    client.post(_draft_url(ticket), {"body": "", "user": agent.pk}, headers=HTMX)
    client.post(_draft_url(ticket), {"body": "theirs", "user": agent.pk}, headers=HTMX)
    assert ReplyDraft.objects.get(ticket=ticket, user=agent).body == "my secret wording"
    assert ReplyDraft.objects.get(ticket=ticket, user=colleague).body == "theirs"
    assert selectors.reply_draft(colleague, ticket).body == "theirs"  # type: ignore[union-attr]


def test_requesters_and_agents_who_cannot_see_the_ticket_cannot_reach_drafts(
    client: Client, agent_l2: User, requester: User
) -> None:
    ticket = make_ticket(requester)  # in the triage group: not visible to the L2 agent
    client.force_login(agent_l2)
    assert client.post(_draft_url(ticket), {"body": "x"}, headers=HTMX).status_code == 404
    client.force_login(requester)  # their own ticket, but drafts are an agent's tool
    assert client.post(_draft_url(ticket), {"body": "x"}, headers=HTMX).status_code == 404
    client.logout()
    assert client.post(_draft_url(ticket), {"body": "x"}).status_code == 302  # to sign in
    assert not ReplyDraft.objects.exists()


def test_draft_endpoint_takes_posts_only(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    assert client.get(_draft_url(ticket)).status_code == 405


def test_draft_service_refuses_requesters(requester: User) -> None:
    from palier.lib.errors import PermissionDenied

    ticket = make_ticket(requester)
    with pytest.raises(PermissionDenied):
        services.save_draft(ticket, user=requester, body="x", internal=False)


def test_requester_card_and_assets_are_in_the_side_panel(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester, subject="Current one")
    other = make_ticket(requester, subject="Another open one")
    client.force_login(agent)
    html = client.get(_detail(ticket)).content.decode()
    card = html.split('id="requester-open-tickets"')[1].split("</ul>")[0]
    assert other.reference in card and "Current one" not in card
    assert 'id="requester-assets"' in html


def test_htmx_inline_edit_keeps_the_version_check(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    stale = ticket.version
    services.update_ticket(ticket, by=agent, expected_version=None, changes={"urgency": "high"})
    response = client.post(
        reverse("agent:ticket-edit", args=[ticket.pk, "kind"]), {"kind": "request", "version": stale}, headers=HTMX
    )
    assert response.status_code == 200 and 'id="panel"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.kind != "request"  # the stale edit changed nothing
