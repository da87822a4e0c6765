"""Writes of the known-error base: applying a known error's workaround to an incident, and the
problem managers' settings of the candidates (docs/problems.md, "Known errors")."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from palier.lib.errors import Conflict, IllegalTransition, NotFound, PermissionDenied
from palier.people.models import User
from palier.problems import candidates, history, permissions
from palier.problems.models import Problem, ProblemEvent, ProblemIncident, ProblemSettings
from palier.tickets import history as ticket_history
from palier.tickets import permissions as ticket_permissions
from palier.tickets import services as ticket_services
from palier.tickets.models import Comment, Ticket, TicketEvent

from .problems import create_problem, link_incidents

CANDIDATE_LIMITS = {"candidate_incidents": (2, 500), "candidate_days": (1, 365)}
FACTOR_LIMITS = (Decimal("1.1"), Decimal("50"))


@transaction.atomic
def apply_workaround(ticket: Ticket, problem: Problem, *, by: User) -> Comment:
    """Send the problem's workaround to the incident's requester as a public reply, link the
    incident to the problem (when it is not yet) and record it on both histories. Once per
    incident: applying it again is refused and sends nothing."""
    if not permissions.can(by, "edit"):
        raise PermissionDenied(_("You may not apply workarounds."))
    if not ticket_permissions.can_see(by, ticket):
        raise NotFound(_("This ticket does not exist or you may not see it."))
    # the problem's row lock orders every application of its workaround
    locked = Problem.objects.select_for_update().filter(permissions.visible(by), pk=problem.pk).first()
    if locked is None:
        raise NotFound(_("This problem does not exist."))
    if not locked.has_workaround:
        raise ValidationError({"workaround": _("%(ref)s has no workaround yet.") % {"ref": locked.reference}})
    if not locked.is_open:
        raise IllegalTransition(_("%(ref)s is resolved or closed.") % {"ref": locked.reference})
    if ticket.kind != Ticket.Kind.INCIDENT:
        raise ValidationError({"ticket": _("Workarounds are applied to incidents only.")})
    link = ProblemIncident.objects.select_related("problem").filter(ticket_id=ticket.pk).first()
    if link is not None and link.problem_id != locked.pk:
        raise Conflict(
            _("%(ticket)s is already linked to %(other)s; apply that problem's workaround or unlink it first.")
            % {"ticket": ticket.reference, "other": link.problem.reference}
        )
    if link is not None and link.workaround_applied_at is not None:
        raise Conflict(
            _("The workaround of %(ref)s was already applied to %(ticket)s on %(when)s; nothing was sent.")
            % {
                "ref": locked.reference,
                "ticket": ticket.reference,
                "when": formats.date_format(timezone.localtime(link.workaround_applied_at), "SHORT_DATETIME_FORMAT"),
            }
        )
    if link is None:
        link_incidents(locked, [ticket.pk], by=by)
    comment = ticket_services.comment_on_ticket(ticket, by=by, body=locked.workaround, internal=False)
    now = timezone.now()
    ProblemIncident.objects.filter(ticket_id=ticket.pk, problem=locked).update(workaround_applied_at=now)
    history.record(
        locked,
        ProblemEvent.Kind.WORKAROUND_APPLIED,
        actor=by,
        data={"ticket": ticket.reference, "ticket_id": ticket.pk, "comment": comment.pk},
    )
    ticket_history.record(
        ticket,
        TicketEvent.Kind.PROBLEM,
        by=by,
        internal=True,
        reference=locked.reference,
        action="workaround",
        problem=locked.pk,
    )
    return comment


@transaction.atomic
def update_candidate_settings(*, by: User, incidents: object, days: object, factor: object) -> ProblemSettings:
    """How many incidents in how many days make a candidate, and what makes a category rising.
    Problem managers only."""
    if not permissions.is_problem_manager(by):
        raise PermissionDenied(_("Only a problem manager may change these settings."))
    errors: dict[str, str] = {}
    values: dict[str, int] = {}
    for name, raw in (("candidate_incidents", incidents), ("candidate_days", days)):
        low, high = CANDIDATE_LIMITS[name]
        try:
            number = int(str(raw).strip())
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            errors[name] = _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        values[name] = number
    try:
        rising = Decimal(str(factor).strip().replace(",", ".")).quantize(Decimal("0.1"))
    except InvalidOperation:
        rising = Decimal(0)
    if not FACTOR_LIMITS[0] <= rising <= FACTOR_LIMITS[1]:
        errors["rising_factor"] = _("Enter a factor from %(low)s to %(high)s.") % {
            "low": FACTOR_LIMITS[0],
            "high": FACTOR_LIMITS[1],
        }
    if errors:
        raise ValidationError(errors)
    row = ProblemSettings.current()
    row = ProblemSettings.objects.select_for_update().get(pk=row.pk)
    row.candidate_incidents = values["candidate_incidents"]
    row.candidate_days = values["candidate_days"]
    row.rising_factor = rising
    row.save(update_fields=["candidate_incidents", "candidate_days", "rising_factor"])
    return row


@transaction.atomic
def create_from_candidate(*, by: User, kind: str, key: int) -> Problem:
    """Open a problem with the candidate's incidents (as they stand now), its category or its
    asset. Problem managers only."""
    seed = candidates.seed_for(by, kind, key)
    if seed is None:
        raise NotFound(_("This candidate does not exist any more."))
    if not seed.incident_ids:
        raise ValidationError({"tickets": _("Every incident of this candidate is linked to a problem already.")})
    if seed.asset is not None:
        title = _("Repeated incidents on %(asset)s") % {"asset": seed.label}
    else:
        title = _("Repeated incidents in %(category)s") % {"category": seed.label}
    return create_problem(
        by=by,
        title=title[:250],
        category=seed.category,
        asset_ids=[seed.asset.pk] if seed.asset is not None else (),
        incident_ids=seed.incident_ids,
    )
