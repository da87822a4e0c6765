"""Each trigger runs the rules meant for it, once per event, through the ticket event stream."""

from __future__ import annotations

from collections.abc import Callable

from palier.automation import services
from palier.automation.models import Rule, RuleRun
from palier.people.models import SupportGroup, User
from palier.tickets import history, stream
from palier.tickets import services as ticket_services
from palier.tickets.models import Comment, StreamCursor, Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

NOTE = [{"type": "note", "text": "Règle {rule} sur {reference}"}]


def _notes(ticket: Ticket) -> list[str]:
    return list(Comment.objects.filter(ticket=ticket, is_internal=True).values_list("body", flat=True))


def test_created_rule_matches_accent_insensitive_text(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule(
        "Printers",
        conditions=[{"field": "subject", "op": "contains", "value": "IMPRIMANTE"}],
        actions=[{"type": "set_priority", "value": 2}, {"type": "add_tags", "value": "printer"}],
    )
    printer = make_ticket(requester, subject="L'imprimânte ne marche plus")
    other = make_ticket(requester, subject="Écran noir")
    pump()
    printer.refresh_from_db()
    other.refresh_from_db()
    assert printer.priority == 2
    assert list(printer.tags.values_list("name", flat=True)) == ["printer"]
    assert other.priority == 4
    rule_event = TicketEvent.objects.get(ticket=printer, kind="rule")
    assert rule_event.is_internal and rule_event.data["rule"] == "Printers"
    assert rule_event.actor is not None and rule_event.actor.email == "automation@palier.invalid"
    run = RuleRun.objects.get()
    assert (run.ticket_id, run.outcome, run.trigger) == (printer.pk, "applied", "created")


def test_updated_rule_reacts_to_status_and_field_changes(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule(
        "Waiting",
        trigger="updated",
        conditions=[{"field": "status", "op": "is", "value": "pending_requester"}],
        actions=NOTE,
    )
    ticket = make_ticket(requester)
    pump()
    ticket_services.update_ticket(ticket, by=agent, expected_version=None, changes={"urgency": "high"})
    pump()
    assert _notes(ticket) == []
    ticket_services.transition_ticket(ticket, to="pending_requester", by=agent)
    pump()
    assert _notes(ticket) == [f"Règle Waiting sur {ticket.reference}"]


def test_one_save_changing_several_fields_runs_an_updated_rule_once(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule("Any change", trigger="updated", actions=NOTE)
    ticket = make_ticket(requester)
    pump()
    # impact + urgency + derived priority: three events, one change
    ticket_services.update_ticket(
        ticket, by=agent, expected_version=None, changes={"impact": "high", "urgency": "high"}
    )
    pump()
    assert len(_notes(ticket)) == 1


def test_requester_and_agent_comments_are_different_triggers(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule(
        "Requester said urgent",
        trigger="requester_comment",
        conditions=[{"field": "comment", "op": "contains", "value": "urgent"}],
        actions=[{"type": "set_priority", "value": 1}],
    )
    make_rule("Agent replied", trigger="agent_comment", actions=[{"type": "add_tags", "value": "answered"}])
    ticket = make_ticket(requester)
    ticket_services.comment_on_ticket(ticket, by=agent, body="C'est urgent ?")
    pump()
    ticket.refresh_from_db()
    assert ticket.priority == 4  # an agent's "urgent" is not the requester's
    assert list(ticket.tags.values_list("name", flat=True)) == ["answered"]
    ticket_services.comment_on_ticket(ticket, by=requester, body="Oui, c'est URGENT !")
    pump()
    ticket.refresh_from_db()
    assert ticket.priority == 1


def test_survey_answered_with_a_low_score(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule(
        "Unhappy",
        trigger="survey",
        conditions=[{"field": "survey_score", "op": "lte", "value": 2}],
        actions=[{"type": "note", "text": "Client mécontent"}],
    )
    happy, unhappy = make_ticket(requester), make_ticket(requester)
    history.record(happy, "survey", by=requester, score=5, comment="Parfait")
    history.record(unhappy, "survey", by=requester, score=1, comment="Trop long")
    pump()
    assert _notes(happy) == []
    assert _notes(unhappy) == ["Client mécontent"]


def test_sla_warning_and_breach_rules(
    requester: User, l2: SupportGroup, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule("Warn", trigger="sla_warning", actions=[{"type": "add_tags", "value": "sla-warning"}])
    make_rule("Breach", trigger="sla_breach", actions=[{"type": "set_group", "value": l2.pk}])
    ticket = make_ticket(requester)
    pump()
    history.record(ticket, TicketEvent.Kind.SLA_WARNING, by=None, internal=True, clock=1, generation=1)
    pump()
    assert RuleRun.objects.filter(trigger="sla_warning").count() == 1
    ticket.refresh_from_db()
    assert list(ticket.tags.values_list("name", flat=True)) == ["sla-warning"]
    assert ticket.group_id != l2.pk
    history.record(ticket, TicketEvent.Kind.SLA_BREACH, by=None, internal=True, clock=1, generation=1)
    pump()
    StreamCursor.objects.filter(name="automation").update(position=0)  # as after a crash
    pump()
    assert RuleRun.objects.filter(trigger="sla_breach").count() == 1  # read once
    ticket.refresh_from_db()
    assert ticket.group_id == l2.pk


def test_sla_warnings_handled_before_they_were_ticket_events_run_no_rule(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule("Warn", trigger="sla_warning", actions=[{"type": "add_tags", "value": "sla-warning"}])
    ticket = make_ticket(requester)
    history.record(ticket, TicketEvent.Kind.SLA_WARNING, by=None, internal=True, clock=1, generation=1, handled=True)
    pump()
    assert not RuleRun.objects.exists()
    assert not ticket.tags.exists()


def test_a_redelivered_event_never_runs_a_rule_twice(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule("Note", actions=NOTE)
    ticket = make_ticket(requester)
    pump()
    StreamCursor.objects.filter(name="automation").update(position=0)  # as after a crash
    pump()
    assert len(_notes(ticket)) == 1
    assert RuleRun.objects.count() == 1


def test_inactive_rules_and_other_triggers_do_nothing(
    requester: User, admin_user: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    rule = make_rule("Off", actions=NOTE)
    services.set_rule_active(rule, by=admin_user, active=False)
    make_rule("Survey only", trigger="survey", actions=NOTE)
    ticket = make_ticket(requester)
    pump()
    assert _notes(ticket) == []
    assert not RuleRun.objects.exists()


def test_a_failing_action_is_logged_and_the_stream_goes_on(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule("Resolve", trigger="updated", actions=[{"type": "set_status", "value": "assigned"}])
    make_rule("Tag", actions=[{"type": "add_tags", "value": "seen"}])
    ticket = make_ticket(requester)
    pump()  # Tag applies (an update), then Resolve fails: "assigned" needs an assignee
    ticket.refresh_from_db()
    assert list(ticket.tags.values_list("name", flat=True)) == ["seen"]
    failed = RuleRun.objects.get(rule__name="Resolve")
    assert failed.outcome == "failed" and "assignee" in failed.detail.lower()
    assert ticket.status == "new"
    assert stream.lag("automation") == 0


def test_survey_rules_read_the_words_written_with_the_score(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    """ "Low score and the requester mentions a delay": the comment condition reads the text the
    requester wrote with their score, accents ignored."""
    make_rule(
        "Slow and unhappy",
        trigger="survey",
        conditions=[
            {"field": "survey_score", "op": "lte", "value": 2},
            {"field": "comment", "op": "contains", "value": "delai"},
        ],
        actions=[{"type": "note", "text": "Délai à revoir"}],
    )
    slow, rude, silent = make_ticket(requester), make_ticket(requester), make_ticket(requester)
    history.record(slow, "survey", by=requester, score=1, comment="Délai beaucoup trop long")
    history.record(rude, "survey", by=requester, score=1, comment="Agent désagréable")
    history.record(silent, "survey", by=requester, score=2, comment="")
    pump()
    assert _notes(slow) == ["Délai à revoir"]
    assert _notes(rude) == [] and _notes(silent) == []


def test_a_merge_updates_the_kept_ticket_for_the_rules(
    requester: User, requester_b: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule("Merged", trigger="updated", conditions=[], actions=NOTE)
    keep, dup = make_ticket(requester), make_ticket(requester_b)
    pump()
    ticket_services.merge_tickets(keep, merged=[dup.pk], by=agent)
    pump()
    assert _notes(keep) == [f"Règle Merged sur {keep.reference}"]
