"""The administrators' Data export form: the whole desk or one organisation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm


class DataExportForm(StyledForm):
    organisation = forms.TypedChoiceField(label=_("What"), coerce=int, empty_value=None, required=False)
    internal = forms.BooleanField(
        label=_("Include internal notes, internal history and internal attachments"), required=False, initial=True
    )

    def __init__(self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("The whole desk")), *organisations]
