"""The administrators' inventory pages: tokens (shown once, revoked, audited) and the reports."""

from __future__ import annotations

import pytest

from palier.assets.models import InventoryReport, InventoryToken
from palier.audit.models import AuditEvent

from .corpus import new_token, post
from .test_bad_input import report

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_an_admin_creates_uses_and_revokes_a_token(client, admin_user, org, django_assert_max_num_queries):
    client.force_login(admin_user)
    response = client.post(
        "/agent/assets/inventory/tokens/", {"name": "Lyon laptops", "organisation": org.pk, "days": "30"}, **EN
    )
    assert response.status_code == 200
    secret = response.context["new_token"]
    assert secret.startswith("pinv_") and secret.encode() in response.content
    token = InventoryToken.objects.get()
    assert token.organisation == org and token.digest != secret and secret not in token.digest
    with django_assert_max_num_queries(12):
        page = client.get("/agent/assets/inventory/tokens/", **EN)
    assert b"Lyon laptops" in page.content and secret.encode() not in page.content  # never shown again
    client.logout()
    assert post(client, report(), secret).status_code == 200
    client.force_login(admin_user)
    client.post(f"/agent/assets/inventory/tokens/{token.pk}/revoke/", **EN)
    client.logout()
    assert post(client, report("SN-2"), secret).status_code == 401
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "inventory_token.created",
        "inventory_token.revoked",
    }


def test_the_reports_page_lists_states_errors_and_the_raw_body(client, admin_user, django_assert_max_num_queries):
    _token, secret = new_token(name="fleet")
    post(client, report(), secret)
    post(client, b'{"action": "inventory", "deviceid": "x", "content": ', secret)
    client.force_login(admin_user)
    with django_assert_max_num_queries(12):
        page = client.get("/agent/assets/inventory/reports/", **EN)
    assert page.status_code == 200
    assert b"not valid JSON" in page.content and b"INV-" in page.content
    rejected = client.get("/agent/assets/inventory/reports/?state=rejected", **EN)
    assert b"INV-" not in rejected.content
    broken = InventoryReport.objects.get(state=InventoryReport.State.REJECTED)
    raw = client.get(f"/agent/assets/inventory/reports/{broken.pk}/raw/", **EN)
    assert raw.status_code == 200 and raw.content == bytes(broken.body)
    assert AuditEvent.objects.filter(action="inventory_report.downloaded").count() == 1


def test_only_admins_see_the_inventory_pages(client, agent):
    client.force_login(agent)
    for url in [
        "/agent/assets/inventory/tokens/",
        "/agent/assets/inventory/reports/",
        "/agent/assets/inventory/reports/1/raw/",
    ]:
        assert client.get(url, **EN).status_code == 404
    assert client.post("/agent/assets/inventory/tokens/", {"name": "mine"}, **EN).status_code == 404
    assert InventoryToken.objects.count() == 0


def test_a_known_machine_reports_in_a_handful_of_queries(client, django_assert_max_num_queries):
    _token, secret = new_token()
    post(client, report(), secret)
    again = report()
    again["content"]["softwares"].append({"name": "Vim", "version": "9"})  # type: ignore[index]
    with django_assert_max_num_queries(16):  # 4 of them savepoints
        assert post(client, again, secret).status_code == 200
