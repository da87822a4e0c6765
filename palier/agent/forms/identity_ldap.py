"""The form of the LDAP / Active Directory admin pages: parsing only; the rules live in
``identity.ldap.clean_config`` and ``identity.ldap_admin``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from palier.identity import ldap
from palier.identity.models import Provider
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.people.models import User

# the config keys that are form fields of the same name
CONFIG_FIELDS = (
    "url",
    "start_tls",
    "ca_certificate",
    "bind_dn",
    "base_dn",
    "user_filter",
    "sync_filter",
    "fallback",
    "timeout",
    "page_size",
    "max_shrink_percent",
    "create_organisations",
    "sync",
)
PROVIDER_FIELDS = (
    "name",
    "slug",
    "enabled",
    "position",
    "create_accounts",
    "default_role",
    "default_organisation",
    "organisation_by_domain",
    "link_verified_email",
    "sync_groups",
)


def _lines(text: str) -> dict[str, str]:
    """``left = right`` lines as a dict; a line without ``=`` is refused."""
    pairs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        left, sep, right = line.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise ValidationError(_("Line %(number)d: write “name = value”.") % {"number": number})
        pairs[left.strip()] = right.strip()
    return pairs


class LdapProviderForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Identifier"), max_length=50, help_text=_("Letters, digits and dashes, e.g. “corp-ad”.")
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    url = forms.CharField(
        label=_("Directory address"), max_length=300,
        help_text=_("ldaps://dc1.example.com:636 (encrypted), or ldap://…:389 with StartTLS."),
    )  # fmt: skip
    start_tls = forms.BooleanField(label=_("StartTLS"), required=False)
    ca_certificate = forms.CharField(
        label=_("CA certificate (PEM)"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The certificate of the authority that signed the directory's certificate, when it is not a public one."),
    )  # fmt: skip
    bind_dn = forms.CharField(
        label=_("Service account"), max_length=500, required=False,
        help_text=_("Its distinguished name or user@domain, e.g. CN=svc-palier,OU=Service,DC=example,DC=com."),
    )  # fmt: skip
    bind_password = forms.CharField(
        label=_("Service account password"), required=False, max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted, never shown again. Leave empty to keep the current one."),
    )  # fmt: skip
    secret_env = forms.CharField(
        label=_("Password environment variable"), max_length=100, required=False,
        help_text=_("Instead of storing the password: a variable whose name starts with PALIER_SECRET_."),
    )  # fmt: skip
    base_dn = forms.CharField(label=_("Where people are (base DN)"), max_length=500)
    user_filter = forms.CharField(
        label=_("Sign-in filter"), max_length=1000, initial=ldap.DEFAULT_USER_FILTER,
        help_text=_("{login} is what the person typed (escaped)."),
    )  # fmt: skip
    sync_filter = forms.CharField(
        label=_("Sync filter"), max_length=1000, initial=ldap.DEFAULT_SYNC_FILTER,
        help_text=_("The people the sync creates and keeps; exclude disabled accounts here."),
    )  # fmt: skip
    attributes = forms.CharField(
        label=_("Attributes"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("“palier name = directory attribute” lines; names: %(names)s.")
        % {"names": ", ".join(ldap.DEFAULT_ATTRIBUTES)},
    )  # fmt: skip
    fallback = forms.ChoiceField(
        label=_("When the directory cannot be reached"),
        choices=[("local", _("its people may use their Palier password, if they have one")), ("refuse", _("refuse its people"))],
    )  # fmt: skip
    timeout = forms.IntegerField(label=_("Timeout (seconds)"), initial=5)
    page_size = forms.IntegerField(label=_("Page size of the sync's search"), initial=500)
    max_shrink_percent = forms.IntegerField(
        label=_("Most people a sync may deactivate at once (%)"), initial=10,
        help_text=_("Beyond it the sync changes nothing and reports it."),
    )  # fmt: skip
    sync = forms.BooleanField(label=_("Sync every hour"), required=False, initial=True)
    create_organisations = forms.BooleanField(
        label=_("Create the organisations and departments the directory names"), required=False, initial=True
    )
    create_accounts = forms.BooleanField(label=_("Create accounts"), required=False, initial=True)
    default_role = forms.ChoiceField(
        label=_("Role of new accounts"), choices=User.Role.choices, initial=User.Role.REQUESTER
    )
    default_organisation = forms.ModelChoiceField(
        label=_("Organisation of new accounts"), queryset=people_selectors.organisations_by_name(), required=False
    )
    organisation_by_domain = forms.BooleanField(
        label=_("Organisation from the email domain"), required=False, initial=True
    )
    link_verified_email = forms.BooleanField(label=_("Link existing accounts by email"), required=False)
    sync_groups = forms.BooleanField(
        label=_("Set roles and support groups from the directory's groups"), required=False
    )
    role_map = forms.CharField(
        label=_("Groups to roles"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("“group = role” lines (requester, agent, manager, admin); the group by its name or full DN."),
    )  # fmt: skip
    group_map = forms.CharField(
        label=_("Groups to support groups"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("“group = support group, other support group” lines."),
    )  # fmt: skip
    position = forms.IntegerField(label=_("Position"), initial=0, min_value=0)

    @staticmethod
    def initial_for(provider: Provider) -> dict[str, Any]:
        config = provider.config or {}
        initial: dict[str, Any] = {name: config.get(name) for name in CONFIG_FIELDS if name in config}
        initial.update({name: getattr(provider, name) for name in PROVIDER_FIELDS})
        initial["secret_env"] = provider.secret_env
        changed = {k: v for k, v in (config.get("attributes") or {}).items() if ldap.DEFAULT_ATTRIBUTES.get(k) != v}
        initial["attributes"] = "\n".join(f"{key} = {value}" for key, value in changed.items())
        initial["role_map"] = "\n".join(f"{key} = {value}" for key, value in (provider.role_map or {}).items())
        initial["group_map"] = "\n".join(
            f"{key} = {', '.join([value] if isinstance(value, str) else value)}"
            for key, value in (provider.group_map or {}).items()
        )
        return initial

    def clean_attributes(self) -> dict[str, str]:
        return _lines(self.cleaned_data["attributes"])

    def clean_role_map(self) -> dict[str, str]:
        return _lines(self.cleaned_data["role_map"])

    def clean_group_map(self) -> dict[str, list[str]]:
        return {
            group: [name.strip() for name in names.split(",") if name.strip()]
            for group, names in _lines(self.cleaned_data["group_map"]).items()
        }

    def to_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {name: data[name] for name in (*PROVIDER_FIELDS, "role_map", "group_map")}
        config = {name: data[name] for name in (*CONFIG_FIELDS, "attributes")}
        return {"fields": fields, "config": config, "secret": data["bind_password"], "secret_env": data["secret_env"]}
