#!/usr/bin/env python3
"""Palier's inventory script: describe this machine in the GLPI inventory format and post it.

Python 3.9+ standard library only; runs on Linux, Windows and macOS. It collects the host name,
operating system, serial number and system UUID, processor, memory, disks and volumes, network
cards (MAC addresses) and installed software (dpkg or rpm on Linux, the registry on Windows,
/Applications on macOS), then posts the JSON document, compressed, to Palier's /inventory/ endpoint
with an inventory token:

    python3 palier_inventory.py --server https://desk.example.org --token pinv_…
    python3 palier_inventory.py --dry-run            # print the document, post nothing

The token may also come from the PALIER_INVENTORY_TOKEN environment variable (better than the
command line, which other users of the machine can see). Run it daily (cron, a systemd timer,
the Task Scheduler, launchd). Reading the serial number needs administrator rights on some Linux
machines (/sys/class/dmi/id/product_serial is readable by root only); without them the machine is
matched by its system UUID or MAC addresses. Exit status: 0 sent (or printed), 1 refused, 2 unreachable.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import platform
import re
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any

VERSION = "1.0"
TIMEOUT = 20  # seconds for each command and for the upload
LAPTOP_CHASSIS = {"8", "9", "10", "11", "14", "30", "31", "32"}  # SMBIOS chassis types
SERVER_CHASSIS = {"17", "23", "28"}
CHASSIS_NAMES = {
    "3": "Desktop",
    "4": "Low Profile Desktop",
    "6": "Mini Tower",
    "7": "Tower",
    "8": "Portable",
    "9": "Laptop",
    "10": "Notebook",
    "11": "Hand Held",
    "13": "All in One",
    "14": "Sub Notebook",
    "17": "Main Server Chassis",
    "23": "Rack Mount Chassis",
    "28": "Blade",
    "30": "Tablet",
    "31": "Convertible",
    "32": "Detachable",
    "35": "Mini PC",
}
MAX_SOFTWARE = 20000


def run(*command: str) -> str:
    """A command's output, or "" when it is missing, fails or takes too long."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed commands, no shell
            list(command), capture_output=True, timeout=TIMEOUT, check=False, text=True, errors="replace"
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace").strip()
    except OSError:
        return ""


def powershell(script: str) -> Any:
    """The JSON a PowerShell (CIM) snippet prints, or None."""
    exe = shutil.which("powershell") or shutil.which("pwsh")
    if not exe:
        return None
    out = run(exe, "-NoProfile", "-NonInteractive", "-Command", script + " | ConvertTo-Json -Depth 3 -Compress")
    try:
        return json.loads(out) if out.strip() else None
    except ValueError:
        return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def clean(section: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in section.items() if v not in (None, "", [])}


def to_int(value: Any) -> int | None:
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError):
        return None


def cpu_arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "x86": "i686"}.get(machine, machine)


# --- Linux ---------------------------------------------------------------------------------------


def linux_hardware() -> dict[str, Any]:
    dmi = "/sys/class/dmi/id/"
    chassis = read(dmi + "chassis_type")
    memory = 0
    for line in read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            memory = (to_int(line.split()[1]) or 0) // 1024
    virt = run("systemd-detect-virt").strip()
    cpus: dict[str, Any] = {}
    cores: set[tuple[str, str]] = set()
    threads = 0
    physical = "0"
    for line in read("/proc/cpuinfo").splitlines():
        key, _sep, value = (part.strip() for part in line.partition(":"))
        if key == "model name":
            cpus.setdefault("name", value)
        elif key == "vendor_id":
            cpus.setdefault("manufacturer", value)
        elif key == "processor":
            threads += 1
        elif key == "physical id":
            physical = value
        elif key == "core id":
            cores.add((physical, value))
    return {
        "hardware": clean(
            {
                "uuid": read(dmi + "product_uuid"),
                "memory": memory or None,
                "chassis_type": CHASSIS_NAMES.get(chassis, ""),
                "vmsystem": "Physical" if virt in ("", "none") else virt,
            }
        ),
        "bios": clean(
            {
                "ssn": read(dmi + "product_serial"),
                "smanufacturer": read(dmi + "sys_vendor"),
                "smodel": read(dmi + "product_name"),
                "bversion": read(dmi + "bios_version"),
                "bmanufacturer": read(dmi + "bios_vendor"),
            }
        ),
        "cpus": [clean({**cpus, "thread": threads or None, "core": len(cores) or None, "arch": cpu_arch()})],
    }


def linux_os() -> dict[str, Any]:
    release: dict[str, str] = {}
    for line in read("/etc/os-release").splitlines():
        key, _sep, value = line.partition("=")
        release[key] = value.strip().strip('"')
    return clean(
        {
            "name": release.get("NAME", "Linux"),
            "version": release.get("VERSION_ID", ""),
            "full_name": release.get("PRETTY_NAME", ""),
            "kernel_name": "linux",
            "kernel_version": platform.release(),
            "arch": platform.machine(),
        }
    )


def linux_storage() -> dict[str, Any]:
    disks = []
    for block in sorted(Path("/sys/block").glob("*")):
        if block.name.startswith(("loop", "ram", "zram", "dm-", "sr", "md")):
            continue
        sectors = to_int(read(str(block / "size"))) or 0
        disks.append(
            clean(
                {
                    "name": block.name,
                    "model": read(str(block / "device" / "model")),
                    "serial": read(str(block / "device" / "serial")),
                    "disksize": sectors * 512 // (1024 * 1024) or None,
                    "type": "disk",
                }
            )
        )
    volumes = []
    seen: set[str] = set()
    for line in read("/proc/mounts").splitlines():
        parts = line.split()
        if len(parts) < 3 or not parts[0].startswith("/dev/") or parts[1] in seen:
            continue
        seen.add(parts[1])
        try:
            usage = shutil.disk_usage(parts[1].replace("\\040", " "))
        except OSError:
            continue
        volumes.append(
            {
                "volumn": parts[0],
                "type": parts[1],
                "filesystem": parts[2],
                "total": usage.total // (1024 * 1024),
                "free": usage.free // (1024 * 1024),
            }
        )
    return {"storages": disks, "drives": volumes}


def linux_networks() -> list[dict[str, Any]]:
    cards = []
    for card in sorted(Path("/sys/class/net").glob("*")):
        mac = read(str(card / "address"))
        if card.name == "lo" or not mac:
            continue
        virtual = not (card / "device").exists()
        wireless = (card / "wireless").exists()
        state = read(str(card / "operstate"))
        cards.append(
            clean(
                {
                    "description": card.name,
                    "mac": mac,
                    "type": "wifi" if wireless else "ethernet",
                    "virtualdev": virtual,
                    "status": state if state in ("up", "down", "dormant", "unknown") else "",
                }
            )
        )
    return cards


def linux_software() -> list[dict[str, Any]]:
    if shutil.which("dpkg-query"):
        out = run("dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\t${Maintainer}\n")
        source = "deb"
    elif shutil.which("rpm"):
        out = run("rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\t%{VENDOR}\n")
        source = "rpm"
    else:
        return []
    rows = []
    for line in out.splitlines()[:MAX_SOFTWARE]:
        name, version, arch, publisher = ([*line.split("\t"), "", "", ""])[:4]
        if name:
            rows.append(clean({"name": name, "version": version, "arch": arch, "publisher": publisher, "from": source}))
    return rows


# --- Windows -------------------------------------------------------------------------------------


def windows_hardware() -> dict[str, Any]:
    system = powershell("Get-CimInstance Win32_ComputerSystem | Select-Object Manufacturer,Model,TotalPhysicalMemory")
    product = powershell("Get-CimInstance Win32_ComputerSystemProduct | Select-Object UUID,IdentifyingNumber")
    bios = powershell("Get-CimInstance Win32_BIOS | Select-Object SerialNumber,SMBIOSBIOSVersion,Manufacturer")
    enclosure = powershell("Get-CimInstance Win32_SystemEnclosure | Select-Object ChassisTypes")
    cpu = powershell(
        "Get-CimInstance Win32_Processor | Select-Object Name,Manufacturer,NumberOfCores,NumberOfLogicalProcessors"
    )
    system, product, bios = (as_list(x)[0] if as_list(x) else {} for x in (system, product, bios))
    chassis = [str(c) for c in as_list((as_list(enclosure) or [{}])[0].get("ChassisTypes"))]
    model = str(system.get("Model") or "")
    virtual = any(word in model.lower() for word in ("virtual", "vmware", "kvm", "hvm domu"))
    return {
        "hardware": clean(
            {
                "uuid": str(product.get("UUID") or ""),
                "memory": (to_int(system.get("TotalPhysicalMemory")) or 0) // (1024 * 1024) or None,
                "chassis_type": CHASSIS_NAMES.get(chassis[0], "") if chassis else "",
                "vmsystem": "Virtual" if virtual else "Physical",
            }
        ),
        "bios": clean(
            {
                "ssn": str(bios.get("SerialNumber") or product.get("IdentifyingNumber") or ""),
                "smanufacturer": str(system.get("Manufacturer") or ""),
                "smodel": model,
                "bversion": str(bios.get("SMBIOSBIOSVersion") or ""),
                "bmanufacturer": str(bios.get("Manufacturer") or ""),
            }
        ),
        "cpus": [
            clean(
                {
                    "name": str(c.get("Name") or "").strip(),
                    "manufacturer": str(c.get("Manufacturer") or ""),
                    "core": to_int(c.get("NumberOfCores")),
                    "thread": to_int(c.get("NumberOfLogicalProcessors")),
                    "arch": cpu_arch(),
                }
            )
            for c in as_list(cpu)
        ],
    }


def windows_os() -> dict[str, Any]:
    info = as_list(powershell("Get-CimInstance Win32_OperatingSystem | Select-Object Caption,Version,OSArchitecture"))
    os_info = info[0] if info else {}
    return clean(
        {
            "name": "Windows",
            "full_name": str(os_info.get("Caption") or f"Windows {platform.release()}"),
            "version": str(os_info.get("Version") or platform.version()),
            "kernel_name": "MSWin32",
            "kernel_version": platform.version(),
            "arch": str(os_info.get("OSArchitecture") or platform.machine()),
        }
    )


def windows_storage() -> dict[str, Any]:
    disks = powershell("Get-CimInstance Win32_DiskDrive | Select-Object Model,SerialNumber,Size,DeviceID")
    volumes = []
    for letter in "CDEFGHIJKLMNOPQRSTUVWXYZ":
        root = f"{letter}:\\"
        if os.path.exists(root):
            try:
                usage = shutil.disk_usage(root)
            except OSError:
                continue
            volumes.append(
                {"volumn": f"{letter}:", "type": root, "total": usage.total // 2**20, "free": usage.free // 2**20}
            )
    return {
        "storages": [
            clean(
                {
                    "name": str(d.get("DeviceID") or ""),
                    "model": str(d.get("Model") or ""),
                    "serial": str(d.get("SerialNumber") or "").strip(),
                    "disksize": (to_int(d.get("Size")) or 0) // 2**20 or None,
                }
            )
            for d in as_list(disks)
        ],
        "drives": volumes,
    }


def windows_networks() -> list[dict[str, Any]]:
    cards = powershell(
        "Get-CimInstance Win32_NetworkAdapter -Filter 'PhysicalAdapter=True' | Select-Object Name,MACAddress,NetEnabled"
    )
    return [
        clean(
            {
                "description": str(c.get("Name") or "adapter"),
                "mac": str(c.get("MACAddress") or "").lower(),
                "status": "up" if c.get("NetEnabled") else "down",
                "virtualdev": False,
            }
        )
        for c in as_list(cards)
        if c.get("MACAddress")
    ]


def windows_software() -> list[dict[str, Any]]:
    try:
        winreg: Any = importlib.import_module("winreg")  # Windows only
    except ImportError:
        return []
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    keys = [
        (winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
        (winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"),
        (winreg.HKEY_CURRENT_USER, r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
    ]
    for hive, path in keys:
        try:
            parent = winreg.OpenKey(hive, path)
        except OSError:
            continue
        for index in range(winreg.QueryInfoKey(parent)[0]):
            try:
                child = winreg.OpenKey(parent, winreg.EnumKey(parent, index))
            except OSError:
                continue

            def value(name: str, key: Any = child) -> str:
                try:
                    return str(winreg.QueryValueEx(key, name)[0]).strip()
                except OSError:
                    return ""

            name = value("DisplayName")
            if not name or value("SystemComponent") == "1":
                continue
            installed = value("InstallDate")
            date = f"{installed[:4]}-{installed[4:6]}-{installed[6:8]}" if re.fullmatch(r"\d{8}", installed) else ""
            version = value("DisplayVersion")
            rows[(name, version)] = clean(
                {
                    "name": name,
                    "version": version,
                    "publisher": value("Publisher"),
                    "install_date": date,
                    "from": "registry",
                }
            )
    return list(rows.values())[:MAX_SOFTWARE]


# --- macOS ---------------------------------------------------------------------------------------


def mac_hardware() -> dict[str, Any]:
    out = run("ioreg", "-rd1", "-c", "IOPlatformExpertDevice")

    def ioreg(key: str) -> str:
        found = re.search(rf'"{key}" = <?"?([^">\n]*)', out)
        return found.group(1).strip() if found else ""

    model = run("sysctl", "-n", "hw.model").strip()
    memory = (to_int(run("sysctl", "-n", "hw.memsize")) or 0) // (1024 * 1024)
    return {
        "hardware": clean(
            {
                "uuid": ioreg("IOPlatformUUID"),
                "memory": memory or None,
                "chassis_type": "Laptop" if "book" in model.lower() else "Desktop",
                "vmsystem": "Physical",
            }
        ),
        "bios": clean({"ssn": ioreg("IOPlatformSerialNumber"), "smanufacturer": "Apple Inc.", "smodel": model}),
        "cpus": [
            clean(
                {
                    "name": run("sysctl", "-n", "machdep.cpu.brand_string").strip(),
                    "core": to_int(run("sysctl", "-n", "hw.physicalcpu")),
                    "thread": to_int(run("sysctl", "-n", "hw.logicalcpu")),
                    "arch": cpu_arch(),
                }
            )
        ],
    }


def mac_os() -> dict[str, Any]:
    version = platform.mac_ver()[0]
    return clean(
        {
            "name": "macOS",
            "version": version,
            "full_name": f"macOS {version}",
            "kernel_name": "darwin",
            "kernel_version": platform.release(),
            "arch": platform.machine(),
        }
    )


def mac_networks() -> list[dict[str, Any]]:
    cards, current = [], ""
    for line in run("ifconfig").splitlines():
        if line and not line[0].isspace():
            current = line.split(":")[0]
        elif "ether " in line and current:
            cards.append({"description": current, "mac": line.split("ether ")[1].split()[0], "virtualdev": False})
    return cards


def mac_software() -> list[dict[str, Any]]:
    import plistlib

    rows = []
    for app in sorted(Path("/Applications").glob("*.app"))[:MAX_SOFTWARE]:
        try:
            info = plistlib.loads((app / "Contents" / "Info.plist").read_bytes())
        except (OSError, ValueError, plistlib.InvalidFileException):
            info = {}
        rows.append(
            clean(
                {
                    "name": str(info.get("CFBundleName") or app.stem),
                    "version": str(info.get("CFBundleShortVersionString") or ""),
                    "from": "Applications",
                }
            )
        )
    return rows


def mac_storage() -> dict[str, Any]:
    usage = shutil.disk_usage("/")
    return {"drives": [{"volumn": "/", "type": "/", "total": usage.total // 2**20, "free": usage.free // 2**20}]}


# --- the document --------------------------------------------------------------------------------


def collect(*, software: bool = True) -> dict[str, Any]:
    system = platform.system()
    if system == "Windows":
        parts, os_info = windows_hardware(), windows_os()
        parts.update(windows_storage())
        parts["networks"] = windows_networks()
        apps = windows_software() if software else None
    elif system == "Darwin":
        parts, os_info = mac_hardware(), mac_os()
        parts.update(mac_storage())
        parts["networks"] = mac_networks()
        apps = mac_software() if software else None
    else:
        parts, os_info = linux_hardware(), linux_os()
        parts.update(linux_storage())
        parts["networks"] = linux_networks()
        apps = linux_software() if software else None
    hostname = socket.gethostname().split(".")[0] or "unknown"
    fqdn = socket.getfqdn()
    parts["hardware"]["name"] = hostname
    if fqdn and fqdn != "localhost":
        os_info["fqdn"] = fqdn
    # a stable device id: the same machine keeps it from one run to the next
    stable = parts["hardware"].get("uuid") or parts["bios"].get("ssn") or hostname
    device_id = f"{hostname}-{hashlib.sha256(stable.encode()).hexdigest()[:12]}"
    content: dict[str, Any] = {
        "versionclient": f"Palier-Inventory_v{VERSION}",
        "hardware": parts["hardware"],
        "bios": parts["bios"],
        "operatingsystem": os_info,
        "cpus": [cpu for cpu in parts.get("cpus", []) if cpu],
        "storages": parts.get("storages", []),
        "drives": parts.get("drives", []),
        "networks": parts.get("networks", []),
    }
    for cpu in content["cpus"]:
        if not re.match(
            r"^(mips|mips64|alpha|sparc|sparc64|m68k|i\d86|x86_64|powerpc|powerpc64|arm.*|aarch64)$",
            cpu.get("arch", ""),
        ):
            cpu.pop("arch", None)
    if apps is not None:
        content["softwares"] = apps
    return {
        "action": "inventory",
        "deviceid": device_id,
        "itemtype": "Computer",
        "content": {k: v for k, v in content.items() if v not in (None, [], {})}
        | {"versionclient": content["versionclient"]},
    }


def post(server: str, token: str, document: dict[str, Any], *, insecure: bool = False) -> int:
    url = server.rstrip("/")
    if not url.endswith("/inventory"):
        url += "/inventory"
    body = zlib.compress(json.dumps(document).encode("utf-8"))
    request = urllib.request.Request(  # noqa: S310 - the administrator's server URL
        url + "/",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-compress-zlib",
            "Authorization": f"Bearer {token}",
            "User-Agent": f"Palier-Inventory/{VERSION}",
        },
    )
    context = ssl.create_default_context()
    if insecure:  # opt-in: a test server with a self-signed certificate
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
            print(f"sent: {answer.get('status', 'ok')}")
            return 0
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read() or b"{}").get("message", "")
        except ValueError:
            message = ""
        print(f"refused ({exc.code}): {message or exc.reason}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"could not reach {url}: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Send this machine's inventory to Palier.")
    parser.add_argument("--server", default=os.environ.get("PALIER_URL", ""), help="Palier's address")
    parser.add_argument("--token", default=os.environ.get("PALIER_INVENTORY_TOKEN", ""), help="an inventory token")
    parser.add_argument("--dry-run", action="store_true", help="print the document, send nothing")
    parser.add_argument("--no-software", action="store_true", help="leave out installed software")
    parser.add_argument("--insecure", action="store_true", help="do not check the server's certificate")
    args = parser.parse_args(argv)
    document = collect(software=not args.no_software)
    if args.dry_run:
        json.dump(document, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if not args.server or not args.token:
        parser.error("--server and --token (or PALIER_URL and PALIER_INVENTORY_TOKEN) are required")
    return post(args.server, args.token, document, insecure=args.insecure)


if __name__ == "__main__":
    sys.exit(main())
