"""Assets in a data export: the whole CMDB goes out without licence keys and comes back into an
empty desk with its tree, relationships, seats, ticket links and history."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from palier.assets import licences, services
from palier.assets.models import Asset, AssetEvent, Installation, Licence, Location, Relationship, Supplier
from palier.assets.tests.builders import make_asset
from palier.dataexport.importing import import_export
from palier.dataexport.tests.test_export import read
from palier.dataexport.tests.test_import import empty_desk
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def _cmdb() -> dict[str, object]:
    """What people see of the assets, by natural keys."""
    return {
        "assets": sorted(
            (
                a.tag,
                a.type.slug,
                a.location.path if a.location else None,
                a.assigned_to.email if a.assigned_to else None,
            )
            for a in Asset.objects.select_related("type", "location", "assigned_to")
        ),
        "relations": sorted(Relationship.objects.values_list("source__tag", "kind", "target__tag")),
        "installed": sorted(Installation.objects.values_list("asset__tag", "product")),
        "licences": sorted(Licence.objects.values_list("asset__tag", "seats", "assignments__user__email")),
        "tickets": sorted(
            Asset.objects.filter(ticket_links__isnull=False).values_list("tag", "ticket_links__ticket__subject")
        ),
        "events": sorted(AssetEvent.objects.values_list("asset__tag", "kind")),
    }


def test_the_cmdb_goes_out_without_keys_and_comes_back(agent, requester, tmp_path: Path):
    site = Location.objects.create(name="Lyon", path="Lyon", depth=0)
    floor = Location.objects.create(name="2e", kind="floor", parent=site, path="Lyon › 2e", depth=1)
    Supplier.objects.create(name="Dell")
    server = make_asset("SRV-1", by=agent, type="server", location=floor)
    laptop = make_asset("LT-1", by=agent, assigned_to=requester)
    services.relate(agent, laptop, "depends_on", server)
    Installation.objects.create(asset=laptop, name="Visio", product="visio")
    visio = licences.create_licence(
        agent, {"tag": "LIC-1", "name": "Visio"}, {"product": "Visio", "key": "TOP-SECRET-KEY"}
    )
    licences.assign_seat(agent, visio, user=requester)
    services.link_ticket(agent, make_ticket(requester, subject="Écran noir"), laptop)
    before = _cmdb()

    archive = tmp_path / "desk.tar.gz"
    call_command("export-data", str(archive), stdout=io.StringIO())
    _manifest, rows, _files = read(archive)
    assert [a["tag"] for a in rows["assets"]] == ["SRV-1", "LT-1", "LIC-1"]
    assert "TOP-SECRET" not in archive.read_bytes().decode("latin-1") and "key" not in rows["licences"][0]

    empty_desk(keep=(agent,))
    Asset.objects.all().delete()
    Location.objects.filter(parent__isnull=False).delete()
    Location.objects.all().delete()
    Supplier.objects.all().delete()
    result = import_export(archive)
    assert result.counts["assets"] == 3 and result.linked["asset_types"] >= 3  # the seeded types, by slug
    assert _cmdb() == before
    assert Location.objects.get(name="2e").parent.name == "Lyon"
    assert User.objects.get(email=requester.email).assets.get().tag == "LT-1"
