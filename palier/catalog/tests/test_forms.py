"""The request form built from an item's fields: each type accepts good input and refuses bad
input with a message on its own field."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from palier.catalog.forms import RequestForm
from palier.catalog.models import ItemField
from palier.catalog.permissions import nameable_people
from palier.catalog.tests.builders import make_item
from palier.people.models import User

CHOICES = [{"value": "vpn", "fr": "VPN (fr)", "en": "VPN"}, {"value": "crm", "fr": "CRM (fr)", "en": "CRM"}]


def _form(spec: dict[str, Any], user: User, data: dict[str, Any], files: dict[str, Any] | None = None) -> RequestForm:
    item = make_item(fields=[{"key": "x", **spec}])
    return RequestForm(data, files or {}, specs=list(item.fields.all()), people=nameable_people(user))


CASES = [
    ({"kind": "short_text", "required": True}, "Firefox", "", "This field is required."),
    ({"kind": "short_text"}, "ok", "x" * 201, "at most 200 characters"),
    ({"kind": "long_text", "required": True}, "Line 1\nLine 2", "   ", "This field is required."),
    ({"kind": "number", "min_value": 1, "max_value": 10}, "3", "11", "less than or equal to 10"),
    ({"kind": "number", "min_value": 1, "max_value": 10}, "1.5", "abc", "Enter a number."),
    ({"kind": "date", "required": True}, "2026-12-01", "31/02/2026", "Enter a valid date."),
    ({"kind": "choice", "required": True, "choices": CHOICES}, "vpn", "tea", "Select a valid choice."),
    ({"kind": "multiple", "choices": CHOICES}, ["vpn", "crm"], ["vpn", "tea"], "Select a valid choice."),
    ({"kind": "checkbox", "required": True}, "on", "", "This field is required."),
    ({"kind": "person", "required": True}, "bob@acme.test", "eve@globex.test", "Nobody you can choose"),
]


@pytest.mark.parametrize(("spec", "good", "bad", "message"), CASES, ids=[c[0]["kind"] for c in CASES])
def test_each_field_type_accepts_good_and_refuses_bad_input(
    spec: dict[str, Any], good: Any, bad: Any, message: str, requester: User, requester_b: User, outsider: User
) -> None:
    ok = _form(spec, requester, {"f_x": good})
    assert ok.is_valid(), ok.errors
    refused = _form(spec, requester, {"f_x": bad})
    assert not refused.is_valid()
    assert message in " ".join(refused.errors["f_x"])
    assert set(refused.errors) == {"f_x"}  # the error sits beside its own field


def test_answers_are_readable_and_structured(requester: User, requester_b: User) -> None:
    item = make_item(
        fields=[
            {"key": "qty", "kind": "number"},
            {"key": "apps", "kind": "multiple", "choices": CHOICES},
            {"key": "who", "kind": "person"},
            {"key": "when", "kind": "date"},
            {"key": "phone", "kind": "checkbox"},
        ]
    )
    data = {"f_qty": "2", "f_apps": ["vpn", "crm"], "f_who": "BOB@acme.test", "f_when": "2026-12-01"}
    form = RequestForm(data, specs=list(item.fields.all()), people=nameable_people(requester))
    assert form.is_valid(), form.errors
    answers = {a["key"]: a for a in form.answers()}
    assert answers["qty"]["value"] == "2" and answers["qty"]["text"] == "2"
    assert answers["apps"]["value"] == ["vpn", "crm"] and answers["apps"]["text"] == "VPN, CRM"
    assert answers["who"]["value"] == {"id": requester_b.pk, "email": "bob@acme.test"}
    assert answers["who"]["text"] == "Bob Durand <bob@acme.test>"
    assert answers["when"]["value"] == "2026-12-01"
    assert answers["phone"]["value"] is False and answers["phone"]["text"] == "No"


def test_attachment_field_requires_a_file(requester: User) -> None:
    spec = {"kind": ItemField.Kind.ATTACHMENT, "required": True}
    assert not _form(spec, requester, {}).is_valid()
    upload = SimpleUploadedFile("quote.pdf", b"%PDF-1.4 quote", content_type="application/pdf")
    form = _form(spec, requester, {}, {"f_x": upload})
    assert form.is_valid(), form.errors
    assert form.uploads == {"x": upload}


def test_help_text_and_labels_follow_the_language(requester: User) -> None:
    from django.utils import translation

    item = make_item(fields=[{"key": "x", "kind": "short_text", "help_fr": "Aide", "help_en": "Help"}])
    with translation.override("fr"):
        form = RequestForm(specs=list(item.fields.all()), people=nameable_people(requester))
        assert form.fields["f_x"].label == "X (fr)" and form.fields["f_x"].help_text == "Aide"
    form = RequestForm(specs=list(item.fields.all()), people=nameable_people(requester))
    assert form.fields["f_x"].label == "X" and form.fields["f_x"].help_text == "Help"
