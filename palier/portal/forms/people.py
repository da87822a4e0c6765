"""Forms of the people pages: sign-in by email, language choice and personal API tokens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from palier.identity import passwords
from palier.identity import selectors as identity_selectors
from palier.lib.web import StyledForm, StyledFormMixin
from palier.people.models import ApiToken, User


class EmailAuthenticationForm(StyledFormMixin, AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def get_invalid_login_error(self) -> ValidationError:
        if passwords.refused_by_policy(self.request):  # the right password, but this account uses SSO
            return ValidationError(passwords.refusal_message(), code="password_sign_in_off")
        return super().get_invalid_login_error()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if identity_selectors.directory_sign_in_enabled():  # directory people may type their directory login
            self.fields["username"] = forms.CharField(
                label=_("Email address or directory login"),
                max_length=254,
                widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True, "class": "form-control"}),
            )


class LanguageForm(StyledForm):
    language = forms.ChoiceField(label=_("Language"), choices=User.Language.choices)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class TokenForm(StyledForm):
    name = forms.CharField(
        label=_("Name"), max_length=100, required=False, help_text=_("What the token is for, e.g. “backup script”.")
    )
    scope = forms.ChoiceField(label=_("Access"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    days = forms.IntegerField(
        label=_("Days before it expires"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("Leave empty for the desk's default."),
    )
