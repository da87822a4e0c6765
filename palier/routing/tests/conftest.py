"""Builders for the routing tests: groups with strategies and agents, through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.routing import services
from palier.routing.models import RoutingRule
from palier.tickets.models import Category


@pytest.fixture
def make_group(db: None) -> Callable[..., SupportGroup]:
    def build(name: str, *, level: int = 1, strategy: str = "manual", agents: int = 0, **extra: Any) -> SupportGroup:
        group = people.create_group(name=name, level=level, is_vendor=extra.pop("is_vendor", False))
        if strategy != "manual" or extra:
            for key, value in {"assignment_strategy": strategy, **extra}.items():
                setattr(group, key, value)
            group.save()
        for i in range(agents):
            user = people.create_user(
                email=f"{name.lower().replace(' ', '-')}-{i}@desk.test",
                full_name=f"{name} agent {i}",
                role=User.Role.AGENT,
            )
            people.add_group_member(group, user=user)
        return group

    return build


@pytest.fixture
def make_rule(admin_user: User) -> Callable[..., RoutingRule]:
    def build(name: str, group: SupportGroup, **fields: Any) -> RoutingRule:
        return services.create_rule(by=admin_user, name=name, group=group, **fields)

    return build


@pytest.fixture
def category(db: None) -> Category:
    return Category.objects.get(slug="network")


def members(group: SupportGroup) -> list[User]:
    return list(group.members.order_by("email"))
