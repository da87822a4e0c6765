"""The import form: what the file holds, how to write it, and the file."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.assets.importing import MAX_BYTES


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("The file holds"),
        choices=[("assets", _("assets")), ("locations", _("locations")), ("licences", _("licences"))],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    mode = forms.ChoiceField(
        label=_("When a row is wrong"),
        choices=[
            ("all-or-nothing", _("import nothing (all or nothing)")),
            ("per-row", _("import the good rows, report the others")),
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("10 MB and 50,000 rows at most. The columns are described in the documentation (docs/assets.md)."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.txt,.xlsx"}),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        return bytes(upload.read())
