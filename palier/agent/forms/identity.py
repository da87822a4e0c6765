"""Forms of the sign-in and identity administration: the sign-in policy, an administrator setting a
person's password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.identity.models import SignInPolicy
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.people.models import User


class PolicyForm(StyledForm):
    password_roles = forms.MultipleChoiceField(
        label=_("Roles that may sign in with a password"),
        choices=User.Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The others sign in through single sign-on or the directory only."),
    )
    password_off_organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations that sign in without passwords"),
        queryset=people_selectors.organisations_by_name(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Their members must use single sign-on, whatever their role."),
    )
    session_hours = forms.IntegerField(label=_("Session lifetime (hours)"), min_value=1, max_value=24 * 365)
    idle_minutes = forms.IntegerField(
        label=_("Sign out after this many idle minutes"), min_value=0, max_value=60 * 24 * 30, help_text=_("0: never.")
    )
    mfa_required_roles = forms.MultipleChoiceField(
        label=_("Roles that must use a second factor"),
        choices=User.Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    mfa_grace_days = forms.IntegerField(label=_("Days to set up a second factor"), min_value=0, max_value=365)
    mfa_remember_days = forms.IntegerField(
        label=_("Days a browser may skip the second factor"),
        min_value=0,
        max_value=365,
        help_text=_("0: ask at every sign-in."),
    )

    @staticmethod
    def initial_from(rules: SignInPolicy, off: list[Any]) -> dict[str, Any]:
        return {
            "password_roles": rules.password_roles,
            "password_off_organisations": off,
            "session_hours": rules.session_hours,
            "idle_minutes": rules.idle_minutes,
            "mfa_required_roles": rules.mfa_required_roles,
            "mfa_grace_days": rules.mfa_grace_days,
            "mfa_remember_days": rules.mfa_remember_days,
        }

    def to_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["password_off_organisations"] = list(data["password_off_organisations"])
        return data


class AdminPasswordForm(StyledForm):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
