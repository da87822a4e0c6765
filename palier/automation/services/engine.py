"""Running rules on ticket events (the ``automation`` consumer of the ticket event stream), SLA
warnings and breaches included (ticket events the SLA sweep appends).

A batch costs a constant number of queries whatever the number of rules and events: the active
rules come from the per-process cache, the tickets arrive with the events, and the extra facts
some conditions need (category tree, tags, comment bodies, the runs behind the automation's own
events) are loaded once per batch, only when a rule needs them. Only a matching rule costs more:
its run (ticket lock, actions, history, log row).

Loop protection: every change a rule makes is made by the automation user, and the run log keeps
the range of ticket events each run produced, so an event made by the automation is traced back
to its run: a rule never reacts to its own run; chains between rules stop at depth ``MAX_DEPTH``;
and a ticket takes at most ``MAX_PER_MINUTE`` rule runs a minute. Stopped runs are logged as
skipped with the reason.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.assets import facts as asset_facts
from palier.automation import conditions as cond
from palier.automation.models import Rule, RuleRun
from palier.automation.services import execute
from palier.automation.services.rules import ROBOT_EMAIL, CompiledRule, active_rules, disable_rule, robot
from palier.changes import facts as change_facts
from palier.lib.errors import DomainError
from palier.people.models import User
from palier.problems import facts as problem_facts
from palier.tickets import history
from palier.tickets.models import Category, Comment, Ticket, TicketEvent

log = logging.getLogger(__name__)

MAX_DEPTH = 5
MAX_PER_MINUTE = 10
T = Rule.Trigger
E = TicketEvent.Kind
O = RuleRun.Outcome  # noqa: E741


@dataclass
class Occurrence:
    """Something that happened to a ticket that rules may react to."""

    ticket: Ticket
    trigger: str
    event: TicketEvent | None = None
    comment_id: int | None = None
    survey_score: int | None = None
    survey_comment: str = ""  # what the requester wrote with their score
    robot_made: bool = False
    depth: int = 0  # how many rule runs led to it (0: a person or the desk itself)
    produced_by: int | None = None  # the rule whose run produced it


# --- from events to occurrences --------------------------------------------------------------------------

SLA_TRIGGERS: dict[str, str] = {E.SLA_WARNING: T.SLA_WARNING, E.SLA_BREACH: T.SLA_BREACH}


def _trigger(event: TicketEvent) -> str | None:
    kind = event.kind
    if kind == E.CREATED:
        return T.CREATED
    if kind in (E.CHANGED, E.STATUS, E.PROBLEM, E.MAJOR, E.CHANGE, E.MERGED, E.UNMERGED, E.SPLIT):
        # linking the ticket to a problem, a major incident or a change, merging tickets into it
        # or splitting a message out of it updates it for the rules (a merged ticket: its status)
        return T.UPDATED
    if kind == E.SURVEY:
        return T.SURVEY
    if kind in SLA_TRIGGERS:
        # "handled": a warning or breach the rules already saw before it became a ticket event
        return None if (event.data or {}).get("handled") else SLA_TRIGGERS[kind]
    if kind == E.COMMENTED and event.actor_id is not None:
        if event.actor_id == event.ticket.requester_id:
            return T.REQUESTER_COMMENT
        actor = event.actor
        return T.AGENT_COMMENT if actor is not None and actor.is_agent else None
    return None


def _is_robot(event: TicketEvent) -> bool:
    return event.actor_id is not None and event.actor is not None and event.actor.email == ROBOT_EMAIL


def _score(data: dict[str, Any]) -> int | None:
    try:
        return int(data.get("score"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def occurrences(events: Sequence[TicketEvent], wanted: set[str]) -> list[Occurrence]:
    """One occurrence per event whose trigger has rules; the field changes of one save (same ticket,
    same actor, in a row) count as one "updated" occurrence."""
    found: list[Occurrence] = []
    last_update: dict[int, Occurrence] = {}
    for event in events:
        trigger = _trigger(event)
        if trigger != T.UPDATED:
            last_update.pop(event.ticket_id, None)
        if trigger is None or trigger not in wanted:
            continue
        previous = last_update.get(event.ticket_id)
        if (
            trigger == T.UPDATED
            and previous is not None
            and previous.event is not None
            and (previous.event.actor_id == event.actor_id)
        ):
            continue
        data = event.data if isinstance(event.data, dict) else {}
        occurrence = Occurrence(
            ticket=event.ticket,
            trigger=trigger,
            event=event,
            comment_id=data.get("comment") if trigger in (T.REQUESTER_COMMENT, T.AGENT_COMMENT) else None,
            survey_score=_score(data) if trigger == T.SURVEY else None,
            survey_comment=str(data.get("comment") or "") if trigger == T.SURVEY else "",
            robot_made=_is_robot(event),
        )
        if trigger == T.UPDATED:
            last_update[event.ticket_id] = occurrence
        found.append(occurrence)
    return found


# the ticket event kind that carries each trigger whose occurrence holds more than the ticket
STORED_KINDS: dict[str, str] = {T.REQUESTER_COMMENT: E.COMMENTED, T.AGENT_COMMENT: E.COMMENTED, T.SURVEY: E.SURVEY}


def latest_occurrences(tickets: Sequence[Ticket], trigger: str) -> dict[int, Occurrence]:
    """For the dry run: per ticket, the occurrence its latest stored event of ``trigger`` made (the
    requester's or an agent's latest public reply, the latest survey answer), built by the same code
    as the stream's, so its comment and score are those the engine saw. One query; tickets without
    such an event are left out, as are triggers whose occurrence is the ticket alone."""
    kind = STORED_KINDS.get(trigger)
    by_id = {ticket.pk: ticket for ticket in tickets}
    if kind is None or not by_id:
        return {}
    latest: dict[int, TicketEvent] = {}
    stored = TicketEvent.objects.filter(ticket_id__in=list(by_id), kind=kind).select_related("actor")
    for event in stored.order_by("created_at", "id"):
        event.ticket = by_id[event.ticket_id]
        if _trigger(event) == trigger:
            latest[event.ticket_id] = event
    return {o.ticket.pk: o for o in occurrences(list(latest.values()), {trigger})}


def _trace(found: list[Occurrence]) -> None:
    """Link the automation's own events to the run that produced them (one query)."""
    made = [o for o in found if o.robot_made and o.event is not None]
    if not made:
        return
    ids = [o.event.pk for o in made if o.event is not None]
    runs = RuleRun.objects.filter(
        ticket_id__in={o.ticket.pk for o in made}, first_event_id__lte=max(ids), last_event_id__gte=min(ids)
    ).values_list("ticket_id", "rule_id", "depth", "first_event_id", "last_event_id")
    by_ticket: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for ticket_id, rule_id, depth, first, last in runs:
        by_ticket[ticket_id].append((rule_id, depth, first or 0, last or 0))
    for occurrence in made:
        event_id = occurrence.event.pk if occurrence.event is not None else 0
        for rule_id, depth, first, last in by_ticket.get(occurrence.ticket.pk, []):
            if first <= event_id <= last:
                occurrence.produced_by, occurrence.depth = rule_id, depth
                break
        else:
            occurrence.depth = 1  # its run is unknown (log trimmed): treat it as one step deep


# --- facts --------------------------------------------------------------------------------------------


class FactBook:
    """The facts of each occurrence, with what some conditions need loaded once per batch."""

    def __init__(self, found: list[Occurrence], needs: set[str], now: datetime) -> None:
        self.now = now
        self.needs = needs
        ticket_ids = {o.ticket.pk for o in found}
        self.parents: dict[int, int | None] = {}
        if "categories" in needs and any(o.ticket.category_id for o in found):
            self.parents = dict(Category.objects.values_list("id", "parent_id"))
        self.tags: dict[int, set[str]] = defaultdict(set)
        if "tags" in needs:
            through = Ticket.tags.through.objects.filter(ticket_id__in=ticket_ids)
            for ticket_id, name in through.values_list("ticket_id", "tag__name"):
                self.tags[ticket_id].add(name)
        self.assets: dict[int, asset_facts.AssetFacts] = {}
        if "assets" in needs:  # one query for the batch's links, and the walk up to the services
            self.assets = asset_facts.facts_by_ticket(ticket_ids, services="asset_services" in needs)
        # the ticket's problem, major incident and changes: one query per family
        self.problems = problem_facts.problems_by_ticket(ticket_ids) if "problems" in needs else {}
        self.major = problem_facts.major_ticket_ids(ticket_ids) if "major" in needs else frozenset()
        self.changed = change_facts.changed_ticket_ids(ticket_ids) if "changes" in needs else frozenset()
        self.comments: dict[int, str] = {}
        comment_ids = {o.comment_id for o in found if o.comment_id}
        if "comment" in needs and comment_ids:
            self.comments = dict(Comment.objects.filter(pk__in=comment_ids).values_list("pk", "body"))

    def lineage(self, category_id: int | None) -> frozenset[int]:
        chain: list[int] = []
        current = category_id
        while current is not None and current not in chain and len(chain) < 20:
            chain.append(current)
            current = self.parents.get(current)
        return frozenset(chain)

    def facts(self, occurrence: Occurrence) -> cond.Facts:
        ticket = occurrence.ticket
        return cond.facts_for(
            ticket,
            now=self.now,
            lineage=self.lineage(ticket.category_id) if self.parents else frozenset(),
            tags=frozenset(self.tags.get(ticket.pk, ())),
            # a survey's comment is the requester's words with their score
            comment=occurrence.survey_comment or self.comments.get(occurrence.comment_id or 0, ""),
            survey_score=occurrence.survey_score,
            texts="texts" in self.needs,
            assets=self.assets.get(ticket.pk, asset_facts.EMPTY),
            problem=self.problems.get(ticket.pk),
            major=ticket.pk in self.major,
            changed=ticket.pk in self.changed,
        )


# --- evaluation -----------------------------------------------------------------------------------------


def evaluate(
    found: list[Occurrence], rules: Iterable[CompiledRule], *, now: datetime
) -> list[tuple[Occurrence, CompiledRule]]:
    """The (occurrence, rule) pairs whose conditions hold, in event then rule order. Pure Python
    once the batch's facts are loaded."""
    by_trigger: dict[str, list[CompiledRule]] = defaultdict(list)
    for rule in rules:
        by_trigger[rule.trigger].append(rule)
    needs = {need for rule in rules for need in rule.matcher.needs}
    book = FactBook(found, needs, now)
    matched: list[tuple[Occurrence, CompiledRule]] = []
    for occurrence in found:
        candidates = by_trigger.get(occurrence.trigger)
        if not candidates:
            continue
        facts = book.facts(occurrence)
        matched.extend((occurrence, rule) for rule in candidates if rule.matcher(facts))
    return matched


def handle_events(events: list[TicketEvent], *, now: datetime | None = None) -> int:
    """The stream consumer: run the rules the batch's events trigger. Returns how many runs."""
    rules = active_rules()
    if not rules:
        return 0
    now = now or timezone.now()
    wanted = {rule.trigger for rule in rules}
    found = occurrences(events, wanted)
    if not found:
        return 0
    matched = evaluate(found, rules, now=now)
    if not matched:
        return 0
    _trace([o for o, _r in matched])
    done = {
        (rule_id, event_id)
        for rule_id, event_id in RuleRun.objects.filter(
            event_id__in={o.event.pk for o, _r in matched if o.event is not None}
        ).values_list("rule_id", "event_id")
    }
    todo = [(o, r) for o, r in matched if o.event is None or (r.id, o.event.pk) not in done]
    return apply_all(todo, now=now)


# --- running matched rules ------------------------------------------------------------------------------


class Limiter:
    """How many rule runs each ticket had in the last minute (one query per ticket, when needed)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.counts: dict[int, int] = {}

    def allow(self, ticket_id: int) -> bool:
        if ticket_id not in self.counts:
            since = self.now - timedelta(minutes=1)
            self.counts[ticket_id] = RuleRun.objects.filter(
                ticket_id=ticket_id, at__gte=since, outcome=O.APPLIED
            ).count()
        return self.counts[ticket_id] < MAX_PER_MINUTE

    def count(self, ticket_id: int) -> None:
        self.counts[ticket_id] = self.counts.get(ticket_id, 0) + 1


def apply_all(todo: list[tuple[Occurrence, CompiledRule]], *, now: datetime) -> int:
    if not todo:
        return 0
    actor = robot()
    limiter = Limiter(now)
    tickets: dict[int, Ticket] = {}
    for occurrence, rule in todo:
        occurrence.ticket = tickets.get(occurrence.ticket.pk, occurrence.ticket)
        ticket = apply_rule(rule, occurrence, actor=actor, limiter=limiter, now=now)
        tickets[ticket.pk] = ticket
    return len(todo)


def _skip_reason(rule: CompiledRule, occurrence: Occurrence, limiter: Limiter) -> str:
    if occurrence.produced_by == rule.id:
        return _("the event came from this rule's own run")
    if occurrence.depth + 1 > MAX_DEPTH:
        return _("chain of rules deeper than %(n)d") % {"n": MAX_DEPTH}
    if not limiter.allow(occurrence.ticket.pk):
        return _("more than %(n)d rule runs on this ticket in a minute") % {"n": MAX_PER_MINUTE}
    return ""


def _log(rule: CompiledRule, occurrence: Occurrence, outcome: str, detail: str, now: datetime, **extra: Any) -> None:
    try:
        with transaction.atomic():
            RuleRun.objects.create(
                rule_id=rule.id,
                ticket_id=occurrence.ticket.pk,
                event=occurrence.event,
                trigger=occurrence.trigger,
                outcome=outcome,
                detail=detail[:500],
                depth=occurrence.depth + 1,
                at=now,
                **extra,
            )
    except IntegrityError:  # already logged for this event (a re-delivery)
        pass


def run_key(rule: CompiledRule, occurrence: Occurrence, *, period: str = "") -> str:
    if occurrence.event is not None:
        return f"rule:{rule.id}:e{occurrence.event.pk}"
    return f"rule:{rule.id}:t{occurrence.ticket.pk}:{period}"


def apply_rule(
    rule: CompiledRule, occurrence: Occurrence, *, actor: User, limiter: Limiter, now: datetime, period: str = ""
) -> Ticket:
    """Run one matched rule on one ticket, in a savepoint; log the outcome. Never raises for a
    failing action: the rule's changes are undone, the failure logged, and a rule whose
    references were deleted is turned off with the reason."""
    reason = _skip_reason(rule, occurrence, limiter)
    if reason:
        _log(rule, occurrence, O.SKIPPED, reason, now)
        return occurrence.ticket
    run = execute.Run(
        rule=rule,
        ticket=occurrence.ticket,
        robot=actor,
        key=run_key(rule, occurrence, period=period),
        trigger=occurrence.trigger,
        event_id=occurrence.event.pk if occurrence.event is not None else None,
    )
    try:
        with transaction.atomic():
            outcome, detail, extra = _run(run)
            _log(rule, occurrence, outcome, detail, now, **extra)
    except (execute.MissingReference, ValidationError, DomainError, Ticket.DoesNotExist) as exc:
        _failed(rule, occurrence, exc, now)
        return Ticket.objects.get(pk=occurrence.ticket.pk)
    except Exception as exc:  # one bad rule or ticket must not stop the stream
        log.exception("automation rule %s failed on ticket %s", rule.id, occurrence.ticket.pk)
        _failed(rule, occurrence, exc, now)
        return Ticket.objects.get(pk=occurrence.ticket.pk)
    if outcome == O.APPLIED:
        limiter.count(occurrence.ticket.pk)
    return run.ticket


def _run(run: execute.Run) -> tuple[str, str, dict[str, Any]]:
    locked = Ticket.objects.select_for_update().select_related("requester").get(pk=run.ticket.pk)
    run.ticket = locked
    before = TicketEvent.objects.filter(ticket_id=locked.pk).aggregate(last=Max("pk"))["last"] or 0
    done = execute.run_actions(run)
    if not done:
        return O.MATCHED, _("nothing to change"), {}
    event = history.record(
        run.ticket, E.RULE, by=run.robot, internal=True, rule=run.rule.name, rule_id=run.rule.id, actions=done
    )
    return O.APPLIED, ", ".join(done), {"first_event_id": before + 1, "last_event_id": event.pk}


def _failed(rule: CompiledRule, occurrence: Occurrence, exc: Exception, now: datetime) -> None:
    detail = _message(exc)
    if isinstance(exc, execute.MissingReference):
        disable_rule(rule.id, reason=detail)
    _log(rule, occurrence, O.FAILED, detail, now)


def _message(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or exc.__class__.__name__


def consume(events: list[TicketEvent]) -> None:
    """The stream handler (``stream.subscribe("automation", consume)``)."""
    handle_events(events)
