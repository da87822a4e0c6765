from __future__ import annotations

import pytest

from palier.lib.errors import PermissionDenied
from palier.people import permissions, services


def test_only_active_administrators_are_administrators(admin_user, manager, agent, requester):
    assert permissions.is_admin(admin_user)
    assert not any(permissions.is_admin(user) for user in (manager, agent, requester, None))
    services.set_user_active(admin_user, active=False, by=None)
    assert not permissions.is_admin(admin_user)


def test_a_superuser_is_an_administrator(requester):
    assert not permissions.is_admin(requester)
    requester.is_superuser = True
    assert permissions.is_admin(requester)


def test_require_admin_refuses_people_with_the_message_given(agent, admin_user):
    with pytest.raises(PermissionDenied) as refused:
        permissions.require_admin(agent, message="No entry.")
    assert (refused.value.message, refused.value.status) == ("No entry.", 403)
    permissions.require_admin(admin_user, message="No entry.")


def test_palier_itself_passes_the_check():
    permissions.require_admin(None, message="No entry.")


def test_an_inactive_administrator_is_refused(admin_user):
    services.set_user_active(admin_user, active=False, by=None)
    with pytest.raises(PermissionDenied):
        permissions.require(admin_user)


def test_people_may_change_their_own_profile_and_tokens_only(agent, requester, admin_user):
    token = services.create_api_token(agent, by=agent).token
    assert permissions.can(agent, "edit_profile", agent)
    assert permissions.can(agent, "manage_tokens", token)
    assert not permissions.can(requester, "edit_profile", agent)
    assert not permissions.can(requester, "manage_tokens", token)
    assert not permissions.can(agent, "manage", agent)
    assert all(permissions.can(admin_user, action, agent) for action in ("manage", "edit_profile", "manage_tokens"))


def test_administrators_alone_manage_people(admin_user, manager):
    assert permissions.can(admin_user, "manage")
    assert not permissions.can(manager, "manage")
    with pytest.raises(PermissionDenied) as refused:
        permissions.require(manager)
    assert refused.value.message == "Only administrators can manage people and groups."
