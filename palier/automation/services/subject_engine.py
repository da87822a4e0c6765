"""Rules on problems and changes: how the history of a problem or a change reaches them.

``problem_event_recorded`` and ``change_event_recorded`` are hooks of ``palier/events.py``
(``PROBLEM_EVENT_RECORDED``, ``CHANGE_EVENT_RECORDED``), called with each new history event inside
the recording transaction. They only record work for after commit: when an active rule of that
subject waits for one of the triggers the event fires, one outbox item per event (keyed by it), so
nothing is lost if the worker is down and a failing rule never fails the person's action.

``handle`` is the outbox handler (``automation.subject_event`` in ``OUTBOX_HANDLERS``): it reads the
event and its problem or change once, evaluates the waiting rules with ``lib/matching.py``, and runs
each matching rule in its own transaction: the ``SubjectRun`` row, unique per (rule, subject,
event), is inserted first and the actions run in a savepoint after it, so a replayed item finds the
row and runs nothing twice; a failing action is undone and logged as failed.

Loop protection: while a rule's actions run, the events they record carry the run's rule and
depth (a context variable read by the hooks). A rule never reacts to its own run, and a chain of
rules (A's change fires B, whose change fires A…) stops at ``MAX_DEPTH``: stopped runs are logged
as skipped with the reason.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.assets import facts as asset_facts
from palier.automation import subjects as specs
from palier.automation.models import Rule, SubjectRun
from palier.automation.services import subject_actions
from palier.automation.services.execute import MissingReference
from palier.automation.services.rules import CompiledRule, active_subject_rules, disable_rule, robot
from palier.changes.models import Change, ChangeAsset, ChangeEvent
from palier.core import outbox
from palier.lib.errors import DomainError
from palier.lib.text import normalise
from palier.problems.models import Problem, ProblemAsset, ProblemEvent, ProblemIncident
from palier.tickets.models import Category

log = logging.getLogger(__name__)

OUTBOX_KIND = "automation.subject_event"
MAX_DEPTH = 5
S = Rule.Subject
T = Rule.Trigger
O = SubjectRun.Outcome  # noqa: E741

# (rule id, depth) of the run whose actions are being carried out in this thread
_RUNNING: ContextVar[tuple[int, int] | None] = ContextVar("palier_automation_subject_run", default=None)


@contextmanager
def running(rule_id: int, depth: int) -> Iterator[None]:
    token = _RUNNING.set((rule_id, depth))
    try:
        yield
    finally:
        _RUNNING.reset(token)


# --- the hooks: in the recording transaction --------------------------------------------------------


def problem_event_recorded(event: ProblemEvent) -> None:
    triggers = specs.problem_trigger(event.kind, event.data or {})
    _recorded(S.PROBLEM, event.pk, triggers, incidents_of=event.problem_id, data=event.data or {})


def change_event_recorded(event: ChangeEvent) -> None:
    _recorded(S.CHANGE, event.pk, specs.change_trigger(event.kind, event.data or {}), data=event.data or {})


def _waiting(rules: tuple[CompiledRule, ...], triggers: tuple[str, ...], data: dict[str, Any]) -> list[CompiledRule]:
    """The rules an event with ``triggers`` may run (a status rule waits for its status)."""
    reached = specs.status_reached(data)
    return [r for r in rules if r.trigger in triggers and (not r.to_status or r.to_status == reached)]


def _recorded(
    subject: str, event_id: int, triggers: tuple[str, ...], *, data: dict[str, Any], incidents_of: int | None = None
) -> None:
    if not triggers:
        return
    waiting = _waiting(active_subject_rules(subject), triggers, data)
    if not waiting:
        return
    run = _RUNNING.get()
    payload: dict[str, Any] = {
        "subject": subject,
        "event": event_id,
        "depth": run[1] if run else 0,
        "by_rule": run[0] if run else None,
    }
    if T.PROBLEM_INCIDENTS in triggers and incidents_of is not None:
        # the count as this link left it: "reaches 10" holds for the link that made it 10
        payload["incidents"] = ProblemIncident.objects.filter(problem_id=incidents_of).count()
        payload["linked"] = int(data.get("count") or 0)
    outbox.add(OUTBOX_KIND, key=f"{subject}:{event_id}", payload=payload)


# --- facts ----------------------------------------------------------------------------------------------


class Lineage:
    """A category and its ancestors, from the tree read once (one query, when a rule needs it)."""

    def __init__(self, wanted: bool) -> None:
        self.parents: dict[int, int | None] = dict(Category.objects.values_list("id", "parent_id")) if wanted else {}

    def of(self, category_id: int | None) -> frozenset[int]:
        chain: list[int] = []
        current = category_id
        while current is not None and current not in chain and len(chain) < 20:
            chain.append(current)
            current = self.parents.get(current)
        return frozenset(chain)


Occurrence = tuple[Any, Any, dict[str, Any]]  # (history event, its problem or change, outbox payload)


def facts_for(
    subject: str, found: list[Occurrence], *, needs: frozenset[str], now: datetime
) -> list[specs.RecordFacts]:
    """The facts of each (event, record) pair, as the record is now with what the event says
    (the decision of an approval, the incidents counted when it was linked). A constant number
    of queries for the whole batch, only for what the rules need: the affected assets, the
    incident links, the category tree."""
    ids = sorted({record.pk for _e, record, _p in found})
    problems = subject == S.PROBLEM
    assets: dict[int, asset_facts.AssetFacts] = {}
    if "assets" in needs and ids:
        links = (ProblemAsset if problems else ChangeAsset).objects.filter(
            **{f"{'problem' if problems else 'change'}_id__in": ids}
        )
        pairs = links.values_list("problem_id" if problems else "change_id", "asset_id")
        assets = asset_facts.facts_by_owner(pairs, services="asset_services" in needs)
    linked: dict[int, list[datetime]] = defaultdict(list)
    counted = problems and ("incidents" in needs or any(e.kind == "incident_linked" for e, _r, _p in found))
    if counted and ids:
        for problem_id, at in ProblemIncident.objects.filter(problem_id__in=ids).values_list("problem_id", "linked_at"):
            linked[problem_id].append(at)
    lineage = Lineage("categories" in needs and problems)
    facts = []
    for event, record, payload in found:
        data = event.data if isinstance(event.data, dict) else {}
        common: dict[str, Any] = {
            "status": record.status,
            "now": now,
            "group_id": record.group_id,
            "title": normalise(record.title),
            "assets": assets.get(record.pk, asset_facts.EMPTY),
        }
        if not problems:
            facts.append(
                specs.RecordFacts(
                    **common,
                    assignee_id=record.implementer_id,
                    kind=record.kind,
                    risk=record.risk,
                    outcome=record.outcome,
                    decision=str(data.get("decision") or ""),
                    planned_start=record.planned_start,
                    planned_end=record.planned_end,
                )
            )
            continue
        # the incidents linked when the event happened (the hook counted them in its transaction)
        stored = payload.get("incidents")
        count = int(stored) if stored is not None else sum(1 for at in linked.get(record.pk, ()) if at <= event.at)
        added = payload["linked"] if "linked" in payload else data.get("count")
        before = count - int(added or 0) if event.kind == "incident_linked" else None
        facts.append(
            specs.RecordFacts(
                **common,
                assignee_id=record.assignee_id,
                category_ids=lineage.of(record.category_id),
                priority=record.priority,
                has_workaround=record.has_workaround,
                incidents=int(count),
                incidents_before=before,
            )
        )
    return facts


def waiting_rules(subject: str, event: Any, rules: tuple[CompiledRule, ...]) -> list[CompiledRule]:
    """Those of ``rules`` that ``event`` fires."""
    data = event.data if isinstance(event.data, dict) else {}
    trigger_of = specs.problem_trigger if subject == S.PROBLEM else specs.change_trigger
    return _waiting(rules, trigger_of(event.kind, data), data)


# --- the outbox handler ------------------------------------------------------------------------------


def _load(subject: str, event_id: int) -> tuple[Any, Any] | None:
    if subject == S.PROBLEM:
        pevent = ProblemEvent.objects.select_related("problem").filter(pk=event_id).first()
        return (pevent, pevent.problem) if pevent else None
    cevent = ChangeEvent.objects.select_related("change").filter(pk=event_id).first()
    return (cevent, cevent.change) if cevent else None


def handle(payload: dict[str, Any], *, now: datetime | None = None) -> int:
    """Run the rules one problem or change event fires; returns how many rules ran. Idempotent."""
    subject = str(payload.get("subject") or "")
    if subject not in (S.PROBLEM, S.CHANGE):
        raise outbox.Permanent(f"unknown subject {subject!r}")
    loaded = _load(subject, int(payload["event"]))
    if loaded is None:  # the problem or change was deleted since
        return 0
    event, record = loaded
    waiting = waiting_rules(subject, event, active_subject_rules(subject))
    if not waiting:
        return 0
    now = now or timezone.now()
    needs = frozenset().union(*(rule.matcher.needs for rule in waiting))
    (facts,) = facts_for(subject, [(event, record, payload)], needs=needs, now=now)
    matched = [rule for rule in waiting if rule.matcher(facts)]
    depth, by_rule = int(payload.get("depth") or 0), payload.get("by_rule")
    for rule in matched:
        apply_rule(rule, subject, event, record, depth=depth, by_rule=by_rule, now=now)
    return len(matched)


# --- time-based: a change starting within N hours ------------------------------------------------------

START_SOON_BATCH = 500


@dataclass(frozen=True)
class Moment:
    """What a time-based rule reacts to in place of a history event."""

    pk: int = 0
    kind: str = "timer"
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


def start_soon_candidates(hours: int, now: datetime) -> list[Change]:
    """Changes not closed whose planned start is within ``hours`` from ``now`` (the window index),
    soonest first, at most ``START_SOON_BATCH``."""
    window = Change.objects.filter(planned_start__gt=now, planned_start__lte=now + timedelta(hours=hours))
    return list(window.exclude(status=Change.Status.CLOSED).order_by("planned_start", "pk")[:START_SOON_BATCH])


def run_start_soon(*, now: datetime | None = None) -> int:
    """The periodic job's share: each active "starting within N hours" rule on each change whose
    planned start entered the window, once per (rule, change, planned start): a change moved to
    another start is seen again. Returns how many rules ran."""
    now = now or timezone.now()
    ran = 0
    for rule in active_subject_rules(S.CHANGE):
        if rule.trigger != T.CHANGE_START_SOON or not rule.wait_hours:
            continue
        changes = start_soon_candidates(rule.wait_hours, now)
        done = set(
            SubjectRun.objects.filter(rule_id=rule.id, change_id__in=[c.pk for c in changes], event_id=0).values_list(
                "period", flat=True
            )
        )
        todo = [c for c in changes if _period(c) not in done]
        if not todo:
            continue
        found: list[Occurrence] = [(Moment(at=now), change, {}) for change in todo]
        for (moment, change, _p), facts in zip(
            found, facts_for(S.CHANGE, found, needs=rule.matcher.needs, now=now), strict=True
        ):
            if rule.matcher(facts):
                apply_rule(rule, S.CHANGE, moment, change, depth=0, by_rule=None, now=now, period=_period(change))
                ran += 1
    return ran


def _period(change: Change) -> str:
    start = change.planned_start.isoformat() if change.planned_start else ""
    return f"{change.pk}:{start}"


def _skip_reason(rule: CompiledRule, depth: int, by_rule: Any) -> str:
    if by_rule == rule.id:
        return _("the event came from this rule's own run")
    if depth + 1 > MAX_DEPTH:
        return _("chain of rules deeper than %(n)d") % {"n": MAX_DEPTH}
    return ""


@transaction.atomic
def apply_rule(
    rule: CompiledRule,
    subject: str,
    event: Any,
    record: Any,
    *,
    depth: int,
    by_rule: Any,
    now: datetime,
    period: str = "",
) -> SubjectRun | None:
    """Claim the (rule, event) run, then run the actions in a savepoint: the run row and the
    actions commit together, and a second call for the same pair does nothing."""
    record_field = "problem" if subject == S.PROBLEM else "change"
    try:
        with transaction.atomic():
            run = SubjectRun.objects.create(
                rule_id=rule.id, subject=subject, event_id=event.pk, period=period, trigger=rule.trigger,
                outcome=O.SKIPPED, depth=depth + 1, at=now, **{f"{record_field}_id": record.pk},
            )  # fmt: skip
    except IntegrityError:  # already run for this event (a replay)
        return None
    reason = _skip_reason(rule, depth, by_rule)
    if reason:
        run.detail = reason[:500]
        run.save(update_fields=["detail"])
        return run
    model = Problem if subject == S.PROBLEM else Change
    context = subject_actions.SubjectRunContext(
        rule=rule, subject=subject, record=record, robot=robot(),
        key=f"rule:{rule.id}:{subject}:{event.pk}" + (f":{period}" if period else ""), trigger=rule.trigger,
        event_id=event.pk,
    )  # fmt: skip
    try:
        with transaction.atomic(), running(rule.id, depth + 1):
            context.record = model.objects.select_for_update().get(pk=record.pk)
            done = subject_actions.run_actions(context)
        run.outcome, run.detail = (O.APPLIED, ", ".join(done)) if done else (O.MATCHED, _("nothing to change"))
    except (MissingReference, ValidationError, DomainError) as exc:
        run.outcome, run.detail = O.FAILED, _message(exc)
        if isinstance(exc, MissingReference):
            disable_rule(rule.id, reason=run.detail)
    except Exception as exc:  # one bad rule must not stop the others
        log.exception("automation rule %s failed on %s event %s", rule.id, subject, event.pk)
        run.outcome, run.detail = O.FAILED, str(exc) or exc.__class__.__name__
    run.detail = run.detail[:500]
    run.save(update_fields=["outcome", "detail"])
    return run


def _message(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or exc.__class__.__name__
