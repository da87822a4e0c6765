"""The form of the OpenID Connect provider pages: parsing only; the rules are the provider
services' (``identity.oidc.manage``) and the kind's ``clean_config``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.identity.models import Provider
from palier.identity.oidc import options
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.people.models import User

CONFIG_FIELDS = (
    "issuer", "client_id", "scopes", "token_endpoint_auth_method", "claim_email", "claim_email_verified",
    "claim_name", "claim_language", "claim_groups", "mfa_amr_values", "mfa_acr_values",
)  # fmt: skip


def _pairs(text: str, *, many: bool) -> dict[str, Any]:
    """``group = value`` lines as a table; ``many``: the value is a comma-separated list."""
    table: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise forms.ValidationError(_("Line %(n)d: write group = value.") % {"n": number})
        table[key.strip()] = [v.strip() for v in value.split(",") if v.strip()] if many else value.strip()
    return table


def _lines(table: dict[str, Any]) -> str:
    return "\n".join(f"{k} = {', '.join(v) if isinstance(v, list) else v}" for k, v in (table or {}).items())


class OidcProviderForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Identifier"), max_length=50, help_text=_("In the sign-in addresses: /accounts/oidc/<identifier>/.")
    )
    label_en = forms.CharField(label=_("Button label (English)"), max_length=100, required=False)
    label_fr = forms.CharField(label=_("Button label (French)"), max_length=100, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, initial=0)
    issuer = forms.CharField(
        label=_("Issuer"), max_length=500,
        help_text=_("Its metadata is read from <issuer>/.well-known/openid-configuration."),
    )  # fmt: skip
    client_id = forms.CharField(label=_("Client id"), max_length=255)
    client_secret = forms.CharField(
        label=_("Client secret"), required=False, max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted, never shown again. Leave empty to keep the current one."),
    )  # fmt: skip
    client_secret_env = forms.CharField(
        label=_("Client secret environment variable"), max_length=100, required=False,
        help_text=_("Instead of storing the secret: the variable that holds it (name starting with PALIER_SECRET_)."),
    )  # fmt: skip
    scopes = forms.CharField(label=_("Scopes"), max_length=500, initial=options.DEFAULTS["scopes"])
    token_endpoint_auth_method = forms.ChoiceField(
        label=_("Client authentication"), choices=[(m, m) for m in options.AUTH_METHODS]
    )
    claim_email = forms.CharField(label=_("Email claim"), max_length=100, initial="email")
    claim_email_verified = forms.CharField(
        label=_("Email verified claim"), max_length=100, required=False, initial="email_verified",
        help_text=_("Empty: the provider's addresses are never taken as verified."),
    )  # fmt: skip
    claim_name = forms.CharField(label=_("Name claim"), max_length=100, required=False, initial="name")
    claim_language = forms.CharField(label=_("Language claim"), max_length=100, required=False, initial="locale")
    claim_groups = forms.CharField(
        label=_("Groups claim"), max_length=100, required=False, initial="groups",
        help_text=_("Ask the provider to send it (Entra ID: groups or roles claim; Keycloak: a group mapper)."),
    )  # fmt: skip
    mfa_amr_values = forms.CharField(
        label=_("amr values meaning a second factor"), max_length=500, required=False, initial="mfa"
    )
    mfa_acr_values = forms.CharField(label=_("acr values meaning a second factor"), max_length=500, required=False)
    satisfies_mfa = forms.BooleanField(
        label=_("The provider's second factor counts as Palier's"), required=False,
        help_text=_("When its answer says a second factor was checked (amr/acr), Palier does not ask again."),
    )  # fmt: skip
    create_accounts = forms.BooleanField(label=_("Create accounts on first sign-in"), required=False, initial=True)
    default_role = forms.ChoiceField(label=_("Role of new accounts"), choices=User.Role.choices)
    default_organisation = forms.ModelChoiceField(
        label=_("Organisation of new accounts"), queryset=people_selectors.organisations_by_name(), required=False,
        help_text=_("When no organisation's email domain matches the address."),
    )  # fmt: skip
    organisation_by_domain = forms.BooleanField(
        label=_("Organisation from the email domain"), required=False, initial=True
    )
    link_verified_email = forms.BooleanField(
        label=_("Link existing accounts by verified email"), required=False,
        help_text=_("Off: a first sign-in with the address of an existing account is refused."),
    )  # fmt: skip
    sync_groups = forms.BooleanField(label=_("Map the provider's groups at every sign-in"), required=False)
    role_map = forms.CharField(
        label=_("Groups to roles"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: group = requester, agent, manager or admin. The highest role wins."),
    )  # fmt: skip
    group_map = forms.CharField(
        label=_("Groups to support groups"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: group = support group, other support group."),
    )  # fmt: skip

    def clean_role_map(self) -> dict[str, Any]:
        table = _pairs(self.cleaned_data.get("role_map") or "", many=False)
        bad = [v for v in table.values() if v not in User.Role.values]
        if bad:
            raise forms.ValidationError(_("Unknown role: %(role)s.") % {"role": bad[0]})
        return table

    def clean_group_map(self) -> dict[str, Any]:
        return _pairs(self.cleaned_data.get("group_map") or "", many=True)

    @staticmethod
    def initial_for(provider: Provider) -> dict[str, Any]:
        config = {**options.DEFAULTS, **(provider.config or {})}
        initial = {name: config[name] for name in CONFIG_FIELDS}
        initial["mfa_amr_values"] = " ".join(config["mfa_amr_values"])
        initial["mfa_acr_values"] = " ".join(config["mfa_acr_values"])
        for name in ("name", "slug", "label_en", "label_fr", "position", "satisfies_mfa", "create_accounts",
                     "default_role", "organisation_by_domain", "link_verified_email", "sync_groups"):  # fmt: skip
            initial[name] = getattr(provider, name)
        initial["default_organisation"] = provider.default_organisation_id
        initial["client_secret_env"] = provider.secret_env
        initial["role_map"] = _lines(provider.role_map)
        initial["group_map"] = _lines(provider.group_map)
        return initial

    def __init__(self, *args: Any, stored_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if stored_secret:
            self.fields["client_secret"].widget.attrs["placeholder"] = "•••••••• " + str(_("(stored)"))

    def to_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        config = {name: data.pop(name) for name in CONFIG_FIELDS}
        return {**data, "config": config}
