"""Forms of the integrations administration pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.integrations.models import AlertSource, ChatApp
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.tickets import selectors as ticket_selectors


class AlertSourceForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=AlertSource.Kind.choices)
    user = forms.ModelChoiceField(
        label=_("Service account"),
        queryset=people_selectors.staff(),
        help_text=_("Requester of the incidents and author of their notes (an agent account)."),
    )
    group = forms.ModelChoiceField(label=_("Group"), queryset=people_selectors.support_groups(), required=False)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ticket_selectors.active_categories(), required=False
    )
    category_rules = forms.CharField(
        label=_("Label to category rules"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One rule a line: label=value category-slug, for example “service=mail email”."),
    )
    auto_resolve = forms.BooleanField(label=_("Resolve the incident when the alert is resolved"), required=False)

    def clean_category_rules(self) -> list[dict[str, str]]:
        rules = []
        for line in self.cleaned_data["category_rules"].splitlines():
            if not line.strip():
                continue
            match, _sp, slug = line.strip().rpartition(" ")
            label, eq, value = match.strip().partition("=")
            if not (eq and label.strip() and value.strip() and slug):
                raise forms.ValidationError(_("Write each rule as label=value category-slug."))
            rules.append({"label": label.strip(), "value": value.strip(), "category": slug})
        return rules


class ChatAppForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ChatApp.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    slug = forms.SlugField(
        label=_("Address"), max_length=50, help_text=_("Last part of the endpoint address, for example “it-desk”.")
    )
    secret_env = forms.CharField(
        label=_("Secret variable"),
        max_length=100,
        help_text=_("Environment variable holding the Slack signing secret or the Teams security token."),
    )
    bot_token_env = forms.CharField(
        label=_("Bot token variable"),
        max_length=100,
        required=False,
        help_text=_("Slack only, optional: environment variable holding the bot token, to send approval requests."),
    )
    bot_app_id = forms.CharField(
        label=_("Bot application id"),
        max_length=64,
        required=False,
        help_text=_(
            "Teams bot only: the application (client) id registered in Microsoft Entra ID; the secret "
            "variable then holds its client secret (docs/teams.md)."
        ),
    )
    notify_url = forms.URLField(
        label=_("Channel notification URL"), required=False, max_length=500, assume_scheme="https"
    )
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=people_selectors.support_groups(),
        required=False,
        help_text=_("Tickets opened from this app go to this group; only its new tickets are announced."),
    )


class IdentityForm(StyledForm):
    kind = forms.ChoiceField(label=_("Chat"), choices=ChatApp.Kind.choices)
    external_id = forms.CharField(
        label=_("Chat user id"),
        max_length=100,
        help_text=_("Slack member id (U…) or Teams Azure AD object id."),
    )
    email = forms.EmailField(label=_("Palier account email"))
