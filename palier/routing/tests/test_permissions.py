from __future__ import annotations

import pytest

from palier.lib.errors import PermissionDenied
from palier.routing import permissions


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("manage_rules", "Only administrators can manage routing rules."),
        ("manage_escalation", "Only administrators can change escalation defaults."),
    ],
)
def test_administrators_alone_may(action, message, admin_user, manager):
    assert permissions.can(admin_user, action)
    assert not permissions.can(manager, action)
    permissions.require(admin_user, action)
    permissions.require(None, action)  # Palier itself
    with pytest.raises(PermissionDenied, match=message):
        permissions.require(manager, action)
