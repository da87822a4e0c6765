"""An OpenID Connect provider's own settings (``Provider.config``): what the admin page and the
configuration file may set, their defaults, and the mapping from ID token and userinfo claims to
Palier's ``Claims``. No network here."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from palier.identity.models import Provider
from palier.identity.provisioning import Claims

AUTH_METHODS = ("client_secret_basic", "client_secret_post")

DEFAULTS: dict[str, Any] = {
    "issuer": "",
    "client_id": "",
    "scopes": "openid email profile",
    "token_endpoint_auth_method": "client_secret_basic",
    "claim_email": "email",
    "claim_email_verified": "email_verified",
    "claim_name": "name",
    "claim_language": "locale",
    "claim_groups": "groups",
    # the ID token's ``amr`` values (RFC 8176) or ``acr`` values that mean a second factor was checked
    "mfa_amr_values": ["mfa"],
    "mfa_acr_values": [],
}
CLAIM_KEYS = ("claim_email", "claim_email_verified", "claim_name", "claim_language", "claim_groups")


def option(provider: Provider, key: str) -> Any:
    return provider.setting(key, DEFAULTS[key])


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _clean_issuer(value: object) -> str:
    issuer = str(value or "").strip()
    if not issuer:
        raise ValidationError({"issuer": _("Enter the provider's issuer address.")})
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ValidationError({"issuer": _("Enter the issuer as an address such as https://login.example.com/realm.")})
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValidationError({"issuer": _("The issuer must use https:// (http:// only on this machine, for tests).")})
    return issuer


def _clean_list(key: str, value: object) -> list[str]:
    items = value.split() if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in items):
        raise ValidationError({key: _("Enter a list of words.")})
    return [v.strip() for v in items if v.strip()]


def clean_config(config: dict[str, Any]) -> dict[str, Any]:
    """The OpenID Connect settings checked and completed with the defaults, or
    ``ValidationError({field: message})``. No secret may be in here (``Provider.secret`` /
    ``secret_env`` hold the client secret)."""
    if not isinstance(config, dict):
        raise ValidationError({"config": _("The settings must be a table of names and values.")})
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValidationError(
            {"config": _("Unknown settings: %(names)s.") % {"names": ", ".join(unknown)}}
            if "client_secret" not in unknown
            else {"client_secret": _("The client secret is never a setting: give the name of its variable.")}
        )
    cleaned = {**DEFAULTS, **config}
    cleaned["issuer"] = _clean_issuer(cleaned["issuer"])
    client_id = str(cleaned["client_id"] or "").strip()
    if not client_id or len(client_id) > 255:
        raise ValidationError({"client_id": _("Enter the client id the provider gave for Palier.")})
    cleaned["client_id"] = client_id
    scopes = _clean_list("scopes", cleaned["scopes"])
    if "openid" not in scopes:
        raise ValidationError({"scopes": _("The scopes must include openid.")})
    cleaned["scopes"] = " ".join(dict.fromkeys(scopes))
    if cleaned["token_endpoint_auth_method"] not in AUTH_METHODS:
        raise ValidationError(
            {"token_endpoint_auth_method": _("Choose one of: %(names)s.") % {"names": ", ".join(AUTH_METHODS)}}
        )
    for key in CLAIM_KEYS:
        name = str(cleaned[key] or "").strip()
        if len(name) > 100 or (key == "claim_email" and not name):
            raise ValidationError({key: _("Enter a claim name (up to 100 characters).")})
        cleaned[key] = name
    cleaned["mfa_amr_values"] = _clean_list("mfa_amr_values", cleaned["mfa_amr_values"])
    cleaned["mfa_acr_values"] = _clean_list("mfa_acr_values", cleaned["mfa_acr_values"])
    return cleaned


def redirect_uri(provider: Provider) -> str:
    """The address to register at the provider (from ``PALIER_BASE_URL``, never the request's Host)."""
    return f"{settings.PALIER_BASE_URL}/accounts/oidc/{provider.slug}/callback/"


def after_sign_out_uri() -> str:
    return f"{settings.PALIER_BASE_URL}/accounts/login/"


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _groups(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int))[:500]
    return ()


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def claims_from(provider: Provider, id_token: dict[str, Any], userinfo: dict[str, Any]) -> Claims:
    """Palier's claims from the ID token, completed by the userinfo answer (the ID token wins)."""
    data = {**userinfo, **id_token}
    name = _text(data.get(option(provider, "claim_name")))
    if not name:
        name = " ".join(p for p in (_text(data.get("given_name")), _text(data.get("family_name"))) if p)
    raw_amr = id_token.get("amr")
    amr: list[Any] = raw_amr if isinstance(raw_amr, list) else []
    mfa = bool(set(map(str, amr)) & set(option(provider, "mfa_amr_values"))) or (
        _text(id_token.get("acr")) in set(option(provider, "mfa_acr_values"))
    )
    verified_claim = option(provider, "claim_email_verified")
    return Claims(
        subject=_text(id_token.get("sub")),
        email=_text(data.get(option(provider, "claim_email")))[:254],
        email_verified=bool(verified_claim) and _truthy(data.get(verified_claim)),
        full_name=name[:200],
        language=_text(data.get(option(provider, "claim_language"))),
        groups=_groups(data.get(option(provider, "claim_groups"))) if option(provider, "claim_groups") else (),
        mfa=mfa,
    )


def needs_userinfo(provider: Provider, id_token: dict[str, Any]) -> bool:
    """Whether a claim Palier maps is missing from the ID token (many providers put them in
    userinfo only)."""
    wanted = [option(provider, key) for key in ("claim_email", "claim_name", "claim_groups")]
    return any(name and name not in id_token for name in wanted)
