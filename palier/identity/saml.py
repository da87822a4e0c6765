"""SAML 2.0 single sign-on: Palier as a service provider (SP), with pysaml2.

One ``Provider`` of kind ``saml`` per identity provider (IdP). Its ``config`` holds the IdP's
metadata XML (imported from a URL or a file and stored, so a sign-in never waits for the IdP's
web server), the entity ids, the attribute names and the NameID format; ``clean_config`` checks
it. The desk has one key pair (``SamlServiceKey``, made on first use, private key encrypted at
rest): its certificate is published in the SP metadata of every provider.

A sign-in: ``start_sign_in`` builds the AuthnRequest (redirect binding) and the signed,
short-lived cookie that remembers its id in this browser; ``consume`` checks the answer posted
to the ACS address: the assertion must be signed by a certificate of the IdP's metadata, meant
for this SP (audience), sent to this address (recipient), still valid (NotOnOrAfter, with
``CLOCK_SKEW``), in response to the request this browser started (InResponseTo), and never seen
before (``SamlSeenMessage`` keeps the ids until they expire). Then ``provisioning.resolve_user``
and ``complete_sign_in``, the one path of every single sign-on. A refusal before there are
claims goes to ``provisioning.record_refusal`` (audited as ``auth.sso_refused``, with a reason).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]
from django.conf import settings
from django.contrib.auth import logout
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2 import saml as saml2_saml
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.mdstore import InMemoryMetaData
from saml2.metadata import create_metadata_string
from saml2.response import StatusError, UnsolicitedResponse
from saml2.saml import (
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_UNSPECIFIED,
)
from saml2.sigver import SignatureError, get_xmlsec_binary, verify_redirect_signature
from saml2.validate import ResponseLifetimeExceed, ToEarly

from palier.audit import services as audit
from palier.identity import provisioning
from palier.identity.kinds import Check
from palier.identity.models import Provider
from palier.identity.models_saml import SamlSeenMessage, SamlServiceKey
from palier.identity.provisioning import Claims, SignInRefused
from palier.mail import secrets
from palier.people.models import User
from palier.people.permissions import require_admin

log = logging.getLogger("palier.identity.saml")

# seconds of clock difference accepted between the IdP and Palier
CLOCK_SKEW = 120
# how long a started sign-in may take at the IdP (the cookie that remembers its request id)
REQUEST_MAX_AGE = 15 * 60
COOKIE_NAME = "palier_saml"
# in the Palier session: the IdP's NameID and SessionIndex, for single logout
SESSION_KEY = "palier_saml_session"
COOKIE_PATH = "/accounts/saml/"
_SALT = "palier.identity.saml.request"
METADATA_MAX_BYTES = 2 * 1024 * 1024

NAMEID_FORMATS = {
    "persistent": NAMEID_FORMAT_PERSISTENT,
    "email": NAMEID_FORMAT_EMAILADDRESS,
    "unspecified": NAMEID_FORMAT_UNSPECIFIED,
}

# the attributes read when the admin names none, in this order (Microsoft Entra ID's claim
# names first, then the usual OIDs and LDAP names of other IdPs)
ATTRIBUTE_DEFAULTS: dict[str, tuple[str, ...]] = {
    "email": (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "mail",
        "email",
        "emailAddress",
    ),
    "name": (
        "http://schemas.microsoft.com/identity/claims/displayname",
        "urn:oid:2.16.840.1.113730.3.1.241",
        "displayName",
        "cn",
        "name",
    ),
    "language": ("urn:oid:2.16.840.1.113730.3.1.39", "preferredLanguage", "language", "locale"),
    "groups": (
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
        "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
        "isMemberOf",
        "memberOf",
        "groups",
    ),
}
# what says a second factor was used: AuthnContextClassRef values, and Entra's
# authnmethodsreferences attribute
MFA_CONTEXTS = frozenset(
    {
        "https://refeds.org/profile/mfa",
        "http://schemas.microsoft.com/claims/multipleauthn",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    }
)
MFA_ATTRIBUTES = ("http://schemas.microsoft.com/claims/authnmethodsreferences",)

CONFIG_KEYS = {
    "idp_metadata": "",
    "idp_metadata_url": "",
    "idp_entity_id": "",
    "sp_entity_id": "",
    "nameid_format": "persistent",
    "email_attribute": "",
    "name_attribute": "",
    "language_attribute": "",
    "groups_attribute": "",
    "email_verified": False,
    "sign_requests": False,
}


# -- the IdP's metadata -------------------------------------------------------------------------


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    sso_url: str  # single sign-on service, redirect binding
    certificates: tuple[x509.Certificate, ...]  # signing certificates


def _metadata_error(message: str) -> ValidationError:
    return ValidationError({"idp_metadata": message})


def parse_idp_metadata(xml: str, entity_id: str = "") -> IdpMetadata:
    """The IdP named in the metadata XML (the only one, or ``entity_id``), or ``ValidationError``."""
    if not xml.strip():
        raise _metadata_error(_("The identity provider's metadata is missing."))
    try:
        SafeET.fromstring(xml.encode())  # no entities, no external references
    except Exception as exc:  # defusedxml raises its own errors and ParseError
        raise _metadata_error(_("The metadata is not valid XML: %(error)s") % {"error": exc}) from exc
    store = InMemoryMetaData(None, metadata=xml, check_validity=True)
    try:
        store.load()
    except Exception as exc:
        raise _metadata_error(_("The metadata cannot be read: %(error)s") % {"error": exc}) from exc
    idps = [eid for eid, entity in store.items() if entity.get("idpsso_descriptor")]
    if entity_id:
        if entity_id not in idps:
            raise _metadata_error(
                _("The metadata does not describe the identity provider %(entity)s.") % {"entity": entity_id}
            )
    elif len(idps) == 1:
        entity_id = idps[0]
    elif not idps:
        raise _metadata_error(_("The metadata describes no identity provider (IDPSSODescriptor)."))
    else:
        raise ValidationError(
            {"idp_entity_id": _("The metadata describes several identity providers: name the one to use.")}
        )
    services = store.service(entity_id, "idpsso_descriptor", "single_sign_on_service", BINDING_HTTP_REDIRECT)
    if not services:
        raise _metadata_error(_("The metadata gives no single sign-on address for the redirect binding."))
    certificates = []
    for _name, text in store.certs(entity_id, "idpsso", "signing"):
        try:
            certificates.append(x509.load_der_x509_certificate(base64.b64decode("".join(text.split()))))
        except (ValueError, binascii.Error) as exc:
            raise _metadata_error(_("A certificate in the metadata cannot be read.")) from exc
    if not certificates:
        raise _metadata_error(_("The metadata has no signing certificate: assertions could not be checked."))
    return IdpMetadata(entity_id=entity_id, sso_url=services[0]["location"], certificates=tuple(certificates))


def fetch_metadata(url: str) -> str:
    """The metadata XML at ``url`` (http or https, at most 2 MB), or ``ValidationError``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"idp_metadata_url": _("Give an http:// or https:// address.")})
    try:
        with requests.get(url, timeout=10, stream=True, allow_redirects=True) as answer:
            answer.raise_for_status()
            body = b""
            for chunk in answer.iter_content(64 * 1024):
                body += chunk
                if len(body) > METADATA_MAX_BYTES:
                    raise ValidationError({"idp_metadata_url": _("The metadata is larger than 2 MB.")})
    except requests.RequestException as exc:
        raise ValidationError(
            {"idp_metadata_url": _("The metadata could not be downloaded: %(error)s") % {"error": exc}}
        ) from exc
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError({"idp_metadata_url": _("The metadata is not UTF-8 text.")}) from exc


# -- the kind's interface (identity/kinds.py) ---------------------------------------------------


def clean_config(config: dict[str, Any]) -> dict[str, Any]:
    """The provider's SAML settings checked and normalised (``ValidationError({field: message})``).
    With ``idp_metadata_url`` and no ``idp_metadata``, the metadata is downloaded and stored."""
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ValidationError({"config": _("Unknown SAML settings: %(keys)s.") % {"keys": ", ".join(unknown)}})
    cleaned: dict[str, Any] = {}
    for key, default in CONFIG_KEYS.items():
        value = config.get(key, default)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValidationError({key: _("Say true or false.")})
        else:
            if not isinstance(value, str):
                raise ValidationError({key: _("Give a text.")})
            value = value.strip()
            if key != "idp_metadata" and len(value) > 1024:
                raise ValidationError({key: _("This is too long.")})
        cleaned[key] = value
    if cleaned["nameid_format"] not in NAMEID_FORMATS:
        raise ValidationError(
            {"nameid_format": _("Choose one of: %(formats)s.") % {"formats": ", ".join(NAMEID_FORMATS)}}
        )
    if cleaned["sp_entity_id"] and not urlsplit(cleaned["sp_entity_id"]).scheme:
        raise ValidationError({"sp_entity_id": _("An entity id is a URI, such as https://desk.example.org/saml.")})
    if not cleaned["idp_metadata"] and cleaned["idp_metadata_url"]:
        cleaned["idp_metadata"] = fetch_metadata(cleaned["idp_metadata_url"])
    if len(cleaned["idp_metadata"].encode()) > METADATA_MAX_BYTES:
        raise _metadata_error(_("The metadata is larger than 2 MB."))
    metadata = parse_idp_metadata(cleaned["idp_metadata"], cleaned["idp_entity_id"])
    cleaned["idp_entity_id"] = metadata.entity_id
    return cleaned


def test_provider(provider: Provider) -> list[Check]:
    """The admin page's "test this provider": metadata, certificates, addresses, key pair."""
    checks: list[Check] = []
    try:
        metadata = parse_idp_metadata(provider.setting("idp_metadata", ""), provider.setting("idp_entity_id", ""))
    except ValidationError as exc:
        text = " ".join(str(m) for errors in exc.message_dict.values() for m in errors)
        return [Check(_("Identity provider metadata"), False, text)]
    checks.append(Check(_("Identity provider metadata"), True, metadata.entity_id))
    checks.append(Check(_("Single sign-on address"), True, metadata.sso_url))
    now = timezone.now()
    for certificate in metadata.certificates:
        subject = certificate.subject.rfc4514_string()
        until = certificate.not_valid_after_utc
        if until <= now:
            checks.append(
                Check(
                    _("Signing certificate"),
                    False,
                    _("%(subject)s expired on %(date)s: import the IdP's new metadata.")
                    % {"subject": subject, "date": until.date().isoformat()},
                )
            )
        elif certificate.not_valid_before_utc > now + datetime.timedelta(seconds=CLOCK_SKEW):
            checks.append(
                Check(
                    _("Signing certificate"),
                    False,
                    _("%(subject)s is not valid before %(date)s: check this server's clock.")
                    % {"subject": subject, "date": certificate.not_valid_before_utc.isoformat()},
                )
            )
        else:
            soon = until - now < datetime.timedelta(days=30)
            detail = _("%(subject)s, valid until %(date)s") % {"subject": subject, "date": until.date().isoformat()}
            if soon:
                detail += " " + _("(expires within 30 days: plan the change)")
            checks.append(Check(_("Signing certificate"), True, detail))
    try:
        binary = get_xmlsec_binary(["/usr/bin", "/usr/local/bin"])
        checks.append(Check(_("Signature checker (xmlsec1)"), True, binary))
    except Exception:
        checks.append(Check(_("Signature checker (xmlsec1)"), False, _("Install Debian's xmlsec1 package.")))
    key = service_key()
    checks.append(Check(_("Service provider certificate"), True, _("valid until %(date)s") % {"date": key[2]}))
    checks.append(Check(_("Service provider entity id"), True, sp_entity_id(provider)))
    checks.append(Check(_("Assertion consumer service (ACS) address"), True, acs_url(provider)))
    return checks


# -- the desk's key pair ------------------------------------------------------------------------


def service_key() -> tuple[str, str, str]:
    """(certificate PEM, private key PEM, expiry date) of the desk's key pair, made on first use."""
    row = SamlServiceKey.objects.filter(pk=1).first()
    if row is None:
        certificate, private_key = _new_key_pair()
        with transaction.atomic():
            row, created = SamlServiceKey.objects.get_or_create(
                pk=1, defaults={"certificate": certificate, "private_key": secrets.encrypt(private_key)}
            )
        if created:
            audit.record("identity.saml_key_created", actor=None, target=row)
    cert = x509.load_pem_x509_certificate(row.certificate.encode())
    return row.certificate, secrets.decrypt(row.private_key), cert.not_valid_after_utc.date().isoformat()


def rotate_service_key() -> bool:
    """Re-encrypt the desk's private key under the current ``SECRET_KEY`` (``palier
    rotate-secrets``); False when there is none. Raises ``SecretError`` when no known key opens it."""
    row = SamlServiceKey.objects.filter(pk=1).first()
    if row is None:
        return False
    SamlServiceKey.objects.filter(pk=1).update(private_key=secrets.rotate(row.private_key))
    return True


def _new_key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    host = urlsplit(settings.PALIER_BASE_URL).hostname or "palier"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=10 * 365))
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


# -- the service provider -----------------------------------------------------------------------


def _base_url() -> str:
    return str(settings.PALIER_BASE_URL).rstrip("/")


def sp_entity_id(provider: Provider) -> str:
    return provider.setting("sp_entity_id") or metadata_url(provider)


def metadata_url(provider: Provider) -> str:
    return f"{_base_url()}/accounts/saml/{provider.slug}/metadata/"


def acs_url(provider: Provider) -> str:
    return f"{_base_url()}/accounts/saml/{provider.slug}/acs/"


def sls_url(provider: Provider) -> str:
    return f"{_base_url()}/accounts/saml/{provider.slug}/sls/"


@contextmanager
def _client(provider: Provider, *, with_private_key: bool = True) -> Iterator[Saml2Client]:
    """pysaml2's client for this provider. xmlsec1 reads keys from files: the key pair is written
    to a private temporary folder for the duration of one operation (the private key only when
    the operation needs it: to sign a request, to decrypt an encrypted assertion)."""
    certificate, private_key, _until = service_key()
    folder = tempfile.mkdtemp(prefix="palier-saml-")
    try:
        key_file, cert_file = os.path.join(folder, "sp.key"), os.path.join(folder, "sp.crt")
        with open(cert_file, "w") as out:
            out.write(certificate)
        keys: dict[str, Any] = {"cert_file": cert_file}
        if with_private_key:
            with open(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(private_key)
            keys.update(key_file=key_file, encryption_keypairs=[{"key_file": key_file, "cert_file": cert_file}])
        config = SPConfig()
        config.load(
            {
                "entityid": sp_entity_id(provider),
                "xmlsec_binary": get_xmlsec_binary(["/usr/bin", "/usr/local/bin"]),
                **keys,
                "metadata": {"inline": [provider.setting("idp_metadata", "")]},
                "accepted_time_diff": CLOCK_SKEW,
                "allow_unknown_attributes": True,
                "service": {
                    "sp": {
                        "name": provider.name,
                        "endpoints": {
                            "assertion_consumer_service": [(acs_url(provider), BINDING_HTTP_POST)],
                            "single_logout_service": [(sls_url(provider), BINDING_HTTP_REDIRECT)],
                        },
                        "allow_unsolicited": False,
                        "authn_requests_signed": bool(provider.setting("sign_requests")),
                        "want_assertions_signed": True,
                        "want_response_signed": False,
                        "name_id_format": NAMEID_FORMATS[provider.setting("nameid_format", "persistent")],
                        "name_id_format_allow_create": True,
                    }
                },
            }
        )
        yield Saml2Client(config)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sp_metadata(provider: Provider) -> bytes:
    """The SP metadata XML an IdP administrator imports (entity id, ACS address, certificate)."""
    with _client(provider, with_private_key=False) as client:
        return bytes(create_metadata_string(None, config=client.config, valid=24 * 365))


def start_sign_in(provider: Provider, next_url: str, *, secure: bool) -> HttpResponse:
    """The redirect to the IdP with an AuthnRequest, and the cookie that remembers its id."""
    sign = bool(provider.setting("sign_requests"))
    try:
        with _client(provider, with_private_key=sign) as client:
            request_id, info = client.prepare_for_authenticate(
                entityid=provider.setting("idp_entity_id"),
                binding=BINDING_HTTP_REDIRECT,
                sign=sign,
                sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" if sign else None,
            )
    except Exception as exc:  # stored metadata no longer usable (expired validUntil…), xmlsec1 missing
        log.error("SAML sign-in through %s cannot start: %s", provider.slug, exc)
        raise _refused("saml_config") from exc
    location = dict(info["headers"])["Location"]
    response = HttpResponse(status=302)
    response["Location"] = location
    value = signing.dumps({"p": provider.slug, "id": request_id, "next": next_url}, salt=_SALT)
    # the IdP posts the answer from its own site: a Lax cookie would not come back with it on
    # https; SameSite=None needs Secure, so plain http (development) keeps Lax
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=REQUEST_MAX_AGE,
        path=COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )
    return response


def _refused(reason: str) -> SignInRefused:
    messages = {
        "saml_malformed": _("The identity provider's answer cannot be read."),
        "saml_status": _("The identity provider did not sign you in."),
        "saml_signature": _("The identity provider's answer is not correctly signed: it was refused."),
        "saml_unsigned": _("The identity provider's assertion is not signed: Palier accepts signed assertions only."),
        "saml_expired": _(
            "The identity provider's answer has expired (or the clocks of the two servers differ). Sign in again."
        ),
        "saml_audience": _("The identity provider's answer was meant for another service."),
        "saml_recipient": _("The identity provider's answer was meant for another address."),
        "saml_issuer": _("The answer comes from another identity provider."),
        "saml_unsolicited": _(
            "This answer does not match a sign-in started in this browser: start again from the sign-in page."
        ),
        "saml_replay": _("This answer from the identity provider was already used: sign in again."),
        "saml_nameid": _("The identity provider sent no lasting identifier for you (NameID)."),
        "saml_config": _(
            "This sign-in method is not working at the moment: tell your administrator (Test this provider)."
        ),
    }
    return SignInRefused(reason, messages[reason])


def _reason_of(exc: Exception) -> str:
    """The refusal reason of a pysaml2 error (its exceptions carry the cause in their text)."""
    text = str(exc)
    if isinstance(exc, StatusError):
        return "saml_status"
    if isinstance(exc, UnsolicitedResponse) or "Came from" in text or "don't recall" in text:
        return "saml_unsolicited"
    if isinstance(exc, ResponseLifetimeExceed | ToEarly):
        return "saml_expired"
    if "Signature missing" in text:
        return "saml_unsigned"
    if isinstance(exc, SignatureError) or "signature" in text.lower() or "IncorrectlySigned" in type(exc).__name__:
        return "saml_signature"
    if "AudienceRestrictions" in text:
        return "saml_audience"
    if "recipient" in text.lower() or "destination" in text.lower():
        return "saml_recipient"
    return "saml_malformed"


def pending_request(request: HttpRequest, provider: Provider) -> dict[str, str]:
    """{request id: next address} of the sign-in this browser started with this provider."""
    try:
        data = signing.loads(request.COOKIES.get(COOKIE_NAME, ""), salt=_SALT, max_age=REQUEST_MAX_AGE)
    except signing.BadSignature:
        return {}
    if not isinstance(data, dict) or data.get("p") != provider.slug:
        return {}
    return {str(data.get("id", "")): str(data.get("next", ""))}


def _text_values(attribute: Any) -> list[str]:
    return [str(value.text).strip() for value in attribute.attribute_value or [] if value.text and value.text.strip()]


def _attributes(assertion: Any) -> dict[str, list[str]]:
    """The assertion's attributes by their Name (and FriendlyName), as sent."""
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            values = _text_values(attribute)
            for key in (attribute.name, attribute.friendly_name):
                if key:
                    found.setdefault(key, []).extend(values)
    return found


def _pick(provider: Provider, attributes: dict[str, list[str]], what: str) -> list[str]:
    configured = provider.setting(f"{what}_attribute", "")
    for name in (configured,) if configured else ATTRIBUTE_DEFAULTS[what]:
        if attributes.get(name):
            return attributes[name]
    return []


def claims_of(provider: Provider, assertion: Any, name_id: Any) -> Claims:
    """What a verified assertion says about the person, in Palier's words."""
    if name_id is None or not (name_id.text or "").strip() or name_id.format == NAMEID_FORMAT_TRANSIENT:
        raise _refused("saml_nameid")
    attributes = _attributes(assertion)
    contexts = {
        str(statement.authn_context.authn_context_class_ref.text).strip()
        for statement in assertion.authn_statement or []
        if statement.authn_context and statement.authn_context.authn_context_class_ref
    }
    methods = {value for name in MFA_ATTRIBUTES for value in attributes.get(name, [])}
    email = (_pick(provider, attributes, "email") or [""])[0]
    if not email and name_id.format == NAMEID_FORMAT_EMAILADDRESS:
        email = name_id.text.strip()
    return Claims(
        subject=name_id.text.strip(),
        email=email,
        email_verified=bool(provider.setting("email_verified")),
        full_name=(_pick(provider, attributes, "name") or [""])[0],
        language=(_pick(provider, attributes, "language") or [""])[0],
        groups=tuple(_pick(provider, attributes, "groups")),
        mfa=bool((contexts | methods) & MFA_CONTEXTS),
    )


def _remember(provider: Provider, ids: list[str], until: datetime.datetime) -> None:
    """Record the response and assertion ids; one already seen is a replay."""
    SamlSeenMessage.objects.filter(expires_at__lt=timezone.now()).delete()
    try:
        with transaction.atomic():
            SamlSeenMessage.objects.bulk_create(
                [SamlSeenMessage(provider=provider, message_id=i[:255], expires_at=until) for i in ids if i]
            )
    except IntegrityError:
        raise _refused("saml_replay") from None


def _verify(provider: Provider, request: HttpRequest) -> tuple[Claims, str]:
    """The claims of the answer posted to the ACS address, and where to go next; raises
    ``SignInRefused`` for any answer that is not for this sign-in."""
    posted = request.POST.get("SAMLResponse", "")
    if not posted or len(posted) > 4 * METADATA_MAX_BYTES:
        raise _refused("saml_malformed")
    try:
        root = SafeET.fromstring(base64.b64decode(posted, validate=False))
    except Exception:  # not base64, not XML, or XML with entities (defusedxml refuses them)
        raise _refused("saml_malformed") from None
    destination = root.get("Destination")
    if destination and destination != acs_url(provider):
        raise _refused("saml_recipient")
    outstanding = pending_request(request, provider)
    with _client(provider) as client:
        try:
            answer = client.parse_authn_request_response(posted, BINDING_HTTP_POST, outstanding)
        except Exception as exc:  # pysaml2 raises plain exceptions too
            log.info("SAML answer refused for %s: %s", provider.slug, exc)
            raise _refused(_reason_of(exc)) from exc
    if answer is None or answer.assertion is None:
        raise _refused("saml_malformed")
    if answer.issuer() != provider.setting("idp_entity_id"):
        raise _refused("saml_issuer")
    if not getattr(answer.assertion, "signature", None):
        raise _refused("saml_unsigned")
    if not answer.in_response_to or answer.in_response_to not in outstanding:
        raise _refused("saml_unsolicited")
    expiry = answer.not_on_or_after or 0
    until = max(
        datetime.datetime.fromtimestamp(expiry, datetime.UTC)
        if expiry
        else timezone.now() + datetime.timedelta(days=1),
        timezone.now(),
    ) + datetime.timedelta(seconds=CLOCK_SKEW)
    _remember(provider, [f"response:{answer.id()}", f"assertion:{answer.assertion.id}"], until)
    indexes = [st.session_index for st in answer.assertion.authn_statement or [] if st.session_index]
    request.session[SESSION_KEY] = {
        "p": provider.slug,
        "name_id": answer.name_id.to_string().decode() if answer.name_id is not None else "",
        "index": indexes[0] if indexes else "",
    }
    return claims_of(provider, answer.assertion, answer.name_id), outstanding[answer.in_response_to]


def consume(request: HttpRequest, provider: Provider) -> tuple[User, str]:
    """Sign in with the answer posted to the ACS address: the account and the next address, or
    ``SignInRefused`` (audited, nothing created)."""
    ip = provisioning.client_ip(request)
    if not provider.enabled:
        refused = SignInRefused("provider_disabled", _("This sign-in method is switched off."))
        provisioning.record_refusal(provider, None, refused, ip=ip)
        raise refused
    try:
        try:
            claims, next_url = _verify(provider, request)
        except secrets.SecretError as exc:  # SECRET_KEY changed without the old one as a fallback
            log.error("SAML key pair unreadable: %s", exc)
            raise _refused("saml_config") from exc
    except SignInRefused as refused:
        provisioning.record_refusal(provider, None, refused, ip=ip)
        raise
    idp_session = request.session.pop(SESSION_KEY, None)
    user = provisioning.resolve_user(provider, claims, ip=ip)
    provisioning.complete_sign_in(request, user, provider, claims)
    request.session[SESSION_KEY] = idp_session  # for single logout
    return user, next_url


# -- single logout ------------------------------------------------------------------------------

_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def _idp_logout_url(client: Saml2Client, provider: Provider) -> str:
    services = client.metadata.single_logout_service(provider.setting("idp_entity_id"), BINDING_HTTP_REDIRECT, "idpsso")
    return str(services[0]["location"]) if services else ""


def sign_out(request: HttpRequest, provider: Provider) -> str:
    """End the Palier session; the address of the IdP's single logout with a signed LogoutRequest
    for the session this browser had there, or "" (no SAML session, or the IdP has no single
    logout)."""
    data = request.session.get(SESSION_KEY) or {}
    logout(request)
    if data.get("p") != provider.slug or not data.get("name_id"):
        return ""
    try:
        with _client(provider) as client:
            destination = _idp_logout_url(client, provider)
            if not destination:
                return ""
            _id, message = client.create_logout_request(
                destination,
                provider.setting("idp_entity_id"),
                name_id=saml2_saml.name_id_from_string(data["name_id"]),
                session_indexes=[data["index"]] if data.get("index") else None,
                sign=False,  # the redirect binding signs the query string
            )
            info = client.apply_binding(
                BINDING_HTTP_REDIRECT, str(message), destination, relay_state="", sign=True, sigalg=_SHA256
            )
    except Exception as exc:
        log.error("SAML single logout through %s could not start: %s", provider.slug, exc)
        return ""
    return str(dict(info["headers"])["Location"])


def logout_refused() -> SignInRefused:
    return SignInRefused("saml_logout", _("The identity provider's sign-out request was refused (not signed by it)."))


def logout_requested(request: HttpRequest, provider: Provider) -> str:
    """The IdP asks to end the session (its LogoutRequest, redirect binding, signed): end the
    Palier session when it names the person signed in here, and return the address of the
    LogoutResponse to send back ("" when the request is not acceptable)."""
    query = request.GET
    if not query.get("Signature") or not query.get("SigAlg"):
        return ""  # an unsigned request could sign anyone out
    try:
        with _client(provider) as client:
            # pysaml2 checks a redirect-binding signature on the IdP side only: check it here
            signed = {key: query[key] for key in ("SAMLRequest", "RelayState", "SigAlg", "Signature") if key in query}
            certificates = client.metadata.certs(provider.setting("idp_entity_id"), "idpsso", "signing")
            if not any(verify_redirect_signature(signed, client.sec.sec_backend, cert) for _name, cert in certificates):
                return ""
            message = client.parse_logout_request(
                query["SAMLRequest"],
                BINDING_HTTP_REDIRECT,
                relay_state=query.get("RelayState"),
                sigalg=query["SigAlg"],
                signature=query["Signature"],
            )
            if message is None or message.message.issuer.text != provider.setting("idp_entity_id"):
                return ""
            data = request.session.get(SESSION_KEY) or {}
            here = saml2_saml.name_id_from_string(data["name_id"]) if data.get("name_id") else None
            if here is not None and data.get("p") == provider.slug and message.message.name_id.text == here.text:
                logout(request)
            destination = _idp_logout_url(client, provider)
            answer = client.create_logout_response(message.message, [BINDING_HTTP_REDIRECT], sign=False)
            info = client.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(answer),
                destination,
                relay_state=query.get("RelayState", ""),
                response=True,
                sign=True,
                sigalg=_SHA256,
            )
    except Exception as exc:
        log.warning("SAML logout request through %s refused: %s", provider.slug, exc)
        return ""
    return str(dict(info["headers"])["Location"])


# -- administration -----------------------------------------------------------------------------

PROVIDER_FIELDS = (
    "name",
    "slug",
    "label_en",
    "label_fr",
    "position",
    "create_accounts",
    "default_role",
    "default_organisation",
    "organisation_by_domain",
    "link_verified_email",
    "sync_groups",
    "role_map",
    "group_map",
    "satisfies_mfa",
)


def providers() -> list[Provider]:
    return list(Provider.objects.filter(kind=Provider.Kind.SAML).select_related("default_organisation"))


def get_provider(provider_id: int) -> Provider:
    return get_object_or_404(Provider, pk=provider_id, kind=Provider.Kind.SAML)


def get_provider_by_slug(slug: str) -> Provider:
    return get_object_or_404(Provider, slug=slug, kind=Provider.Kind.SAML)


def enabled_provider(slug: str) -> Provider:
    return get_object_or_404(Provider, slug=slug, kind=Provider.Kind.SAML, enabled=True)


def _require_admin(by: User | None) -> None:
    require_admin(by, message=_("Only an administrator manages sign-in providers."))


def _check_maps(fields: dict[str, Any]) -> None:
    roles = set(User.Role.values)
    role_map = fields.get("role_map") or {}
    if not isinstance(role_map, dict) or any(not isinstance(k, str) or v not in roles for k, v in role_map.items()):
        raise ValidationError(
            {"role_map": _("Give an object of group → role (%(roles)s).") % {"roles": ", ".join(roles)}}
        )
    group_map = fields.get("group_map") or {}
    if not isinstance(group_map, dict) or any(
        not isinstance(k, str)
        or not (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)))
        for k, v in group_map.items()
    ):
        raise ValidationError({"group_map": _("Give an object of group → list of support group names.")})


def save_provider(provider: Provider | None, *, config: dict[str, Any], by: User | None, **fields: Any) -> Provider:
    """Create (``provider`` None) or change a SAML provider from the admin page."""
    _require_admin(by)
    if provider is not None and provider.from_environment:
        raise ValidationError(_("This provider is defined by the server's environment: change it there."))
    unknown = set(fields) - set(PROVIDER_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    _check_maps(fields)
    cleaned = clean_config(config)
    with transaction.atomic():
        if provider is None:
            if Provider.objects.filter(slug=fields.get("slug")).exists():
                raise ValidationError({"slug": _("Another provider has this identifier.")})
            provider = Provider(kind=Provider.Kind.SAML, enabled=False)
            action = "identity.provider_created"
        else:
            fields.pop("slug", None)  # addresses given to the IdP stay as they are
            action = "identity.provider_changed"
        for name, value in fields.items():
            setattr(provider, name, value)
        provider.config = cleaned
        provider.full_clean(exclude=["config"])
        provider.save()
        audit.record(action, actor=by, target=provider, changes={"kind": [None, "saml"]})
    return provider


def set_enabled(provider: Provider, *, enabled: bool, by: User | None) -> None:
    _require_admin(by)
    if enabled:
        parse_idp_metadata(provider.setting("idp_metadata", ""), provider.setting("idp_entity_id", ""))
    with transaction.atomic():
        provider.enabled = enabled
        provider.save(update_fields=["enabled", "updated_at"])
        audit.record(
            "identity.provider_enabled" if enabled else "identity.provider_disabled", actor=by, target=provider
        )


def delete_provider(provider: Provider, *, by: User | None) -> None:
    _require_admin(by)
    if provider.from_environment:
        raise ValidationError(_("This provider is defined by the server's environment: remove it there."))
    with transaction.atomic():
        audit.record("identity.provider_deleted", actor=by, target=provider)
        provider.delete()
