"""The vendor's reply settings on the support group page (administrators)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.people import services as people
from palier.people.models import SupportGroup, User


@pytest.fixture(autouse=True)
def _english_by_default(settings: object) -> None:
    """These tests read the English messages: people without a language get English here (French,
    the product's default, is checked by the catalogs' tests)."""
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]


pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor(admin_user: User) -> SupportGroup:
    return people.create_group(name="Nexalis L4", level=4, is_vendor=True, by=admin_user)


def post(user: User, group: SupportGroup, **fields: Any) -> Any:
    client = Client()
    client.force_login(user)
    data = {"name": group.name, "level": group.level, "is_vendor": "on", **fields}
    return client.post(reverse("agent:admin-group-edit", args=[group.pk]), data)


def test_the_admin_saves_the_vendor_reply_settings(admin_user: User, vendor: SupportGroup) -> None:
    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("agent:admin-group-edit", args=[vendor.pk]))
    assert page.status_code == 200 and b"vendor_reference_pattern" in page.content
    response = post(
        admin_user, vendor, vendor_contacts="Support@Nexalis.test", vendor_domains="@Nexalis.test\nnexalis.eu",
        vendor_accept_domain="on", vendor_reply_public="on", vendor_reference_pattern="Case #(\\d+)",
    )  # fmt: skip
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert vendor.vendor_contact_set == {"support@nexalis.test"}
    assert vendor.vendor_domain_set == {"nexalis.test", "nexalis.eu"}
    assert (vendor.vendor_accept_domain, vendor.vendor_reply_public) == (True, True)
    assert vendor.vendor_reference_pattern == "Case #(\\d+)"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"vendor_reference_pattern": "(a+)+$"}, "takes too long"),
        ({"vendor_reference_pattern": "Case #\\d+"}, "exactly one group"),
        ({"vendor_domains": "*.nexalis.test"}, "is not a mail domain"),
        ({"vendor_domains": "support@nexalis.test"}, "is not a mail domain"),
        ({"vendor_accept_domain": "on"}, "mail domains"),
    ],
)
def test_bad_vendor_settings_are_refused_and_change_nothing(
    admin_user: User, vendor: SupportGroup, fields: dict[str, str], message: str
) -> None:
    response = post(admin_user, vendor, **fields)
    assert response.status_code == 400 and message in response.content.decode()
    vendor.refresh_from_db()
    assert (vendor.vendor_domains, vendor.vendor_accept_domain, vendor.vendor_reference_pattern) == ("", False, "")


def test_vendor_reply_settings_belong_to_vendor_groups(admin_user: User, l2: SupportGroup) -> None:
    response = post(admin_user, l2, is_vendor="", vendor_domains="nexalis.test")
    assert response.status_code == 400
    l2.refresh_from_db()
    assert l2.vendor_domains == ""


def test_only_administrators_reach_the_settings(agent: User, vendor: SupportGroup) -> None:
    response = post(agent, vendor, vendor_accept_domain="on", vendor_domains="evil.test")
    assert response.status_code == 404
    vendor.refresh_from_db()
    assert vendor.vendor_domains == ""
