"""What a GLPI-format inventory report says about one machine, as plain data (no database).

``facts(report)`` reads a parsed report (already checked against the JSON Schema) and returns the
machine's type, its identifiers (device id, system UUID, serial, MAC addresses: what the intake
matches by), its fields (name, serial, manufacturer, model, the type's own attributes), the
sections kept in ``Asset.inventory`` trimmed to the keys worth keeping, and its software.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..seed import INVENTORY_TYPES

# the item types a report may carry; a report without one is a computer (as the GLPI server reads it)
DEFAULT_ITEMTYPE = "Computer"
# network equipment and printers are read over SNMP by an agent elsewhere: their ``deviceid`` is
# that agent's, so it identifies nothing about the device
REMOTE_ACTIONS = frozenset({"netinventory", "netdiscovery"})

LAPTOP_CHASSIS = frozenset(
    {"laptop", "notebook", "portable", "sub notebook", "subnotebook", "convertible", "detachable", "hand held"}
)
SERVER_CHASSIS = ("server", "rack", "blade", "multi-system")

# values firmwares put where a serial or UUID should be: they identify nothing
JUNK_SERIALS = frozenset(
    {
        "",
        "0",
        "none",
        "null",
        "n/a",
        "na",
        "unknown",
        "default string",
        "to be filled by o.e.m.",
        "to be filled by oem",
        "system serial number",
        "not specified",
        "not applicable",
        "0123456789",
        "123456789",
        "serial",
        "chassis serial number",
        "invalid",
    }
)
JUNK_UUIDS = frozenset(
    {
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "03000200-0400-0500-0006-000700080009",  # a common placeholder of cheap boards
    }
)
JUNK_MACS = frozenset({"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")

MAX_ITEMS = 500  # per section list: a report cannot make an asset row megabytes large
MAX_MACS = 32
MAX_TEXT = 500

# the keys kept of each section (the rest is noise for a service desk: ssh keys, EDID dumps…)
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "operatingsystem": (
        "name",
        "full_name",
        "version",
        "arch",
        "kernel_name",
        "kernel_version",
        "fqdn",
        "install_date",
        "service_pack",
        "boot_time",
        "timezone",
    ),
    "hardware": (
        "name",
        "uuid",
        "memory",
        "swap",
        "chassis_type",
        "vmsystem",
        "workgroup",
        "lastloggeduser",
        "defaultgateway",
        "dns",
    ),
    "bios": ("bdate", "bmanufacturer", "bversion", "smanufacturer", "smodel", "ssn", "mmanufacturer", "mmodel", "msn"),
    "cpus": ("name", "manufacturer", "core", "thread", "speed", "arch"),
    "memories": ("capacity", "type", "speed", "numslots", "manufacturer", "serialnumber", "caption"),
    "storages": ("name", "model", "manufacturer", "disksize", "serial", "type", "interface", "description"),
    "drives": ("volumn", "type", "filesystem", "total", "free", "label", "letter", "serial", "encrypt_status"),
    "networks": ("description", "mac", "ipaddress", "ipaddress6", "ipmask", "type", "status", "virtualdev", "speed"),
    "batteries": ("name", "manufacturer", "capacity", "real_capacity", "chemistry", "serial", "voltage", "date"),
    "antivirus": ("name", "company", "version", "enabled", "uptodate", "expiration", "base_version"),
    "virtualmachines": ("name", "uuid", "vmtype", "status", "memory", "vcpu", "subsystem", "mac"),
    "databases_services": ("type", "name", "version", "manufacturer", "port", "is_active", "size"),
    "monitors": ("name", "caption", "manufacturer", "serial"),
    "printers": ("name", "driver", "serial", "network"),
    "firewalls": ("status", "profile", "description"),
    "remote_mgmt": ("type", "id"),
    "users": ("login", "domain"),
    "simcards": ("operator_name", "phone_number", "serial", "country", "state"),
    "network_device": (
        "name",
        "type",
        "model",
        "manufacturer",
        "serial",
        "mac",
        "firmware",
        "ips",
        "location",
        "contact",
        "uptime",
        "ram",
        "memory",
        "cpu",
    ),
    "firmwares": ("name", "version", "type", "manufacturer", "date"),
    "network_ports": ("ifnumber", "ifname", "ifdescr", "mac", "ifstatus", "ifspeed", "iftype", "ifalias", "ips"),
    "cartridges": (),  # kept whole: levels by colour
    "pagecounters": (),
}
# keys that move between two reports of an unchanged machine: stored, never reported as a change
VOLATILE = frozenset({"free", "boot_time", "uptime", "lastloggeduser", "real_capacity", "voltage", "status"})


@dataclass
class Software:
    name: str
    product: str
    version: str
    publisher: str
    installed_on: date | None


@dataclass
class Facts:
    itemtype: str
    type_slug: str
    device_id: str
    partial: bool
    identifiers: list[tuple[str, str]]  # (kind, value), the order they are matched in
    fields: dict[str, str]  # name, serial, manufacturer, model
    attributes: dict[str, Any]
    sections: dict[str, Any]
    software: list[Software] | None  # None: the report says nothing about software
    extra: dict[str, Any] = field(default_factory=dict)


class UnknownItemType(ValueError):
    pass


def itemtype_of(report: dict[str, Any]) -> str:
    itemtype = report.get("itemtype") or DEFAULT_ITEMTYPE
    if itemtype not in INVENTORY_TYPES:
        raise UnknownItemType(str(itemtype)[:60])
    return str(itemtype)


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).replace("\x00", "").strip()[:limit]


def clean_serial(value: Any) -> str:
    text = _text(value, 120)
    return "" if text.lower() in JUNK_SERIALS or len(text) < 3 or len(set(text)) == 1 else text


def clean_uuid(value: Any) -> str:
    text = _text(value, 200).lower()
    return "" if text in JUNK_UUIDS or len(text) < 8 or len(set(text.replace("-", ""))) == 1 else text


def clean_mac(value: Any) -> str:
    text = _text(value, 40).lower().replace("-", ":")
    return text if _MAC.match(text) and text not in JUNK_MACS else ""


def machine_type(itemtype: str, content: dict[str, Any]) -> str:
    if itemtype != "Computer":
        return INVENTORY_TYPES[itemtype]
    hardware = content.get("hardware") or {}
    vmsystem = _text(hardware.get("vmsystem")).lower()
    if vmsystem and vmsystem != "physical":
        return "virtual-machine"
    chassis = _text(hardware.get("chassis_type")).lower()
    if chassis in LAPTOP_CHASSIS:
        return "laptop"
    if any(word in chassis for word in SERVER_CHASSIS):
        return "server"
    return INVENTORY_TYPES[itemtype]


def _trim_item(item: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(item, dict):
        return _text(item) if not isinstance(item, int | float | bool) else item
    if not keys:
        return {k: v for k, v in list(item.items())[:50] if not isinstance(v, dict | list) or k == "ips"}
    out: dict[str, Any] = {}
    for key in keys:
        value = item.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, list):
            out[key] = [_text(v, 100) for v in value[:20]]
        elif isinstance(value, bool | int | float):
            out[key] = value
        elif not isinstance(value, dict):
            out[key] = _text(value)
    return out


def trim_sections(content: dict[str, Any]) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    for name, keys in SECTION_KEYS.items():
        value = content.get(name)
        if value is None:
            continue
        if name == "network_device" and isinstance(value, dict):
            value = {**value, **(value.get("info") or {})}
        if isinstance(value, list):
            sections[name] = [_trim_item(item, keys) for item in value[:MAX_ITEMS]]
        else:
            sections[name] = _trim_item(value, keys)
    return sections


def _software(content: dict[str, Any]) -> list[Software] | None:
    entries = content.get("softwares")
    if entries is None:
        return None
    rows: list[Software] = []
    seen: dict[tuple[str, str], int] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        name = _text(entry.get("name"), 255)
        if not name:
            continue
        version = _text(entry.get("version"), 100)
        product = name.lower()
        key = (product, version)
        if key in seen:
            # the same package twice (32 and 64 bit builds): each keeps its architecture
            arch = _text(entry.get("arch"), 16) or str(seen[key] + 1)
            seen[key] += 1
            version = f"{version} ({arch})"[:120]
            key = (product, version)
            if key in seen:
                continue
        seen[key] = 1
        installed: date | None = None
        try:
            installed = date.fromisoformat(_text(entry.get("install_date"), 10))
        except ValueError:
            installed = None
        rows.append(
            Software(
                name=name,
                product=product,
                version=version,
                publisher=_text(entry.get("publisher"), 255),
                installed_on=installed,
            )
        )
    return rows


def _os_label(os: dict[str, Any]) -> str:
    return _text(os.get("full_name")) or " ".join(
        part for part in (_text(os.get("name")), _text(os.get("version"))) if part
    )


def facts(report: dict[str, Any]) -> Facts:
    itemtype = itemtype_of(report)
    content: dict[str, Any] = report.get("content") or {}
    remote = str(report.get("action") or "") in REMOTE_ACTIONS or itemtype in ("NetworkEquipment", "Printer")
    hardware = content.get("hardware") or {}
    bios = content.get("bios") or {}
    device = content.get("network_device") or {}
    device = {**device, **(device.get("info") or {})} if isinstance(device, dict) else {}
    os = content.get("operatingsystem") or {}

    identifiers: list[tuple[str, str]] = []
    device_id = _text(report.get("deviceid"), 200)
    if device_id and not remote:
        identifiers.append(("device", device_id))
    if uuid := clean_uuid(hardware.get("uuid")):
        identifiers.append(("uuid", uuid))
    serial = clean_serial(bios.get("ssn") or device.get("serial"))
    if serial:
        identifiers.append(("serial", serial))
    macs: list[str] = []
    for card in content.get("networks") or []:
        if isinstance(card, dict) and not card.get("virtualdev") and _text(card.get("type")).lower() != "loopback":
            macs.append(clean_mac(card.get("mac")))
    macs.append(clean_mac(device.get("mac")))
    for mac in dict.fromkeys(m for m in macs if m):
        if len(identifiers) >= MAX_MACS + 3:
            break
        identifiers.append(("mac", mac))

    name = _text(hardware.get("name") or device.get("name") or os.get("fqdn"), 200) or device_id[:200]
    fields = {
        "name": name,
        "serial": serial,
        "manufacturer": _text(
            bios.get("smanufacturer") or bios.get("mmanufacturer") or device.get("manufacturer"), 120
        ),
        "model": _text(bios.get("smodel") or bios.get("mmodel") or device.get("model"), 200),
    }
    cpus = content.get("cpus") or []
    ips = [ip for ip in device.get("ips") or [] if isinstance(ip, str) and not ip.startswith("127.")]
    simcards = content.get("simcards") or []
    attributes: dict[str, Any] = {
        "os": _os_label(os) if os else None,
        "cpu": _text(cpus[0].get("name")) if cpus and isinstance(cpus[0], dict) else None,
        "memory_mb": hardware.get("memory") if isinstance(hardware.get("memory"), int) else None,
        "hostname": _text(hardware.get("name") or os.get("fqdn"), 200) or None,
        "ip_address": ips[0] if ips else None,
        "ports": len(content["network_ports"]) if isinstance(content.get("network_ports"), list) else None,
        "number": _text(simcards[0].get("phone_number"), 40) if simcards and isinstance(simcards[0], dict) else None,
    }
    return Facts(
        itemtype=itemtype,
        type_slug=machine_type(itemtype, content),
        device_id=device_id,
        partial=bool(report.get("partial")),
        identifiers=identifiers,
        fields=fields,
        attributes={k: v for k, v in attributes.items() if v not in (None, "")},
        sections=trim_sections(content),
        software=_software(content),
    )


def stable(section: Any) -> Any:
    """A section without the keys that change between two reports of an unchanged machine."""
    if isinstance(section, list):
        return [stable(item) for item in section]
    if isinstance(section, dict):
        return {k: v for k, v in section.items() if k not in VOLATILE}
    return section
