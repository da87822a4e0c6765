"""Security keys and passkeys (WebAuthn) as a second factor, through py_webauthn (Duo's library).

The pages pass the relying party (the host name the browser sees, without port) and the
expected origin; the challenge of each ceremony is kept in the session by the page and used once.
Attestation is not asked for (``none``): any authenticator the person holds is accepted, as for
authenticator apps. User verification (a PIN) is not required: the key is the second factor.
"""

from __future__ import annotations

import hashlib
from typing import Any

import webauthn
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from webauthn.helpers import exceptions as webauthn_errors
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from palier.audit import services as audit
from palier.identity.mfa import services
from palier.identity.mfa.models import RecoveryCode, SecurityKey
from palier.lib.errors import Conflict, DomainError
from palier.people.models import User

MAX_KEYS = 10
# whatever a malformed or forged answer makes the library raise
_BAD_ANSWER = (webauthn_errors.WebAuthnException, ValueError, TypeError, KeyError)


def _digest(credential_id: bytes) -> str:
    return hashlib.sha256(credential_id).hexdigest()


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    found = []
    for key in SecurityKey.objects.filter(user=user):
        transports = []
        for value in key.transports or []:
            try:
                transports.append(AuthenticatorTransport(value))
            except ValueError:
                continue
        found.append(PublicKeyCredentialDescriptor(id=bytes(key.credential_id), transports=transports or None))
    return found


def registration_options(user: User, *, rp_id: str, rp_name: str) -> tuple[str, bytes]:
    """The options of ``navigator.credentials.create`` as JSON, and their challenge."""
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=f"palier-user-{user.pk}".encode(),
        user_name=user.email,
        user_display_name=user.display_name,
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.DISCOURAGED,
        ),
    )
    return webauthn.options_to_json(options), options.challenge


def register(
    user: User, *, name: str, credential: str | dict[str, Any], challenge: bytes, rp_id: str, origin: str
) -> tuple[SecurityKey, list[str]]:
    """Store a new key once its attestation checks out; returns it and new recovery codes when
    the person had none (shown once)."""
    name = (name or "").strip()[:100] or _("Security key")
    if not challenge:
        raise DomainError(_("The registration expired. Try again."))
    if SecurityKey.objects.filter(user=user).count() >= MAX_KEYS:
        raise Conflict(_("You have registered the most security keys allowed (%(count)d).") % {"count": MAX_KEYS})
    try:
        parsed = parse_registration_credential_json(credential)
        verified = webauthn.verify_registration_response(
            credential=parsed, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin
        )
    except _BAD_ANSWER as exc:
        raise DomainError(_("The security key could not be registered: %(reason)s") % {"reason": exc}) from exc
    transports = [str(t.value) for t in (parsed.response.transports or [])]
    try:
        with transaction.atomic():
            key = SecurityKey.objects.create(
                user=user,
                name=name,
                credential_id=verified.credential_id,
                credential_id_hash=_digest(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=transports,
            )
            services.bump(user)
            audit.record("auth.mfa_enrolled", actor=user, target=user, changes={"factor": [None, "key"]})
            fresh = (
                []
                if RecoveryCode.objects.filter(user=user, used_at__isnull=True).exists()
                else services.new_codes(user)
            )
    except IntegrityError as exc:
        raise Conflict(_("This security key is already registered.")) from exc
    return key, fresh


def authentication_options(user: User, *, rp_id: str) -> tuple[str, bytes]:
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, allow_credentials=_descriptors(user), user_verification=UserVerificationRequirement.DISCOURAGED
    )
    return webauthn.options_to_json(options), options.challenge


def authenticate(
    user: User, *, credential: str | dict[str, Any], challenge: bytes, rp_id: str, origin: str
) -> SecurityKey:
    """Open the second step with one of the person's keys; a wrong answer counts as a failed code."""
    services.check_lock(user)
    try:
        parsed = parse_authentication_credential_json(credential)
    except _BAD_ANSWER:
        services.failed(user, method="key")
    key = SecurityKey.objects.filter(user=user, credential_id_hash=_digest(parsed.raw_id)).first()
    if key is None or not challenge:
        services.failed(user, method="key")
    try:
        verified = webauthn.verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(key.public_key),
            credential_current_sign_count=key.sign_count,
        )
    except _BAD_ANSWER:
        services.failed(user, method="key")
    # a counter that does not grow (when the key keeps one) is a cloned key: py_webauthn refuses it
    SecurityKey.objects.filter(pk=key.pk).update(sign_count=verified.new_sign_count, last_used_at=timezone.now())
    services.passed_with_key(user)
    return key


def remove(user: User, key_id: int, *, by: User) -> None:
    services.may_change(user, by)
    with transaction.atomic():
        key = SecurityKey.objects.select_for_update().filter(user=user, pk=key_id).first()
        if key is None:
            return
        services.keep_one(user, removing="key", key_id=key.pk)
        key.delete()
        services.after_removal(user, by=by, factor="key")
