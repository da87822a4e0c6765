from __future__ import annotations

import pytest

from palier.lib.errors import PermissionDenied
from palier.tickets import permissions


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("priority_matrix", "Only administrators can edit the priority matrix."),
        ("categories", "Only administrators can manage categories."),
    ],
)
def test_administrators_alone_change_reference_data(what, message, admin_user, manager):
    permissions.require_admin_for(admin_user, what)
    permissions.require_admin_for(None, what)  # Palier itself
    with pytest.raises(PermissionDenied, match=message):
        permissions.require_admin_for(manager, what)
