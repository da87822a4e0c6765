"""A throwaway OpenLDAP ``slapd`` (Debian's slapd) on free 127.0.0.1 ports, for the directory tests.

It ignores the Debian ``cn=config``: a standalone ``slapd.conf`` in a temporary folder with an
Active Directory-like schema (``sAMAccountName``, ``memberOf``, ``company``, ``department`` on an
auxiliary class), plain LDAP with StartTLS and LDAPS on a second port, both with a certificate of a
CA made for the session. ``allow bind_anon_dn`` is on, as on many directories: a bind with a DN
and an empty password then succeeds anonymously, the trap the sign-in must not fall into.
"""

from __future__ import annotations

import datetime
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from ldap3 import MODIFY_REPLACE, Connection, Server

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SUFFIX = "dc=palier,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-pw-123"

SCHEMA = """
attributetype ( 1.3.6.1.4.1.99999.1.1 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.2 NAME 'memberOf'
  EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
attributetype ( 1.3.6.1.4.1.99999.1.3 NAME 'company'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.4 NAME 'department'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.99999.2.1 NAME 'palierADUser' SUP top AUXILIARY
  MAY ( sAMAccountName $ memberOf $ company $ department ) )
"""


@dataclass(frozen=True)
class Slapd:
    port: int
    tls_port: int
    ca_pem: str
    other_ca_pem: str  # a CA that did not sign the server's certificate

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://localhost:{self.tls_port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require() -> None:
    if not os.path.exists(SLAPD):
        reason = "slapd is not installed (apt-get install slapd ldap-utils)"
        if os.environ.get("PALIER_REQUIRE_SLAPD") == "1":
            pytest.fail(reason)  # CI installs it: a skip there would hide the directory tests
        pytest.skip(reason)


def _certificates(root: Path) -> tuple[str, str]:
    """A CA, a server certificate for localhost and 127.0.0.1 signed by it, and an unrelated CA."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def ca(text: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(text))
            .issuer_name(name(text))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return key, cert

    ca_key, ca_cert = ca("Palier test CA")
    _other_key, other_cert = ca("Another CA")
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (root / "server.pem").write_bytes(server.public_bytes(pem))
    (root / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (root / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    return ca_cert.public_bytes(pem).decode(), other_cert.public_bytes(pem).decode()


def _config(root: Path) -> str:
    return f"""
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {root}/ad.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
allow bind_anon_dn
TLSCACertificateFile {root}/ca.pem
TLSCertificateFile {root}/server.pem
TLSCertificateKeyFile {root}/server.key
database mdb
maxsize 104857600
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {root}/db
index objectClass eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""


@contextmanager
def start() -> Iterator[Slapd]:
    require()
    root = Path(tempfile.mkdtemp(prefix="palier-slapd-"))
    (root / "db").mkdir()
    (root / "ad.schema").write_text(SCHEMA)
    ca_pem, other_ca_pem = _certificates(root)
    (root / "slapd.conf").write_text(_config(root))
    port, tls_port = free_port(), free_port()
    urls = f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"
    # -d 0: stay in the foreground (so the process is ours to stop) and log nothing
    process = subprocess.Popen(
        [SLAPD, "-f", str(root / "slapd.conf"), "-h", urls, "-d", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait(process, port)
        _seed_base(f"ldap://127.0.0.1:{port}")
        yield Slapd(port=port, tls_port=tls_port, ca_pem=ca_pem, other_ca_pem=other_ca_pem)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _wait(process: subprocess.Popen[bytes], port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None:
                out = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"slapd did not start: {out}")
            time.sleep(0.05)
    pytest.fail("slapd did not listen in time")


def admin(url: str) -> Connection:
    """A connection bound as the directory's administrator (seeding, changes made by a test)."""
    return Connection(Server(url, connect_timeout=5), ADMIN_DN, ADMIN_PASSWORD, auto_bind=True)


def _seed_base(url: str) -> None:
    conn = admin(url)
    conn.add(SUFFIX, ["dcObject", "organization"], {"o": "Palier Test", "dc": "palier"})
    assert conn.result["result"] == 0, conn.result
    conn.unbind()


@dataclass
class Person:
    uid: str
    mail: str = ""
    name: str = ""
    password: str = ""
    groups: tuple[str, ...] = ()  # group names (cn) under the tree's ou=groups
    company: str = ""
    department: str = ""
    language: str = ""


class Tree:
    """One test's own branch of the directory (``ou=<name>,dc=palier,dc=test``), with people under
    ``ou=people`` and groups under ``ou=groups``; AD's ``memberOf`` is written on each person."""

    def __init__(self, conn: Connection, name: str) -> None:
        self.conn = conn
        self.base = f"ou={name},{SUFFIX}"
        self._add(self.base, ["organizationalUnit"], {"ou": name})
        self._add(f"ou=people,{self.base}", ["organizationalUnit"], {"ou": "people"})
        self._add(f"ou=groups,{self.base}", ["organizationalUnit"], {"ou": "groups"})

    def group_dn(self, name: str) -> str:
        return f"cn={name},ou=groups,{self.base}"

    def dn(self, uid: str) -> str:
        return f"uid={uid},ou=people,{self.base}"

    def add(self, person: Person) -> str:
        attributes: dict[str, object] = {
            "uid": person.uid,
            "cn": person.name or person.uid,
            "sn": (person.name or person.uid).split()[-1],
            "sAMAccountName": person.uid,
        }
        optional = {
            "mail": person.mail,
            "displayName": person.name,
            "userPassword": person.password,
            "company": person.company,
            "department": person.department,
            "preferredLanguage": person.language,
        }
        attributes.update({key: value for key, value in optional.items() if value})
        if person.groups:
            attributes["memberOf"] = [self.group_dn(group) for group in person.groups]
        self._add(self.dn(person.uid), ["inetOrgPerson", "palierADUser"], attributes)
        return self.dn(person.uid)

    def change(self, uid: str, **values: str) -> None:
        self.conn.modify(
            self.dn(uid), {key: [(MODIFY_REPLACE, [value] if value else [])] for key, value in values.items()}
        )
        assert self.conn.result["result"] == 0, self.conn.result

    def remove(self, uid: str) -> None:
        self.conn.delete(self.dn(uid))
        assert self.conn.result["result"] == 0, self.conn.result

    def _add(self, dn: str, classes: list[str], attributes: dict[str, object]) -> None:
        self.conn.add(dn, classes, attributes)
        assert self.conn.result["result"] == 0, self.conn.result
