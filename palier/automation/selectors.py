"""Reads of the automation pages (administrators only: the views check the role)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.automation import actions as action_specs
from palier.automation import conditions as condition_specs
from palier.automation import subjects as subject_specs
from palier.automation.models import RecurringTicket, Rule, RuleRun, SubjectRun
from palier.automation.services import engine, recurring, subject_actions, subject_engine
from palier.automation.services.rules import compile_rule
from palier.changes.models import Change, ChangeEvent
from palier.problems.models import Problem, ProblemEvent
from palier.tickets.models import Comment, Ticket

PAGE = 25
DRY_RUN_CHUNK = 2000
DRY_RUN_SURVEY_DAYS = 30
T = Rule.Trigger


def rules_for_admin() -> QuerySet[Rule]:
    return Rule.objects.order_by("position", "id")


def get_rule_for_admin(rule_id: int) -> Rule:
    rule = Rule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404("rule")
    return rule


def rule_runs(rule: Rule, *, page: Any) -> Page[Any]:
    """The rule's runs, newest first: on tickets, or on problems or changes (with their record)."""
    if rule.subject != Rule.Subject.TICKET:
        subject_runs = SubjectRun.objects.filter(rule=rule).select_related("problem", "change").order_by("-at", "-id")
        return Paginator(subject_runs, PAGE).get_page(page)
    runs = RuleRun.objects.filter(rule=rule).select_related("ticket").order_by("-at", "-id")
    return Paginator(runs, PAGE).get_page(page)


def runs_of(rule: Rule) -> QuerySet[RuleRun]:
    """What a ticket rule did, newest first (the API pages through it by id)."""
    return RuleRun.objects.filter(rule=rule).order_by("-at", "-id")


def subject_runs_of(rule: Rule) -> QuerySet[SubjectRun]:
    """What a rule on problems or changes did, newest first."""
    return SubjectRun.objects.filter(rule=rule).order_by("-at", "-id")


@dataclass(frozen=True)
class DryRunRow:
    ticket: Ticket
    comment: str  # the reply the comment conditions read (comment triggers), else ""
    score: int | None  # the answer the score conditions read (survey trigger)


@dataclass(frozen=True)
class DryRun:
    count: int
    skipped: int  # tickets left out: the reply or answer the conditions read does not exist
    page: Page[tuple[int, int | None, int | None]]  # of (ticket id, comment id, score)
    rows: list[DryRunRow]
    source: str  # the trigger whose stored event the conditions read ("" when the ticket is enough)
    recent_days: int


def _dry_run_candidates(rule: Rule, now: datetime) -> QuerySet[Ticket]:
    if rule.trigger == Rule.Trigger.TIMER and rule.wait_status and rule.wait_hours:
        since = "resolved_at" if rule.wait_status == Ticket.Status.RESOLVED else "updated_at"
        return Ticket.objects.filter(
            status=rule.wait_status, **{f"{since}__lte": now - timedelta(hours=rule.wait_hours)}
        )
    if rule.trigger == Rule.Trigger.SURVEY:  # answers come once a ticket is resolved
        finished = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
        recent = Q(status__in=finished, resolved_at__gte=now - timedelta(days=DRY_RUN_SURVEY_DAYS))
        return Ticket.objects.filter(Q(status__in=Ticket.OPEN_STATUSES) | recent)
    return Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)


def _dry_run_source(rule: Rule, matcher: condition_specs.Matcher) -> str:
    """The trigger whose stored event the conditions need: a reply for comment conditions on the
    reply triggers, an answer for score conditions on the survey trigger; "" otherwise (the engine
    then sees no comment and no score either)."""
    needs: dict[str, str] = {T.REQUESTER_COMMENT: "comment", T.AGENT_COMMENT: "comment", T.SURVEY: "survey"}
    need = needs.get(rule.trigger)
    return rule.trigger if need in matcher.needs else ""


@dataclass(frozen=True)
class SubjectDryRunRow:
    record: Any  # a Problem or a Change
    at: datetime  # the latest event that matched
    url: str


@dataclass(frozen=True)
class SubjectDryRun:
    count: int  # records matched
    events: int  # events read (at most DRY_RUN_EVENTS)
    truncated: bool  # more events than that in the period
    page: Page[tuple[int, datetime]]
    rows: list[SubjectDryRunRow]
    recent_days: int


DRY_RUN_EVENTS = 10_000


def subject_dry_run(rule: Rule, *, page: Any, now: datetime | None = None) -> SubjectDryRun:
    """The problems or changes whose history events of the last ``DRY_RUN_SURVEY_DAYS`` days
    the rule would have matched (whether it is on or not), evaluated by the engine's own code on
    each record as it is now with what its event says. The events of the rule's trigger are read
    newest first in chunks (at most ``DRY_RUN_EVENTS``), a constant number of queries per chunk."""
    now = now or timezone.now()
    compiled = compile_rule(rule)
    subject = rule.subject
    if rule.trigger == T.CHANGE_START_SOON:
        return _start_soon_dry_run(rule, compiled, page=page, now=now)
    model: type[ProblemEvent] | type[ChangeEvent] = ProblemEvent if subject == Rule.Subject.PROBLEM else ChangeEvent
    kinds = DRY_RUN_KINDS[rule.trigger]
    events = model.objects.filter(kind__in=kinds, at__gte=now - timedelta(days=DRY_RUN_SURVEY_DAYS))
    related = "problem" if subject == Rule.Subject.PROBLEM else "change"
    latest: dict[int, datetime] = {}
    read = 0
    last: int | None = None
    while read < DRY_RUN_EVENTS:
        chunk_query = events if last is None else events.filter(pk__lt=last)
        chunk = list(chunk_query.select_related(related).order_by("-pk")[: min(DRY_RUN_CHUNK, DRY_RUN_EVENTS - read)])
        if not chunk:
            break
        read += len(chunk)
        last = chunk[-1].pk
        found: list[subject_engine.Occurrence] = [
            (e, getattr(e, related), {}) for e in chunk if subject_engine.waiting_rules(subject, e, (compiled,))
        ]
        if found:
            facts = subject_engine.facts_for(subject, found, needs=compiled.matcher.needs, now=now)
            for (event, record, _p), fact in zip(found, facts, strict=True):
                if compiled.matcher(fact):
                    latest.setdefault(record.pk, event.at)
        if len(chunk) < DRY_RUN_CHUNK:
            break
    truncated = read >= DRY_RUN_EVENTS and events.filter(pk__lt=last or 0).exists()
    numbers = Paginator(sorted(latest.items(), key=lambda p: p[1], reverse=True), PAGE).get_page(page)
    shown = list(numbers.object_list)
    by_id = (Problem if subject == Rule.Subject.PROBLEM else Change).objects.in_bulk([pk for pk, _at in shown])
    rows = [
        SubjectDryRunRow(record=by_id[pk], at=at, url=subject_actions.record_path(subject, pk))
        for pk, at in shown
        if pk in by_id
    ]
    return SubjectDryRun(
        count=len(latest), events=read, truncated=truncated, page=numbers, rows=rows, recent_days=DRY_RUN_SURVEY_DAYS
    )


def _start_soon_dry_run(rule: Rule, compiled: Any, *, page: Any, now: datetime) -> SubjectDryRun:
    """ "Starting within N hours": the changes whose planned start is in the window now (at most
    the batch the job reads), evaluated as the job does; two queries and the facts' own."""
    changes = subject_engine.start_soon_candidates(rule.wait_hours or 0, now)
    found: list[subject_engine.Occurrence] = [(subject_engine.Moment(at=now), c, {}) for c in changes]
    facts = subject_engine.facts_for(rule.subject, found, needs=compiled.matcher.needs, now=now) if found else []
    matched = [(c.pk, c.planned_start or now) for c, f in zip(changes, facts, strict=True) if compiled.matcher(f)]
    numbers = Paginator(matched, PAGE).get_page(page)
    by_id = {c.pk: c for c in changes}
    rows = [
        SubjectDryRunRow(record=by_id[pk], at=at, url=subject_actions.record_path(rule.subject, pk))
        for pk, at in numbers.object_list
    ]
    return SubjectDryRun(
        count=len(matched), events=len(changes), truncated=False, page=numbers, rows=rows, recent_days=0
    )


# the history event kinds each problem and change trigger comes from
DRY_RUN_KINDS: dict[str, tuple[str, ...]] = {
    T.PROBLEM_CREATED: ("created",),
    T.PROBLEM_STATUS: ("status",),
    T.PROBLEM_INCIDENTS: ("incident_linked",),
    T.PROBLEM_KNOWN_ERROR: ("status",),
    T.PROBLEM_RESOLVED: ("status",),
    T.CHANGE_CREATED: ("created",),
    T.CHANGE_STATUS: ("status",),
    T.CHANGE_APPROVAL: ("approval",),
    T.CHANGE_FREEZE: ("status",),
}


def dry_run(rule: Rule, *, page: Any, now: datetime | None = None) -> DryRun:
    """The tickets the rule's conditions match now (whether the rule is on or not), evaluated by the
    engine's own code: open tickets (for the survey trigger, also those resolved in the last
    ``DRY_RUN_SURVEY_DAYS`` days). Comment conditions on the reply triggers read each ticket's latest
    reply of that kind, score conditions its latest survey answer, as the event would carry them; a
    ticket without one is skipped. Time-based rules also need the ticket to have been in their status
    long enough (in plain hours here). A constant number of queries per 2,000 tickets."""
    now = now or timezone.now()
    compiled = compile_rule(rule)
    source = _dry_run_source(rule, compiled.matcher)
    queryset = _dry_run_candidates(rule, now)
    matched: list[tuple[int, int | None, int | None]] = []
    skipped = last = 0
    while chunk := list(queryset.filter(pk__gt=last).order_by("pk")[:DRY_RUN_CHUNK]):
        stored = engine.latest_occurrences(chunk, source) if source else {}
        found = [stored.get(t.pk) or engine.Occurrence(ticket=t, trigger=rule.trigger) for t in chunk]
        if source:
            found = [o for o in found if o.event is not None]
            skipped += len(chunk) - len(found)
        matched.extend(
            (o.ticket.pk, o.comment_id, o.survey_score) for o, _r in engine.evaluate(found, [compiled], now=now)
        )
        if len(chunk) < DRY_RUN_CHUNK:
            break
        last = chunk[-1].pk
    numbers = Paginator(matched, PAGE).get_page(page)
    return DryRun(
        count=len(matched), skipped=skipped, page=numbers, rows=_dry_run_rows(list(numbers.object_list)),
        source=source, recent_days=DRY_RUN_SURVEY_DAYS,
    )  # fmt: skip


def _dry_run_rows(rows: list[tuple[int, int | None, int | None]]) -> list[DryRunRow]:
    by_id = Ticket.objects.in_bulk([pk for pk, _c, _s in rows])
    comment_ids = [comment for _t, comment, _s in rows if comment]
    bodies = dict(Comment.objects.filter(pk__in=comment_ids).values_list("pk", "body")) if comment_ids else {}
    return [
        DryRunRow(ticket=by_id[pk], comment=bodies.get(comment or 0, ""), score=score)
        for pk, comment, score in rows
        if pk in by_id
    ]


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    trigger: str
    summary: str


def trigger_text(rule: Rule) -> str:
    """ "Ticket created", "Change status changed → Approved", or for time-based rules "Pending
    requester for 72 h (business hours)"."""
    if rule.trigger in subject_specs.STATUS_TRIGGERS and rule.to_status:
        statuses = Problem.Status if rule.subject == Rule.Subject.PROBLEM else Change.Status
        label = statuses(rule.to_status).label if rule.to_status in statuses.values else rule.to_status
        return f"{Rule.Trigger(rule.trigger).label} → {label}"
    if rule.trigger == Rule.Trigger.CHANGE_START_SOON:
        return _("Change starting within %(hours)s hours") % {"hours": rule.wait_hours}
    if rule.trigger != Rule.Trigger.TIMER:
        return str(Rule.Trigger(rule.trigger).label)
    status = Ticket.Status(rule.wait_status).label if rule.wait_status in Ticket.Status.values else rule.wait_status
    if rule.wait_business:
        return _("%(status)s for %(hours)s business hours") % {"status": status, "hours": rule.wait_hours}
    return _("%(status)s for %(hours)s hours") % {"status": status, "hours": rule.wait_hours}


def describe(rule: Rule) -> str:
    """The rule's conditions in one line ("Priority at most 2 · Subject contains vpn")."""
    parts = []
    for part in ("all", "any"):
        for row in (rule.conditions or {}).get(part) or []:
            fields = subject_specs.FIELDS.get(rule.subject, condition_specs.FIELDS)
            label = fields.get(row.get("field"), (row.get("field"), (), ""))[0]
            op = condition_specs.OPERATORS.get(row.get("op"), row.get("op"))
            value = "" if row.get("value") is None else f" {row['value']}"
            parts.append(f"{label} {op}{value}")
    return " · ".join(parts)


def recurring_rows(*, active: bool | None = None) -> QuerySet[RecurringTicket]:
    rows = RecurringTicket.objects.order_by("name", "id")
    return rows if active is None else rows.filter(is_active=active)


def recurring_for_admin(*, page: Any) -> Page[RecurringTicket]:
    rows = RecurringTicket.objects.select_related("requester", "group").order_by("name", "id")
    return Paginator(rows, PAGE).get_page(page)


def get_recurring_for_admin(row_id: int) -> RecurringTicket:
    row = RecurringTicket.objects.filter(pk=row_id).first()
    if row is None:
        raise Http404("recurring")
    return row


def schedule_text(schedule: str) -> str:
    return recurring.describe_schedule(schedule)


def group_usage(group_id: int) -> str:
    """Why the support group ``group_id`` cannot be deleted: the automation rules or recurring
    tickets that name it (``GROUP_IN_USE`` of ``palier/events.py``), or ""."""
    names = [
        rule.name
        for rule in Rule.objects.only("name", "conditions", "actions").order_by("position", "id")
        if ("group", group_id) in compile_references(rule)
    ]
    if RecurringTicket.objects.filter(group_id=group_id).exists():
        names.append(_("a recurring ticket"))
    if not names:
        return ""
    return _("Automation names this group (%(names)s): change those rules first.") % {"names": ", ".join(names[:5])}


def compile_references(rule: Rule) -> list[tuple[str, int]]:
    """(kind, id) of what a rule's conditions and actions name."""
    return condition_specs.references(rule.conditions or {}) + action_specs.references(rule.actions or [])
