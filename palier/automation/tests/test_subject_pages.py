"""The administrator's pages for rules on problems and changes: the subject first, then its own
triggers, conditions and actions; the dry run over the last 30 days' events and the run log, at
a number of queries that does not grow with the records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from palier.automation import services
from palier.automation.models import Rule, SubjectRun
from palier.automation.services import subject_engine
from palier.changes import services as change_services
from palier.core import outbox
from palier.core.models import OutboxItem
from palier.people.models import SupportGroup, User
from palier.problems import services as problem_services
from palier.tickets.tests.builders import make_ticket

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _rule(admin: User, subject: str, trigger: str, **fields: Any) -> Rule:
    fields.setdefault("actions", [{"type": "note", "text": "Seen by {rule}"}])
    return services.create_rule(by=admin, name=f"{subject} rule", subject=subject, trigger=trigger, **fields)


def _get(client: Client, name: str, *args: Any, **query: str) -> Any:
    return client.get(reverse(name, args=args), query, **EN)  # type: ignore[arg-type]


def test_the_subject_comes_first_then_its_own_vocabulary(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    chooser = _get(client, "automation:rule-new").content.decode()
    assert (
        'data-subject="problem"' in chooser and 'data-subject="change"' in chooser and 'id="rule-form"' not in chooser
    )
    page = _get(client, "automation:rule-new", subject="change").content.decode()
    assert 'value="change_approval"' in page and 'value="problem_created"' not in page and 'value="created"' not in page
    assert 'value="hours_to_start"' in page and 'value="channel"' not in page  # the change's fields only
    assert 'value="set_status"' in page and 'value="add_tags"' not in page and 'value="approve"' not in page
    assert 'value="change_move:scheduled"' in page and 'value="change_move:approved"' not in page
    row = _get(client, "automation:rule-row", "condition", **{"c-TOTAL_FORMS": "2", "subject": "problem"})
    assert 'value="incidents"' in row.content.decode() and 'value="risk"' not in row.content.decode()


def test_an_admin_saves_a_problem_rule_from_rows(client: Client, admin_user: User, l2: SupportGroup) -> None:
    client.force_login(admin_user)
    data = {
        "name": "Many incidents", "is_active": "on", "trigger": "problem_incidents", "to_status": "",
        "c-TOTAL_FORMS": "1", "c-INITIAL_FORMS": "0", "c-0-part": "all", "c-0-field": "incidents", "c-0-op": "reaches",
        "c-0-text": "10", "a-TOTAL_FORMS": "1", "a-INITIAL_FORMS": "0", "a-0-type": "notify",
        "a-0-target": f"group:{l2.pk}", "a-0-text": "{reference} reached 10 incidents",
    }  # fmt: skip
    response = client.post(reverse("automation:rule-new") + "?subject=problem", data, **EN)  # type: ignore[arg-type]
    assert response.status_code == 302
    rule = Rule.objects.get()
    assert (rule.subject, rule.trigger) == ("problem", "problem_incidents")
    assert rule.conditions == {"all": [{"field": "incidents", "op": "reaches", "value": 10}], "any": []}
    assert rule.actions == [
        {"type": "notify", "to": "group", "value": l2.pk, "text": "{reference} reached 10 incidents"}
    ]
    edit = _get(client, "automation:rule-edit", rule.pk).content.decode()
    assert f'value="group:{l2.pk}" selected' in edit and "Problems" in edit


def test_bad_rows_are_refused_on_the_page_and_nothing_is_saved(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    data = {
        "name": "Approve", "is_active": "on", "trigger": "change_status", "to_status": "awaiting_approval",
        "c-TOTAL_FORMS": "1", "c-INITIAL_FORMS": "0", "c-0-part": "all", "c-0-field": "channel", "c-0-op": "is",
        "a-TOTAL_FORMS": "1", "a-INITIAL_FORMS": "0", "a-0-type": "set_status", "a-0-target": "change_move:approved",
    }  # fmt: skip
    response = client.post(reverse("automation:rule-new") + "?subject=change", data, **EN)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert not Rule.objects.exists()
    body = response.content.decode()
    assert "Select a valid choice" in body  # neither a ticket's field nor "approved" is offered


def test_an_agent_may_not_open_the_rule_pages(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert _get(client, "automation:rule-new", subject="problem").status_code == 404
    response = client.post(reverse("automation:rule-new") + "?subject=problem", {"name": "x"}, **EN)  # type: ignore[arg-type]
    assert response.status_code == 404 and not Rule.objects.exists()


def _run_outbox() -> None:
    for pk in OutboxItem.objects.filter(kind=subject_engine.OUTBOX_KIND).values_list("pk", flat=True):
        outbox.run(pk)


def test_dry_run_and_run_log_of_a_problem_rule(
    client: Client, admin_user: User, agent: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    rule = _rule(
        admin_user, "problem", "problem_incidents",
        conditions={"all": [{"field": "incidents", "op": "gte", "value": 2},
                            {"field": "business_service", "op": "lacks", "value": "payroll"}]},
    )  # fmt: skip
    client.force_login(admin_user)

    def grow(n: int) -> None:
        for i in range(n):
            problem = problem_services.create_problem(by=agent, title=f"VPN {i}")
            first, second = (make_ticket(requester, subject=f"VPN {i}", kind="incident") for _ in range(2))
            problem_services.link_incidents(problem, [first.pk], by=agent)  # 1: not yet
            problem_services.link_incidents(problem, [second.pk], by=agent)  # 2: matches
            problem_services.create_problem(by=agent, title=f"Printer {i}")  # no incident

    for n, shown in ((2, 2), (28, 25)):
        grow(n)
        with django_assert_max_num_queries(14):
            body = _get(client, "automation:rule-dry-run", rule.pk).content.decode()
        assert _main(body).count('href="/agent/problems/') == shown
    assert "30 problems would have matched" in body
    _run_outbox()
    assert SubjectRun.objects.filter(rule=rule, outcome="applied").count() == 30
    with django_assert_max_num_queries(10):
        log = _get(client, "automation:rule-runs", rule.pk).content.decode()
    assert _main(log).count('href="/agent/problems/') == 25


def test_dry_run_of_a_change_rule_reads_the_approval_decided(client: Client, admin_user: User, agent: User) -> None:
    rule = _rule(
        admin_user, "change", "change_created", conditions={"all": [{"field": "kind", "op": "is", "value": "normal"}]}
    )
    start = timezone.now() + timedelta(days=2)
    normal = change_services.create_change(by=agent, kind="normal", title="Core switch", planned_start=start,
                                           planned_end=start + timedelta(hours=1))  # fmt: skip
    emergency = change_services.create_change(by=agent, kind="emergency", title="Hotfix")
    client.force_login(admin_user)
    body = _get(client, "automation:rule-dry-run", rule.pk).content.decode()
    assert normal.reference in body and emergency.reference not in body
    assert "1 change would have matched" in body
    rules_page = _get(client, "automation:rules").content.decode()
    assert 'data-subject="change"' in rules_page and "Change created" in rules_page


def test_make_rule_fixture_still_builds_ticket_rules(make_rule: Callable[..., Rule]) -> None:
    rule = make_rule(actions=[{"type": "add_tags", "value": "x"}])
    assert rule.subject == "ticket"


def _main(page: str) -> str:
    """The page's own content, without the top bar (which links to the problems)."""
    return page.split("<main", 1)[1]
