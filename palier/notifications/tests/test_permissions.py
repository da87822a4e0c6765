from __future__ import annotations

import pytest

from palier.lib.errors import PermissionDenied
from palier.notifications import permissions


@pytest.mark.parametrize(("action", "message"), [("retry_email", "Only administrators can send an email again.")])
def test_administrators_alone_may(action, message, admin_user, manager):
    assert permissions.can(admin_user, action)
    assert not permissions.can(manager, action)
    permissions.require(admin_user, action)
    with pytest.raises(PermissionDenied, match=message):
        permissions.require(manager, action)
