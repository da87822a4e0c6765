""" "Test this provider": each step a sign-in needs, checked now with the saved settings, and
what to fix in plain words when one fails."""

from __future__ import annotations

from django.utils.translation import gettext as _

from palier.identity.kinds import Check
from palier.identity.models import Provider
from palier.identity.oidc import discovery, flow, options
from palier.mail import secrets as stored_secrets


def _secret_check(provider: Provider) -> Check:
    name = _("Client secret")
    try:
        secret = flow.client_secret(provider)
    except stored_secrets.SecretError as exc:
        return Check(name, False, str(exc))
    if not secret:
        return Check(name, False, _("No client secret is saved: enter the one the provider gave for Palier."))
    where = provider.secret_env or _("stored encrypted")
    return Check(name, True, _("Present (%(where)s).") % {"where": where})


def _clock_check(skew: float | None) -> Check:
    name = _("Clock")
    if skew is None:
        return Check(name, True, _("The provider sent no date: the clocks could not be compared."))
    seconds = round(skew)
    if abs(seconds) <= flow.LEEWAY_SECONDS:
        return Check(
            name, True, _("The clocks agree within the %(limit)d seconds allowed.") % {"limit": flow.LEEWAY_SECONDS}
        )
    message = (
        _("The provider's clock is %(n)d seconds ahead of this server's.")
        if seconds > 0
        else _("The provider's clock is %(n)d seconds behind this server's.")
    )
    return Check(
        name,
        False,
        str(message % {"n": abs(seconds)})
        + " "
        + str(
            _("Sign-ins fail beyond %(limit)d seconds: synchronise this server's clock (NTP).")
            % {"limit": flow.LEEWAY_SECONDS}
        ),
    )


def _flow_check(document: dict[str, object]) -> Check:
    name = _("Authorization code flow")
    response_types = document.get("response_types_supported") or ["code"]
    methods = document.get("code_challenge_methods_supported")
    if isinstance(response_types, list) and "code" not in response_types:
        return Check(name, False, _("The provider does not offer the authorization code flow."))
    if isinstance(methods, list) and "S256" not in methods:
        return Check(name, False, _("The provider does not offer PKCE with S256, which Palier requires."))
    return Check(name, True, _("Offered, with PKCE."))


def _claims_check(provider: Provider, document: dict[str, object]) -> Check:
    """The mapped claims against the ones the provider lists (many list only some of what they
    can send: only a missing email claim fails)."""
    name = _("Claims")
    listed = document.get("claims_supported")
    if not isinstance(listed, list):
        return Check(name, True, _("The provider does not list its claims: a sign-in will tell."))
    email = options.option(provider, "claim_email")
    if email not in listed:
        return Check(
            name,
            False,
            _("The provider does not send the %(claim)s claim, and Palier needs an email address: ask for it or "
              "change the email claim.") % {"claim": email},
        )  # fmt: skip
    keys = ("claim_email_verified", "claim_name", "claim_language", "claim_groups")
    unlisted = [options.option(provider, k) for k in keys if options.option(provider, k) not in ("", *listed)]
    if unlisted:
        return Check(
            name,
            True,
            _("Not listed by the provider: %(names)s. Make sure it sends them (a mapper, an optional claim).")
            % {"names": ", ".join(unlisted)},
        )
    return Check(name, True, _("Every mapped claim is offered."))


def test_provider(provider: Provider) -> list[Check]:
    """Discovery, issuer, endpoints, signing keys, clock and secret, in that order; stops at the
    first step the next ones depend on."""
    issuer = options.option(provider, "issuer")
    checks: list[Check] = []
    try:
        fetched = discovery.fetch_metadata(issuer)
    except discovery.ProviderUnavailable as exc:
        return [Check(_("Discovery"), False, str(exc)), _secret_check(provider)]
    document = fetched.document
    checks.append(Check(_("Discovery"), True, discovery.discovery_url(issuer)))
    checks.append(Check(_("Issuer"), True, str(document["issuer"])))
    checks.append(_flow_check(document))
    checks.append(_claims_check(provider, document))
    try:
        keys = discovery.fetch_keys(str(document["jwks_uri"]))
        checks.append(Check(_("Signing keys"), True, _("%(n)d published.") % {"n": len(keys.keys)}))
    except discovery.ProviderUnavailable as exc:
        checks.append(Check(_("Signing keys"), False, str(exc)))
    checks.append(_clock_check(fetched.skew_seconds))
    scopes = document.get("scopes_supported")
    missing = [s for s in options.option(provider, "scopes").split() if isinstance(scopes, list) and s not in scopes]
    if missing:
        checks.append(
            Check(
                _("Scopes"),
                False,
                _("The provider does not list these scopes: %(names)s.") % {"names": " ".join(missing)},
            )
        )
    checks.append(_secret_check(provider))
    checks.append(
        Check(_("Redirect URI"), True, _("Register %(uri)s at the provider.") % {"uri": options.redirect_uri(provider)})
    )
    return checks
