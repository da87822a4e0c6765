"""Demo CMDB, added by ``palier demo`` (docs/assets.md, "Demo CMDB").

A site tree (Lyon and Paris: buildings, floors, rooms), a laptop or desktop for every requester
(with serials, models and warranty ends, some past, some within 30 days), phones and monitors for
some, the servers, virtual machines, network equipment, applications and business services of the
data centres with their relationship chains (service depends on application, runs on VM, hosted on
server, connects to the network), installed software, and software licences with seats (some
expiring soon, one over-allocated). Then a share (``SHARE``) of the tickets is linked to their
requester's device.

Like ``demo/tickets.py`` this is a bulk seeding path: rows are written with ``bulk_create`` (and
their ``created`` history events alongside), never one query per ticket, so linking the tickets
of a million-ticket demo costs a few seconds. The CMDB is built once; running the demo again only
links the new tickets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from palier.assets.models import (
    Asset,
    AssetEvent,
    AssetType,
    Installation,
    Licence,
    Location,
    Relationship,
    SeatAssignment,
    Supplier,
    TicketAsset,
)
from palier.assets.selectors import LOCATION_SEPARATOR
from palier.people.models import User
from palier.tickets.models import Ticket

SHARE = 10  # one ticket in SHARE is linked to its requester's device
CHUNK = 5_000
S = Asset.Status
K = Relationship.Kind

SITES: dict[str, dict[str, dict[str, list[str]]]] = {
    "Lyon": {
        "Bâtiment A": {"Rez-de-chaussée": ["Accueil", "Salle serveurs"], "1er étage": ["101", "102", "103"]},
        "Bâtiment B": {"2e étage": ["201", "202"], "3e étage": ["301", "Salle de réunion Rhône"]},
    },
    "Paris": {
        "Tour Horizon": {"12e étage": ["1201", "1202", "Salle serveurs"], "14e étage": ["1401", "1402"]},
    },
}
# (manufacturer, model, type slug, supplier, price)
COMPUTERS = [
    ("Dell", "Latitude 5440", "laptop", "Dell France", "1290.00"),
    ("Lenovo", "ThinkPad T14 Gen 4", "laptop", "Bechtle", "1390.00"),
    ("HP", "EliteBook 840 G10", "laptop", "Bechtle", "1350.00"),
    ("Apple", "MacBook Pro 14", "laptop", "Apple", "2399.00"),
    ("Dell", "OptiPlex 7010", "desktop", "Dell France", "890.00"),
    ("HP", "EliteDesk 800 G9", "desktop", "Bechtle", "940.00"),
]
PHONES = [("Apple", "iPhone 14"), ("Samsung", "Galaxy S23"), ("Samsung", "Galaxy A54")]
MONITORS = [("Dell", "P2723DE"), ("LG", "27UP850"), ("HP", "E24 G5")]
SOFTWARE = [
    ("Microsoft 365 Apps for enterprise", "Microsoft Corporation", "16.0.17126"),
    ("Google Chrome", "Google LLC", "120.0.6099.130"),
    ("Mozilla Firefox", "Mozilla", "121.0"),
    ("Adobe Acrobat Reader", "Adobe", "23.008.20421"),
    ("7-Zip", "Igor Pavlov", "23.01"),
    ("Zoom Workplace", "Zoom Video Communications", "5.17.5"),
]
DEVELOPER_SOFTWARE = [("JetBrains IntelliJ IDEA", "JetBrains s.r.o.", "2023.3.2"), ("Git", "The Git Development Community", "2.43.0")]  # fmt: skip
ACROBAT_PRO = ("Adobe Acrobat Pro", "Adobe", "23.008.20421")
# tag, name, type, criticality (business services)
SERVICES = [
    ("SVC-PAIE", "Paie", "critical"),
    ("SVC-FACT", "Facturation clients", "high"),
    ("SVC-MAIL", "Messagerie", "high"),
    ("SVC-INTRA", "Intranet", "medium"),
    ("SVC-WEB", "Site web public", "medium"),
]
# application tag, name, the service it serves, the VM it runs on (None: SaaS)
APPLICATIONS = [
    ("APP-SILAE", "Silae Paie", "SVC-PAIE", "VM-PAIE-01"),
    ("APP-ERP", "ERP Odoo", "SVC-FACT", "VM-ERP-01"),
    ("APP-PGSQL", "PostgreSQL production", "SVC-FACT", "VM-DB-01"),
    ("APP-EXO", "Exchange Online", "SVC-MAIL", None),
    ("APP-INTRA", "Intranet WordPress", "SVC-INTRA", "VM-WEB-01"),
    ("APP-WEB", "Site vitrine", "SVC-WEB", "VM-WEB-02"),
]
# VM tag, name, host server tag
VMS = [
    ("VM-PAIE-01", "paie-app-01", "SRV-ESX-LYO-01"),
    ("VM-ERP-01", "erp-app-01", "SRV-ESX-LYO-02"),
    ("VM-DB-01", "pg-prod-01", "SRV-ESX-LYO-02"),
    ("VM-WEB-01", "web-intra-01", "SRV-ESX-PAR-01"),
    ("VM-WEB-02", "web-public-01", "SRV-ESX-PAR-01"),
    ("VM-AD-01", "dc-lyon-01", "SRV-ESX-LYO-01"),
    ("VM-AD-02", "dc-paris-01", "SRV-ESX-PAR-01"),
    ("VM-FILE-01", "fichiers-01", "SRV-ESX-LYO-01"),
]
# server tag, name, site, network equipment it connects to
SERVERS = [
    ("SRV-ESX-LYO-01", "esx-lyon-01", "Lyon", "NET-LYO-CORE"),
    ("SRV-ESX-LYO-02", "esx-lyon-02", "Lyon", "NET-LYO-CORE"),
    ("SRV-ESX-PAR-01", "esx-paris-01", "Paris", "NET-PAR-CORE"),
]
NETWORK = [
    ("NET-LYO-CORE", "Cœur de réseau Lyon (Cisco Catalyst 9300)", "Lyon"),
    ("NET-PAR-CORE", "Cœur de réseau Paris (Cisco Catalyst 9300)", "Paris"),
    ("NET-FW-01", "Pare-feu Fortinet FortiGate 100F", "Lyon"),
]
# tag, name, product (as installed), publisher, seats, days until expiry, holders
LICENCES = [
    ("LIC-M365-E3", "Microsoft 365 E3", "microsoft 365 apps", "Microsoft", 2100, 21, "users"),
    ("LIC-ACROBAT", "Adobe Acrobat Pro (abonnement)", "adobe acrobat pro", "Adobe", 40, 200, "acrobat"),
    ("LIC-JETBRAINS", "JetBrains All Products Pack", "jetbrains", "JetBrains", 25, 12, "developers"),
    ("LIC-WINSRV", "Windows Server 2022 Datacenter", "windows server", "Microsoft", 6, 640, "servers"),
]


@dataclass
class CmdbResult:
    assets: int = 0
    linked_tickets: int = 0


def populate(*, seed: int | None = None) -> CmdbResult:
    """Build the CMDB once, then link a share of the tickets not considered yet."""
    result = CmdbResult()
    if not Asset.objects.filter(tag__startswith="SVC-").exists():
        result.assets = build_cmdb(random.Random(seed))
    result.linked_tickets = link_tickets()
    return result


class _Cmdb:
    """The rows being built, written in bulk by ``build_cmdb``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.types = {t.slug: t for t in AssetType.objects.all()}
        self.suppliers = _suppliers()
        self.rooms = _locations()
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.assets: list[Asset] = []
        self.by_tag: dict[str, Asset] = {}
        self.computers: dict[int, Asset] = {}  # requester id -> computer
        self.developers: list[int] = []

    def add(self, tag: str, type_slug: str, name: str, **values: object) -> Asset:
        asset = Asset(tag=tag, type=self.types[type_slug], name=name, status=S.DEPLOYED, created_at=self.now,
                      updated_at=self.now, **values)  # fmt: skip
        asset.refresh_search_text()
        self.assets.append(asset)
        self.by_tag[tag] = asset
        return asset

    def rooms_of(self, site: str) -> list[Location]:
        return [room for path, room in self.rooms.items() if path.startswith(site + LOCATION_SEPARATOR)]

    def server_room(self, site: str) -> Location:
        return next(room for room in self.rooms_of(site) if room.name == "Salle serveurs")

    def days(self, low: int, high: int) -> date:
        return self.today + timedelta(days=self.rng.randint(low, high))

    def devices(self) -> None:
        """A computer for every requester; a phone for some, a monitor for others."""
        rng, lyon, paris = self.rng, self.rooms_of("Lyon"), self.rooms_of("Paris")
        people = User.objects.filter(role=User.Role.REQUESTER).order_by("pk")
        for n, (user_id, org_id, full_name) in enumerate(people.values_list("pk", "organisation_id", "full_name"), 1):
            maker, model, slug, supplier, price = rng.choice(COMPUTERS)
            bought = self.today - timedelta(days=rng.randint(20, 4 * 365))
            # three-year warranties: about a quarter past; one in 25 ends within the month
            if n % 25 == 0:
                bought = self.today - timedelta(days=3 * 365 - rng.randint(1, 28))
            room = rng.choice(lyon if n % 3 else paris)
            owner = {"assigned_to_id": user_id, "organisation_id": org_id}
            self.computers[user_id] = self.add(
                f"PC-{n:05d}", slug, f"{model} – {full_name}"[:200], serial=_serial(rng, maker), manufacturer=maker,
                model=model, location=room, supplier=self.suppliers[supplier], purchase_date=bought,
                purchase_cost=Decimal(price), warranty_end=bought + timedelta(days=3 * 365), **owner,
            )  # fmt: skip
            if rng.random() < 0.3:
                maker, model = rng.choice(PHONES)
                self.add(f"TEL-{n:05d}", "mobile-device", f"{model} – {full_name}"[:200], serial=_serial(rng, maker),
                         manufacturer=maker, model=model, warranty_end=self.days(-200, 500), **owner)  # fmt: skip
            if rng.random() < 0.2:
                maker, model = rng.choice(MONITORS)
                self.add(f"ECR-{n:05d}", "monitor", f"Écran {model}", serial=_serial(rng, maker), manufacturer=maker,
                         model=model, location=room, warranty_end=self.days(-300, 900), **owner)  # fmt: skip
            if rng.random() < 0.02:
                self.developers.append(user_id)

    def datacentres(self) -> None:
        """Network, servers, VMs, applications, business services and the licence assets."""
        for tag, name, site in NETWORK:
            self.add(tag, "network-equipment", name, manufacturer="Cisco" if "Cisco" in name else "Fortinet",
                     location=self.server_room(site), serial=_serial(self.rng, "Cisco"),
                     warranty_end=self.days(100, 900))  # fmt: skip
        for tag, name, site, _net in SERVERS:
            self.add(tag, "server", name, manufacturer="Dell", model="PowerEdge R750", serial=_serial(self.rng, "Dell"),
                     location=self.server_room(site), supplier=self.suppliers["Dell France"],
                     warranty_end=self.days(-30, 700))  # fmt: skip
        for tag, name, _host in VMS:
            self.add(tag, "virtual-machine", name)
        for tag, name, _service, _vm in APPLICATIONS:
            self.add(tag, "application", name)
        for tag, name, criticality in SERVICES:
            self.add(tag, "business-service", name, criticality=criticality)
        for tag, name, _product, publisher, _seats, _days, _holders in LICENCES:
            self.add(tag, "licence", name, manufacturer=publisher, supplier=self.suppliers.get(publisher))

    def save_assets(self) -> None:
        Asset.objects.bulk_create(self.assets, batch_size=1_000)
        if not all(a.pk for a in self.assets):  # backends that do not return ids: read them back
            ids = dict(Asset.objects.filter(tag__in=list(self.by_tag)).values_list("tag", "pk"))
            for asset in self.assets:
                asset.pk = ids[asset.tag]
        AssetEvent.objects.bulk_create(
            (AssetEvent(asset_id=a.pk, kind=AssetEvent.Kind.CREATED, at=self.now, data={"demo": True})
             for a in self.assets),
            batch_size=2_000,
        )  # fmt: skip

    def relationships(self) -> None:
        """Service → application → VM → server → network."""
        links = [(service, app, K.DEPENDS_ON) for app, _n, service, _vm in APPLICATIONS]
        links += [(app, vm, K.RUNS_ON) for app, _n, _s, vm in APPLICATIONS if vm]
        links += [(vm, host, K.HOSTED_ON) for vm, _n, host in VMS]
        links += [(server, net, K.CONNECTS_TO) for server, _n, _site, net in SERVERS]
        links += [("SVC-MAIL", "VM-AD-01", K.DEPENDS_ON), ("SVC-INTRA", "VM-AD-02", K.DEPENDS_ON)]
        links += [("NET-LYO-CORE", "NET-FW-01", K.CONNECTS_TO), ("NET-PAR-CORE", "NET-FW-01", K.CONNECTS_TO)]
        Relationship.objects.bulk_create(
            Relationship(source_id=self.by_tag[s].pk, target_id=self.by_tag[t].pk, kind=k, created_at=self.now)
            for s, t, k in links
        )

    def software(self) -> None:
        """Installed software on every computer, the licences and their seats."""
        installations: list[Installation] = []
        acrobat: list[int] = []
        for user_id, computer in self.computers.items():
            titles = [title for title in SOFTWARE if self.rng.random() < 0.8 or title[0].startswith("Microsoft")]
            if user_id in self.developers:
                titles += DEVELOPER_SOFTWARE
            if self.rng.random() < 0.02:
                titles.append(ACROBAT_PRO)
                acrobat.append(computer.pk)
            installations += [
                Installation(
                    asset_id=computer.pk, name=name, publisher=publisher, version=version, product=name.lower()
                )
                for name, publisher, version in titles
            ]
        Installation.objects.bulk_create(installations, batch_size=5_000)
        holders = {
            "users": [("user", pk) for pk in self.computers],
            "acrobat": [("machine", pk) for pk in acrobat],
            "developers": [("user", pk) for pk in self.developers[:28]],  # more than the 25 seats: flagged
            "servers": [("machine", self.by_tag[tag].pk) for tag, *_rest in SERVERS],
        }
        seats: list[SeatAssignment] = []
        for tag, _name, product, publisher, count, days, who in LICENCES:
            licence = Licence.objects.create(asset_id=self.by_tag[tag].pk, product=product, publisher=publisher,
                                             seats=count, expires_on=self.today + timedelta(days=days))  # fmt: skip
            for kind, holder in holders[who][: count if who == "users" else None]:
                seats.append(SeatAssignment(licence=licence, user_id=holder if kind == "user" else None,
                                            machine_id=holder if kind == "machine" else None, assigned_at=self.now))  # fmt: skip
        SeatAssignment.objects.bulk_create(seats, batch_size=5_000)


@transaction.atomic
def build_cmdb(rng: random.Random) -> int:
    cmdb = _Cmdb(rng)
    cmdb.devices()
    cmdb.datacentres()
    cmdb.save_assets()
    cmdb.relationships()
    cmdb.software()
    return len(cmdb.assets)


def link_tickets() -> int:
    """Link one ticket in ``SHARE`` (by id) to its requester's computer, for the tickets after the
    last one linked: one query per chunk of tickets, whatever their number."""
    computers = dict(
        Asset.objects.filter(tag__startswith="PC-", assigned_to__isnull=False).values_list("assigned_to_id", "pk")
    )
    if not computers:
        return 0
    after = TicketAsset.objects.aggregate(last=Max("ticket_id"))["last"] or 0
    linked = 0
    while True:
        rows = list(
            Ticket.objects.filter(pk__gt=after)
            .annotate(share=F("id") % SHARE)
            .filter(share=0)
            .order_by("pk")
            .values_list("pk", "requester_id", "kind", "number", "created_at")[:CHUNK]
        )
        if not rows:
            return linked
        after = rows[-1][0]
        pairs = [
            (pk, computers[requester], f"{Ticket.PREFIXES.get(kind, 'TKT')}-{number}", at)
            for pk, requester, kind, number, at in rows
            if requester in computers
        ]
        with transaction.atomic():
            TicketAsset.objects.bulk_create(
                (TicketAsset(ticket_id=pk, asset_id=asset, added_at=at) for pk, asset, _n, at in pairs),
                ignore_conflicts=True,
            )
            AssetEvent.objects.bulk_create(
                AssetEvent(
                    asset_id=asset, kind=AssetEvent.Kind.TICKET_LINKED, at=at, data={"ticket": pk, "number": number}
                )
                for pk, asset, number, at in pairs
            )
        linked += len(pairs)


def _suppliers() -> dict[str, Supplier]:
    names = ["Dell France", "Bechtle", "Apple", "Microsoft", "Adobe", "JetBrains"]
    for name in names:
        Supplier.objects.get_or_create(name=name)
    return {s.name: s for s in Supplier.objects.filter(name__in=names)}


def _locations() -> dict[str, Location]:
    """The site tree, with ``path`` and ``depth`` as the services keep them; returns the rooms by path."""
    rooms: dict[str, Location] = {}

    def place(name: str, kind: str, parent: Location | None) -> Location:
        path = f"{parent.path}{LOCATION_SEPARATOR}{name}" if parent else name
        found, _created = Location.objects.get_or_create(
            parent=parent, name=name, defaults={"kind": kind, "path": path, "depth": parent.depth + 1 if parent else 0}
        )
        return found

    for site, buildings in SITES.items():
        top = place(site, Location.Kind.SITE, None)
        for building, floors in buildings.items():
            house = place(building, Location.Kind.BUILDING, top)
            for floor, names in floors.items():
                level = place(floor, Location.Kind.FLOOR, house)
                for room in names:
                    found = place(room, Location.Kind.ROOM, level)
                    rooms[found.path] = found
    return rooms


def _serial(rng: random.Random, maker: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    prefix = {"Dell": "", "Lenovo": "PF", "HP": "5CG", "Apple": "C02", "Samsung": "R5C"}.get(maker, "SN")
    return prefix + "".join(rng.choice(alphabet) for _ in range(10 - len(prefix) if prefix else 7))


def warranty_summary(today: date | None = None) -> tuple[int, int]:
    """(past, within 30 days) among the requesters' computers: what the demo is meant to show."""
    today = today or timezone.localdate()
    computers = Asset.objects.filter(tag__startswith="PC-")
    return (
        computers.filter(warranty_end__lt=today).count(),
        computers.filter(warranty_end__gte=today, warranty_end__lte=today + timedelta(days=30)).count(),
    )
