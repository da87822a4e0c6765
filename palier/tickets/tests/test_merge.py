"""Merging duplicates into one ticket, undoing a merge, splitting a message out."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from palier.lib.errors import IllegalTransition, NotFound, PermissionDenied
from palier.notifications import email
from palier.people.models import Organisation, User
from palier.sla.models import Clock
from palier.tickets import display, selectors, services, stream
from palier.tickets.models import Attachment, Comment, Ticket, TicketEvent, TicketLink
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
E = TicketEvent.Kind


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def pair(requester: User, requester_b: User, agent: User) -> tuple[Ticket, Ticket]:
    keep = make_ticket(requester, subject="VPN down")
    dup = make_ticket(requester_b, subject="VPN ne marche plus")
    services.comment_on_ticket(dup, by=requester_b, body="Depuis ce matin", uploads=[io.BytesIO(b"log line\n")])
    return fresh(keep), fresh(dup)


def snapshot(*tickets: Ticket) -> list[tuple[object, ...]]:
    """What a refused merge must leave untouched."""
    rows = [(t.status, t.version, t.merged_into_id) for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets])]
    return [
        *rows,
        (Comment.objects.count(), Attachment.objects.count(), TicketEvent.objects.count(), TicketLink.objects.count()),
        tuple(Ticket.watchers.through.objects.values_list("ticket_id", "user_id").order_by("pk")),
    ]


def test_merge_moves_the_conversation_and_closes_the_duplicate(pair: tuple[Ticket, Ticket], agent: User) -> None:
    keep, dup = pair
    services.merge_tickets(keep, merged=[dup.pk], by=agent)
    keep, dup = fresh(keep), fresh(dup)
    assert dup.status == Ticket.Status.CLOSED and dup.merged_into_id == keep.pk and dup.closed_at
    assert [c.body for c in Comment.objects.filter(ticket=keep)] == ["Depuis ce matin"]
    assert Attachment.objects.filter(ticket=keep).count() == 1
    assert keep.watchers.filter(email="bob@acme.test").exists()
    assert TicketLink.objects.filter(source=dup, target=keep, kind=TicketLink.Kind.DUPLICATE).exists()
    said = display.event_sentence(TicketEvent.objects.get(ticket=keep, kind=E.MERGED))
    assert said == f"merged {dup.reference} into this ticket"
    into = TicketEvent.objects.get(ticket=dup, kind=E.MERGED_INTO)
    assert display.event_sentence(into) == f"merged this ticket into {keep.reference} (duplicate)"
    # the moved comment is found through the survivor by the search
    assert selectors.tickets_visible_to(agent).filter(services_search_q("matin")).get() == keep


def services_search_q(word: str):  # type: ignore[no-untyped-def]
    from palier.tickets import search

    return search.matching(word, include_internal=True)


def test_merge_stops_the_merged_clocks_and_keeps_the_survivors(pair: tuple[Ticket, Ticket], agent: User) -> None:
    keep, dup = pair
    running_before = list(Clock.objects.filter(ticket=keep, stopped_at__isnull=True).values_list("pk", flat=True))
    assert running_before and Clock.objects.filter(ticket=dup, stopped_at__isnull=True).exists()
    services.merge_tickets(keep, merged=[dup.pk], by=agent)
    assert not Clock.objects.filter(ticket=dup, stopped_at__isnull=True).exists()
    assert (
        list(Clock.objects.filter(ticket=keep, stopped_at__isnull=True).values_list("pk", flat=True)) == running_before
    )


def test_the_merged_requester_is_told_in_their_language(pair: tuple[Ticket, Ticket], agent: User) -> None:
    keep, dup = pair
    User.objects.filter(pk=dup.requester_id).update(language="en")
    User.objects.filter(pk=keep.requester_id).update(language="")
    stream.pump("notifications")
    email.send_pending()
    before = len(mail.outbox)
    services.merge_tickets(keep, merged=[dup.pk], by=agent)
    stream.pump("notifications")
    email.send_pending()
    sent = mail.outbox[before:]
    [told] = [m for m in sent if m.to == ["bob@acme.test"]]
    assert told.subject.endswith(f"{dup.reference} merged into {keep.reference}")
    assert keep.reference in told.body and "You receive this email from the Palier service desk." in told.body
    # the status change that the merge makes sends nothing of its own; the survivor's requester hears nothing
    assert not [m for m in sent if m.to == ["alice@acme.test"]]


def test_users_without_a_language_are_told_in_french(requester: User, requester_b: User, agent: User) -> None:
    User.objects.filter(pk=requester_b.pk).update(language="")
    keep, dup = make_ticket(requester), make_ticket(requester_b)
    stream.pump("notifications")
    email.send_pending()
    before = len(mail.outbox)
    services.merge_tickets(keep, merged=[dup.pk], by=agent)
    stream.pump("notifications")
    email.send_pending()
    [told] = [m for m in mail.outbox[before:] if m.to == ["bob@acme.test"]]
    # rendered in French (the merge's own sentences are translated by the catalogs after the merge)
    assert "Vous recevez cet e-mail du centre de services Palier." in told.body
    assert told.subject.endswith(f"{dup.reference}") or keep.reference in told.subject


def test_a_merge_of_several_is_one_transaction_of_bounded_size(
    requester: User, agent: User, django_assert_max_num_queries: object
) -> None:
    keep = make_ticket(requester)
    dups = [make_ticket(requester, subject=f"Doublon {i}") for i in range(50)]
    for dup in dups[:5]:
        services.comment_on_ticket(dup, by=requester, body="encore")
    # the rows move in a fixed number of statements; the SLA hook runs once per closed ticket
    with django_assert_max_num_queries(40 + 50 * 7):  # type: ignore[operator]
        services.merge_tickets(keep, merged=[d.pk for d in dups], by=agent)
    assert Ticket.objects.filter(merged_into=keep).count() == 50
    assert Comment.objects.filter(ticket=keep).count() == 5


# --- bad input: a clear message and nothing changed --------------------------------------------------


def test_a_ticket_is_not_merged_into_itself(pair: tuple[Ticket, Ticket], agent: User) -> None:
    keep, dup = pair
    before = snapshot(keep, dup)
    with pytest.raises(ValidationError, match="into itself"):
        services.merge_tickets(keep, merged=[dup.pk, keep.pk], by=agent)
    assert snapshot(keep, dup) == before


def test_no_cycle_and_no_second_merge(requester: User, agent: User) -> None:
    a, b, c = make_ticket(requester), make_ticket(requester), make_ticket(requester)
    services.merge_tickets(a, merged=[b.pk], by=agent)
    before = snapshot(a, b, c)
    with pytest.raises(IllegalTransition, match="merged into another ticket"):
        services.merge_tickets(fresh(b), merged=[a.pk], by=agent)  # into its own duplicate: a cycle
    with pytest.raises(IllegalTransition, match="Already merged"):
        services.merge_tickets(c, merged=[b.pk], by=agent)
    assert snapshot(a, b, c) == before


def test_all_or_nothing_when_one_ticket_is_invisible(requester: User, agent: User, agent_l2: User, l2: object) -> None:
    keep, ok = make_ticket(requester), make_ticket(requester)
    hidden = make_ticket(requester, by=agent, group=l2)
    assert not selectors.tickets_visible_to(agent).filter(pk=hidden.pk).exists()
    before = snapshot(keep, ok, hidden)
    with pytest.raises(NotFound):
        services.merge_tickets(keep, merged=[ok.pk, hidden.pk], by=agent)
    with pytest.raises(NotFound):
        services.merge_tickets(hidden, merged=[ok.pk], by=agent)
    assert snapshot(keep, ok, hidden) == before


def test_requesters_and_agents_on_their_own_requests_cannot_merge(requester: User, agent_l2: User, agent: User) -> None:
    keep, dup = make_ticket(requester), make_ticket(requester)
    with pytest.raises(PermissionDenied):
        services.merge_tickets(keep, merged=[dup.pk], by=requester)
    mine, mine_too = make_ticket(agent_l2), make_ticket(agent_l2)  # in triage: agent_l2 is only their requester
    with pytest.raises(PermissionDenied):
        services.merge_tickets(mine, merged=[mine_too.pk], by=agent_l2)
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_not_across_organisations_unless_allowed(
    requester: User, outsider: User, agent: User, settings: object, other_org: Organisation
) -> None:
    keep, theirs = make_ticket(requester), make_ticket(outsider)
    with pytest.raises(PermissionDenied, match="another organisation"):
        services.merge_tickets(keep, merged=[theirs.pk], by=agent)
    assert fresh(theirs).merged_into_id is None
    settings.PALIER_MERGE_ACROSS_ORGANISATIONS = True  # type: ignore[attr-defined]
    services.merge_tickets(keep, merged=[theirs.pk], by=agent)
    assert fresh(theirs).merged_into_id == keep.pk


def test_closed_tickets_are_not_merged_nor_merged_into(requester: User, agent: User) -> None:
    keep, dup = make_ticket(requester), make_ticket(requester)
    services.transition_ticket(dup, to=Ticket.Status.CANCELLED, by=agent)
    with pytest.raises(IllegalTransition, match="Closed or cancelled"):
        services.merge_tickets(keep, merged=[dup.pk], by=agent)
    with pytest.raises(IllegalTransition, match="is closed"):
        services.merge_tickets(fresh(dup), merged=[keep.pk], by=agent)


# --- undo ------------------------------------------------------------------------------------------------


def test_undo_puts_everything_back(pair: tuple[Ticket, Ticket], agent: User) -> None:
    keep, dup = pair
    status = dup.status
    services.merge_tickets(keep, merged=[dup.pk], by=agent)
    services.undo_merge(fresh(dup), by=agent)
    keep, dup = fresh(keep), fresh(dup)
    assert dup.status == status and dup.merged_into_id is None and dup.closed_at is None
    assert Comment.objects.filter(ticket=dup).count() == 1 and not Comment.objects.filter(ticket=keep).exists()
    assert Attachment.objects.filter(ticket=dup).count() == 1
    assert not keep.watchers.exists()
    assert not TicketLink.objects.filter(kind=TicketLink.Kind.DUPLICATE).exists()
    assert Clock.objects.filter(ticket=dup, kind=Clock.Kind.RESOLUTION, stopped_at__isnull=True).exists()
    assert TicketEvent.objects.filter(ticket=keep, kind=E.UNMERGED).exists()


def test_undo_only_within_the_window(pair: tuple[Ticket, Ticket], agent: User, settings: object) -> None:
    keep, dup = pair
    services.merge_tickets(keep, merged=[dup.pk], by=agent)
    Ticket.objects.filter(pk=dup.pk).update(merged_at=timezone.now() - timedelta(minutes=31))
    with pytest.raises(IllegalTransition, match="30 minutes"):
        services.undo_merge(fresh(dup), by=agent)
    assert fresh(dup).merged_into_id == keep.pk
    with pytest.raises(IllegalTransition, match="not merged"):
        services.undo_merge(fresh(keep), by=agent)


# --- split -----------------------------------------------------------------------------------------------


def test_split_moves_a_message_and_its_files_to_a_linked_ticket(
    requester: User, requester_b: User, agent: User
) -> None:
    ticket = make_ticket(requester, subject="Imprimante")
    services.add_watcher(ticket, user=requester_b, by=agent)
    other = services.comment_on_ticket(
        ticket, by=requester_b, body="Et mon écran clignote", uploads=[io.BytesIO(b"photo\n")]
    )
    new = services.split_ticket(fresh(ticket), comment=other.pk, by=agent, subject="Écran qui clignote")
    assert new.subject == "Écran qui clignote" and new.requester == requester_b and new.group == ticket.group
    assert list(Comment.objects.filter(ticket=new)) == [other]
    assert Attachment.objects.filter(ticket=new).count() == 1 and not Attachment.objects.filter(ticket=ticket)
    assert TicketLink.objects.filter(source=ticket, target=new, kind=TicketLink.Kind.RELATED).exists()
    sentences = [display.event_sentence(e) for e in TicketEvent.objects.filter(kind=E.SPLIT).order_by("pk")]
    assert sentences == [
        f"split a message out into {new.reference}",
        f"opened this ticket from a message of {ticket.reference}",
    ]


def test_split_refuses_what_cannot_be_split(requester: User, agent: User, agent_l2: User) -> None:
    lone = make_ticket(requester, description="")
    only = services.comment_on_ticket(lone, by=requester, body="Tout est là")
    elsewhere = make_ticket(requester)
    count = Ticket.objects.count()
    with pytest.raises(ValidationError, match="all the ticket holds"):
        services.split_ticket(fresh(lone), comment=only.pk, by=agent)
    with pytest.raises(ValidationError, match="not part of the ticket"):
        services.split_ticket(elsewhere, comment=only.pk, by=agent)
    with pytest.raises(NotFound):
        services.split_ticket(elsewhere, comment=only.pk, by=agent_l2)
    with pytest.raises(PermissionDenied):
        services.split_ticket(fresh(lone), comment=only.pk, by=requester)
    assert Ticket.objects.count() == count and Comment.objects.get(pk=only.pk).ticket_id == lone.pk
