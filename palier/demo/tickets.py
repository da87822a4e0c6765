"""Demo data: organisations, support groups, agents, requesters and tickets with conversations.

``palier demo --tickets N`` calls :func:`run_demo`. Like a migration, this is a bulk seeding path
that writes with ``bulk_create`` instead of going through the services (100,000 tickets must load
in under two minutes on SQLite), so it takes care itself of what the services would do: numbers,
history rows (``TicketEvent``), search entries and timestamps consistent with each status.

Running it again on a database that already has the demo people adds tickets only.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from palier.demo import text as txt
from palier.demo.people import create_people, load_cast
from palier.people.models import SupportGroup, User
from palier.reports import facts
from palier.surveys.models import SurveyRequest, SurveyResponse
from palier.system.demo_accounts import DEMO_PASSWORD
from palier.tickets import stream
from palier.tickets.models import Category, Comment, PriorityRule, SearchEntry, Ticket, TicketCounter, TicketEvent
from palier.tickets.rules import DEFAULT_MATRIX
from palier.tickets.search import normalise
from palier.timelog.models import CostRate, TimeEntry

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DemoResult", "run_demo"]

DEMO_LOGINS = {
    "admin": "admin@demo.palier.test",
    "manager": "manager@demo.palier.test",
    "agent": "agent@demo.palier.test",
    "requester": "requester@demo.palier.test",
}
BATCH = 2_000

S = Ticket.Status
E = TicketEvent.Kind
STATUS_WEIGHTS: dict[str, int] = {
    S.NEW: 8,
    S.ASSIGNED: 5,
    S.IN_PROGRESS: 9,
    S.PENDING_REQUESTER: 4,
    S.PENDING_VENDOR: 2,
    S.PENDING_CHANGE: 2,
    S.RESOLVED: 7,
    S.CLOSED: 58,
    S.CANCELLED: 5,
}
# the statuses a ticket goes through after "new" to reach its final status
PATHS: dict[str, list[str]] = {
    S.NEW: [],
    S.ASSIGNED: [S.ASSIGNED],
    S.IN_PROGRESS: [S.ASSIGNED, S.IN_PROGRESS],
    S.PENDING_REQUESTER: [S.ASSIGNED, S.IN_PROGRESS, S.PENDING_REQUESTER],
    S.PENDING_VENDOR: [S.ASSIGNED, S.IN_PROGRESS, S.PENDING_VENDOR],
    S.PENDING_CHANGE: [S.ASSIGNED, S.IN_PROGRESS, S.PENDING_CHANGE],
    S.RESOLVED: [S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED],
    S.CLOSED: [S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED],
    S.CANCELLED: [S.CANCELLED],
}
# lines said when a ticket enters a status: (who, text key, probability); "note" is an internal note
LINES: dict[str, list[tuple[str, str, float]]] = {
    S.NEW: [("requester", "requester_followup", 0.3)],
    S.ASSIGNED: [("agent", "agent_ack", 0.8)],
    S.IN_PROGRESS: [("note", "", 0.6), ("requester", "requester_followup", 0.3)],
    S.PENDING_REQUESTER: [("agent", "agent_question", 1.0)],
    S.PENDING_VENDOR: [("note", "", 1.0), ("agent", "agent_vendor", 1.0)],
    S.PENDING_CHANGE: [("note", "", 0.7), ("agent", "agent_change", 1.0)],
    S.RESOLVED: [("agent", "agent_resolved", 1.0), ("requester", "requester_thanks", 0.4)],
    S.CLOSED: [],
    S.CANCELLED: [("requester", "requester_cancel", 1.0)],
}
KINDS: dict[str, int] = {"incident": 6, "request": 4}
CHANNELS = {"web": 40, "email": 35, "phone": 10, "teams": 6, "slack": 3, "api": 2, "monitoring": 4}
LEVELS = {"high": 2, "medium": 4, "low": 5}
# cost of support: hourly rates per in-house level, and the vendor's price per hour and per escalation
LEVEL_RATES = {1: Decimal(35), 2: Decimal(50), 3: Decimal(70)}
VENDOR_RATE = (Decimal(95), Decimal(180))
# time tracking: the share of worked tickets whose assignee logs time, the chance a reply or note
# comes with an entry, and the minutes an entry takes (weights)
TIME_SHARE = 0.7
TIME_PER_LINE = 0.8
MINUTES = {5: 10, 10: 18, 15: 20, 20: 12, 30: 15, 45: 9, 60: 8, 90: 5, 120: 3}
# satisfaction: the share of resolved tickets whose requester is asked, of those who answer, the scores
SURVEY_ASKED = 0.85
SURVEY_ANSWERED = 0.4
SCORES = {5: 46, 4: 30, 3: 11, 2: 7, 1: 6}


@dataclass
class DemoResult:
    people_created: bool
    tickets: int
    comments: int
    events: int
    seconds: float
    numbers: dict[str, int] = field(default_factory=dict)


@dataclass
class Catalogue:
    """What tickets are drawn from: people, groups, categories and the priority matrix."""

    requesters: list[tuple[int, int | None, str]]  # (id, organisation id, language)
    featured_requester: tuple[int, int | None, str]
    triage: tuple[int, str, list[int]]  # (id, name, member ids)
    groups_by_topic: dict[str, list[tuple[int, str, list[int]]]]
    escalation: list[tuple[int, str, list[int]]]
    categories: list[tuple[int, str]]  # (leaf id, top-level slug)
    matrix: dict[tuple[str, str], int]
    names: dict[int, str]  # agent id -> full name, for the history
    levels: dict[int, int] = field(default_factory=dict)  # group id -> support level


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@lru_cache(maxsize=65_536)
def _norm(text: str) -> str:
    return normalise(text)


# --- people and reference data ----------------------------------------------------------------------


def _categories() -> list[tuple[int, str]]:
    rows = list(Category.objects.filter(is_active=True).values_list("id", "parent_id", "slug"))
    slug = {pk: s for pk, _p, s in rows}
    parents = {p for _pk, p, _s in rows if p is not None}
    leaves = [(pk, slug.get(p, s) if p else s) for pk, p, s in rows if pk not in parents]
    return leaves or [(0, "")]


def _matrix() -> dict[tuple[str, str], int]:
    matrix = {(str(i), str(u)): p for (i, u), p in DEFAULT_MATRIX.items()}
    for impact, urgency, priority in PriorityRule.objects.values_list("impact", "urgency", "priority"):
        matrix[(impact, urgency)] = priority
    return matrix


def _catalogue(rng: random.Random) -> tuple[Catalogue, bool]:
    password = make_password(DEMO_PASSWORD)
    created = False
    with transaction.atomic():
        if not User.objects.filter(email=DEMO_LOGINS["admin"]).exists():
            create_people(rng, password=password, logins=DEMO_LOGINS)
            created = True
    cast = load_cast(logins=DEMO_LOGINS)
    catalogue = Catalogue(
        requesters=cast.requesters,
        featured_requester=cast.featured_requester,
        triage=cast.triage,
        groups_by_topic=cast.groups_by_topic,
        escalation=cast.escalation,
        categories=_categories(),
        matrix=_matrix(),
        names=cast.names,
        levels=dict(SupportGroup.objects.values_list("id", "level")),
    )
    return catalogue, created


def _rates(today: date) -> int:
    """The demo's cost rates, once: per in-house level and for the vendor groups, in force since
    before the oldest demo ticket. Returns how many were written."""
    if CostRate.objects.exists():
        return 0
    since = today.replace(year=today.year - 3, day=1)
    rates = [CostRate(level=level, hourly_rate=rate, valid_from=since) for level, rate in LEVEL_RATES.items()]
    rates += [
        CostRate(group_id=pk, hourly_rate=VENDOR_RATE[0], per_escalation=VENDOR_RATE[1], valid_from=since)
        for pk in SupportGroup.objects.filter(is_vendor=True).values_list("pk", flat=True)
    ]
    CostRate.objects.bulk_create(rates)
    return len(rates)


# --- numbering -----------------------------------------------------------------------------------------


def _last_number(kind: str) -> int:
    """The highest number handed out for ``kind``, by the tickets or by the counter."""
    last = Ticket.objects.filter(kind=kind).aggregate(m=Max("number"))["m"] or 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT last_value, is_called FROM tickets_number_{kind}_seq")  # noqa: S608
            value, called = cursor.fetchone()
            return max(last, int(value) if called else int(value) - 1)
    counter = TicketCounter.objects.filter(kind=kind).values_list("last", flat=True).first()
    return max(last, counter or 0)


def _save_numbers(numbers: dict[str, int]) -> None:
    """Move the sequences (PostgreSQL) or counters (SQLite) past the demo's numbers."""
    for kind, last in numbers.items():
        if last <= 0:
            continue
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT setval(%s, %s)", [f"tickets_number_{kind}_seq", last])
        else:
            TicketCounter.objects.update_or_create(kind=kind, defaults={"last": last})


# --- one ticket -------------------------------------------------------------------------------------------


@dataclass
class Line:
    at: datetime
    author: int
    body: str
    internal: bool
    comment: Comment | None = None
    minutes: int = 0  # time the author logged with this reply or note
    entry: TimeEntry | None = None


@dataclass
class Survey:
    asked_at: datetime
    answered_at: datetime | None = None
    score: int = 0
    comment: str = ""


@dataclass
class Draft:
    ticket: Ticket
    lines: list[Line]
    events: list[tuple[datetime, str, int | None, bool, dict[str, object]]]  # at, kind, actor, internal, data
    survey: Survey | None = None


def _timeline(rng: random.Random, status: str, now: datetime, steps: int) -> tuple[datetime, list[datetime]]:
    """Creation time and ``steps`` increasing times after it, consistent with the final status."""
    day = 86_400.0
    if status in (S.CLOSED, S.CANCELLED):
        created = now - timedelta(seconds=rng.uniform(9 * day, 730 * day))
        span = rng.uniform(600, 5 * day)
    elif status == S.RESOLVED:
        end = now - timedelta(seconds=rng.uniform(60, 6 * day))
        span = rng.uniform(600, 3 * day)
        created = end - timedelta(seconds=span)
    else:
        age = rng.uniform(60, (3 if status == S.NEW else 25) * day)
        created = now - timedelta(seconds=age)
        span = age * 0.9
    times = sorted(created + timedelta(seconds=rng.uniform(1, span)) for _ in range(steps))
    return created, times


def _subject(rng: random.Random, topic: str, lang: str) -> str:
    base = rng.choice(txt.SUBJECTS.get(topic, txt.GENERIC_SUBJECTS)[lang])
    return f"{base} ({rng.choice(txt.PLACES[lang])})" if rng.random() < 0.5 else base


def _description(rng: random.Random, lang: str) -> str:
    body = " ".join(rng.sample(txt.DESCRIPTIONS[lang], 2))
    return f"{rng.choice(txt.GREETINGS[lang])}\n\n{body}\n\n{rng.choice(txt.SIGN_OFFS[lang])}"


def _working_group(rng: random.Random, cat: Catalogue, topic: str) -> tuple[int, str, list[int]]:
    roll = rng.random()
    if roll < 0.4 or not cat.escalation:
        return cat.triage
    if roll < 0.9 and cat.groups_by_topic.get(topic):
        return rng.choice(cat.groups_by_topic[topic])
    return rng.choice(cat.escalation)


def _script(rng: random.Random, status: str) -> list[tuple[str, str, str]]:
    """(step, who, text key) in order: step is a status or "" for a line said at creation time."""
    script: list[tuple[str, str, str]] = [("", who, key) for who, key, p in LINES[S.NEW] if rng.random() < p]
    for step in PATHS[status]:
        if step == S.CANCELLED:
            script += [("", who, key) for who, key, _p in LINES[S.CANCELLED]]
        script.append((step, "", ""))
        if step != S.CANCELLED:
            script += [("", who, key) for who, key, p in LINES[step] if rng.random() < p]
    return script


def _draft(rng: random.Random, cat: Catalogue, kind: str, number: int, now: datetime) -> Draft:
    status = _pick(rng, STATUS_WEIGHTS)
    requester = cat.featured_requester if rng.random() < 0.01 else rng.choice(cat.requesters)
    lang = requester[2]
    category_id, topic = rng.choice(cat.categories)
    group = cat.triage if status in (S.NEW, S.CANCELLED) else _working_group(rng, cat, topic)
    assignee = rng.choice(group[2]) if group[2] and status not in (S.NEW, S.CANCELLED) else None
    if assignee is None and status != S.CANCELLED:
        status = S.NEW
    script = _script(rng, status)
    created, times = _timeline(rng, status, now, len(script))
    impact, urgency = _pick(rng, LEVELS), _pick(rng, LEVELS)
    ticket = Ticket(
        kind=kind,
        number=number,
        subject=_subject(rng, topic, lang),
        description=_description(rng, lang),
        requester_id=requester[0],
        organisation_id=requester[1],
        category_id=category_id or None,
        impact=impact,
        urgency=urgency,
        priority=cat.matrix[(impact, urgency)],
        status=status,
        group_id=group[0],
        assignee_id=assignee,
        channel=_pick(rng, CHANNELS),
        created_by_id=requester[0],
        created_at=created,
        updated_at=times[-1] if times else created,
        version=1 + len(script),
    )
    draft = Draft(ticket=ticket, lines=[], events=[])
    _created_event(draft, cat)
    _play(rng, draft, script, times, lang=lang, group=group, cat=cat)
    _survey(rng, draft, lang=lang, now=now)
    return draft


def _created_event(draft: Draft, cat: Catalogue) -> None:
    t = draft.ticket
    data: dict[str, object] = {
        "reference": f"{Ticket.PREFIXES[t.kind]}-{t.number}",
        "status": S.NEW,
        "priority": t.priority,
        "channel": t.channel,
        "group": cat.triage[1],
        "assignee": None,
    }
    draft.events.append((t.created_at, E.CREATED, t.requester_id, False, data))


def _play(
    rng: random.Random,
    draft: Draft,
    script: list[tuple[str, str, str]],
    times: list[datetime],
    *,
    lang: str,
    group: tuple[int, str, list[int]],
    cat: Catalogue,
) -> None:
    """Turn the script into comments, events and the ticket's timestamps."""
    t = draft.ticket
    agent = t.assignee_id
    logs_time = agent is not None and rng.random() < TIME_SHARE
    old: str = S.NEW
    for (step, who, key), at in zip(script, times, strict=True):
        if step:
            actor = _status_actor(step, t.requester_id, agent)
            data: dict[str, object] = {"old": old, "new": step}
            if step == S.CLOSED and actor is None:
                data["reason"] = "reopen-window-elapsed"
            if step == S.ASSIGNED:
                _assignment_events(draft, at, agent, group=group, cat=cat)
            draft.events.append((at, E.STATUS, actor, False, data))
            old = step
            if step == S.RESOLVED:
                t.resolved_at = at
                t.resolved_level = cat.levels.get(group[0], 1)
            if step in (S.CLOSED, S.CANCELLED):
                t.closed_at = at
            continue
        author = t.requester_id if who == "requester" else (agent or rng.choice(group[2] or [t.requester_id]))
        body = rng.choice(txt.NOTES[lang]) if who == "note" else rng.choice(txt.REPLIES[key][lang])
        line = Line(at=at, author=author, body=body, internal=who == "note")
        if logs_time and who != "requester" and rng.random() < TIME_PER_LINE:
            line.minutes = int(_pick(rng, {str(m): w for m, w in MINUTES.items()}))
        draft.lines.append(line)
        if who == "agent" and t.first_response_at is None:
            t.first_response_at = at


def _status_actor(step: str, requester: int, agent: int | None) -> int | None:
    if step == S.CANCELLED:
        return requester
    if step == S.CLOSED:
        return requester if requester % 3 == 0 else None
    return agent


def _assignment_events(
    draft: Draft, at: datetime, agent: int | None, *, group: tuple[int, str, list[int]], cat: Catalogue
) -> None:
    if group[0] != cat.triage[0]:
        draft.events.append((at, E.CHANGED, agent, True, {"field": "group", "old": cat.triage[1], "new": group[1]}))
        level = cat.levels.get(group[0], 1)
        if level > 1:  # sent up from the service desk: an escalation, as routing records it
            data: dict[str, object] = {
                "from_group": cat.triage[1],
                "to_group": group[1],
                "from_level": 1,
                "to_level": level,
                "reason": "",
            }
            draft.events.append((at, E.ESCALATED, None, True, data))
    new = cat.names.get(agent or 0, "")
    draft.events.append((at, E.CHANGED, agent, True, {"field": "assignee", "old": None, "new": new}))


def _survey(rng: random.Random, draft: Draft, *, lang: str, now: datetime) -> None:
    """The satisfaction survey of a resolved ticket: asked on resolution, sometimes answered."""
    t = draft.ticket
    if t.resolved_at is None or rng.random() >= SURVEY_ASKED:
        return
    survey = Survey(asked_at=min(t.resolved_at + timedelta(seconds=rng.uniform(5, 120)), now))
    draft.survey = survey
    if rng.random() >= SURVEY_ANSWERED:
        return
    latest = min(survey.asked_at + timedelta(days=2), now)
    survey.answered_at = survey.asked_at + (latest - survey.asked_at) * rng.random()
    survey.score = int(_pick(rng, {str(s): w for s, w in SCORES.items()}))
    if rng.random() < 0.45:
        survey.comment = rng.choice(txt.SURVEY_COMMENTS["good" if survey.score >= 4 else "bad"][lang])
    data: dict[str, object] = {"score": survey.score, "comment": survey.comment}
    draft.events.append((survey.answered_at, E.SURVEY, t.requester_id, True, data))
    t.updated_at = max(t.updated_at, survey.answered_at)


# --- batches -----------------------------------------------------------------------------------------------


def _insert_batch(drafts: list[Draft]) -> tuple[int, int]:
    """Write one batch of drafted tickets with their comments, events and search entries."""
    Ticket.objects.bulk_create([d.ticket for d in drafts])
    comments: list[Comment] = []
    for d in drafts:
        for line in d.lines:
            line.comment = Comment(
                ticket_id=d.ticket.pk,
                author_id=line.author,
                body=line.body,
                is_internal=line.internal,
                channel=d.ticket.channel if line.author == d.ticket.requester_id else Ticket.Channel.WEB,
                created_at=line.at,
            )
            comments.append(line.comment)
    Comment.objects.bulk_create(comments)
    TimeEntry.objects.bulk_create(_time_entries(drafts))
    events = [ev for d in drafts for ev in _events_of(d)]
    TicketEvent.objects.bulk_create(events)
    SearchEntry.objects.bulk_create(_entries(drafts))
    _surveys(drafts)
    return len(comments), len(events)


def _time_entries(drafts: list[Draft]) -> list[TimeEntry]:
    """The minutes logged with replies and notes, dated by the work day in the desk's time zone."""
    entries = []
    for d in drafts:
        for line in d.lines:
            if line.minutes:
                line.entry = TimeEntry(
                    ticket_id=d.ticket.pk,
                    author_id=line.author,
                    minutes=line.minutes,
                    work_date=timezone.localtime(line.at).date(),
                    comment=line.comment,
                    source=TimeEntry.Source.NOTE if line.internal else TimeEntry.Source.REPLY,
                    created_at=line.at,
                    updated_at=line.at,
                )
                entries.append(line.entry)
    return entries


def _surveys(drafts: list[Draft]) -> None:
    asked, answers = [], []
    for d in drafts:
        survey, t = d.survey, d.ticket
        if survey is None:
            continue
        asked.append(SurveyRequest(ticket_id=t.pk, sent_at=survey.asked_at))
        if survey.answered_at is not None:
            answers.append(
                SurveyResponse(
                    ticket_id=t.pk,
                    requester_id=t.requester_id,
                    score=survey.score,
                    comment=survey.comment,
                    answered_at=survey.answered_at,
                    updated_at=survey.answered_at,
                )
            )
    SurveyRequest.objects.bulk_create(asked)
    SurveyResponse.objects.bulk_create(answers)


def _events_of(draft: Draft) -> list[TicketEvent]:
    tid = draft.ticket.pk
    out = []
    for at, kind, actor, internal, data in draft.events:
        out.append(
            TicketEvent(ticket_id=tid, kind=kind, actor_id=actor, is_internal=internal, data=data, created_at=at)
        )
    for line in draft.lines:
        assert line.comment is not None
        kind = E.NOTED if line.internal else E.COMMENTED
        out.append(
            TicketEvent(
                ticket_id=tid,
                kind=kind,
                actor_id=line.author,
                is_internal=line.internal,
                data={"comment": line.comment.pk},
                created_at=line.at,
            )
        )
        if line.entry is not None:
            data = {"entry": line.entry.pk, "minutes": line.minutes, "work_date": line.entry.work_date.isoformat()}
            out.append(
                TicketEvent(
                    ticket_id=tid,
                    kind=E.TIME_LOGGED,
                    actor_id=line.author,
                    is_internal=True,
                    data=data,
                    created_at=line.at,
                )
            )
    return out


def _entries(drafts: list[Draft]) -> list[SearchEntry]:
    entries = []
    for d in drafts:
        t = d.ticket
        entries.append(SearchEntry(ticket_id=t.pk, text=f"{_norm(t.subject)}\n{_norm(t.description)}"))
        for line in d.lines:
            assert line.comment is not None
            entries.append(
                SearchEntry(
                    ticket_id=t.pk, comment_id=line.comment.pk, is_internal=line.internal, text=_norm(line.body)
                )
            )
    return entries


def run_demo(
    *, tickets: int, seed: int | None = None, batch: int = BATCH, progress: Callable[[int, int], None] | None = None
) -> DemoResult:
    """Create the demo people (once) and ``tickets`` more tickets. Returns counts and timing."""
    started = timezone.now()
    rng = random.Random(seed)
    cat, created = _catalogue(rng)
    _rates(timezone.localdate())
    numbers = {kind: _last_number(kind) for kind in KINDS}
    first_new = (Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    now = timezone.now()
    done = comments = events = 0
    while done < tickets:
        size = min(batch, tickets - done)
        drafts = []
        for _ in range(size):
            kind = _pick(rng, KINDS)
            numbers[kind] += 1
            drafts.append(_draft(rng, cat, kind, numbers[kind], now))
        with transaction.atomic():
            c, e = _insert_batch(drafts)
            _save_numbers(numbers)
        done, comments, events = done + size, comments + c, events + e
        if progress:
            progress(done, tickets)
    stream.skip_to_end()  # demo history is not news: no notification or rule runs for it
    facts.recompute_from(first_new)  # ...but the dashboards need the new tickets' facts
    seconds = (timezone.now() - started).total_seconds()
    return DemoResult(created, done, comments, events, seconds, numbers)
