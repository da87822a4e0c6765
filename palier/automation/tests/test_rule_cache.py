"""Every automation rule change reloads the active rules in every process (two caches of the
same name stand for two processes)."""

from __future__ import annotations

import pytest

from palier.automation import services
from palier.automation.services import rules
from palier.core.cache import VersionedCache

pytestmark = pytest.mark.django_db

NOTE = [{"type": "note", "text": "Seen."}]


def test_each_rule_change_reloads_the_rules_of_another_process(make_rule, admin_user) -> None:
    other = VersionedCache(rules.RULES.name, load=rules._load)  # another process
    assert other.get() == ()
    rule = make_rule("First", actions=NOTE)
    assert [r.id for r in other.get()] == [rule.pk]
    services.update_rule(rule, by=admin_user, name="Renamed")
    assert other.get()[0].name == "Renamed"
    second = make_rule("Second", actions=NOTE)
    services.move_rule(second, by=admin_user, up=True)
    assert [r.id for r in other.get()] == [second.pk, rule.pk]
    services.delete_rule(second, by=admin_user)
    assert [r.id for r in other.get()] == [rule.pk]
    assert [r.id for r in rules.active_rules()] == [rule.pk]  # this process too
