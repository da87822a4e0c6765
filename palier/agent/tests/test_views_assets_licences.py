"""The licences and warnings page, its CSV, the audited key reveal, and the import pages
(upload → preview writes nothing → confirm)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from palier.assets import licences
from palier.assets.models import Asset
from palier.assets.tests.builders import make_asset
from palier.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_licences_page_shows_compliance_warnings_and_masks_keys(
    agent, admin_user, requester, django_assert_max_num_queries
):
    licences.create_licence(
        agent, {"tag": "LIC-1", "name": "Visio"}, {"product": "Visio", "seats": 3, "key": "SECRET-KEY-0001-9999"}
    )
    make_asset("LT-1", by=agent)
    reveal = f"/agent/assets/licences/{Asset.objects.get(tag='LIC-1').pk}/key/"
    page = _client(agent)
    with django_assert_max_num_queries(14):
        response = page.get("/agent/assets/licences/", **EN)
    html = response.content.decode()
    assert response.status_code == 200 and "under-used" in html and "••••9999" in html
    assert (
        "SECRET-KEY" not in html
        and "/agent/assets/?unowned=1" in html
        and "inventory_before=" in html
        and "2 assets have no owner" in html
    )
    assert "Reveal" not in html  # administrators only
    assert page.post(reveal).status_code == 404
    exported = page.get("/agent/assets/licences/compliance.csv", **EN)
    assert b"".join(exported.streaming_content).decode("utf-8-sig").splitlines()[1] == "Visio,1,3,0,0,under-used"
    assert _client(requester).get("/agent/assets/licences/").status_code == 404

    revealed = _client(admin_user).post(reveal)
    assert "SECRET-KEY-0001-9999" in revealed.content.decode() and revealed["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="asset.licence_key_revealed").count() == 1


def test_import_previews_then_writes_on_confirmation(agent, admin_user):
    page = _client(admin_user)
    upload = SimpleUploadedFile("assets.csv", b"tag;type;name\nLT-500;laptop;Poste 500\nLT-501;toaster;Grille-pain\n")
    preview = page.post("/agent/assets/import/", {"kind": "assets", "mode": "per-row", "file": upload}, **EN)
    html = preview.content.decode()
    assert "1 to create, 0 to update, 0 unchanged, 1 with errors" in html and "Unknown type" in html
    assert not Asset.objects.exists()
    result = page.post("/agent/assets/import/confirm/", **EN)
    assert "1 created" in result.content.decode()
    assert list(Asset.objects.values_list("tag", flat=True)) == ["LT-500"]
    logged = AuditEvent.objects.get(action="import.assets")
    assert logged.actor == admin_user and logged.changes["created"] == [None, 1]
    # the file is gone once used: confirming again writes nothing more
    assert page.post("/agent/assets/import/confirm/").status_code == 302
    assert _client(agent).get("/agent/assets/import/").status_code == 404


def test_a_licence_page_gives_and_releases_seats(agent, requester, requester_b, django_assert_max_num_queries):
    visio = licences.create_licence(agent, {"tag": "LIC-2", "name": "Visio"}, {"product": "Visio", "seats": 2})
    make_asset("PC-9", by=agent, type="desktop")
    page = _client(agent)
    url = f"/agent/assets/licences/{visio.pk}/"
    assert page.post(url, {"person": requester.email}).status_code == 302
    assert page.post(url, {"machine": "pc-9"}).status_code == 302
    full = page.post(url, {"person": requester_b.email}, **EN).content.decode()
    assert "All 2 seats of this licence are used" in full
    with django_assert_max_num_queries(10):
        html = page.get(url, **EN).content.decode()
    assert requester.email in html and "PC-9" in html and "2 of 2 given" in html
    seat = licences.seats_of(licences.get_licence_for(agent, visio.pk)).first()
    assert page.post(f"{url}seats/{seat.pk}/release/").status_code == 302
    assert licences.get_licence_for(agent, visio.pk).used == 1
    assert _client(requester).get(url).status_code == 404
