"""A macro that adds a task template's tasks with its reply, in the reply's transaction."""

from __future__ import annotations

import pytest

from palier.lib.errors import IllegalTransition
from palier.macros import services as macro_services
from palier.macros.services import MacroFields
from palier.people.models import User
from palier.tickets.models import Comment
from palier.tickets.tests.builders import make_ticket
from palier.worklist.models import TicketTask
from palier.worklist.services import templates

pytestmark = pytest.mark.django_db


def test_a_macro_adds_its_template_tasks_with_the_reply(agent: User, admin_user: User, requester: User) -> None:
    template = templates.save_template(by=admin_user, name="Password reset", items=[{"title": "Check identity"}])
    macro = macro_services.create_macro(
        by=agent,
        fields=MacroFields(
            name="Reset", body_en="We are on it.", body_fr="On s'en occupe.", add_task_template=template
        ),
    )
    ticket = make_ticket(requester)
    macro_services.reply_with_macro(ticket, by=agent, body="We are on it.", macro=macro.pk)
    assert list(TicketTask.objects.filter(ticket=ticket).values_list("title", flat=True)) == ["Check identity"]


def test_a_macro_that_resolves_cannot_skip_the_mandatory_tasks_it_adds(
    agent: User, admin_user: User, requester: User
) -> None:
    template = templates.save_template(
        by=admin_user, name="Hardware", items=[{"title": "Record the serial number", "mandatory": True}]
    )
    macro = macro_services.create_macro(
        by=agent,
        fields=MacroFields(
            name="Fixed", body_en="Fixed.", body_fr="Réparé.", add_task_template=template, set_status="resolved"
        ),
    )
    ticket = make_ticket(requester)
    with pytest.raises(IllegalTransition):
        macro_services.reply_with_macro(ticket, by=agent, body="Fixed.", macro=macro.pk)
    assert not TicketTask.objects.exists() and not Comment.objects.filter(ticket=ticket).exists()  # nothing at all
