"""Demo configuration of routing, assignment and escalation, applied once by ``palier demo`` when
it creates the demo people: strategies per group, a few routing rules, escalation defaults per
category and the vendor's contract."""

from __future__ import annotations

from palier.people.models import SupportGroup, User
from palier.routing import services
from palier.routing.models import CategoryLevelDefault, RoutingRule
from palier.tickets.models import Category, Ticket

STRATEGIES = {
    "Service desk": SupportGroup.Strategy.ROUND_ROBIN,
    "Support de proximité": SupportGroup.Strategy.LEAST_LOADED,
    "Réseau": SupportGroup.Strategy.LEAST_LOADED,
    "Poste de travail": SupportGroup.Strategy.ROUND_ROBIN,
    "Applications": SupportGroup.Strategy.LEAST_LOADED,
}
# (rule name, group, conditions)
RULES: list[tuple[str, str, dict[str, object]]] = [
    ("Alertes de supervision → Infrastructure", "Infrastructure", {"channel": Ticket.Channel.MONITORING}),
    ("VPN et Wi-Fi → Réseau", "Réseau", {"words": "vpn, wifi, wi-fi, réseau, network"}),
    ("Bases de données → Bases de données", "Bases de données", {"words": "sql, oracle, postgresql, base de données"}),
]
# category slug -> level -> group
DEFAULTS = {
    "network": {2: "Réseau", 3: "Infrastructure", 4: "Infogérance Nexalis"},
    "servers": {3: "Infrastructure", 4: "Infogérance Nexalis"},
    "cloud": {3: "Infrastructure", 4: "Infogérance Nexalis"},
    "applications": {2: "Applications"},
    "hardware": {2: "Poste de travail"},
}


def configure(admin: User) -> None:
    """Idempotent: groups and categories missing from this database are skipped."""
    groups = {g.name: g for g in SupportGroup.objects.all()}
    for name, strategy in STRATEGIES.items():
        if name in groups:
            SupportGroup.objects.filter(pk=groups[name].pk).update(assignment_strategy=strategy)
    vendor = groups.get("Infogérance Nexalis")
    if vendor is not None:
        SupportGroup.objects.filter(pk=vendor.pk).update(
            vendor_company="Nexalis SAS",
            vendor_contacts="support@nexalis.example\nescalade@nexalis.example",
            contract_reference="NX-2026-114",
            contract_response_minutes=60,
            contract_resolution_minutes=960,
        )
    if "Réseau" in groups and "Infrastructure" in groups:
        SupportGroup.objects.filter(pk=groups["Réseau"].pk).update(
            escalation_group=groups["Infrastructure"], internal_target_minutes=960
        )
    if not RoutingRule.objects.exists():
        for name, group, conditions in RULES:
            if group in groups:
                services.create_rule(by=admin, name=name, group=groups[group], **conditions)
    categories = {c.slug: c for c in Category.objects.filter(slug__in=DEFAULTS)}
    for slug, levels in DEFAULTS.items():
        for level, group in levels.items():
            if slug in categories and group in groups:
                exists = CategoryLevelDefault.objects.filter(category=categories[slug], level=level).exists()
                if not exists:
                    services.set_category_level_default(
                        by=admin, category=categories[slug], level=level, group=groups[group]
                    )
