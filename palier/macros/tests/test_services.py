"""Macros through their services: validation, rendering in the requester's language, field
changes applied with the reply in one transaction, who may use what."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palier.lib.errors import IllegalTransition, PermissionDenied
from palier.macros import selectors, services
from palier.macros.models import Macro
from palier.macros.tests.builders import make_macro
from palier.people.models import SupportGroup, User
from palier.tickets.models import Comment, TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def test_unknown_placeholder_is_refused_with_the_valid_list(agent: User) -> None:
    with pytest.raises(ValidationError) as caught:
        make_macro(agent, body_en="Hi {first_name}, see {ticket_link}")
    message = caught.value.message_dict["body_en"][0]
    assert "{first_name}" in message
    assert "{requester_first_name}" in message and "{ticket_number}" in message
    assert not Macro.objects.exists()


def test_a_macro_needs_a_name_and_a_text(agent: User) -> None:
    with pytest.raises(ValidationError) as caught:
        make_macro(agent, name=" ", body_fr="", body_en="")
    assert set(caught.value.message_dict) == {"name", "body_fr"}


def test_agents_keep_macros_personal_admins_share_them(agent: User, admin_user: User, triage: SupportGroup) -> None:
    with pytest.raises(ValidationError) as caught:
        make_macro(agent, visibility=Macro.Visibility.EVERYONE)
    assert "visibility" in caught.value.message_dict
    with pytest.raises(ValidationError):
        make_macro(admin_user, visibility=Macro.Visibility.GROUP)  # which group?
    shared = make_macro(admin_user, visibility=Macro.Visibility.GROUP, group=triage)
    assert shared.group == triage


def test_rendered_in_the_requesters_language_with_placeholders(agent: User, requester: User, settings: object) -> None:
    settings.PALIER_BASE_URL = "https://desk.example"  # type: ignore[attr-defined]
    macro = make_macro(
        agent,
        body_fr="Bonjour {requester_first_name} ({requester_name}), {ticket_number} « {ticket_subject} » : {ticket_link} — {agent_name}",
        body_en="Hello {requester_first_name}",
    )
    ticket = make_ticket(requester, subject="VPN down")
    text = services.render_macro(macro=macro, ticket=ticket, agent=agent)
    assert text == (
        f"Bonjour Alice (Alice Martin), {ticket.reference} « VPN down » : "
        f"https://desk.example/portal/requests/{ticket.pk}/ — Léa L1"
    )
    requester.language = "en"
    requester.save(update_fields=["language"])
    ticket.refresh_from_db()
    assert services.render_macro(macro=macro, ticket=ticket, agent=agent) == "Hello Alice"


def test_missing_language_falls_back_to_the_other_text(agent: User, requester: User) -> None:
    requester.language = "en"
    requester.save(update_fields=["language"])
    macro = make_macro(agent, body_fr="Seulement en français", body_en="")
    ticket = make_ticket(requester)
    assert services.render_macro(macro=macro, ticket=ticket, agent=agent) == "Seulement en français"


def test_reply_with_macro_applies_its_changes_in_the_same_transaction(agent: User, requester: User) -> None:
    macro = make_macro(agent, set_status="pending_requester", set_urgency="high", add_tags=["Printer", "waiting"])
    ticket = make_ticket(requester)
    services.reply_with_macro(ticket, by=agent, body="Could you send a photo?", macro=str(macro.pk))
    ticket.refresh_from_db()
    assert ticket.status == "pending_requester"
    assert ticket.urgency == "high"
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["printer", "waiting"]
    assert Comment.objects.filter(ticket=ticket, body="Could you send a photo?").exists()
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert "commented" in kinds and "status" in kinds
    macro.refresh_from_db()
    assert macro.usage_count == 1


def test_a_refused_change_sends_no_reply(agent: User, requester: User) -> None:
    macro = make_macro(agent, set_status="closed")  # a new ticket cannot be closed directly
    ticket = make_ticket(requester)
    with pytest.raises(IllegalTransition):
        services.reply_with_macro(ticket, by=agent, body="Done", macro=macro.pk)
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert not Comment.objects.filter(ticket=ticket).exists()
    macro.refresh_from_db()
    assert macro.usage_count == 0


def test_someone_elses_personal_macro_cannot_be_used(agent: User, manager: User, requester: User) -> None:
    theirs = make_macro(manager, set_status="resolved")
    ticket = make_ticket(requester)
    with pytest.raises(ValidationError):
        services.reply_with_macro(ticket, by=agent, body="Hello", macro=theirs.pk)
    assert not Comment.objects.filter(ticket=ticket).exists()
    with pytest.raises(PermissionDenied):
        services.apply_macro(macro=theirs, ticket=ticket, by=agent)
    with pytest.raises(PermissionDenied):
        services.delete_macro(theirs, by=agent)


def test_group_macros_reach_group_members_only(
    admin_user: User, agent: User, agent_l2: User, requester: User, triage: SupportGroup
) -> None:
    make_macro(admin_user, name="Triage hello", visibility=Macro.Visibility.GROUP, group=triage)
    make_macro(admin_user, name="Everyone hello", visibility=Macro.Visibility.EVERYONE)
    make_macro(admin_user, name="Old one", visibility=Macro.Visibility.EVERYONE, is_active=False)
    ticket = make_ticket(requester)
    names = {e.name for e in selectors.picker_entries(agent, ticket=ticket, query="hello")}
    assert names == {"Triage hello", "Everyone hello"}
    names = {e.name for e in selectors.picker_entries(agent_l2, ticket=ticket, query="")}
    assert names == {"Everyone hello"}
