"""The automation action that adds a task template's tasks to a ticket (tasks on tickets, not
catalog fulfilment tasks), and the rule turned off when its template is deleted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from palier.automation.models import Rule
from palier.automation.services import rules
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket
from palier.worklist.models import TicketTask
from palier.worklist.services import templates

pytestmark = pytest.mark.django_db


def test_a_rule_adds_the_tasks_of_a_template_to_new_tickets(
    requester: User, admin_user: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    template = templates.save_template(
        by=admin_user,
        name="Laptop request",
        items=[{"title": "Image the laptop", "mandatory": True}, {"title": "Ship"}],
    )
    make_rule("Laptops", trigger="created", actions=[{"type": "add_tasks", "value": template.pk}])
    ticket = make_ticket(requester, subject="New laptop", kind="request")
    pump()
    added = list(TicketTask.objects.filter(ticket=ticket))
    assert [(t.title, t.mandatory, t.created_by_id) for t in added] == [
        ("Image the laptop", True, None),
        ("Ship", False, None),
    ]
    pump()  # the rule's own events do not add them again
    assert TicketTask.objects.filter(ticket=ticket).count() == 2


def test_a_rule_naming_no_template_is_refused_and_a_deleted_one_turns_it_off(
    admin_user: User, make_rule: Callable[..., Rule]
) -> None:
    with pytest.raises(ValidationError):
        make_rule("Broken", actions=[{"type": "add_tasks", "value": ""}])
    template = templates.save_template(by=admin_user, name="Leaver", items=[{"title": "Disable the account"}])
    rule = make_rule("Leavers", actions=[{"type": "add_tasks", "value": template.pk}])
    templates.delete_template(template, by=admin_user)
    assert rules.check_references() == 1
    rule.refresh_from_db()
    assert not rule.is_active and "task template" in rule.disabled_reason
