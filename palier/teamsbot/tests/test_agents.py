"""Agents in Teams: a ticket assigned to them arrives as a card; an internal note from it."""

from __future__ import annotations

from typing import Any

from palier.integrations.models import ChatApp
from palier.integrations.services import chat
from palier.people.models import SupportGroup, User
from palier.teamsbot.tests.conftest import AAD, Microsoft, Post, load
from palier.tickets import services as ticket_services
from palier.tickets import stream
from palier.tickets.models import Comment, Ticket


def talk_as(user: User, post: Post, microsoft: Microsoft) -> None:
    User.objects.filter(pk=user.pk).update(language="en")
    chat.link_identity(kind=ChatApp.Kind.TEAMS, external_id=AAD, user=user, by=None)
    post(load("personal_message", microsoft, id="hello", text="help"))


def test_an_assigned_ticket_arrives_and_takes_an_internal_note(
    bot: ChatApp,
    agent_l2: User,
    l2: SupportGroup,
    requester: User,
    post: Post,
    microsoft: Microsoft,
    django_capture_on_commit_callbacks: Any,
) -> None:
    agent = agent_l2
    talk_as(agent, post, microsoft)
    ticket = ticket_services.open_ticket(requester=requester, by=None, subject="VPN coupé", description="Depuis 9h")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.update_ticket(ticket, by=None, expected_version=None, changes={"group": l2, "assignee": agent})
    with django_capture_on_commit_callbacks(execute=True):
        stream.pump("teams")
    card = microsoft.cards()[-1]
    assert "Assigned to you" in str(card) and "VPN coupé" in str(card)
    note = {**card["actions"][0]["data"], "comment": "Vérifier le certificat"}
    post(load("card_submit", microsoft, id="note-1", value=note, replyToId="sent-2"))
    comment = Comment.objects.get(ticket=ticket)
    assert comment.is_internal and comment.author == agent and comment.channel == Ticket.Channel.TEAMS


def test_a_requester_cannot_add_an_internal_note_from_a_forged_card(
    bot: ChatApp, requester: User, post: Post, microsoft: Microsoft
) -> None:
    talk_as(requester, post, microsoft)
    ticket = ticket_services.open_ticket(requester=requester, by=None, subject="Mon poste", description="x")
    value = {"palier": "note", "ticket": ticket.pk, "comment": "je me mets une note interne"}
    post(load("card_submit", microsoft, id="note-2", value=value, replyToId="x"))
    assert not Comment.objects.exists()
    assert "Not done" in microsoft.texts()
