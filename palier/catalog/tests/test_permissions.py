from __future__ import annotations

import pytest

from palier.catalog import permissions
from palier.lib.errors import PermissionDenied


def test_administrators_alone_manage_the_catalog(admin_user, manager):
    assert permissions.can_manage(admin_user)
    assert not permissions.can_manage(manager)
    permissions.require_manage(admin_user)
    with pytest.raises(PermissionDenied) as refused:
        permissions.require_manage(manager)
    assert refused.value.message == "Only administrators can change the service catalog."
