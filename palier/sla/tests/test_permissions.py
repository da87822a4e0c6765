from __future__ import annotations

import pytest

from palier.lib.errors import PermissionDenied
from palier.sla import permissions


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("manage_policies", "Only administrators can change SLA policies."),
        ("manage_calendars", "Only administrators can change business calendars."),
    ],
)
def test_administrators_alone_may(action, message, admin_user, manager):
    assert permissions.can(admin_user, action)
    assert not permissions.can(manager, action)
    permissions.require(admin_user, action)
    permissions.require(None, action)  # Palier itself
    with pytest.raises(PermissionDenied, match=message):
        permissions.require(manager, action)
