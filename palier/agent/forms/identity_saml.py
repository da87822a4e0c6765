"""The form of a SAML identity provider (administration)."""

from __future__ import annotations

import importlib
import json
from types import ModuleType
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from palier.identity.models import Provider
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.people.models import User

# pysaml2 takes half a second to import: loaded on the first SAML request, not with the URLs
saml = cast(ModuleType, SimpleLazyObject(lambda: importlib.import_module("palier.identity.saml")))

_ATTRIBUTE_HELP = _("Leave empty to use the usual names (Microsoft Entra ID's claims, then the standard OIDs).")


class SamlProviderForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Identifier"),
        max_length=50,
        help_text=_("In the addresses you give the identity provider; it cannot change later."),
    )
    label_en = forms.CharField(label=_("Button label (English)"), max_length=100, required=False)
    label_fr = forms.CharField(label=_("Button label (French)"), max_length=100, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, initial=0)
    metadata_url = forms.URLField(
        label=_("Metadata address of the identity provider"),
        required=False,
        max_length=1024,
        assume_scheme="https",
        help_text=_("Downloaded and stored when you save (again at every save while it is set)."),
    )
    metadata_file = forms.FileField(
        label=_("Or the metadata file (XML)"),
        required=False,
        help_text=_("Replaces the stored metadata."),
    )
    idp_entity_id = forms.CharField(
        label=_("Identity provider entity id"),
        required=False,
        max_length=1024,
        help_text=_("Only when the metadata describes several identity providers."),
    )
    sp_entity_id = forms.CharField(
        label=_("Palier's entity id"),
        required=False,
        max_length=1024,
        help_text=_("Leave empty to use the metadata address (Entra ID: the Identifier you typed there)."),
    )
    nameid_format = forms.ChoiceField(
        label=_("NameID format"),
        choices=[
            ("persistent", _("persistent (recommended)")),
            ("email", _("email address")),
            ("unspecified", _("unspecified")),
        ],
    )
    email_attribute = forms.CharField(label=_("Email attribute"), required=False, help_text=_ATTRIBUTE_HELP)
    name_attribute = forms.CharField(label=_("Name attribute"), required=False)
    language_attribute = forms.CharField(label=_("Language attribute"), required=False)
    groups_attribute = forms.CharField(label=_("Groups attribute"), required=False)
    email_verified = forms.BooleanField(
        label=_("The identity provider vouches for email addresses"),
        required=False,
        help_text=_("Needed to link existing accounts by email. Only when people cannot change their address there."),
    )
    sign_requests = forms.BooleanField(label=_("Sign the authentication requests"), required=False)
    create_accounts = forms.BooleanField(label=_("Create accounts on first sign-in"), required=False, initial=True)
    default_role = forms.ChoiceField(label=_("Role of new accounts"), choices=User.Role.choices)
    default_organisation = forms.ModelChoiceField(
        label=_("Organisation of new accounts"), queryset=people_selectors.organisations_by_name(), required=False
    )
    organisation_by_domain = forms.BooleanField(
        label=_("Organisation from the email domain"), required=False, initial=True
    )
    link_verified_email = forms.BooleanField(label=_("Link existing accounts by verified email"), required=False)
    sync_groups = forms.BooleanField(label=_("Map the provider's groups"), required=False)
    role_map = forms.CharField(
        label=_("Groups to roles (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_('For example {"it-staff": "agent", "it-admins": "admin"}.'),
    )
    group_map = forms.CharField(
        label=_("Groups to support groups (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_('For example {"it-network": ["Network"]}.'),
    )
    satisfies_mfa = forms.BooleanField(
        label=_("The provider's multi-factor sign-in counts as the second factor"), required=False
    )

    def __init__(self, *args: Any, provider: Provider | None = None, **kwargs: Any) -> None:
        self.provider = provider
        if provider is not None and "initial" not in kwargs:
            config = provider.config or {}
            kwargs["initial"] = {
                **{name: getattr(provider, name) for name in saml.PROVIDER_FIELDS},
                **{key: config.get(key, default) for key, default in saml.CONFIG_KEYS.items()},
                "metadata_url": config.get("idp_metadata_url", ""),
                "role_map": json.dumps(provider.role_map or {}),
                "group_map": json.dumps(provider.group_map or {}),
            }
        super().__init__(*args, **kwargs)
        if provider is not None:
            self.fields["slug"].disabled = True

    def _json(self, name: str) -> dict[str, Any]:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ValidationError(_("This is not valid JSON.")) from exc
        if not isinstance(value, dict):
            raise ValidationError(_("Give a JSON object."))
        return value

    def clean_role_map(self) -> dict[str, Any]:
        return self._json("role_map")

    def clean_group_map(self) -> dict[str, Any]:
        return self._json("group_map")

    def clean_metadata_file(self) -> str:
        upload = self.cleaned_data.get("metadata_file")
        if not upload:
            return ""
        if upload.size > saml.METADATA_MAX_BYTES:
            raise ValidationError(_("The metadata is larger than 2 MB."))
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ValidationError(_("The metadata is not UTF-8 text.")) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stored = (self.provider.config or {}).get("idp_metadata", "") if self.provider else ""
        if not (data.get("metadata_file") or data.get("metadata_url") or stored):
            self.add_error("metadata_url", _("Give the metadata address or its file."))
        return data

    def to_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        stored = (self.provider.config or {}).get("idp_metadata", "") if self.provider else ""
        url = data["metadata_url"]
        # a new file wins; a metadata address is downloaded again; otherwise the stored XML stays
        metadata = data["metadata_file"] or ("" if url else stored)
        config = {key: data[key] for key in saml.CONFIG_KEYS if key in data}
        config.update(idp_metadata=metadata, idp_metadata_url=url)
        fields = {name: data[name] for name in saml.PROVIDER_FIELDS}
        return {"config": config, **fields}
