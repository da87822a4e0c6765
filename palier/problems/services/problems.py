"""Writes on problems: create, edit, move through the lifecycle, link incidents, assets and
articles, comment. Each runs in one transaction, with the problem's row locked and its version
checked, and leaves one history event per change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.assets import permissions as asset_permissions
from palier.assets.models import Asset
from palier.core.numbers import next_number
from palier.kb.models import Article
from palier.lib.errors import IllegalTransition, PermissionDenied, StaleVersion
from palier.lib.text import normalise
from palier.notifications import services as notifications
from palier.notifications.models import Notification
from palier.people.models import SupportGroup, User
from palier.problems import history, permissions, rules, search
from palier.problems.models import Problem, ProblemArticle, ProblemAsset, ProblemComment, ProblemEvent, ProblemIncident
from palier.tickets import history as ticket_history
from palier.tickets import permissions as ticket_permissions
from palier.tickets.models import Category, Level, Ticket, TicketEvent
from palier.tickets.services import priority_for

E = ProblemEvent.Kind
MAX_TITLE = 250
MAX_TEXT = 20_000
MAX_LINK_BATCH = 1000  # incidents linked in one action
EDITABLE: tuple[str, ...] = (
    "title",
    "description",
    "category",
    "impact",
    "urgency",
    "group",
    "assignee",
    "root_cause",
    "workaround",
    "permanent_fix",
    "respond_by",
    "resolve_by",
)
TEXT_FIELDS = ("title", "description", "root_cause", "workaround", "permanent_fix")


def _labels() -> dict[str, str]:
    return {"root_cause": _("root cause"), "workaround": _("workaround")}


def tell_watchers(problem: Problem, event: ProblemEvent, *, by: User | None, what: str) -> int:
    """An in-app notification to each watcher of ``problem`` but the one who acted, once per
    event (keyed by it); ``what``: "status", "comment" or "resolved". Returns how many were told."""
    watchers = [u for u in problem.watchers.all() if by is None or u.pk != by.pk]
    if not watchers:
        return 0
    return notifications.notify(
        watchers,
        kind=Notification.Kind.PROBLEM,
        key=f"problem-event:{event.pk}",
        problem=problem.pk,
        reference=problem.reference,
        title=problem.title,
        what=what,
        status=problem.status,
    )


def _require(by: User | None, action: permissions.Action) -> None:
    if not permissions.can(by, action):
        raise PermissionDenied(_("You may not do this with problems."))


def search_text_of(problem: Problem) -> str:
    parts = [problem.reference, problem.title, problem.description, problem.root_cause, problem.workaround]
    return normalise(" ".join(p for p in parts if p))


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Check the editable values; raise ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    out = dict(values)
    _clean_texts(out, errors)
    _clean_references(out, errors)
    unknown = set(out) - set(EDITABLE)
    if unknown:
        errors[sorted(unknown)[0]] = _("This field cannot be changed.")
    if errors:
        raise ValidationError(errors)
    return out


def _clean_texts(out: dict[str, Any], errors: dict[str, str]) -> None:
    for name in TEXT_FIELDS:
        if name in out:
            text = str(out[name] or "").strip()
            limit = MAX_TITLE if name == "title" else MAX_TEXT
            if len(text) > limit:
                errors[name] = _("At most %(n)d characters.") % {"n": limit}
            out[name] = text
    if "title" in out and not out["title"]:
        errors["title"] = _("Give the problem a title.")


def _clean_references(out: dict[str, Any], errors: dict[str, str]) -> None:
    for name in ("impact", "urgency"):
        if name in out and out[name] not in Level.values:
            errors[name] = _("Choose high, medium or low.")
    if "category" in out and out["category"] is not None and not isinstance(out["category"], Category):
        errors["category"] = _("Choose a category from the list.")
    if "group" in out and out["group"] is not None and not isinstance(out["group"], SupportGroup):
        errors["group"] = _("Choose a group from the list.")
    assignee = out.get("assignee")
    if assignee is not None and (not isinstance(assignee, User) or not assignee.is_agent or not assignee.is_active):
        errors["assignee"] = _("The owner must be an active agent.")
    for name in ("respond_by", "resolve_by"):
        if name in out and out[name] is not None and not isinstance(out[name], datetime):
            errors[name] = _("Enter a date and time.")


def _lock(problem: Problem, version: int | None) -> Problem:
    locked = Problem.objects.select_for_update().get(pk=problem.pk)
    if version is not None and locked.version != version:
        raise StaleVersion(
            _("The problem was changed by someone else (version %(now)d, you saw %(seen)d). Reload it and try again.")
            % {"now": locked.version, "seen": version}
        )
    return locked


def _bump(problem: Problem, fields: Iterable[str]) -> None:
    problem.updated_at = timezone.now()
    problem.version += 1
    problem.search_text = search_text_of(problem)
    problem.save(update_fields=[*fields, "updated_at", "version", "search_text"])
    search.sync_index(problem)


@transaction.atomic
def create_problem(
    *,
    by: User | None,
    title: str,
    description: str = "",
    category: Category | None = None,
    impact: str = Level.MEDIUM,
    urgency: str = Level.MEDIUM,
    group: SupportGroup | None = None,
    assignee: User | None = None,
    root_cause: str = "",
    workaround: str = "",
    asset_ids: Sequence[int] = (),
    incident_ids: Sequence[int] = (),
    article_ids: Sequence[int] = (),
) -> Problem:
    """Open a problem, optionally with its incidents, assets and articles (all checked first:
    one that is refused refuses the whole creation)."""
    _require(by, "edit")
    values = _clean(
        {
            "title": title,
            "description": description,
            "category": category,
            "impact": impact,
            "urgency": urgency,
            "group": group,
            "assignee": assignee,
            "root_cause": root_cause,
            "workaround": workaround,
        }
    )
    now = timezone.now()
    problem = Problem(
        number=next_number("problem"),
        priority=priority_for(values["impact"], values["urgency"]),
        created_by=by if by is not None and by.pk else None,
        created_at=now,
        updated_at=now,
        **values,
    )
    problem.search_text = search_text_of(problem)
    problem.save()
    search.sync_index(problem)
    history.record(problem, E.CREATED, actor=by, data={"title": problem.title})
    if asset_ids:
        link_assets(problem, asset_ids, by=by)
    if article_ids:
        link_articles(problem, article_ids, by=by)
    if incident_ids:
        link_incidents(problem, incident_ids, by=by)
    problem.refresh_from_db()
    return problem


@transaction.atomic
def update_problem(problem: Problem, *, by: User | None, version: int | None = None, **values: Any) -> Problem:
    """Change the editable fields; one ``changed`` event lists each field old → new."""
    _require(by, "edit")
    values = _clean(values)
    locked = _lock(problem, version)
    if not locked.is_open and set(values) - {"permanent_fix"}:
        raise IllegalTransition(_("A resolved or closed problem cannot be edited; reopen it first."))
    changed: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(locked, name)
        if old != value:
            changed[name] = [old, value]
            setattr(locked, name, value)
    if locked.status == Problem.Status.KNOWN_ERROR and not locked.workaround:
        raise ValidationError({"workaround": _("A known error needs its workaround.")})
    if not changed:
        return locked
    fields = list(changed)
    if {"impact", "urgency"} & set(changed):
        priority = priority_for(locked.impact, locked.urgency)
        if priority != locked.priority:
            changed["priority"] = [locked.priority, priority]
            locked.priority = priority
            fields.append("priority")
    _bump(locked, fields)
    history.record(locked, E.CHANGED, actor=by, data=changed)
    return locked


@transaction.atomic
def transition_problem(problem: Problem, *, to: str, by: User | None, version: int | None = None) -> Problem:
    """Move the problem along ``rules.TRANSITIONS``; resolving and closing are for problem managers."""
    _require(by, "edit")
    if to in rules.MANAGER_ONLY and not permissions.is_problem_manager(by):
        raise PermissionDenied(_("Only a problem manager may resolve or close a problem."))
    locked = _lock(problem, version)
    if to not in rules.allowed_targets(locked.status):
        raise IllegalTransition(
            _("A problem cannot go from “%(old)s” to “%(new)s”.")
            % {
                "old": Problem.Status(locked.status).label,
                "new": Problem.Status(to).label if to in Problem.Status.values else to,
            }
        )
    missing = [name for name in rules.REQUIRES.get(to, ()) if not getattr(locked, name).strip()]
    if missing:
        raise ValidationError({name: _("Write the %(field)s first.") % {"field": _labels()[name]} for name in missing})
    old = locked.status
    now = timezone.now()
    locked.status = to
    fields = ["status"]
    if to == Problem.Status.KNOWN_ERROR and locked.known_error_at is None:
        locked.known_error_at = now
        fields.append("known_error_at")
    if to == Problem.Status.RESOLVED:
        locked.resolved_at = now
        fields.append("resolved_at")
    elif to == Problem.Status.CLOSED:
        locked.closed_at = now
        fields.append("closed_at")
    elif old in (Problem.Status.RESOLVED,):
        locked.resolved_at = None
        fields.append("resolved_at")
    _bump(locked, fields)
    event = history.record(locked, E.STATUS, actor=by, data={"status": [old, to]})
    tell_watchers(locked, event, by=by, what="status")
    return locked


@dataclass
class LinkOutcome:
    linked: list[Ticket] = field(default_factory=list)
    already: int = 0  # already linked to this problem: nothing to do


@transaction.atomic
def link_incidents(problem: Problem, ticket_ids: Sequence[int], *, by: User | None) -> LinkOutcome:
    """Link incidents to the problem, all or nothing: a ticket the user may not see (or that does
    not exist), a request, or an incident of another problem refuses the whole batch. Linking an
    incident already linked here is a no-op, so a retried bulk action adds nothing. Written with
    a fixed number of statements whatever the batch size."""
    _require(by, "edit")
    assert by is not None
    wanted = sorted({int(t) for t in ticket_ids})
    if not wanted:
        raise ValidationError({"tickets": _("Choose at least one incident.")})
    if len(wanted) > MAX_LINK_BATCH:
        raise ValidationError({"tickets": _("At most %(n)d incidents at a time.") % {"n": MAX_LINK_BATCH}})
    locked = _lock(problem, None)
    if locked.status == Problem.Status.CLOSED:
        raise IllegalTransition(_("A closed problem takes no more incidents."))
    tickets = list(
        Ticket.objects.filter(ticket_permissions.visible(by), pk__in=wanted).only("id", "kind", "number", "version")
    )
    if len(tickets) != len(wanted):
        missing = len(wanted) - len(tickets)
        raise ValidationError(
            {
                "tickets": _("%(n)d of these tickets do not exist or you may not see them; nothing was linked.")
                % {"n": missing}
            }
        )
    requests = [t.reference for t in tickets if t.kind != Ticket.Kind.INCIDENT]
    if requests:
        raise ValidationError(
            {"tickets": _("Only incidents are linked to problems: %(refs)s.") % {"refs": ", ".join(requests[:10])}}
        )
    existing = dict(ProblemIncident.objects.filter(ticket_id__in=wanted).values_list("ticket_id", "problem_id"))
    elsewhere = [t for t in tickets if existing.get(t.pk) not in (None, locked.pk)]
    if elsewhere:
        other = Problem.objects.in_bulk([existing[t.pk] for t in elsewhere])
        names = [f"{t.reference} → {other[existing[t.pk]].reference}" for t in elsewhere[:10]]
        raise ValidationError(
            {
                "tickets": _("Already linked to another problem: %(list)s. Remove them there first.")
                % {"list": ", ".join(names)}
            }
        )
    new = [t for t in tickets if t.pk not in existing]
    outcome = LinkOutcome(linked=new, already=len(tickets) - len(new))
    if not new:
        return outcome
    now = timezone.now()
    ProblemIncident.objects.bulk_create(
        [ProblemIncident(problem=locked, ticket=t, linked_by=by, linked_at=now) for t in new]
    )
    ticket_history.record_many(
        [
            ticket_history.build(
                t,
                TicketEvent.Kind.PROBLEM,
                by=by,
                internal=True,
                reference=locked.reference,
                action="linked",
                problem=locked.pk,
            )
            for t in new
        ]
    )
    history.record(
        locked, E.INCIDENT_LINKED, actor=by, data={"count": len(new), "tickets": [t.reference for t in new[:50]]}
    )
    _bump(locked, [])
    return outcome


@transaction.atomic
def unlink_incident(problem: Problem, ticket: Ticket, *, by: User | None) -> None:
    _require(by, "edit")
    assert by is not None
    locked = _lock(problem, None)
    if not ticket_permissions.can_see(by, ticket):
        raise ValidationError({"tickets": _("This ticket does not exist or you may not see it.")})
    deleted, _rows = ProblemIncident.objects.filter(problem=locked, ticket=ticket).delete()
    if not deleted:
        return
    ticket_history.record(
        ticket,
        TicketEvent.Kind.PROBLEM,
        by=by,
        internal=True,
        reference=locked.reference,
        action="unlinked",
        problem=locked.pk,
    )
    history.record(locked, E.INCIDENT_UNLINKED, actor=by, data={"ticket": ticket.reference})
    _bump(locked, [])


@transaction.atomic
def link_assets(problem: Problem, asset_ids: Sequence[int], *, by: User | None) -> int:
    """Add affected assets and services the user may see (all or nothing); returns how many were new."""
    _require(by, "edit")
    assert by is not None
    wanted = sorted({int(a) for a in asset_ids})
    assets = list(Asset.objects.filter(asset_permissions.visible(by), pk__in=wanted).only("id", "tag", "name"))
    if len(assets) != len(wanted):
        raise ValidationError(
            {"assets": _("Some of these assets do not exist or you may not see them; nothing was linked.")}
        )
    have = set(ProblemAsset.objects.filter(problem=problem, asset_id__in=wanted).values_list("asset_id", flat=True))
    new = [a for a in assets if a.pk not in have]
    ProblemAsset.objects.bulk_create([ProblemAsset(problem=problem, asset=a) for a in new])
    for asset in new:
        history.record(
            problem, E.ASSET_LINKED, actor=by, data={"asset": asset.pk, "tag": asset.tag, "name": asset.name}
        )
    return len(new)


@transaction.atomic
def unlink_asset(problem: Problem, asset: Asset, *, by: User | None) -> None:
    _require(by, "edit")
    if ProblemAsset.objects.filter(problem=problem, asset=asset).delete()[0]:
        history.record(
            problem, E.ASSET_UNLINKED, actor=by, data={"asset": asset.pk, "tag": asset.tag, "name": asset.name}
        )


@transaction.atomic
def link_articles(problem: Problem, article_ids: Sequence[int], *, by: User | None) -> int:
    _require(by, "edit")
    wanted = sorted({int(a) for a in article_ids})
    articles = list(Article.objects.filter(pk__in=wanted))
    if len(articles) != len(wanted):
        raise ValidationError({"articles": _("Some of these articles do not exist; nothing was linked.")})
    have = set(
        ProblemArticle.objects.filter(problem=problem, article_id__in=wanted).values_list("article_id", flat=True)
    )
    new = [a for a in articles if a.pk not in have]
    ProblemArticle.objects.bulk_create([ProblemArticle(problem=problem, article=a) for a in new])
    for article in new:
        history.record(problem, E.ARTICLE_LINKED, actor=by, data={"article": article.pk})
    return len(new)


@transaction.atomic
def comment_on_problem(problem: Problem, *, by: User | None, body: str, internal: bool = True) -> ProblemComment:
    """A comment: internal for the desk, or public (shown to the requesters of the incidents on
    their request page)."""
    _require(by, "edit")
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    if len(body) > MAX_TEXT:
        raise ValidationError({"body": _("At most %(n)d characters.") % {"n": MAX_TEXT}})
    comment = ProblemComment.objects.create(problem=problem, author=by, body=body, internal=internal)
    event = history.record(problem, E.COMMENT, actor=by, data={"comment": comment.pk, "internal": internal})
    tell_watchers(problem, event, by=by, what="comment")
    return comment
