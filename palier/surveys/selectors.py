"""Reads for satisfaction surveys: the summary reports build on, the list of answers, and the
survey pieces of the ticket pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Avg, Count, Exists, OuterRef, QuerySet

from palier.people.models import Organisation, SupportGroup, User
from palier.surveys import permissions, services
from palier.surveys.models import SurveyOptOut, SurveyResponse
from palier.tickets.models import Ticket


@dataclass(frozen=True)
class Summary:
    count: int
    average: float | None
    distribution: dict[int, int] = field(default_factory=dict)  # score -> answers, 1..5 all present


def _answered(
    *, since: datetime | None, until: datetime | None, group: SupportGroup | None, user: User | None
) -> QuerySet[SurveyResponse]:
    responses = SurveyResponse.objects.all()
    if user is not None:
        responses = responses.filter(permissions.visible(user))
    if since is not None:
        responses = responses.filter(answered_at__gte=since)
    if until is not None:
        responses = responses.filter(answered_at__lt=until)
    if group is not None:
        responses = responses.filter(ticket__group=group)
    return responses


def satisfaction_summary(
    *, since: datetime | None, until: datetime | None, group: SupportGroup | None = None, user: User | None = None
) -> Summary:
    """How many answers in [since, until), their average score and how many gave each score
    (for the tickets of ``group`` when given; only what ``user`` may see when given). Two queries."""
    responses = _answered(since=since, until=until, group=group, user=user)
    totals = responses.aggregate(count=Count("pk"), average=Avg("score"))
    distribution = dict.fromkeys(services.SCORES, 0)
    for row in responses.order_by().values("score").annotate(n=Count("pk")):
        distribution[row["score"]] = row["n"]
    average = totals["average"]
    return Summary(
        count=totals["count"],
        average=round(float(average), 2) if average is not None else None,
        distribution=distribution,
    )


def responses_visible_to(
    user: User, *, since: datetime | None = None, until: datetime | None = None, group: SupportGroup | None = None
) -> QuerySet[SurveyResponse]:
    """The answers ``user`` may see, newest first (the page paginates them)."""
    return _answered(since=since, until=until, group=group, user=user).select_related(
        "ticket", "ticket__group", "requester"
    )


def ticket_to_rate(*, ticket_id: int, requester_id: int) -> Ticket | None:
    """The ticket a survey link is about, with its requester, when it still has the requester the
    link was sent to; else None."""
    return Ticket.objects.select_related("requester").filter(pk=ticket_id, requester_id=requester_id).first()


def response_for_ticket(ticket: Ticket) -> SurveyResponse | None:
    return SurveyResponse.objects.filter(ticket_id=ticket.pk).first()


def organisations_with_opt_out() -> QuerySet[Organisation]:
    """Every organisation by name, annotated ``opted_out`` (the settings page paginates them)."""
    return Organisation.objects.annotate(
        opted_out=Exists(SurveyOptOut.objects.filter(organisation_id=OuterRef("pk")))
    ).order_by("name")


@dataclass(frozen=True)
class PortalSurvey:
    """The "How did we do?" box of the portal ticket page."""

    response: SurveyResponse | None
    can_change: bool
    links: list[tuple[int, str]]
    change_url: str


def portal_survey(user: User, ticket: Ticket) -> PortalSurvey | None:
    """The box for the ticket's requester once it is resolved (None: nothing to show)."""
    if ticket.requester_id != user.pk:
        return None
    response = response_for_ticket(ticket)
    if response is None and (ticket.status not in services.FINISHED or not services.surveys_wanted(ticket)):
        return None
    can_change = response is None or services.can_change(response)
    links = (
        [(score, services.answer_url(ticket, score=score, absolute=False)) for score in services.SCORES]
        if can_change
        else []
    )
    change_url = services.answer_url(ticket, absolute=False) if can_change else ""
    return PortalSurvey(response=response, can_change=can_change, links=links, change_url=change_url)


def opted_out_organisation_ids() -> list[int]:
    """The organisations whose requesters are never asked for a rating."""
    return sorted(SurveyOptOut.objects.values_list("organisation_id", flat=True))
