"""Problem candidates: N incidents in M days on an asset or a category, rising categories, and
opening a problem from a candidate."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from palier.assets.services import relations
from palier.assets.services import tickets as asset_tickets
from palier.assets.tests.builders import make_asset
from palier.lib.errors import PermissionDenied
from palier.people.models import User
from palier.problems import candidates, services
from palier.problems.models import ProblemIncident, ProblemSettings
from palier.problems.services import known_errors
from palier.tickets import services as tickets
from palier.tickets.models import Category, Ticket

pytestmark = pytest.mark.django_db


def _settings(incidents: int = 3, days: int = 7, factor: str = "2") -> None:
    ProblemSettings.objects.update_or_create(
        pk=1, defaults={"candidate_incidents": incidents, "candidate_days": days, "rising_factor": Decimal(factor)}
    )


def incidents(requester: User, n: int, *, days_ago: float = 1, **values: Any) -> list[Ticket]:
    made = [
        tickets.open_ticket(by=requester, requester=requester, subject=f"Outage {i}", description="Down.", **values)
        for i in range(n)
    ]
    Ticket.objects.filter(pk__in=[t.pk for t in made]).update(created_at=timezone.now() - timedelta(days=days_ago))
    return made


def test_only_problem_managers_see_candidates(agent: User, manager: User) -> None:
    with pytest.raises(PermissionDenied):
        candidates.candidates_for(agent)
    assert candidates.candidates_for(manager).assets == []


def test_category_needs_n_unlinked_incidents_within_m_days(manager: User, agent: User, requester: User) -> None:
    _settings(incidents=3, days=7, factor="50")
    network = Category.objects.create(name_en="Network", name_fr="Réseau", slug="t-network")
    recent = incidents(requester, 3, category=network)
    incidents(requester, 5, days_ago=8, category=network)  # too old to count, and not rising (factor 50)
    found = candidates.candidates_for(manager)
    assert [(c.label, c.count) for c in found.categories] == [("Network", 3)]
    assert {t.pk for t in found.categories[0].incidents} == {t.pk for t in recent}
    problem = services.create_problem(by=agent, title="Switch loop")
    services.link_incidents(problem, [recent[0].pk], by=agent)
    assert candidates.candidates_for(manager).categories == []  # two left: below N


def test_rising_category(manager: User, requester: User) -> None:
    _settings(incidents=3, days=7, factor="2")
    mail = Category.objects.create(name_en="Mail", name_fr="Messagerie", slug="t-mail")
    steady = Category.objects.create(name_en="Printing", name_fr="Impression", slug="t-printing")
    incidents(requester, 4, category=mail)
    incidents(requester, 2, days_ago=10, category=mail)
    incidents(requester, 3, category=steady)
    incidents(requester, 3, days_ago=10, category=steady)
    found = {c.label: c for c in candidates.candidates_for(manager).categories}
    assert found["Mail"].rising and (found["Mail"].total, found["Mail"].previous) == (4, 2)
    assert not found["Printing"].rising


def test_asset_with_repeated_incidents(manager: User, agent: User, requester: User) -> None:
    _settings(incidents=3, days=7)
    gateway = make_asset("GW-9", by=agent, type="server")
    quiet = make_asset("GW-10", by=agent, type="server")
    for ticket in incidents(requester, 3):
        asset_tickets.link_ticket(agent, ticket, gateway)
    for ticket in incidents(requester, 2):
        asset_tickets.link_ticket(agent, ticket, quiet)
    found = candidates.candidates_for(manager)
    assert [(c.key, c.count, len(c.incidents)) for c in found.assets] == [(gateway.pk, 3, 3)]


def test_create_a_problem_from_a_candidate(manager: User, agent: User, requester: User) -> None:
    _settings(incidents=3, days=7)
    gateway = make_asset("GW-11", by=agent, type="server")
    made = incidents(requester, 3)
    for ticket in made:
        asset_tickets.link_ticket(agent, ticket, gateway)
    problem = known_errors.create_from_candidate(by=manager, kind="asset", key=gateway.pk)
    assert "GW-11" in problem.title
    assert set(ProblemIncident.objects.filter(problem=problem).values_list("ticket_id", flat=True)) == {
        t.pk for t in made
    }
    assert list(problem.asset_links.values_list("asset_id", flat=True)) == [gateway.pk]
    with pytest.raises(ValidationError):  # nothing left to link
        known_errors.create_from_candidate(by=manager, kind="asset", key=gateway.pk)
    with pytest.raises(PermissionDenied):
        known_errors.create_from_candidate(by=agent, kind="asset", key=gateway.pk)


def test_candidates_page_costs_a_fixed_number_of_queries(
    manager: User, agent: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    _settings(incidents=2, days=7)
    for i in range(4):
        category = Category.objects.create(name_en=f"Cat {i}", name_fr=f"Cat {i}", slug=f"t-cat-{i}")
        asset = make_asset(f"SRV-{i}", by=agent, type="server")
        for ticket in incidents(requester, 3, category=category):
            asset_tickets.link_ticket(agent, ticket, asset)
    with django_assert_max_num_queries(8):  # 5, the links for the walk, the services among them, one level
        found = candidates.candidates_for(manager)
        assert len(found.assets) == 4 and len(found.categories) == 4
        assert all(len(c.incidents) == 3 for c in found.assets + found.categories)


def test_settings_are_checked(manager: User, agent: User) -> None:
    with pytest.raises(PermissionDenied):
        known_errors.update_candidate_settings(by=agent, incidents=4, days=10, factor="2")
    with pytest.raises(ValidationError) as error:
        known_errors.update_candidate_settings(by=manager, incidents=1, days="ten", factor="0.5")
    assert set(error.value.message_dict) == {"candidate_incidents", "candidate_days", "rising_factor"}
    assert ProblemSettings.current().candidate_incidents == 5
    row = known_errors.update_candidate_settings(by=manager, incidents="4", days="10", factor="2,5")
    assert (row.candidate_incidents, row.candidate_days, row.rising_factor) == (4, 10, Decimal("2.5"))


def test_business_service_counts_the_incidents_on_what_it_runs_on(manager: User, agent: User, requester: User) -> None:
    _settings(incidents=3, days=7)
    payroll = make_asset("SVC-PAY", by=agent, type="business-service", name="Payroll")
    app = make_asset("APP-PAY", by=agent, type="application")
    servers = [make_asset(f"SRV-P{i}", by=agent, type="server") for i in range(3)]
    relations.relate(agent, payroll, "depends_on", app)
    for server in servers:
        relations.relate(agent, app, "runs_on", server)
    made = incidents(requester, 3)
    for ticket, server in zip(made, servers, strict=True):  # one incident per server: no server is a candidate
        asset_tickets.link_ticket(agent, ticket, server)
    found = candidates.candidates_for(manager)
    assert [(c.key, c.count, c.service) for c in found.assets] == [(payroll.pk, 3, True)]
    assert {t.pk for t in found.assets[0].incidents} == {t.pk for t in made}
    problem = known_errors.create_from_candidate(by=manager, kind="asset", key=payroll.pk)
    assert problem.incident_links.count() == 3
