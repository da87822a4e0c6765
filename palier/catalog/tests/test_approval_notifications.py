"""Approvers are told in the application (besides the email) when their stage opens, as their
notification settings allow, once per approval; a decided stage leaves nothing "new" to chase."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from palier.catalog import services
from palier.catalog.models import Approval
from palier.catalog.services.approvals import ask_approvers
from palier.catalog.tests.builders import make_item, submit
from palier.notifications.models import Notification, NotificationPreference, OutgoingEmail
from palier.notifications.services import set_preferences
from palier.people import services as people
from palier.people.models import Organisation, SupportGroup, User
from palier.tickets import services as tickets
from palier.tickets.models import Ticket

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
D = Approval.Decision
KIND = Notification.Kind.APPROVAL


@pytest.fixture
def boss(requester: User, org: Organisation) -> User:
    boss = people.create_user(
        email="boss@acme.test", full_name="Bea Boss", organisation=org, password="pw-bea-123!", language="en"
    )
    requester.manager = boss
    requester.save(update_fields=["manager"])
    return boss


def _asked(user: User) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=KIND))


def _pending(user: User) -> Approval:
    return Approval.objects.get(approver=user, decision=D.PENDING)


def test_the_manager_is_told_in_the_app_and_by_email_and_the_inbox_links_to_my_approvals(
    client: Client, requester: User, boss: User
) -> None:
    ticket = submit(make_item(name="Laptop", stages=[{"kind": "manager"}]), requester)
    [note] = _asked(boss)
    assert note.ticket_id == ticket.pk and note.read_at is None
    assert OutgoingEmail.objects.filter(address="boss@acme.test").count() == 1
    assert not Notification.objects.filter(recipient=requester, kind=KIND).exists()
    client.force_login(boss)
    page = client.get(reverse("notifications:inbox"), **EN).content.decode()
    assert "Approval requested" in page and f"{ticket.reference} — Laptop" in page
    assert f'href="{reverse("catalog:approvals")}"' in page
    # the approver usually cannot see the ticket: no link to it
    assert reverse("portal:ticket-detail", args=[ticket.pk]) not in page


def test_the_item_is_named_in_the_readers_language(client: Client, requester: User, boss: User) -> None:
    submit(make_item(name="Laptop", stages=[{"kind": "manager"}]), requester)
    client.force_login(boss)
    boss.language = "fr"
    boss.save(update_fields=["language"])
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "Laptop (fr)" in page


def test_each_stage_tells_its_own_approvers_when_it_opens(
    requester: User, boss: User, requester_b: User, triage: SupportGroup, agent: User
) -> None:
    item = make_item(stages=[{"kind": "manager"}, {"kind": "people", "people": [requester_b]}])
    submit(item, requester)
    assert len(_asked(boss)) == 1 and _asked(requester_b) == []  # stage 2 is not open yet
    services.decide(approval=_pending(boss), decision=D.APPROVED, by=boss)
    assert len(_asked(requester_b)) == 1
    assert _asked(boss)[0].read_at is not None  # decided: nothing left to chase
    assert _asked(agent) == []


def test_a_group_stage_tells_every_member_and_one_approval_settles_the_others(
    requester: User, agent: User, triage: SupportGroup
) -> None:
    second = people.create_user(email="sam@desk.test", full_name="Sam", role=User.Role.AGENT, password="pw-sam-123!")
    people.add_group_member(triage, user=second)
    submit(make_item(stages=[{"kind": "group", "group": triage, "rule": "any"}]), requester)
    assert len(_asked(agent)) == 1 and len(_asked(second)) == 1
    services.decide(approval=_pending(second), decision=D.APPROVED, by=second)
    assert _asked(agent)[0].read_at is not None  # no longer needed
    assert _asked(second)[0].read_at is not None


def test_withdrawing_the_request_settles_the_approvers_rows(requester: User, boss: User) -> None:
    ticket = submit(make_item(stages=[{"kind": "manager"}]), requester)
    tickets.transition_ticket(ticket, to=Ticket.Status.CANCELLED, by=requester)
    assert Approval.objects.get(approver=boss).decision == D.NOT_NEEDED
    assert _asked(boss)[0].read_at is not None


def test_asking_again_adds_no_second_row_or_email(requester: User, boss: User) -> None:
    ticket = submit(make_item(stages=[{"kind": "manager"}]), requester)
    approval = _pending(boss)
    ask_approvers([approval], submission=approval.step.submission)  # a retried job
    assert len(_asked(boss)) == 1
    assert OutgoingEmail.objects.filter(address="boss@acme.test", ticket=ticket).count() == 1


def test_the_approvers_settings_are_respected_on_each_channel(requester: User, boss: User, requester_b: User) -> None:
    set_preferences(boss, enabled=[("approval", "email")])  # requesters choose too; in the app: off
    set_preferences(requester_b, enabled=[("approval", "in_app")])  # by email: off
    item = make_item(stages=[{"kind": "people", "people": [boss, requester_b], "rule": "all"}])
    submit(item, requester)
    assert _asked(boss) == [] and OutgoingEmail.objects.filter(address="boss@acme.test").count() == 1
    assert len(_asked(requester_b)) == 1 and not OutgoingEmail.objects.filter(address="bob@acme.test").exists()
    # the approval itself is still waiting on "My approvals"
    assert Approval.objects.filter(decision=D.PENDING).count() == 2


def test_requesters_who_approve_can_choose_about_approval_requests(client: Client, requester_b: User) -> None:
    client.force_login(requester_b)
    page = client.get(reverse("notifications:preferences"), **EN).content.decode()
    assert "My approval is requested" in page
    response = client.post(reverse("notifications:preferences"), {"approval:email": "on"}, **EN)
    assert response.status_code == 302
    assert NotificationPreference.objects.filter(
        user=requester_b, event="approval", channel="in_app", enabled=False
    ).exists()


def test_inbox_with_approval_rows_keeps_a_constant_query_count(
    client: Client, requester: User, boss: User, django_assert_max_num_queries: object
) -> None:
    item = make_item(stages=[{"kind": "manager"}])
    submit(item, requester)
    client.force_login(boss)
    client.get(reverse("notifications:inbox"))
    with django_assert_max_num_queries(8) as few:  # type: ignore[operator]
        client.get(reverse("notifications:inbox"))
    for _ in range(5):
        submit(item, requester)
    with django_assert_max_num_queries(len(few.captured_queries)):  # type: ignore[operator]
        page = client.get(reverse("notifications:inbox"), **EN).content.decode()
    assert page.count("Approval requested") == 6
