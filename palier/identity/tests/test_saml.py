"""SAML single sign-on against a real identity provider (pysaml2's ``Server``, testsupport/saml_idp.py):
the attacker's answers first (tampered, unsigned, expired, replayed, for another audience, not
asked for, without an email), each refused with a clear message, audited, and creating nothing;
then a good sign-in, the metadata, and the administration pages."""

from __future__ import annotations

import base64
import datetime
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import Client

from palier.audit.models import AuditEvent
from palier.identity import saml
from palier.identity.models import ExternalIdentity, Provider
from palier.identity.models_saml import SamlServiceKey
from palier.identity.provisioning import MFA_BY_PROVIDER_SESSION_KEY, PROVIDER_SESSION_KEY
from palier.mail import secrets
from palier.people.models import User
from testsupport.saml_idp import TestIdp, saml_idp  # noqa: F401  (the session fixture)

pytestmark = pytest.mark.django_db

BASE = "http://testserver"


@pytest.fixture(scope="session")
def _desk_key_pair() -> tuple[str, str]:
    """One SP key pair for the session (an RSA key takes a moment to make)."""
    return saml._new_key_pair()


@pytest.fixture
def provider(saml_idp: TestIdp, settings: Any, _desk_key_pair: tuple[str, str]) -> Provider:  # noqa: F811
    settings.PALIER_BASE_URL = BASE
    SamlServiceKey.objects.create(pk=1, certificate=_desk_key_pair[0], private_key=secrets.encrypt(_desk_key_pair[1]))
    provider = Provider.objects.create(
        slug="acme",
        name="Acme SSO",
        kind=Provider.Kind.SAML,
        enabled=True,
        label_en="Sign in with Acme",
        config=saml.clean_config({"idp_metadata": saml_idp.metadata()}),
        sync_groups=True,
        role_map={"it-staff": "agent"},
        satisfies_mfa=True,
    )
    saml_idp.trust(saml.sp_metadata(provider), saml.sp_entity_id(provider))
    return provider


def _start(client: Client, next_url: str = "/kb/") -> str:
    """Start a sign-in as a browser does; the id of the AuthnRequest it carries."""
    response = client.get(f"/accounts/saml/acme/login/?next={next_url}")
    assert response.status_code == 302
    assert "SAMLRequest=" in response["Location"]
    cookie = client.cookies[saml.COOKIE_NAME]
    assert cookie["samesite"] == "Lax" and cookie["httponly"]  # plain http here; None+Secure on https
    return str(signing.loads(cookie.value, salt="palier.identity.saml.request")["id"])


def _answer(idp: TestIdp, request_id: str, person: str = "ana", **kwargs: Any) -> str:
    args = {"sp_entity_id": f"{BASE}/accounts/saml/acme/metadata/", "acs": f"{BASE}/accounts/saml/acme/acs/"}
    return idp.answer(person, in_response_to=request_id, **{**args, **kwargs})


def _post(client: Client, answer: str) -> Any:
    return client.post("/accounts/saml/acme/acs/", {"SAMLResponse": answer}, HTTP_ACCEPT_LANGUAGE="en")


def _assert_refused(response: Any, reason: str, words: str) -> None:
    assert response.status_code == 403
    assert words in response.content.decode()
    event = AuditEvent.objects.filter(action="auth.sso_refused").latest("id")
    assert event.changes["reason"] == [None, reason]
    assert not User.objects.filter(email__endswith="acme.example").exists()
    assert not ExternalIdentity.objects.exists()
    assert "_auth_user_id" not in response.client.session


def _b64(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def test_a_tampered_assertion_is_refused(client: Client, provider: Provider, saml_idp: TestIdp) -> None:  # noqa: F811
    request_id = _start(client)
    xml = saml_idp.answer_xml(
        "ana",
        in_response_to=request_id,
        sp_entity_id=saml.sp_entity_id(provider),
        acs=saml.acs_url(provider),
    )
    assert "ana@acme.example" in xml
    # the attacker changes an attribute after the IdP signed it
    _assert_refused(
        _post(client, _b64(xml.replace("ana@acme.example", "boss@acme.example"))),
        "saml_signature",
        "not correctly signed",
    )


def test_an_unsigned_assertion_is_refused(client: Client, provider: Provider, saml_idp: TestIdp) -> None:  # noqa: F811
    answer = _answer(saml_idp, _start(client), sign_assertion=False)
    _assert_refused(_post(client, answer), "saml_unsigned", "not signed")


def test_an_expired_assertion_is_refused(client: Client, provider: Provider, saml_idp: TestIdp) -> None:  # noqa: F811
    # made 20 minutes ago, valid 5 minutes: NotOnOrAfter well beyond the accepted clock skew
    answer = _answer(saml_idp, _start(client), issued_minutes_ago=20)
    _assert_refused(_post(client, answer), "saml_expired", "has expired")


def test_an_assertion_for_another_service_is_refused(
    client: Client,
    provider: Provider,
    saml_idp: TestIdp,  # noqa: F811
) -> None:
    other = Provider(slug="acme", name="x", kind=Provider.Kind.SAML, config={**provider.config})
    other.config["sp_entity_id"] = "https://other.example/sp"
    saml_idp.trust(saml.sp_metadata(other), "https://other.example/sp")
    answer = _answer(saml_idp, _start(client), sp_entity_id="https://other.example/sp")
    _assert_refused(_post(client, answer), "saml_audience", "meant for another service")
    # sent to another address (Destination and Recipient)
    answer = _answer(saml_idp, _start(client), acs=f"{BASE}/accounts/saml/other/acs/")
    _assert_refused(_post(client, answer), "saml_recipient", "meant for another address")
    # metadata that no longer works: the sign-in cannot start, and says so
    provider.config = {**provider.config, "idp_entity_id": "https://gone.example"}
    provider.save()
    response = client.get("/accounts/saml/acme/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403 and "tell your administrator" in response.content.decode()


def test_an_answer_this_browser_did_not_ask_for_is_refused(
    client: Client,
    provider: Provider,
    saml_idp: TestIdp,  # noqa: F811
) -> None:
    answer = _answer(saml_idp, _start(Client()))  # another browser started it
    _assert_refused(_post(client, answer), "saml_unsolicited", "does not match a sign-in started in this browser")
    _assert_refused(_post(client, "not base64 at all <"), "saml_malformed", "cannot be read")


def test_an_answer_without_email_is_refused(client: Client, provider: Provider, saml_idp: TestIdp) -> None:  # noqa: F811
    answer = _answer(saml_idp, _start(client), person="nomail")
    _assert_refused(_post(client, answer), "no_email", "did not give your email address")


def test_sign_in_then_a_replayed_answer_is_refused(client: Client, provider: Provider, saml_idp: TestIdp) -> None:  # noqa: F811
    request_id = _start(client, next_url="/kb/")
    cookie = client.cookies[saml.COOKIE_NAME].value
    answer = _answer(saml_idp, request_id)
    response = _post(client, answer)
    assert response.status_code == 302 and response["Location"] == "/kb/"
    user = User.objects.get(email="ana@acme.example")
    assert (user.full_name, user.language, user.role) == ("Ana Lima", "en", User.Role.AGENT)
    assert ExternalIdentity.objects.get(provider=provider).subject == "idp-ana-7f3a"
    assert client.session[PROVIDER_SESSION_KEY] == "acme"
    assert client.session[MFA_BY_PROVIDER_SESSION_KEY] is True  # AuthnContext said multi-factor
    assert AuditEvent.objects.filter(action="auth.login", actor_id=user.pk).exists()
    assert saml.COOKIE_NAME not in client.cookies or not client.cookies[saml.COOKIE_NAME].value

    # a captured answer, with the cookie that went with it, played again in a fresh browser
    thief = Client()
    thief.cookies[saml.COOKIE_NAME] = cookie
    response = _post(thief, answer)
    assert response.status_code == 403 and "already used" in response.content.decode()
    event = AuditEvent.objects.filter(action="auth.sso_refused").latest("id")
    assert event.changes["reason"] == [None, "saml_replay"]
    assert "_auth_user_id" not in thief.session


def test_signed_requests_and_an_encrypted_assertion(client: Client, provider: Provider, saml_idp: TestIdp) -> None:  # noqa: F811
    provider.config = {**provider.config, "sign_requests": True}
    provider.save()
    response = client.get("/accounts/saml/acme/login/")
    assert "Signature=" in response["Location"] and "SigAlg=" in response["Location"]
    request_id = str(signing.loads(client.cookies[saml.COOKIE_NAME].value, salt="palier.identity.saml.request")["id"])
    certificate = SamlServiceKey.objects.get().certificate
    answer = _answer(saml_idp, request_id, encrypt_for=certificate)
    assert "EncryptedAssertion" in base64.b64decode(answer).decode()
    assert _post(client, answer).status_code == 302
    assert User.objects.filter(email="ana@acme.example").exists()


def test_single_logout_both_ways(client: Client, provider: Provider, saml_idp: TestIdp) -> None:  # noqa: F811
    assert _post(client, _answer(saml_idp, _start(client))).status_code == 302
    # Palier → IdP: Palier's session ends, the browser goes on to the IdP with a signed request
    response = client.post("/accounts/saml/acme/logout/")
    assert "_auth_user_id" not in client.session
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == saml_idp.slo_url
    request = saml_idp.parse_logout({k: v[0] for k, v in parse_qs(location.query).items()})
    assert request.message.name_id.text == "idp-ana-7f3a"
    # the ordinary sign-out button does the same, through a page that moves on to the IdP
    assert _post(client, _answer(saml_idp, _start(client))).status_code == 302
    page = client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session
    assert page.status_code == 200 and saml_idp.slo_url + "?SAMLRequest=" in page.content.decode()

    # IdP → Palier: an unsigned request is refused, a signed one ends the session
    assert _post(client, _answer(saml_idp, _start(client))).status_code == 302
    sls = saml.sls_url(provider)
    forged = urlsplit(saml_idp.logout_url(sls, "ana", sign=False))
    assert client.get(f"{forged.path}?{forged.query}").status_code == 403
    assert "_auth_user_id" in client.session
    signed = urlsplit(saml_idp.logout_url(sls, "ana"))
    tampered = signed.query.replace("Signature=", "Signature=AAAA")
    assert client.get(f"{signed.path}?{tampered}").status_code == 403
    assert "_auth_user_id" in client.session
    response = client.get(f"{signed.path}?{signed.query}")
    assert response.status_code == 302 and response["Location"].startswith(saml_idp.slo_url + "?SAMLResponse=")
    assert "_auth_user_id" not in client.session


def test_sp_metadata_names_the_acs_address_and_the_desk_certificate(
    client: Client, provider: Provider, settings: Any
) -> None:
    body = client.get("/accounts/saml/acme/metadata/").content.decode()
    assert 'entityID="http://testserver/accounts/saml/acme/metadata/"' in body
    assert 'Location="http://testserver/accounts/saml/acme/acs/"' in body
    assert "X509Certificate" in body
    # the private key is stored encrypted
    row = SamlServiceKey.objects.get()
    assert "PRIVATE KEY" not in row.private_key and "PRIVATE KEY" in secrets.decrypt(row.private_key)
    # a new SECRET_KEY, the old one as a fallback: re-encrypted under the new one
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-test-0123456789"
    assert saml.rotate_service_key()
    settings.SECRET_KEY_FALLBACKS = []
    assert "PRIVATE KEY" in secrets.decrypt(SamlServiceKey.objects.get().private_key)
    assert client.get("/accounts/saml/nope/metadata/").status_code == 404


def _expired_certificate_der() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old-idp")])
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=400)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(past)
        .not_valid_after(past + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def test_bad_metadata_and_settings_are_refused_with_a_reason(saml_idp: TestIdp) -> None:  # noqa: F811
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>'
    cases = [
        ({"idp_metadata": ""}, "missing"),
        ({"idp_metadata": "<not xml"}, "not valid XML"),
        ({"idp_metadata": bomb}, "not valid XML"),
        ({"idp_metadata": saml_idp.metadata(), "nameid_format": "transient"}, "Choose one of"),
        ({"idp_metadata": saml_idp.metadata(), "secret": "x"}, "Unknown SAML settings"),
        ({"idp_metadata": saml_idp.metadata(), "idp_entity_id": "https://else.example"}, "does not describe"),
        ({"idp_metadata_url": "file:///etc/passwd"}, "http:// or https://"),
    ]
    for config, words in cases:
        with pytest.raises(ValidationError) as refused:
            saml.clean_config(config)
        assert words in str(refused.value), (config, refused.value)
    # the same metadata without its certificates: nothing could check the signatures
    no_cert = re.sub(r"<(\w+:)?KeyDescriptor.*?</(\w+:)?KeyDescriptor>", "", saml_idp.metadata(), flags=re.S)
    assert "X509Certificate" not in no_cert
    with pytest.raises(ValidationError, match="no signing certificate"):
        saml.clean_config({"idp_metadata": no_cert})


def test_test_this_provider_explains_an_expired_certificate(provider: Provider, saml_idp: TestIdp) -> None:  # noqa: F811
    checks = saml.test_provider(provider)
    assert all(check.ok for check in checks), checks
    current = saml.parse_idp_metadata(provider.config["idp_metadata"]).certificates[0]
    der = base64.b64encode(current.public_bytes(serialization.Encoding.DER)).decode()
    assert der in provider.config["idp_metadata"].replace("\n", "")
    provider.config["idp_metadata"] = (
        provider.config["idp_metadata"].replace("\n", "").replace(der, _expired_certificate_der())
    )
    failed = [check for check in saml.test_provider(provider) if not check.ok]
    assert len(failed) == 1 and "expired" in failed[0].detail


def test_admin_pages_add_test_enable_and_delete_a_provider(
    client: Client,
    admin_user: User,
    agent: User,
    saml_idp: TestIdp,  # noqa: F811
    settings: Any,
    _desk_key_pair: tuple[str, str],
) -> None:
    settings.PALIER_BASE_URL = BASE
    SamlServiceKey.objects.create(pk=1, certificate=_desk_key_pair[0], private_key=secrets.encrypt(_desk_key_pair[1]))
    client.force_login(agent)
    assert client.get("/agent/identity/saml/").status_code == 404
    client.force_login(admin_user)
    form = {
        "name": "Corp IdP",
        "slug": "corp",
        "label_en": "Sign in with Corp",
        "position": "0",
        "nameid_format": "persistent",
        "default_role": "requester",
        "create_accounts": "on",
        "metadata_url": "",
    }
    # no metadata: refused, nothing created
    response = client.post("/agent/identity/saml/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "Give the metadata address or its file." in response.content.decode()
    response = client.post("/agent/identity/saml/", {**form, "role_map": "{not json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and not Provider.objects.exists()

    # metadata downloaded from the IdP's address, stored; the new provider starts switched off
    response = client.post(
        "/agent/identity/saml/", {**form, "metadata_url": f"{saml_idp.base_url}/metadata"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = Provider.objects.get(slug="corp")
    assert not provider.enabled and provider.config["idp_entity_id"] == saml_idp.entity_id
    assert "EntityDescriptor" in provider.config["idp_metadata"]
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "http://testserver/accounts/saml/corp/acs/" in page

    page = client.post(f"/agent/identity/saml/{provider.pk}/test/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Signing certificate" in page and "Failed" not in page

    client.post(f"/agent/identity/saml/{provider.pk}/toggle/")
    provider.refresh_from_db()
    assert provider.enabled
    assert AuditEvent.objects.filter(action="identity.provider_enabled", target_id=str(provider.pk)).exists()
    sign_in = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/accounts/saml/corp/login/"' in sign_in and "Sign in with Corp" in sign_in

    # a metadata file replaces the stored one; the identifier stays
    upload = saml_idp.metadata().encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        f"/agent/identity/saml/{provider.pk}/",
        {**form, "slug": "changed", "name": "Corp", "metadata_file": SimpleUploadedFile("idp.xml", upload)},
    )
    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.name, provider.slug, provider.config["idp_metadata_url"]) == ("Corp", "corp", "")

    client.post(f"/agent/identity/saml/{provider.pk}/delete/")
    assert not Provider.objects.exists()
    assert AuditEvent.objects.filter(action="identity.provider_deleted").exists()
