"""Group membership services added for the administration pages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palier.lib.errors import PermissionDenied
from palier.people import services
from palier.people.models import SupportGroup, User

pytestmark = pytest.mark.django_db


def test_set_group_members_adds_and_removes(admin_user: User, agent: User, agent_l2: User, l2: SupportGroup) -> None:
    services.set_group_members(l2, members=[agent], by=admin_user)
    assert set(l2.members.all()) == {agent}
    services.set_group_members(l2, members=[agent, agent_l2], by=admin_user)
    assert set(l2.members.all()) == {agent, agent_l2}


def test_create_group_with_members_is_all_or_nothing(admin_user: User, agent: User, requester: User) -> None:
    with pytest.raises(ValidationError):
        services.create_group_with_members(name="Mixed", level=2, members=[agent, requester], by=admin_user)
    assert not SupportGroup.objects.filter(name="Mixed").exists()
    with pytest.raises(PermissionDenied):
        services.create_group_with_members(name="Mine", members=[agent], by=agent)
