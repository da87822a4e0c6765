"""The demo CMDB: assets for the requesters, chains of services down to the hosts, licences, and
a share of the demo tickets linked to the requester's computer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from palier.assets.models import Asset
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def test_the_demo_cmdb(requester: User, requester_b: User, agent: User) -> None:
    from palier.assets import graph
    from palier.assets.models import Licence, Relationship
    from palier.demo import assets as demo

    tickets = [make_ticket(requester if n % 2 else requester_b, subject=f"T{n}") for n in range(30)]
    result = demo.populate(seed=3)
    assert result.assets >= 27  # the data centres, two computers and maybe a phone or a monitor
    assert Asset.objects.filter(assigned_to=requester, tag__startswith="PC-").count() == 1
    assert result.linked_tickets == len([t for t in tickets if t.pk % demo.SHARE == 0])
    # the chains: what depends on the Lyon host reaches the payroll service
    host = Asset.objects.get(tag="SRV-ESX-LYO-01")
    above = graph.walk(host.pk, direction="up", depth=5).levels
    assert Asset.objects.get(tag="SVC-PAIE").pk in above
    assert Relationship.objects.count() >= 20
    assert Licence.objects.filter(expires_on__lte=timezone.localdate() + timedelta(days=30)).exists()
    # run again: no second CMDB, only the new tickets linked
    more = [make_ticket(requester, subject=f"U{n}") for n in range(10)]
    again = demo.populate(seed=3)
    assert again.assets == 0 and again.linked_tickets == len([t for t in more if t.pk % demo.SHARE == 0])
