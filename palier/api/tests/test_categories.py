"""The reference-data router: categories and the priority matrix."""

from __future__ import annotations

from palier.api.tests.conftest import API, assert_problem
from palier.people import services as people
from palier.tickets.models import Category, PriorityRule
from palier.tickets.tests.builders import make_ticket


def test_categories_flat_list_in_the_users_language(client_for, requester):
    items = client_for(requester).get(f"{API}/categories").json()
    assert len(items) == Category.objects.count() > 0
    child = next(c for c in items if c["parent"] is not None)
    assert child["parent"] in {c["id"] for c in items}
    assert child["name"] == child["name_fr"]
    people.update_user(requester, by=None, language="en")
    items = client_for(requester).get(f"{API}/categories").json()
    assert all(c["name"] == c["name_en"] for c in items)


def test_admin_creates_a_category(client_for, admin_user, agent):
    parent = Category.objects.filter(parent=None).first()
    payload = {"slug": "imprimantes-3d", "name_en": "3D printers", "name_fr": "Imprimantes 3D", "parent": parent.pk}
    r = client_for(admin_user).call("POST", "/categories", payload)
    assert r.status_code == 201, r.content
    assert r.json()["parent"] == parent.pk
    assert_problem(client_for(admin_user).call("POST", "/categories", payload), 422, "slug")
    assert_problem(client_for(admin_user).call("POST", "/categories", {**payload, "slug": "Bad Slug"}), 422, "slug")
    assert_problem(
        client_for(admin_user).call("POST", "/categories", {**payload, "slug": "x", "parent": 9999}), 422, "parent"
    )
    assert_problem(client_for(agent).call("POST", "/categories", {**payload, "slug": "other"}), 403)


def test_priority_matrix_read_and_edit(client_for, admin_user, agent, requester):
    cells = client_for(requester).get(f"{API}/priority-matrix").json()
    assert len(cells) == 9
    assert {"impact": "high", "urgency": "high", "priority": 1} in cells
    admin = client_for(admin_user)
    r = admin.put(
        f"{API}/priority-matrix",
        {"cells": [{"impact": "low", "urgency": "low", "priority": 3}]},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert {"impact": "low", "urgency": "low", "priority": 3} in r.json()
    assert make_ticket(requester).priority == 3


def test_priority_matrix_is_admin_only_and_validated(client_for, admin_user, agent):
    body = {"cells": [{"impact": "low", "urgency": "low", "priority": 1}]}
    assert_problem(client_for(agent).put(f"{API}/priority-matrix", body, content_type="application/json"), 403)
    bad = {"cells": [{"impact": "low", "urgency": "low", "priority": 5}]}
    assert_problem(
        client_for(admin_user).put(f"{API}/priority-matrix", bad, content_type="application/json"),
        422,
        "cells.0.priority",
    )
    assert not PriorityRule.objects.filter(impact="low", urgency="low", priority=1).exists()
