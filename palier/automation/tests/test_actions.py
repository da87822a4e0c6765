"""Each action, as the automation user, through the ticket, routing, email and chat services."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from palier.automation.models import Rule, RuleRun
from palier.automation.tests.helpers import http_recorder
from palier.core import outbox
from palier.integrations.models import ChatApp
from palier.notifications.models import OutgoingEmail
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Comment, Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket


def _robot_events(ticket: Ticket) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, actor__email="automation@palier.invalid")
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def test_set_fields_through_the_ticket_services(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    category = Category.objects.filter(parent__isnull=False).first()
    assert category is not None
    make_rule(
        "Fields",
        actions=[
            {"type": "set_assignee", "value": agent.pk},
            {"type": "set_status", "value": "in_progress"},
            {"type": "set_priority", "value": 3},
            {"type": "set_category", "value": category.pk},
            {"type": "add_tags", "value": "vip, printer"},
            {"type": "remove_tags", "value": "printer"},
        ],
    )
    ticket = make_ticket(requester)
    pump()
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status, ticket.priority, ticket.category_id) == (
        agent.pk, "in_progress", 3, category.pk,
    )  # fmt: skip
    assert list(ticket.tags.values_list("name", flat=True)) == ["vip"]
    kinds = _robot_events(ticket)
    assert kinds[-1] == "rule" and {"changed", "status"} <= set(kinds)
    assert ticket.version > 1


def test_assign_group_then_escalate(
    requester: User, l2: SupportGroup, agent_l2: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule(
        "To L2",
        conditions=[{"field": "tags", "op": "lacks", "value": "up"}],
        actions=[{"type": "set_group", "value": l2.pk}],
    )
    ticket = make_ticket(requester)
    pump()
    ticket.refresh_from_db()
    assert ticket.group_id == l2.pk

    l3 = people.create_group(name="Experts L3", level=3)
    make_rule("Escalate", trigger="survey", actions=[{"type": "escalate", "text": "Client très mécontent"}])
    from palier.tickets import history

    history.record(ticket, "survey", by=requester, score=1)
    pump()
    ticket.refresh_from_db()
    assert ticket.group_id == l3.pk
    escalated = TicketEvent.objects.get(ticket=ticket, kind="escalated")
    assert escalated.data["reason"] == "Client très mécontent"


def test_note_and_close(requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]) -> None:
    make_rule(
        "Duplicates",
        conditions=[{"field": "subject", "op": "contains", "value": "doublon"}],
        actions=[{"type": "note", "text": "Fermé automatiquement ({reference})"}, {"type": "close"}],
    )
    ticket = make_ticket(requester, subject="Doublon de la demande précédente")
    pump()
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    note = Comment.objects.get(ticket=ticket)
    assert note.is_internal and note.body == f"Fermé automatiquement ({ticket.reference})"
    assert note.author.email == "automation@palier.invalid"


def test_email_to_requester_group_manager_and_address(
    requester: User, agent: User, manager: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule(
        "Mail",
        actions=[
            {"type": "email", "to": "requester", "subject": "Bien reçu {reference}", "text": "Bonjour {requester}"},
            {"type": "email", "to": "group", "subject": "Nouveau {reference}", "text": "{subject} {link}"},
            {"type": "email", "to": "manager", "template": "p1_opened"},
            {"type": "email", "to": "address", "address": "noc@partner.test", "subject": "S", "text": "T"},
        ],
    )
    ticket = make_ticket(requester)
    pump()
    rows = OutgoingEmail.objects.filter(key__startswith="rule:")
    by_address = {row.address: row for row in rows}
    assert set(by_address) == {"alice@acme.test", "lea@desk.test", "nina@desk.test", "noc@partner.test"}
    assert f"Bien reçu {ticket.reference}" in by_address["alice@acme.test"].subject
    assert by_address["alice@acme.test"].text == "Bonjour Alice Martin"
    assert f"/agent/tickets/{ticket.pk}/" in by_address["lea@desk.test"].text
    assert "P1" in by_address["nina@desk.test"].subject
    assert all(row.state == "sent" and row.automatic for row in rows)
    sent = {m.to[0] for m in mail.outbox if "[" + ticket.reference + "]" in m.subject and "Request" not in m.subject}
    assert {"lea@desk.test", "nina@desk.test", "noc@partner.test"} <= sent
    pump()
    assert rows.count() == 4


def test_email_template_in_the_recipients_language(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    requester.language = "en"
    requester.save(update_fields=["language"])
    make_rule("Remind", actions=[{"type": "email", "to": "requester", "template": "reminder"}])
    make_ticket(requester)
    pump()
    row = OutgoingEmail.objects.get(key__startswith="rule:")
    assert "waiting for your answer" in row.subject
    assert any("waiting for your answer" in m.subject for m in mail.outbox)


def test_webhook_is_signed_with_the_rules_secret(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    with http_recorder() as server:
        server.statuses = [503]  # the first attempt fails: retried from the outbox
        rule = make_rule("Hook", actions=[{"type": "webhook", "url": server.url}])
        ticket = make_ticket(requester)
        pump()
        outbox.run_due(now=timezone.now() + timedelta(seconds=11))
    assert len(server.received) == 2
    first, second = server.received
    assert first.body == second.body
    assert first.headers["X-Palier-Delivery"] == second.headers["X-Palier-Delivery"]
    expected = "sha256=" + hmac.new(rule.secret.encode(), second.body, hashlib.sha256).hexdigest()
    assert second.headers["X-Palier-Signature"] == expected
    body = json.loads(second.body)
    assert body["ticket"]["reference"] == ticket.reference
    assert body["rule"] == {"id": rule.pk, "name": "Hook"}
    assert body["trigger"] == "created"


@pytest.mark.parametrize("kind", ["slack", "teams"])
def test_chat_channel_message(
    kind: str, requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    with http_recorder() as server:
        app = ChatApp.objects.create(kind=kind, name="Desk", slug=f"desk-{kind}", secret_env="X", notify_url=server.url)
        make_rule("Chat", actions=[{"type": "chat", "value": app.pk, "text": "{priority} : {reference}"}])
        ticket = make_ticket(requester)
        pump()
    assert len(server.received) == 1
    body = json.loads(server.received[0].body)
    text = body["text"] if kind == "slack" else body["attachments"][0]["content"]["body"][1]["text"]
    assert text == f"P4 : {ticket.reference}"


def test_a_rule_whose_group_was_deleted_is_turned_off_with_the_reason(
    requester: User, admin_user: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    doomed = people.create_group(name="Temporary", level=1)
    rule = make_rule("To temporary", actions=[{"type": "set_group", "value": doomed.pk}])
    SupportGroup.objects.filter(pk=doomed.pk).delete()
    ticket = make_ticket(requester)
    pump()
    rule.refresh_from_db()
    assert not rule.is_active
    assert "no longer exists" in rule.disabled_reason
    assert RuleRun.objects.get(rule=rule).outcome == "failed"
    ticket.refresh_from_db()
    assert ticket.version == 1  # nothing changed
    with pytest.raises(Exception, match="no longer exists"):
        from palier.automation import services

        services.set_rule_active(rule, by=admin_user, active=True)


def test_a_matching_rule_with_nothing_to_do_leaves_no_history(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule("Manager", actions=[{"type": "email", "to": "manager", "template": "p1_opened"}])  # no manager
    ticket = make_ticket(requester)
    pump()
    assert RuleRun.objects.get().outcome == "matched"
    assert not TicketEvent.objects.filter(ticket=ticket, kind="rule").exists()
    assert ticket_services  # the services stay the only writers


def test_a_condition_naming_a_deleted_category_turns_the_rule_off(
    requester: User, make_rule: Callable[..., Rule]
) -> None:
    from palier.automation.tasks import automation_tick_task

    category = Category.objects.create(slug="temporary", name_en="Temporary", name_fr="Temporaire")
    rule = make_rule(
        "Temp", conditions=[{"field": "category", "op": "under", "value": category.pk}], actions=[{"type": "close"}]
    )
    Category.objects.filter(pk=category.pk).delete()
    result = automation_tick_task.enqueue().return_value
    assert result["turned_off"] == 1
    rule.refresh_from_db()
    assert not rule.is_active and "category" in rule.disabled_reason


def test_a_webhook_is_never_lost_while_the_receiver_or_the_queue_is_down(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delivery is stored with the rule's run: neither a queue that refuses the job nor a
    receiver down for a while loses it; it is posted until it gets through, then no more."""
    from palier.core import tasks as core_tasks
    from palier.core.models import OutboxItem

    class QueueDown:
        def enqueue(self, *args: object) -> None:
            raise ConnectionError("redis unreachable")

    monkeypatch.setattr(core_tasks, "run_outbox_item_task", QueueDown())
    with http_recorder() as server:
        server.statuses = [503] * 5  # down for the first five attempts
        make_rule("Hook", actions=[{"type": "webhook", "url": server.url}])
        make_ticket(requester)
        pump()
        assert server.received == []  # the queue refused the job: the outbox keeps it
        later = timezone.now()
        for _ in range(8):
            later += timedelta(hours=1)
            outbox.run_due(now=later)
    assert len(server.received) == 6 and len({r.headers["X-Palier-Delivery"] for r in server.received}) == 1
    item = OutboxItem.objects.get(kind="automation.webhook")
    assert (item.state, item.attempts) == ("done", 6)
