"""Assets and configuration items (docs/assets.md).

An ``Asset`` is anything the desk keeps track of: a laptop, a server, a virtual machine, a software
title, a licence, a SaaS application or a business service. Its ``AssetType`` says which family it
belongs to (what the pages and rules do with it) and which extra fields it carries; those fields'
values live in ``Asset.attributes``, checked against the type's definitions by the services.

Every change to an asset is an immutable ``AssetEvent`` (who, when, old → new), written only by
``assets/history.py``. ``Relationship`` rows link configuration items ("the payroll service depends
on db-01", "vm-12 is hosted on esx-3"); the impact view walks them on the server. ``TicketAsset``
links tickets to the assets they touch. Inventory reports (``InventoryReport``) are stored raw
before anything is applied, so a report that fails can be read again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from palier.people.models import Department, Organisation, SupportGroup
from palier.tickets.models import Ticket


def _bilingual(fr: str, en: str) -> str:
    return fr if (get_language() or "fr").startswith("fr") else en


class AssetType(models.Model):
    """A kind of asset, with its own fields. The starter types are seeded (``seed.py``);
    administrators add types and fields without code."""

    class Family(models.TextChoices):
        HARDWARE = "hardware", _("hardware")
        SOFTWARE = "software", _("software")
        LICENCE = "licence", _("software licence")
        APPLICATION = "application", _("application or SaaS")
        SERVICE = "service", _("business service")

    slug = models.SlugField(_("identifier"), max_length=60, unique=True)
    name_fr = models.CharField(_("name (French)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    family = models.CharField(_("family"), max_length=16, choices=Family.choices, default=Family.HARDWARE)
    # hardware types an inventory agent reports (computer, printer, network equipment, phone) and
    # the ones whose machines run software: installations and machine seats only go to these
    inventoried = models.BooleanField(_("reported by inventory"), default=False)
    # [{"key": "cpu", "label_fr": …, "label_en": …, "type": "text|number|date|bool|choice",
    #   "choices": [...], "required": false}], checked by ``fields.clean_definitions``
    fields = models.JSONField(_("fields"), default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("asset type")
        verbose_name_plural = _("asset types")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _bilingual(self.name_fr, self.name_en)


class Location(models.Model):
    """A place in a tree: site › building › floor › room. ``path`` is the names from the root,
    kept by the services, so lists show and filter a location without walking the tree."""

    class Kind(models.TextChoices):
        SITE = "site", _("site")
        BUILDING = "building", _("building")
        FLOOR = "floor", _("floor")
        ROOM = "room", _("room")

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SITE)
    path = models.CharField(_("full name"), max_length=600, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    address = models.CharField(_("address"), max_length=300, blank=True)
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["path"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="location_unique_name"),
            models.UniqueConstraint(fields=["name"], condition=Q(parent__isnull=True), name="location_unique_root"),
        ]
        indexes = [models.Index(fields=["path"], name="location_path")]

    def __str__(self) -> str:
        return self.path or self.name


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    website = models.URLField(_("website"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    """One asset or configuration item. ``version`` goes up on every change (ETag / If-Match)."""

    class Status(models.TextChoices):
        ORDERED = "ordered", _("ordered")
        IN_STOCK = "in_stock", _("in stock")
        DEPLOYED = "deployed", _("deployed")
        IN_REPAIR = "in_repair", _("in repair")
        RETIRED = "retired", _("retired")
        DISPOSED = "disposed", _("disposed")

    class Criticality(models.TextChoices):
        LOW = "low", _("low")
        MEDIUM = "medium", _("medium")
        HIGH = "high", _("high")
        CRITICAL = "critical", _("critical")

    tag = models.CharField(_("asset tag"), max_length=64, unique=True)
    type = models.ForeignKey(AssetType, on_delete=models.PROTECT, related_name="assets", verbose_name=_("type"))
    name = models.CharField(_("name"), max_length=200)
    serial = models.CharField(_("serial number"), max_length=120, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=120, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.IN_STOCK)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assets",
        verbose_name=_("assigned to"),
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="assets", verbose_name=_("location")
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("organisation")
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("department")
    )
    owner_group = models.ForeignKey(
        SupportGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner group"),
    )
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="assets", verbose_name=_("supplier")
    )
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    purchase_cost = models.DecimalField(_("purchase cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    warranty_end = models.DateField(_("end of warranty"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # business services: how much their outage hurts (the SLA policy may depend on it)
    criticality = models.CharField(_("criticality"), max_length=10, choices=Criticality.choices, blank=True)
    # the values of the type's own fields, by key
    attributes = models.JSONField(_("fields"), default=dict, blank=True)
    # what the last inventory report said, by section (os, hardware, cpus, memories, storages,
    # networks…); software goes to ``Installation``
    inventory = models.JSONField(default=dict, blank=True, editable=False)
    last_inventory_at = models.DateTimeField(_("last inventory report"), null=True, blank=True, editable=False)
    # lower-cased tag, name, serial, model, manufacturer: the list's text filter (LIKE)
    search_text = models.TextField(default="", editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["tag"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        indexes = [
            models.Index(fields=["type", "status", "tag"], name="asset_type_status"),
            models.Index(fields=["status", "tag"], name="asset_status"),
            models.Index(fields=["assigned_to", "status"], name="asset_assignee"),
            models.Index(fields=["location", "tag"], name="asset_location"),
            models.Index(fields=["organisation", "tag"], name="asset_org"),
            models.Index(fields=["owner_group", "tag"], name="asset_owner_group"),
            models.Index(fields=["serial"], name="asset_serial"),
            models.Index(fields=["warranty_end"], name="asset_warranty"),
            models.Index(fields=["last_inventory_at"], name="asset_inventory_at"),
            models.Index(fields=["updated_at", "id"], name="asset_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.tag} {self.name}"

    def refresh_search_text(self) -> None:
        from palier.lib.text import normalise

        self.search_text = normalise(" ".join([self.tag, self.name, self.serial, self.manufacturer, self.model]))


class AssetIdentifier(models.Model):
    """A stable hardware identity an inventory report is matched by, one row per value: the
    serial number, the system UUID, each MAC address. Unique, so two reports of one machine never
    make two assets."""

    class Kind(models.TextChoices):
        SERIAL = "serial", _("serial number")
        UUID = "uuid", _("system UUID")
        MAC = "mac", _("MAC address")
        DEVICE = "device", _("inventory device id")

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="asset_identifier_unique")]
        indexes = [models.Index(fields=["asset"], name="asset_identifier_asset")]


class AssetEvent(models.Model):
    """One immutable fact about an asset: who did what, when, old → new. Never updated."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created the asset")
        CHANGED = "changed", _("changed")
        STATUS = "status", _("changed the status")
        ASSIGNED = "assigned", _("changed who uses it")
        RELATED = "related", _("added a relationship")
        UNRELATED = "unrelated", _("removed a relationship")
        TICKET_LINKED = "ticket_linked", _("linked a ticket")
        TICKET_UNLINKED = "ticket_unlinked", _("removed a ticket link")
        INVENTORY = "inventory", _("inventory report")
        ATTACHED = "attached", _("attached a file")
        SEAT = "seat", _("assigned a licence seat")
        SEAT_RELEASED = "seat_released", _("released a licence seat")
        IMPORTED = "imported", _("imported")

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"field": [old, new], …} for changes; {"ticket": 12, "number": "INC-12"}, {"target": 3, "kind": "runs_on"} …
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["asset", "at", "id"], name="asset_event_timeline")]

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("asset events are immutable")
        super().save(*args, **kwargs)


class Relationship(models.Model):
    """``source`` <kind> ``target``: "app-01 runs on vm-12", "payroll depends on db-01". The
    target is what the source needs, so a failure of the target impacts the source."""

    class Kind(models.TextChoices):
        RUNS_ON = "runs_on", _("runs on")
        HOSTED_ON = "hosted_on", _("hosted on")
        DEPENDS_ON = "depends_on", _("depends on")
        CONNECTS_TO = "connects_to", _("connects to")
        PART_OF = "part_of", _("part of")
        INSTALLED_ON = "installed_on", _("installed on")
        LICENSED_TO = "licensed_to", _("licensed to")

    # a chain of these may never come back to where it started; "connects to" may
    ACYCLIC = frozenset(
        {Kind.RUNS_ON, Kind.HOSTED_ON, Kind.DEPENDS_ON, Kind.PART_OF, Kind.INSTALLED_ON, Kind.LICENSED_TO}
    )

    source = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="needs")
    target = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="needed_by")
    kind = models.CharField(_("relationship"), max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="relationship_unique"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="relationship_not_self"),
        ]
        indexes = [
            models.Index(fields=["source", "kind"], name="relationship_source"),
            models.Index(fields=["target", "kind"], name="relationship_target"),
        ]


class Installation(models.Model):
    """A software title installed on a machine, as its last inventory report (or an agent) said."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="installations")
    name = models.CharField(_("name"), max_length=255)
    publisher = models.CharField(_("publisher"), max_length=255, blank=True)
    version = models.CharField(_("version"), max_length=120, blank=True)
    # lower-cased name: the licence compliance report counts installations by it
    product = models.CharField(max_length=255, editable=False)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    from_inventory = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "product", "version"], name="installation_unique"),
        ]
        indexes = [models.Index(fields=["product"], name="installation_product")]


class Licence(models.Model):
    """The terms of a software licence asset (an ``Asset`` of the licence family): which product it
    covers, how many seats, its key (encrypted), when it ends."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="licence")
    # installations whose lower-cased name starts with this count against the seats
    product = models.CharField(_("product"), max_length=255, help_text=_("The software name it covers, as installed."))
    publisher = models.CharField(_("publisher"), max_length=255, blank=True)
    seats = models.PositiveIntegerField(_("seats"), default=1)
    key_encrypted = models.TextField(blank=True, editable=False)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_on"], name="licence_expiry")]
        constraints = [models.CheckConstraint(condition=Q(seats__gte=1), name="licence_seats_positive")]


class SeatAssignment(models.Model):
    """One seat of a licence, given to a person or to a machine (exactly one of them)."""

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    machine = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="seats")
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(machine__isnull=True))
                | (Q(user__isnull=True) & Q(machine__isnull=False)),
                name="seat_one_holder",
            ),
            models.UniqueConstraint(
                fields=["licence", "user"], condition=Q(user__isnull=False), name="seat_unique_user"
            ),
            models.UniqueConstraint(
                fields=["licence", "machine"], condition=Q(machine__isnull=False), name="seat_unique_machine"
            ),
        ]


class TicketAsset(models.Model):
    """A ticket touches an asset."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="asset_links")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="ticket_links")
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "asset"], name="ticket_asset_unique")]
        indexes = [models.Index(fields=["asset", "ticket"], name="ticket_asset_by_asset")]


def asset_file_path(instance: AssetFile, filename: str) -> str:
    return f"assets/{instance.asset_id}/{timezone.now():%Y%m}/{filename}"


class AssetFile(models.Model):
    """An invoice, a photo, a contract attached to an asset (checked by ``lib/files.py``)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=asset_file_path, max_length=300)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=120, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)


class InventoryToken(models.Model):
    """The credential one inventory agent (or a fleet of them) posts reports with: SHA-256 digest
    only. Its scope says where the machines it reports land."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("organisation")
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("location")
    )
    owner_group = models.ForeignKey(
        SupportGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("owner group")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["name"]


class InventoryReport(models.Model):
    """One inventory report as received, kept before anything is applied (and after, for
    diagnosis, until the retention prunes it). The SHA-256 of the body makes a report sent twice
    a no-op."""

    class State(models.TextChoices):
        RECEIVED = "received", _("received")
        APPLIED = "applied", _("applied")
        UNCHANGED = "unchanged", _("nothing changed")
        REJECTED = "rejected", _("rejected")
        HELD = "held", _("held for review")

    token = models.ForeignKey(InventoryToken, null=True, on_delete=models.SET_NULL, related_name="reports")
    received_at = models.DateTimeField(default=timezone.now)
    body = models.BinaryField()
    digest = models.CharField(max_length=64, unique=True)
    device_id = models.CharField(max_length=255, blank=True)
    item_type = models.CharField(max_length=40, blank=True)
    partial = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    error = models.TextField(blank=True)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="inventory_reports")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["state", "received_at"], name="inventory_report_state"),
            models.Index(fields=["asset", "received_at"], name="inventory_report_asset"),
        ]


class AssetIdempotencyKey(models.Model):
    """The asset an API client created with a given Idempotency-Key: a retry gets it back."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="asset_idempotency_key_unique")]
