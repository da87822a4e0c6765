from __future__ import annotations

import pytest

from palier.automation import permissions
from palier.lib.errors import PermissionDenied


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("manage_rules", "Only administrators can manage automation rules."),
        ("manage_recurring", "Only administrators can manage recurring tickets."),
    ],
)
def test_administrators_alone_may(action, message, admin_user, manager):
    assert permissions.can(admin_user, action)
    assert not permissions.can(manager, action)
    permissions.require(admin_user, action)
    permissions.require(None, action)  # Palier itself
    with pytest.raises(PermissionDenied, match=message):
        permissions.require(manager, action)
