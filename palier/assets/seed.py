"""The starter asset types, created by migration 0002 (plain data: the migration uses the
historical models). Administrators may rename them, add fields, or switch them off."""

from __future__ import annotations

from typing import Any


def _field(key: str, fr: str, en: str, kind: str = "text", **extra: Any) -> dict[str, Any]:
    return {"key": key, "label_fr": fr, "label_en": en, "type": kind, "required": False, **extra}


_MACHINE = [
    _field("os", "Système d'exploitation", "Operating system"),
    _field("cpu", "Processeur", "Processor"),
    _field("memory_mb", "Mémoire (Mo)", "Memory (MB)", "number"),
    _field("hostname", "Nom d'hôte", "Host name"),
]

# (slug, French, English, family, inventoried, fields)
STARTER_TYPES: list[tuple[str, str, str, str, bool, list[dict[str, Any]]]] = [
    ("laptop", "Ordinateur portable", "Laptop", "hardware", True, _MACHINE),
    ("desktop", "Ordinateur fixe", "Desktop", "hardware", True, _MACHINE),
    ("server", "Serveur", "Server", "hardware", True, _MACHINE),
    ("virtual-machine", "Machine virtuelle", "Virtual machine", "hardware", True, _MACHINE),
    (
        "printer",
        "Imprimante",
        "Printer",
        "hardware",
        True,
        [_field("ip_address", "Adresse IP", "IP address"), _field("colour", "Couleur", "Colour", "bool")],
    ),
    ("phone", "Téléphone", "Phone", "hardware", True, [_field("number", "Numéro", "Number")]),
    (
        "mobile-device",
        "Appareil mobile",
        "Mobile device",
        "hardware",
        True,
        [_field("os", "Système d'exploitation", "Operating system"), _field("imei", "IMEI", "IMEI")],
    ),
    (
        "network-equipment",
        "Équipement réseau",
        "Network equipment",
        "hardware",
        True,
        [_field("ip_address", "Adresse IP", "IP address"), _field("ports", "Ports", "Ports", "number")],
    ),
    (
        "monitor",
        "Écran",
        "Monitor",
        "hardware",
        False,
        [_field("size_inches", "Taille (pouces)", "Size (inches)", "number")],
    ),
    ("peripheral", "Périphérique", "Peripheral", "hardware", False, []),
    (
        "software",
        "Logiciel",
        "Software",
        "software",
        False,
        [_field("publisher", "Éditeur", "Publisher"), _field("version", "Version", "Version")],
    ),
    ("licence", "Licence logicielle", "Software licence", "licence", False, []),
    (
        "application",
        "Application ou SaaS",
        "Application or SaaS",
        "application",
        False,
        [_field("url", "Adresse", "Address"), _field("vendor", "Éditeur", "Vendor")],
    ),
    ("business-service", "Service métier", "Business service", "service", False, []),
]

# what the GLPI inventory format's itemtype becomes when a report creates a machine
INVENTORY_TYPES = {
    "Computer": "desktop",
    "NetworkEquipment": "network-equipment",
    "Printer": "printer",
    "Phone": "phone",
}
