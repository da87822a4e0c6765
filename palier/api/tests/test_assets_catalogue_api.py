"""Asset types and locations through the API: administrators only, paths kept by the services."""

from __future__ import annotations

import pytest

from palier.api.tests.conftest import assert_problem

pytestmark = pytest.mark.django_db


def test_admins_write_types_and_the_location_tree(client_for, admin_user, agent):
    assert_problem(client_for(agent).call("POST", "/locations", {"name": "Lyon"}), 403)
    api = client_for(admin_user)
    lyon = api.call("POST", "/locations", {"name": "Lyon"}).json()
    floor = api.call("POST", "/locations", {"name": "2e étage", "kind": "floor", "parent": lyon["id"]}).json()
    assert floor["path"] == "Lyon › 2e étage"
    renamed = api.call("PATCH", f"/locations/{lyon['id']}", {"name": "Lyon Part-Dieu"})
    assert renamed.status_code == 200, renamed.content
    paths = [p["path"] for p in api.call("GET", "/locations").json()["items"]]
    assert paths == ["Lyon Part-Dieu", "Lyon Part-Dieu › 2e étage"]
    created = api.call("POST", "/asset-types", {"name_fr": "Badgeuse", "name_en": "Badge reader"})
    assert created.status_code == 201 and created.json()["slug"] == "badge-reader"
    bad = api.call("PATCH", f"/asset-types/{created.json()['id']}", {"fields": [{"key": "Bad Key"}]})
    assert_problem(bad, 422, "fields")
