"""Running one rule's actions on one ticket, as the automation user, through the ticket, routing,
email and chat services (history, versions, hooks and permissions as for a person)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from palier.assets import services as asset_services
from palier.assets.models import Asset
from palier.automation import actions as specs
from palier.automation.services import webhooks
from palier.automation.services.rules import CompiledRule
from palier.integrations import outbound
from palier.integrations.models import ChatApp
from palier.notifications import email
from palier.people.models import SupportGroup, User
from palier.problems import services as problem_services
from palier.problems.models import Problem, ProblemIncident
from palier.routing.services import escalation
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Ticket
from palier.worklist.models import TaskTemplate
from palier.worklist.services import tasks as worklist_tasks

S = Ticket.Status


class MissingReference(Exception):
    """The rule names a group, agent, category or chat app that no longer exists."""


@dataclass
class Run:
    rule: CompiledRule
    ticket: Ticket
    robot: User
    key: str  # unique per rule run: idempotency key of emails
    trigger: str
    event_id: int | None = None
    index: int = 0  # of the action being run
    done: list[str] = field(default_factory=list)

    @property
    def action_key(self) -> str:
        return f"{self.key}:{self.index}"


def get_referenced(model: Any, pk: int, **extra: Any) -> Any:
    """The row an action names, or ``MissingReference`` (the rule is then turned off)."""
    found = model.objects.filter(pk=pk, **extra).first()
    if found is None:
        raise MissingReference(
            _("The %(what)s #%(id)d it refers to no longer exists or is inactive.")
            % {"what": model._meta.verbose_name, "id": pk}
        )
    return found


def placeholders(ticket: Ticket, *, rule: str, link: str = "") -> dict[str, str]:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": str(S(ticket.status).label),
        "priority": f"P{ticket.priority}",
        "group": ticket.group.name if ticket.group_id and ticket.group else "",
        "assignee": ticket.assignee.display_name if ticket.assignee_id and ticket.assignee else "",
        "requester": ticket.requester.display_name,
        "link": link or email.ticket_url(ticket, None),
        "rule": rule,
    }


# --- field changes ------------------------------------------------------------------------------------


def _update(run: Run, changes: dict[str, Any]) -> str:
    before = run.ticket.version
    run.ticket = ticket_services.update_ticket(run.ticket, by=run.robot, expected_version=None, changes=changes)
    return ",".join(sorted(changes)) if run.ticket.version != before else ""


def _set_status(run: Run, action: dict[str, Any]) -> str:
    target = action["value"]
    if run.ticket.status == target:
        return ""
    run.ticket = ticket_services.transition_ticket(run.ticket, to=target, by=run.robot)
    return f"status={target}"


def _close(run: Run, action: dict[str, Any]) -> str:
    if run.ticket.status in (S.CLOSED, S.CANCELLED):
        return ""
    if run.ticket.is_open and S.CLOSED not in _targets(run.ticket.status):
        run.ticket = ticket_services.transition_ticket(run.ticket, to=S.RESOLVED, by=run.robot)
    run.ticket = ticket_services.transition_ticket(run.ticket, to=S.CLOSED, by=run.robot)
    return "closed"


def _targets(status: str) -> frozenset[str]:
    from palier.tickets.rules import allowed_targets

    return allowed_targets(status, as_requester=False)


def _set_priority(run: Run, action: dict[str, Any]) -> str:
    priority = int(action["value"])
    if run.ticket.priority == priority:
        return ""
    run.ticket = ticket_services.override_priority(run.ticket, priority=priority, by=run.robot)
    return f"priority={priority}"


def _set_group(run: Run, action: dict[str, Any]) -> str:
    group = get_referenced(SupportGroup, int(action["value"]))
    if run.ticket.group_id == group.pk:
        return ""
    run.ticket = ticket_services.move_to_group(
        run.ticket, group=group, by=run.robot, auto_assign=True, assign_as=run.robot
    )
    return f"group={group.name}"


def _set_assignee(run: Run, action: dict[str, Any]) -> str:
    user = get_referenced(User, int(action["value"]), is_active=True)
    return _update(run, {"assignee": user}) and f"assignee={user.display_name}"


def _set_category(run: Run, action: dict[str, Any]) -> str:
    category = get_referenced(Category, int(action["value"]))
    return _update(run, {"category": category}) and f"category={category.slug}"


def _tags(run: Run, action: dict[str, Any]) -> str:
    current = set(run.ticket.tags.values_list("name", flat=True))
    given = set(specs.split_tags(action["value"]))
    wanted = current | given if action["type"] == "add_tags" else current - given
    if wanted == current:
        return ""
    return _update(run, {"tags": sorted(wanted)}) and "tags"


def _escalate(run: Run, action: dict[str, Any]) -> str:
    reason = action.get("text") or _("Automation rule “%(rule)s”") % {"rule": run.rule.name}
    reason = specs.fill(reason, placeholders(run.ticket, rule=run.rule.name))
    run.ticket = escalation.escalate(run.ticket, by=run.robot, reason=reason)
    return "escalated"


def _note(run: Run, action: dict[str, Any]) -> str:
    body = specs.fill(action["text"], placeholders(run.ticket, rule=run.rule.name))
    ticket_services.comment_on_ticket(run.ticket, by=run.robot, body=body, internal=True)
    run.ticket = Ticket.objects.get(pk=run.ticket.pk)
    return "note"


# --- messages -------------------------------------------------------------------------------------------


def _recipients(run: Run, to: str) -> list[User]:
    ticket = run.ticket
    if to == "requester":
        return [ticket.requester]
    if to == "assignee":
        return [ticket.assignee] if ticket.assignee_id and ticket.assignee else []
    group = ticket.group if ticket.group_id else None
    if group is None:
        return []
    if to == "manager":
        return [group.manager] if group.manager_id and group.manager else []
    return list(group.members.filter(is_active=True).order_by("pk"))


def _email(run: Run, action: dict[str, Any]) -> str:
    to = action["to"]
    template = action.get("template")
    users = (
        _recipients(run, to) if to != "address" else [User(email=action["address"], language=settings.LANGUAGE_CODE)]
    )
    sent = 0
    for user in users:
        if template:
            subject, text, html = email.render_for(
                user, template=f"automation/email/{template}", context={"rule": run.rule.name}, ticket=run.ticket
            )
        else:
            values = placeholders(run.ticket, rule=run.rule.name, link=email.ticket_url(run.ticket, user))
            subject, text, html = specs.fill(action["subject"], values), specs.fill(action["text"], values), ""
        target: User | str = user if user.pk else user.email
        sent += email.queue_email(
            to=[target], subject=subject, text=text, html=html, ticket=run.ticket, key=run.action_key
        )
    return f"email×{sent}" if sent else ""


def _chat(run: Run, action: dict[str, Any]) -> str:
    app = get_referenced(ChatApp, int(action["value"]), is_active=True)
    if not app.notify_url:
        raise MissingReference(_("The chat app “%(name)s” has no channel URL.") % {"name": app.name})
    text = specs.fill(action["text"], placeholders(run.ticket, rule=run.rule.name))
    if app.kind == ChatApp.Kind.SLACK:
        outbound.post_slack(app.notify_url, text)
    else:
        title = f"{run.ticket.reference} {run.ticket.subject}"
        outbound.post_teams(app.notify_url, title=title, text=text, link=email.ticket_url(run.ticket, app_user()))
    return f"chat={app.name}"


def app_user() -> User:
    return User(role=User.Role.AGENT)  # an agent's link to the ticket


def _webhook(run: Run, action: dict[str, Any]) -> str:
    webhooks.queue_webhook(
        url=action["url"],
        secret=run.rule.secret,
        payload=webhooks.payload(run.ticket, rule_id=run.rule.id, rule_name=run.rule.name, trigger=run.trigger,
                                 event_id=run.event_id, key=run.action_key),
    )  # fmt: skip
    return "webhook"


def _link_asset(run: Run, action: dict[str, Any]) -> str:
    """Link an asset to the ticket: by its tag, or the requester's asset of a type. Rules act for
    the desk (``actor`` None), so the link is not limited to what an agent sees."""
    if action["type"] == "link_asset":
        asset = Asset.objects.filter(tag__iexact=action["value"]).first()
        if asset is None:
            raise MissingReference(_("No asset has the tag “%(tag)s”.") % {"tag": action["value"]})
    else:
        asset = (
            Asset.objects.filter(assigned_to_id=run.ticket.requester_id, type__slug=action["value"])
            .exclude(status__in=[Asset.Status.DISPOSED, Asset.Status.RETIRED])
            .order_by("tag")
            .first()
        )
        if asset is None:
            return ""  # the requester has none: nothing to do
    return f"asset={asset.tag}" if asset_services.link_ticket(None, run.ticket, asset) else ""


def _link_problem(run: Run, action: dict[str, Any]) -> str:
    """Link the incident to the problem named (through ``link_incidents``, as the automation
    user). A request, or an incident already linked to a problem, is left as it is."""
    number = int(str(action["value"]).rpartition("-")[2])
    problem = Problem.objects.filter(number=number).first()
    if problem is None:
        raise MissingReference(_("No problem has the reference “%(ref)s”.") % {"ref": action["value"]})
    if run.ticket.kind != Ticket.Kind.INCIDENT or ProblemIncident.objects.filter(ticket_id=run.ticket.pk).exists():
        return ""
    outcome = problem_services.link_incidents(problem, [run.ticket.pk], by=run.robot)
    return f"problem={problem.reference}" if outcome.linked else ""


def _add_tasks(run: Run, action: dict[str, Any]) -> str:
    """Add the tasks of a task template to the ticket (as Palier itself: a rule is no agent)."""
    template = get_referenced(TaskTemplate, int(action["value"]), is_active=True)
    if not run.ticket.is_open:
        return ""
    added = worklist_tasks.add_template_tasks(run.ticket, template, by=None)
    return f"tasks={len(added)}"


HANDLERS: dict[str, Callable[[Run, dict[str, Any]], str]] = {
    "set_status": _set_status,
    "set_priority": _set_priority,
    "set_group": _set_group,
    "set_assignee": _set_assignee,
    "set_category": _set_category,
    "add_tags": _tags,
    "remove_tags": _tags,
    "escalate": _escalate,
    "note": _note,
    "email": _email,
    "chat": _chat,
    "webhook": _webhook,
    "close": _close,
    "link_asset": _link_asset,
    "link_requester_asset": _link_asset,
    "link_problem": _link_problem,
    "add_tasks": _add_tasks,
}


def run_actions(run: Run) -> list[str]:
    """Run the rule's actions in order (the caller holds a savepoint: a failure undoes them all)."""
    return run_with(run, HANDLERS)


def run_with(run: Any, handlers: Mapping[str, Callable[[Any, dict[str, Any]], str]]) -> list[str]:
    """Run ``run.rule``'s actions in order with ``handlers`` (ticket rules' or a subject's), keeping
    what each did in ``run.done``; an unknown action type stops the run."""
    for index, action in enumerate(run.rule.actions):
        run.index = index
        handler = handlers.get(str(action.get("type")))
        if handler is None:
            raise MissingReference(_("Unknown action “%(type)s”.") % {"type": action.get("type")})
        done = handler(run, action)
        if done:
            run.done.append(done)
    done_list: list[str] = run.done
    return done_list
