"""Visibility is decided in one place: for every user, the list shows exactly the tickets whose
detail page they may open, the queue's CSV export holds exactly those tickets too (requesters get
no export), and that set follows the written rules. Among the tickets someone sees, those they
work on as desk staff (internal notes, agent actions) follow the written rules too: an agent
whose only link to a ticket is being its requester gets the requester rules."""

from __future__ import annotations

import csv
import io

from django.http import Http404
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets import permissions, selectors, services
from palier.tickets.models import Ticket

ROLES = ["requester", "requester", "agent", "manager", "admin"]

world = st.fixed_dictionaries(
    {
        "orgs": st.lists(st.booleans(), min_size=1, max_size=3),  # share_tickets per organisation
        "groups": st.integers(min_value=1, max_value=3),
        "users": st.lists(
            st.tuples(st.sampled_from(ROLES), st.integers(0, 2), st.sets(st.integers(0, 2), max_size=2)),
            min_size=2,
            max_size=7,
        ),
        "tickets": st.lists(
            st.tuples(st.integers(0, 6), st.integers(0, 2), st.booleans(), st.sets(st.integers(0, 6), max_size=2)),
            min_size=1,
            max_size=8,
        ),
        "manages": st.integers(0, 2),
        "see_all": st.booleans(),
    }
)


def _expected(user: User, ticket: Ticket, groups_of: dict[int, set[int]], see_all: bool) -> bool:
    """The written rules, independently of permissions.visible."""
    if user.role == "admin":
        return True
    if user.role in ("agent", "manager"):
        if see_all:
            return True
        manages = user.role == "manager" and ticket.group is not None and ticket.group.manager_id == user.pk
        return (
            ticket.group_id in groups_of[user.pk]
            or ticket.assignee_id == user.pk
            or ticket.requester_id == user.pk
            or manages
        )
    if ticket.requester_id == user.pk or ticket.watchers.filter(pk=user.pk).exists():
        return True
    org = user.organisation
    return bool(org and org.share_tickets and ticket.organisation_id == org.pk)


def _expected_staff(user: User, ticket: Ticket, groups_of: dict[int, set[int]]) -> bool:
    """The written rules of who works on a visible ticket as desk staff."""
    if user.role == "admin":
        return True
    if user.role not in ("agent", "manager"):
        return False
    if ticket.requester_id != user.pk:
        return True
    manages = user.role == "manager" and ticket.group is not None and ticket.group.manager_id == user.pk
    return ticket.group_id in groups_of[user.pk] or ticket.assignee_id == user.pk or manages


class VisibilityProperty(TestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(w=world)
    def test_list_equals_detail_equals_rules(self, w: dict) -> None:
        from django.conf import settings as dj

        dj.PALIER_AGENTS_SEE_ALL = w["see_all"]
        try:
            self._check(w)
        finally:
            dj.PALIER_AGENTS_SEE_ALL = False

    def _check(self, w: dict) -> None:
        orgs = [people.create_organisation(name=f"Org {i}", share_tickets=s) for i, s in enumerate(w["orgs"])]
        groups = list(SupportGroup.objects.filter(is_triage=True))
        groups += [people.create_group(name=f"G{i}", level=2) for i in range(w["groups"] - 1)]
        users, groups_of = [], {}
        for i, (role, org_index, member_of) in enumerate(w["users"]):
            user = people.create_user(email=f"u{i}@x.test", role=role, organisation=orgs[org_index % len(orgs)])
            groups_of[user.pk] = set()
            if user.is_agent:
                for g in member_of:
                    group = groups[g % len(groups)]
                    people.add_group_member(group, user=user)
                    groups_of[user.pk].add(group.pk)
            users.append(user)
        managers = [u for u in users if u.role == "manager"]
        if managers:
            target = groups[w["manages"] % len(groups)]
            target.manager = managers[0]
            target.save(update_fields=["manager"])
        tickets = []
        for requester_i, group_i, assign, watchers in w["tickets"]:
            group = groups[group_i % len(groups)]
            members = list(group.members.all())
            ticket = services.open_ticket(
                requester=users[requester_i % len(users)],
                subject="Ticket",
                group=group,
                assignee=members[0] if assign and members else None,
                watchers=[users[x % len(users)] for x in watchers],
                by=None,
            )
            tickets.append(ticket)
        for user in users:
            user = User.objects.select_related("organisation").get(pk=user.pk)
            page = selectors.ticket_page(user, filters=selectors.TicketFilters(), limit=100)
            listed = {t.pk for t in page.items}
            openable = set()
            for ticket in tickets:
                try:
                    selectors.get_ticket_for(user, ticket.pk)
                    openable.add(ticket.pk)
                except Http404:
                    pass
            ruled = {
                t.pk
                for t in Ticket.objects.select_related("group").filter(pk__in=[t.pk for t in tickets])
                if _expected(user, t, groups_of, w["see_all"])
            }
            assert listed == openable == ruled, (user.role, listed, openable, ruled)
            for ticket in Ticket.objects.select_related("group").filter(pk__in=openable):
                staff = _expected_staff(user, ticket, groups_of)
                for action in ("view_internal", "note", "update", "link"):
                    assert permissions.can(user, action, ticket) == staff, (user.role, action, ticket.pk)
            exported = self._exported(user)
            if user.is_agent:
                assert exported == {t.reference for t in tickets if t.pk in openable}, (user.role, exported)
            else:
                assert exported is None  # the export is an agent page: a requester gets a 404

    def _exported(self, user: User) -> set[str] | None:
        """The ticket numbers of the queue's CSV export (every status), or None when refused."""
        self.client.force_login(user)
        response = self.client.get(reverse("agent:ticket-export", args=["csv"]), {"status": "all"})
        if response.status_code == 404:
            return None
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
        return {row[0] for row in list(csv.reader(io.StringIO(text)))[1:]}
