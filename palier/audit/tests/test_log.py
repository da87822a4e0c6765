"""The audit log: append-only, secrets masked, kept for PALIER_AUDIT_DAYS days, and fed by the
security and administration acts of every app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from palier import events
from palier.audit import services as audit
from palier.audit.models import AppendOnly, AuditEvent
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.routing import services as routing

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_events_from_the_personas(admin_user: User, requester: User, agent: User) -> None:
    """The personas' creation is recorded too; start each test from an empty log."""
    AuditEvent.objects.all()._prune()


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


# --- append-only -------------------------------------------------------------------------------


def test_an_event_cannot_be_changed_or_deleted_through_the_application(admin_user: User) -> None:
    event = audit.record("user.changed", actor=admin_user, target=admin_user, changes={"phone": ["1", "2"]})
    event.action = "nothing.happened"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "user.changed"


def test_the_actors_email_stays_when_the_account_goes(admin_user: User, requester: User) -> None:
    audit.record("auth.login", actor=requester, target=requester)
    User.objects.filter(pk=requester.pk).delete()
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.actor_email) == (None, requester.email)


def test_secrets_are_masked(admin_user: User) -> None:
    event = audit.record(
        "mailbox.changed",
        actor=admin_user,
        changes={"password": ["old-pass", "new-pass"], "oauth_secret": "s3cr3t", "host": ["a", "b"]},
    )
    assert "pass" not in str(event.changes.get("password")) and "s3cr3t" not in str(event.changes)
    assert event.changes["oauth_secret"] == [None, audit.MASK]
    assert event.changes["host"] == ["a", "b"]


def test_retention_removes_only_old_events(admin_user: User, settings: Any) -> None:
    settings.PALIER_AUDIT_DAYS = 30
    recent = audit.record("auth.login", actor=admin_user)
    AuditEvent.objects.create(at=timezone.now() - timedelta(days=31), action="auth.login")
    assert audit.prune() == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    settings.PALIER_AUDIT_DAYS = 0
    AuditEvent.objects.create(at=timezone.now() - timedelta(days=3000), action="auth.login")
    assert audit.prune() == 0


def test_retention_runs_as_a_periodic_job() -> None:
    assert ("audit-prune", 6 * 3600, "palier.audit.tasks.prune_audit_task") in events.PERIODIC_JOBS


# --- what is recorded --------------------------------------------------------------------------


def test_role_changes_are_recorded_old_to_new(admin_user: User, requester: User, client: Client) -> None:
    client.force_login(admin_user)
    people.update_user(requester, by=admin_user, role=User.Role.AGENT)
    event = AuditEvent.objects.get(action="user.role_changed")
    assert (event.actor_id, event.target_id, event.changes) == (
        admin_user.pk,
        str(requester.pk),
        {"role": ["requester", "agent"]},
    )


def test_group_membership_changes_are_recorded(admin_user: User, agent: User, l2: SupportGroup) -> None:
    people.add_group_member(l2, user=agent, by=admin_user)
    people.add_group_member(l2, user=agent, by=admin_user)  # already a member: nothing happens
    people.remove_group_member(l2, user=agent, by=admin_user)
    assert actions() == ["group.member_added", "group.member_removed"]
    assert AuditEvent.objects.get(action="group.member_removed").changes == {"member": [agent.email, None]}


def test_tokens_creation_first_daily_use_and_revocation(requester: User) -> None:
    issued = people.create_api_token(requester, scope="read", by=requester)
    api = Client(headers={"Authorization": f"Bearer {issued.secret}"}, REMOTE_ADDR="192.0.2.10")
    for _ in range(3):
        assert api.get("/api/v1/users/me").status_code == 200
    people.revoke_api_token(issued.token, by=requester)
    assert actions() == ["token.created", "token.used", "token.revoked"]
    used = AuditEvent.objects.get(action="token.used")
    assert (used.actor_email, used.ip) == (requester.email, "192.0.2.10")
    assert issued.secret not in str(list(AuditEvent.objects.values()))


def test_a_token_used_on_a_new_day_is_recorded_again(requester: User) -> None:
    from palier.people.models import ApiToken

    issued = people.create_api_token(requester, scope="read")
    people.authenticate_token(issued.secret)
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=timezone.now() - timedelta(days=1))
    people.authenticate_token(issued.secret)
    assert actions().count("token.used") == 2


def test_the_queue_export_is_recorded(agent: User, client: Client) -> None:
    client.force_login(agent)
    response = client.get(reverse("agent:ticket-export", args=["csv"]), {"status": "all"}, REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="export.tickets")
    assert (event.actor_id, event.ip, event.target_label) == (agent.pk, "192.0.2.5", "tickets.csv")


def test_a_deletion_is_recorded(admin_user: User, l2: SupportGroup) -> None:
    rule = routing.create_rule(by=admin_user, name="Réseau", group=l2, words="vpn")
    routing.delete_rule(rule, by=admin_user)
    event = AuditEvent.objects.get(action="deleted")
    assert (event.target_type, event.target_id, event.actor_id) == ("routing.routingrule", str(rule.pk), admin_user.pk)


def test_settings_changes_are_recorded_with_what_changed(admin_user: User, triage: SupportGroup) -> None:
    from palier.routing.services import rules as routing_rules
    from palier.sla.models import SlaPolicy
    from palier.sla.services import policies

    rule = routing_rules.create_rule(by=admin_user, name="Imprimantes", group=triage)
    routing_rules.update_rule(rule, by=admin_user, name="Imprimantes et scanners")
    routing_rules.set_rule_active(rule, by=admin_user, active=False)
    policy = SlaPolicy.objects.order_by("position").first()
    assert policy is not None
    policies.update_policy(
        policy,
        by=admin_user,
        **{**policies_fields(policy), "first_response_minutes": policy.first_response_minutes + 5},
    )
    events = list(AuditEvent.objects.order_by("id").values_list("action", "changes"))
    actions = [action for action, _changes in events]
    assert actions[:3] == ["routing_rule.created", "routing_rule.changed", "routing_rule.changed"]
    assert events[1][1]["name"] == ["Imprimantes", "Imprimantes et scanners"]
    assert events[2][1] == {"is_active": [True, False]}
    assert actions[3] == "sla_policy.changed" and list(events[3][1]) == ["first_response_minutes"]


def test_automation_rule_changes_are_recorded(admin_user: User) -> None:
    from palier.automation.services import rules as automation_rules

    actions = [{"type": "add_tags", "value": "vip"}]
    rule = automation_rules.create_rule(by=admin_user, name="VIP", trigger="created", actions=actions, conditions={})
    automation_rules.set_rule_active(rule, by=admin_user, active=False)
    found = list(
        AuditEvent.objects.filter(target_type="automation.rule").order_by("id").values_list("action", "changes")
    )
    assert [action for action, _changes in found] == ["automation_rule.created", "automation_rule.changed"]
    assert found[0][1]["name"] == [None, "VIP"] and found[1][1] == {"is_active": [True, False]}


def policies_fields(policy: Any) -> dict[str, Any]:
    names = (
        "name", "calendar", "first_response_minutes", "resolution_minutes", "next_response_minutes",
        "warn_percent", "priorities", "kinds", "pause_statuses", "warning_actions", "breach_actions",
    )  # fmt: skip
    return {name: getattr(policy, name) for name in names}
