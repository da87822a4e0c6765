"""Surveys through their services and the event stream: the email once per resolution, answers,
the change window, the history event and the summary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from palier.lib.errors import Conflict, IllegalTransition, PermissionDenied
from palier.notifications.models import OutgoingEmail
from palier.people.models import SupportGroup, User
from palier.surveys import selectors, services, tokens
from palier.surveys.models import SurveyRequest, SurveyResponse
from palier.surveys.tests.helpers import resolved_ticket, score_links, survey_mails
from palier.tickets import services as tickets
from palier.tickets import stream
from palier.tickets.models import TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: object) -> None:
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]
    settings.PALIER_BASE_URL = "https://desk.example"  # type: ignore[attr-defined]


def test_resolution_sends_one_survey_email_with_five_links(requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent, subject="Printer jam")
    mails = survey_mails()
    assert len(mails) == 1
    assert mails[0].to == ["alice@acme.test"]
    assert "How did we do? Printer jam" in mails[0].subject
    links = score_links(mails[0])
    assert sorted(links) == [1, 2, 3, 4, 5]
    assert all(link.startswith("https://desk.example/surveys/answer/") for link in links.values())
    token = links[4].split("/answer/")[1].split("/")[0]
    assert tokens.read_token(token) == tokens.Claim(ticket_id=ticket.pk, requester_id=requester.pk)
    html = mails[0].alternatives[0][0]  # type: ignore[index]
    assert str(html).count("?score=") == 5


def test_a_redelivered_event_sends_nothing_twice(requester: User, agent: User) -> None:
    resolved_ticket(requester, agent)
    assert len(survey_mails()) == 1
    event = TicketEvent.objects.get(kind="status", data__new="resolved")
    from palier.surveys.consumer import handle_events

    handle_events([event])  # the same batch delivered again after a crash
    assert len(survey_mails()) == 1


def test_no_survey_when_turned_off_or_already_answered(requester: User, agent: User, settings: object) -> None:
    settings.PALIER_SURVEYS_ENABLED = False  # type: ignore[attr-defined]
    resolved_ticket(requester, agent)
    assert survey_mails() == []
    settings.PALIER_SURVEYS_ENABLED = True  # type: ignore[attr-defined]
    ticket = resolved_ticket(requester, agent)
    services.answer_survey(ticket=ticket, requester=requester, score=5)
    assert survey_mails() == []


def test_other_status_changes_send_no_survey(requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    tickets.transition_ticket(ticket, to="pending_requester", by=agent)
    assert survey_mails() == []


def test_answer_records_a_survey_event(requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    response = services.answer_survey(ticket=ticket, requester=requester, score=2, comment="  Too slow ")
    assert (response.score, response.comment) == (2, "Too slow")
    event = TicketEvent.objects.get(ticket=ticket, kind="survey")
    assert event.data == {"score": 2, "comment": "Too slow"}
    assert event.actor == requester and event.is_internal


def test_answer_can_change_within_the_window_then_not(requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    first = timezone.now()
    services.answer_survey(ticket=ticket, requester=requester, score=2, now=first)
    services.answer_survey(
        ticket=ticket, requester=requester, score=4, comment="Fixed after all", now=first + timedelta(days=6)
    )
    response = SurveyResponse.objects.get()
    assert (response.score, response.answered_at) == (4, first)
    assert TicketEvent.objects.filter(ticket=ticket, kind="survey").count() == 2
    with pytest.raises(Conflict):
        services.answer_survey(ticket=ticket, requester=requester, score=1, now=first + timedelta(days=8))
    response.refresh_from_db()
    assert response.score == 4
    assert TicketEvent.objects.filter(ticket=ticket, kind="survey").count() == 2


def test_the_same_answer_again_records_nothing(requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    services.answer_survey(ticket=ticket, requester=requester, score=3)
    services.answer_survey(ticket=ticket, requester=requester, score=3)
    assert TicketEvent.objects.filter(ticket=ticket, kind="survey").count() == 1


def test_only_the_requester_answers_a_finished_ticket(requester: User, requester_b: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    with pytest.raises(PermissionDenied):
        services.answer_survey(ticket=ticket, requester=requester_b, score=5)
    open_ticket = make_ticket(requester)
    with pytest.raises(IllegalTransition):
        services.answer_survey(ticket=open_ticket, requester=requester, score=5)
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("score", [0, 6, "4", None, True])
def test_scores_outside_1_to_5_are_refused(requester: User, agent: User, score: object) -> None:
    ticket = resolved_ticket(requester, agent)
    with pytest.raises(ValidationError) as caught:
        services.answer_survey(ticket=ticket, requester=requester, score=score)  # type: ignore[arg-type]
    assert "score" in caught.value.message_dict
    assert not SurveyResponse.objects.exists()


def test_the_database_refuses_scores_outside_1_to_5(requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(ticket=ticket, requester=requester, score=9)


def test_tokens_are_tamper_proof_and_expire(settings: object) -> None:
    token = tokens.make_token(ticket_id=7, requester_id=3)
    assert tokens.read_token(token) == tokens.Claim(ticket_id=7, requester_id=3)
    with pytest.raises(tokens.InvalidToken):
        tokens.read_token(token.replace(token.split(":")[0], "Wzgs" + token.split(":")[0][4:]))
    with pytest.raises(tokens.InvalidToken):
        tokens.read_token("garbage")
    settings.PALIER_SURVEY_LINK_DAYS = 0  # type: ignore[attr-defined]
    with pytest.raises(tokens.ExpiredToken):
        tokens.read_token(token)


def test_summary_counts_averages_and_distributes(
    requester: User, agent: User, agent_l2: User, l2: SupportGroup
) -> None:
    now = timezone.now()
    for score in (5, 4, 4, 1):
        ticket = resolved_ticket(requester, agent)
        services.answer_survey(ticket=ticket, requester=requester, score=score)
    other = make_ticket(requester, by=agent_l2, group=l2)
    other = tickets.transition_ticket(other, to="resolved", by=agent_l2)
    services.answer_survey(ticket=other, requester=requester, score=2)
    summary = selectors.satisfaction_summary(since=now - timedelta(hours=1), until=None)
    assert (summary.count, summary.average) == (5, 3.2)
    assert summary.distribution == {1: 1, 2: 1, 3: 0, 4: 2, 5: 1}
    in_l2 = selectors.satisfaction_summary(since=None, until=None, group=l2)
    assert (in_l2.count, in_l2.average) == (1, 2.0)
    later = selectors.satisfaction_summary(since=now + timedelta(hours=1), until=None)
    assert (later.count, later.average) == (0, None)
    stream.pump_all()


def test_an_organisation_that_opted_out_is_not_asked(requester: User, agent: User, admin_user: User) -> None:
    assert requester.organisation is not None
    with pytest.raises(PermissionDenied):
        services.set_survey_opt_out(organisation=requester.organisation, opted_out=True, by=agent)
    services.set_survey_opt_out(organisation=requester.organisation, opted_out=True, by=admin_user)
    resolved_ticket(requester, agent)
    assert survey_mails() == []
    services.set_survey_opt_out(organisation=requester.organisation, opted_out=False, by=admin_user)
    resolved_ticket(requester, agent)
    assert len(survey_mails()) == 1


def test_request_survey_records_the_first_request_once(requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    assert services.request_survey(ticket=ticket, key="survey:event:1") == 1
    first = SurveyRequest.objects.get(ticket=ticket).sent_at
    assert services.request_survey(ticket=ticket, key="survey:event:1") == 0  # the same event again
    assert services.request_survey(ticket=ticket, key="survey:event:2") == 1  # resolved a second time
    assert list(SurveyRequest.objects.filter(ticket=ticket).values_list("sent_at", flat=True)) == [first]


def test_the_migration_backfills_requests_from_the_outbox(requester: User, agent: User) -> None:
    from importlib import import_module

    from django.apps import apps

    ticket = resolved_ticket(requester, agent)
    survey_mails()  # the survey email is in the outbox
    SurveyRequest.objects.all().delete()  # as before the table existed
    sent = OutgoingEmail.objects.get(key__startswith="survey:").created_at
    import_module("palier.surveys.migrations.0002_survey_request").backfill(apps, None)
    assert list(SurveyRequest.objects.values_list("ticket_id", "sent_at")) == [(ticket.pk, sent)]
