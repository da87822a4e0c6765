"""Forms of the routing ticket actions that ``routing_tags`` builds for the agent ticket page (escalate,
vendor reference). They parse and label; the services check what needs the database."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.people.models import SupportGroup

AUTO_UP = "up"
AUTO_DOWN = "down"


class EscalateForm(StyledForm):
    target = forms.ChoiceField(label=_("Send to"))
    reason = forms.CharField(
        label=_("Why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required: the next group reads it first (kept as an internal note)."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, groups: list[SupportGroup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = {str(group.pk): group for group in groups}
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = [
            (AUTO_UP, _("Next level (automatic)")),
            (AUTO_DOWN, _("Previous level (automatic)")),
            (_("Or choose a group"), [(pk, str(group)) for pk, group in self.groups.items()]),
        ]

    def target_group(self) -> SupportGroup | None:
        return self.groups.get(self.cleaned_data["target"])


class VendorReferenceForm(StyledForm):
    reference = forms.CharField(label=_("Vendor's reference"), max_length=100, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
