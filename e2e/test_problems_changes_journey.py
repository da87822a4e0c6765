"""Two journeys of the people who fix causes and control changes.

A problem manager selects three incidents about the same VPN gateway in the queue, creates a
problem from them, and finds the three incidents on the problem's page; each incident's page then
says it is linked to the problem.

A member of the change advisory board opens a change waiting for the board, approves it from the
change's page, and the change is approved (the board's rule is "any one member").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from palier.changes import services as changes
from palier.changes.models import Change
from palier.changes.services import boards
from palier.people import services as people
from palier.people.models import User
from palier.problems.models import Problem
from palier.tickets.tests.builders import make_ticket

TEXT = {
    "fr": {"create": "Créer le problème", "approve": "Approuver", "approved": "Approuvé"},
    "en": {"create": "Create the problem", "approve": "Approve", "approved": "Approved"},
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_problem_manager_creates_a_problem_from_three_incidents(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    requester: User,
    requester_b: User,
    manager: User,
) -> None:
    people.update_user(manager, by=manager, language=language)
    vpn = [
        make_ticket(requester, subject="VPN coupé toutes les heures"),
        make_ticket(requester_b, subject="Le VPN se déconnecte"),
        make_ticket(requester, subject="VPN : déconnexion au bout d'une heure"),
    ]
    other = make_ticket(requester_b, subject="Imprimante bloquée")

    page = login(manager.email, "pw-nina-123!")
    page.goto(url("/agent/"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    for ticket in vpn:
        page.locator(f"#select-{ticket.pk}").check()
    expect(page.locator("#bulk-count")).to_contain_text("3")
    page.locator("details.bulk-more > summary").click()  # the problem actions are under "More actions"
    page.locator("#bulk-create-problem").click()

    # the problem's form, with the three incidents already chosen
    form = page.locator("#problem-form")
    expect(form).to_be_visible()
    form.locator("input[name=title]").fill("Passerelle VPN : fuite mémoire du firmware")
    form.get_by_role("button", name=TEXT[language]["create"]).click()

    problem = Problem.objects.get()
    expect(page).to_have_url(url(f"/agent/problems/{problem.pk}/"))
    expect(page.locator("h1")).to_contain_text(problem.reference)
    rows = page.locator("#incident-table tbody tr")
    expect(rows).to_have_count(3)
    for ticket in vpn:
        expect(page.locator(f'#incident-table [data-ticket="{ticket.reference}"]')).to_have_count(1)
    expect(page.locator(f'#incident-table [data-ticket="{other.reference}"]')).to_have_count(0)

    # the incident's own page says which problem it belongs to
    page.goto(url(f"/agent/tickets/{vpn[0].pk}/"))
    expect(page.locator("#problem-linked")).to_contain_text(problem.reference)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_board_member_approves_a_change_from_its_page(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    agent: User,
    admin_user: User,
) -> None:
    group = people.create_group(name="CAB", level=2)
    member = people.create_user(
        email="cab@desk.test",
        full_name="Camille Board",
        role=User.Role.AGENT,
        password="pw-cab-1234!",
        language=language,
    )
    people.add_group_member(group, user=member)
    board = boards.save_board(by=admin_user, name="CAB", group=group, rule="any")
    boards.add_stage(by=admin_user, path="normal", board=board, min_risk="low")
    start = timezone.now() + timedelta(days=5)
    change = changes.create_change(
        by=agent, kind="normal", title="Mise à jour du cœur de réseau", planned_start=start,
        planned_end=start + timedelta(hours=2), implementation_plan="Mise à jour", backout_plan="Retour arrière",
    )  # fmt: skip
    change = changes.transition_change(change, to=Change.Status.ASSESSMENT, by=agent)
    change = changes.transition_change(change, to=Change.Status.AWAITING_APPROVAL, by=agent)

    page = login(member.email, "pw-cab-1234!")
    page.goto(url(f"/agent/changes/{change.pk}/"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    decision = page.locator("#cab-decision")
    decision.locator("textarea[name=comment]").fill("OK pour samedi")
    decision.get_by_role("button", name=TEXT[language]["approve"]).click()

    expect(page.locator("#change-status")).to_have_text(TEXT[language]["approved"])
    expect(page.locator("#cab-decision")).to_have_count(0)  # decided once: no second form
    change.refresh_from_db()
    assert change.status == Change.Status.APPROVED
