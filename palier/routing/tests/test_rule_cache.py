"""Every routing rule change reloads the active rules in every process (two caches of the same
name stand for two processes)."""

from __future__ import annotations

import pytest

from palier.core.cache import VersionedCache
from palier.routing import services
from palier.routing.services import rules

pytestmark = pytest.mark.django_db


def test_each_rule_change_reloads_the_rules_of_another_process(make_rule, make_group, admin_user) -> None:
    other = VersionedCache(rules.RULES.name, load=rules._load)  # another process
    assert other.get() == ()
    net = make_group("Network", level=2)
    rule = make_rule("All", net)
    assert [r.id for r in other.get()] == [rule.pk]
    services.update_rule(rule, by=admin_user, name="Everything")
    assert other.get()[0].name == "Everything"
    second = make_rule("Second", net)
    services.move_rule(second, by=admin_user, up=True)
    assert [r.id for r in other.get()] == [second.pk, rule.pk]
    services.set_rule_active(second, by=admin_user, active=False)
    assert [r.id for r in other.get()] == [rule.pk]
    services.delete_rule(rule, by=admin_user)
    assert other.get() == ()
    assert rules.active_rules() == ()  # this process too
