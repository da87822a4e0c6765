"""A real SAML identity provider for the tests: pysaml2's own ``Server`` (the IdP half of the
library Palier's service provider uses, but a separate code path with its own keys), behind a tiny
WSGI app on 127.0.0.1.

``saml_idp`` (session fixture) starts it on a free port; a test registers Palier's SP metadata
(``idp.trust(xml)``), imports ``idp.metadata()`` into a provider, and either lets the browser sign
in through ``/sso`` (a page with one button per test person, then a page posting the answer back)
or builds answers directly with ``idp.answer(...)``: signed or not, expired, for another audience.
Needs Debian's ``xmlsec1``: the fixture skips without it, unless ``PALIER_REQUIRE_XMLSEC1=1``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import html
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from unittest import mock
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import saml2.assertion
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, time_util
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import verify_redirect_signature

# the test people the IdP knows: NameID, attributes (pysaml2's friendly names, sent as OIDs)
PEOPLE: dict[str, dict[str, Any]] = {
    "ana": {
        "name_id": "idp-ana-7f3a",
        "attributes": {
            "mail": ["ana@acme.example"],
            "displayName": ["Ana Lima"],
            "preferredLanguage": ["en"],
            "isMemberOf": ["it-staff"],
        },
        "mfa": True,
    },
    # no email attribute at all
    "nomail": {"name_id": "idp-nomail-21", "attributes": {"displayName": ["No Mail"]}, "mfa": False},
}
MFA_CLASS = "https://refeds.org/profile/mfa"
PASSWORD_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def _key_pair(folder: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-idp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = os.path.join(folder, "idp.key"), os.path.join(folder, "idp.crt")
    with open(key_file, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    with open(cert_file, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


class TestIdp:
    __test__ = False  # not a test class

    def __init__(self, folder: str, base_url: str, xmlsec: str) -> None:
        self.base_url = base_url
        self.entity_id = f"{base_url}/metadata"
        self.sso_url = f"{base_url}/sso"
        self.slo_url = f"{base_url}/slo"
        self.xmlsec = xmlsec
        self.key_file, self.cert_file = _key_pair(folder)
        self.sp_metadata: dict[str, str] = {}
        self._servers: dict[Any, Server] = {}
        self._metadata: str | None = None

    def trust(self, sp_metadata: bytes | str, entity_id: str) -> None:
        """Know a service provider (its ACS address comes from its metadata)."""
        self.sp_metadata[entity_id] = sp_metadata.decode() if isinstance(sp_metadata, bytes) else sp_metadata

    def _server(self, lifetime_minutes: int = 15) -> Server:
        """pysaml2's IdP (kept per settings: loading its key takes a moment)."""
        key = (lifetime_minutes, tuple(sorted(self.sp_metadata.items())))
        if key not in self._servers:
            self._servers[key] = Server(config=self._config(lifetime_minutes))
        return self._servers[key]

    def _config(self, lifetime_minutes: int = 15) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": self.xmlsec,
                "key_file": self.key_file,
                "cert_file": self.cert_file,
                "metadata": {"inline": list(self.sp_metadata.values())},
                "service": {
                    "idp": {
                        "name": "Palier test IdP",
                        "endpoints": {
                            "single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)],
                            "single_logout_service": [(self.slo_url, BINDING_HTTP_REDIRECT)],
                        },
                        "want_authn_requests_signed": False,
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": lifetime_minutes},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    }
                },
            }
        )
        return config

    def metadata(self) -> str:
        if self._metadata is None:
            self._metadata = bytes(create_metadata_string(None, config=self._config(), valid=24)).decode()
        return self._metadata

    def answer_xml(
        self,
        person: str,
        *,
        sp_entity_id: str,
        acs: str,
        in_response_to: str,
        sign_assertion: bool = True,
        issued_minutes_ago: int = 0,
        encrypt_for: str = "",
    ) -> str:
        """The Response XML this IdP sends for ``person`` (signed assertion unless told).
        ``issued_minutes_ago``: the assertion was made that long ago, valid for 5 minutes then
        (its NotBefore and NotOnOrAfter in the past, as a captured old answer has them)."""
        who = PEOPLE[person]
        lifetime = 15
        shifted = contextlib.nullcontext()
        if issued_minutes_ago:
            lifetime = 5 - issued_minutes_ago
            stamp = time.time() - issued_minutes_ago * 60
            shifted = mock.patch.object(saml2.assertion, "instant", lambda *a, **k: time_util.instant(time_stamp=stamp))
        server = self._server(lifetime)
        with shifted:
            response = server.create_authn_response(
                identity=who["attributes"],
                in_response_to=in_response_to,
                destination=acs,
                sp_entity_id=sp_entity_id,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=who["name_id"]),
                authn={"class_ref": MFA_CLASS if who["mfa"] else PASSWORD_CLASS},
                sign_assertion=sign_assertion,
                sign_response=False,
                # the SP's certificate (PEM): the assertion encrypted for it
                encrypt_assertion=bool(encrypt_for),
                encrypt_cert_assertion=encrypt_for or None,
            )
        return str(response)

    def answer(self, person: str, **kwargs: Any) -> str:
        """The same, base64-encoded as the POST binding carries it."""
        return base64.b64encode(self.answer_xml(person, **kwargs).encode()).decode()

    # -- single logout ------------------------------------------------------------------------

    def parse_logout(self, query: dict[str, str]) -> Any:
        """An SP's signed LogoutRequest (redirect binding), its signature checked (or an error)."""
        server = self._server()
        signed = {key: query[key] for key in ("SAMLRequest", "RelayState", "SigAlg", "Signature") if key in query}
        request = server.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        certs = server.metadata.certs(request.message.issuer.text, "spsso", "signing")
        if not any(verify_redirect_signature(signed, server.sec.sec_backend, cert) for _n, cert in certs):
            raise ValueError("the LogoutRequest's signature is wrong")
        return request

    def logout_url(self, destination: str, person: str, *, sign: bool = True) -> str:
        """The address of this IdP's LogoutRequest for ``person`` at an SP (redirect binding)."""
        server = self._server()
        _id, message = server.create_logout_request(
            destination,
            self.entity_id,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=PEOPLE[person]["name_id"]),
            sign=False,
        )
        info = server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(message),
            destination,
            relay_state="",
            sign=sign,
            sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" if sign else None,
        )
        return str(dict(info["headers"])["Location"])

    # -- the browser's side -----------------------------------------------------------------

    def app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path == "/metadata":
            return self._page(start_response, self.metadata(), "application/samlmetadata+xml")
        if path != "/sso":
            return self._page(start_response, "not found", "text/plain", "404 Not Found")
        if method == "GET":
            query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            request_xml = query.get("SAMLRequest", "")
            buttons = "".join(
                f'<button type="submit" name="person" value="{p}">Sign in as {p}</button>' for p in PEOPLE
            )
            body = (
                "<!doctype html><title>Test IdP</title><h1>Test IdP</h1>"
                f'<form method="post" action="/sso"><input type="hidden" name="SAMLRequest" '
                f'value="{html.escape(request_xml)}">{buttons}</form>'
            )
            return self._page(start_response, body)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
        server = self._server()
        request = server.parse_authn_request(form["SAMLRequest"], BINDING_HTTP_REDIRECT)
        args = server.response_args(request.message, [BINDING_HTTP_POST])
        answer = self.answer(
            form["person"],
            sp_entity_id=args["sp_entity_id"],
            acs=args["destination"],
            in_response_to=args["in_response_to"],
        )
        body = (
            "<!doctype html><title>Test IdP</title><h1>Signed in at the test IdP</h1>"
            f'<form method="post" action="{html.escape(args["destination"])}">'
            f'<input type="hidden" name="SAMLResponse" value="{answer}">'
            '<button type="submit">Continue to the service</button></form>'
        )
        return self._page(start_response, body)

    @staticmethod
    def _page(start_response: Any, body: str, kind: str = "text/html", status: str = "200 OK") -> list[bytes]:
        data = body.encode()
        start_response(status, [("Content-Type", f"{kind}; charset=utf-8"), ("Content-Length", str(len(data)))])
        return [data]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def saml_idp() -> Iterator[TestIdp]:
    """The test IdP on 127.0.0.1 (named ``localhost`` in its addresses, like the live server, so
    the browser sees one site), stopped after the session."""
    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        if os.environ.get("PALIER_REQUIRE_XMLSEC1") == "1":
            pytest.fail("xmlsec1 is missing: apt-get install xmlsec1")
        pytest.skip("xmlsec1 is missing (apt-get install xmlsec1)")
    folder = tempfile.mkdtemp(prefix="palier-idp-")
    holder: dict[str, TestIdp] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return holder["idp"].app(environ, start_response)

    httpd: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    idp = TestIdp(folder, f"http://localhost:{httpd.server_port}", xmlsec)
    holder["idp"] = idp
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        httpd.shutdown()
        httpd.server_close()
        shutil.rmtree(folder, ignore_errors=True)
