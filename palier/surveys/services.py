"""Writes for satisfaction surveys: asking the requester once a ticket is resolved, and recording
(or changing, for ``PALIER_SURVEY_CHANGE_DAYS`` days) their answer with a ticket history event.

Settings (read here only): ``PALIER_SURVEYS_ENABLED`` (default True) and the two durations.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import Conflict, IllegalTransition, PermissionDenied
from palier.people.models import Organisation, User
from palier.surveys import permissions, tokens
from palier.surveys.models import SurveyOptOut, SurveyRequest, SurveyResponse
from palier.tickets import history
from palier.tickets.models import Ticket, TicketEvent

SCORES = (1, 2, 3, 4, 5)
MAX_COMMENT = 4000
FINISHED = {Ticket.Status.RESOLVED, Ticket.Status.CLOSED}


def surveys_enabled() -> bool:
    return bool(getattr(settings, "PALIER_SURVEYS_ENABLED", True))


def surveys_wanted(ticket: Ticket) -> bool:
    """Surveys are on, and the ticket's organisation did not opt out (one query at most)."""
    if not surveys_enabled():
        return False
    return (
        ticket.organisation_id is None
        or not SurveyOptOut.objects.filter(organisation_id=ticket.organisation_id).exists()
    )


@transaction.atomic
def set_survey_opt_out(*, organisation: Organisation, opted_out: bool, by: User) -> None:
    """Stop (or resume) asking the requesters of ``organisation`` for a rating. Admins only."""
    permissions.require(by, "manage_opt_outs")
    if opted_out:
        SurveyOptOut.objects.get_or_create(organisation=organisation)
    else:
        SurveyOptOut.objects.filter(organisation=organisation).delete()


@transaction.atomic
def set_survey_opt_outs(*, organisation_ids: list[int], by: User) -> list[int]:
    """The organisations whose requesters are not asked for a rating: exactly ``organisation_ids``
    (an unknown id is refused and nothing changes). Admins only."""
    permissions.require(by, "manage_opt_outs")
    wanted = set(organisation_ids)
    in_range = {pk for pk in wanted if 0 < pk < 2**63}  # beyond the database's integers: unknown
    known = set(Organisation.objects.filter(pk__in=in_range).values_list("pk", flat=True))
    if known != wanted:
        raise ValidationError({"opted_out": _("Unknown organisation: %(ids)s.") % {"ids": sorted(wanted - known)}})
    SurveyOptOut.objects.exclude(organisation_id__in=wanted).delete()
    have = set(SurveyOptOut.objects.values_list("organisation_id", flat=True))
    SurveyOptOut.objects.bulk_create([SurveyOptOut(organisation_id=pk) for pk in sorted(wanted - have)])
    return sorted(wanted)


def change_window() -> timedelta:
    return timedelta(days=int(getattr(settings, "PALIER_SURVEY_CHANGE_DAYS", 7)))


def can_change(response: SurveyResponse, *, now: datetime | None = None) -> bool:
    """An answer can be changed for a while after it was first given."""
    return (now or timezone.now()) - response.answered_at <= change_window()


def answer_url(ticket: Ticket, *, score: int | None = None, absolute: bool = True) -> str:
    """The signed page where the ticket's requester answers (the score preselected)."""
    token = tokens.make_token(ticket_id=ticket.pk, requester_id=ticket.requester_id)
    path = reverse("surveys:answer", args=[token]) + (f"?score={score}" if score else "")
    if not absolute:
        return path
    return str(getattr(settings, "PALIER_BASE_URL", "http://127.0.0.1:8000")).rstrip("/") + path


def request_survey(*, ticket: Ticket, key: str) -> int:
    """Email the requester of a just-resolved ticket the five one-click score links. Idempotent per
    ``key`` (the resolution event); nothing when surveys are off (or the organisation opted out),
    the ticket was reopened since, or it already has an answer. The first request of a ticket is
    recorded (``SurveyRequest``) for the response rate. Returns how many emails were queued (0 or 1)."""
    from palier.notifications import email

    if ticket.status not in FINISHED or not surveys_wanted(ticket):
        return 0
    if SurveyResponse.objects.filter(ticket_id=ticket.pk).exists():
        return 0
    links = [(score, answer_url(ticket, score=score)) for score in SCORES]
    queued = email.queue_templated(
        to=[ticket.requester],
        template="surveys/email/request",
        context={"links": links, "link_days": tokens.link_days()},
        ticket=ticket,
        key=key,
    )
    if queued:  # the response rate's denominator: the first request of each ticket
        SurveyRequest.objects.bulk_create([SurveyRequest(ticket_id=ticket.pk)], ignore_conflicts=True)
    return queued


def _clean(score: object, comment: str) -> tuple[int, str]:
    errors: dict[str, str] = {}
    if not isinstance(score, int) or isinstance(score, bool) or score not in SCORES:
        errors["score"] = _("Choose a score from 1 to 5.")
    comment = (comment or "").replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = _("At most %(n)d characters.") % {"n": MAX_COMMENT}
    if errors:
        raise ValidationError(errors)
    return int(score), comment  # type: ignore[call-overload]


@transaction.atomic
def answer_survey(
    *, ticket: Ticket, requester: User, score: int, comment: str = "", now: datetime | None = None
) -> SurveyResponse:
    """Record the requester's answer, or change it within the window. Each answer or change
    appends a ``survey`` event (internal) with the score and the comment."""
    if ticket.requester_id != requester.pk:
        raise PermissionDenied(_("Only the person who asked for help can answer this survey."))
    score, comment = _clean(score, comment)
    now = now or timezone.now()
    response = SurveyResponse.objects.select_for_update().filter(ticket_id=ticket.pk).first()
    if response is None:
        if ticket.status not in FINISHED:
            raise IllegalTransition(_("This request is not finished yet: rate it once it is resolved."))
        response = SurveyResponse.objects.create(
            ticket=ticket, requester=requester, score=score, comment=comment, answered_at=now, updated_at=now
        )
    elif not can_change(response, now=now):
        raise Conflict(
            _("Your answer was given more than %(days)d days ago and can no longer be changed.")
            % {"days": change_window().days}
        )
    elif (response.score, response.comment) == (score, comment):
        return response  # nothing changed, nothing recorded
    else:
        response.score, response.comment, response.updated_at = score, comment, now
        response.save(update_fields=["score", "comment", "updated_at"])
    history.record(ticket, TicketEvent.Kind.SURVEY, by=requester, internal=True, score=score, comment=comment)
    return response
