"""Demo people are found by the people search like anyone else (accents and case ignored)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password

from palier.demo import people as demo_people
from palier.lib import text
from palier.people.models import User
from palier.people.selectors import people_matching

pytestmark = pytest.mark.django_db


def _emails(q: str, **kwargs: Any) -> list[str]:
    return [u.email for u in people_matching(q, **kwargs)]


def test_demo_people_are_findable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_people, "REQUESTERS", 6)
    logins = {
        "admin": "admin@demo.test",
        "manager": "manager@demo.test",
        "agent": "agent@demo.test",
        "requester": "claire@demo.test",
    }
    demo_people.create_people(random.Random(7), password=make_password("demo"), logins=logins)
    assert _emails("lea agent") == ["agent@demo.test"]  # "Léa Agent", created by bulk_create
    assert _emails("claire dubois") == ["claire@demo.test"]
    accented = [
        u
        for u in User.objects.filter(email__endswith="demo.palier.test")
        if text.normalise(u.full_name) != u.full_name.lower()
    ]
    assert accented
    for person in accented[:3]:
        assert person.email in _emails(text.normalise(person.full_name))
