"""The search form of the audit log page (administrators)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.audit.selectors import AuditFilters
from palier.lib.web import StyledForm


class AuditFilterForm(StyledForm):
    actor = forms.CharField(label=_("Who"), max_length=254, required=False, help_text=_("Part of an email address."))
    action = forms.CharField(
        label=_("Action"),
        max_length=64,
        required=False,
        help_text=_("An action, or its first part: “auth”."),
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def to_filters(self) -> AuditFilters:
        """The filters of a valid form; an invalid field is ignored (the page says why)."""
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilters(
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            since=data.get("since"),
            until=data.get("until"),
        )

    def cursor(self) -> int | None:
        return self.cleaned_data.get("before") if self.is_valid() else None
