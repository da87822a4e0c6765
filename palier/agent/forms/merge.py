"""Forms of merging and splitting tickets (the ticket page's card and the queue's bulk row)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm

_REFERENCE = re.compile(r"[A-Za-z]+-\d+")


def references(text: str) -> list[str]:
    """``INC-12, REQ-7 inc-9`` → ["INC-12", "REQ-7", "INC-9"] (unique, in order)."""
    return list(dict.fromkeys(m.upper() for m in _REFERENCE.findall(text)))


class MergeForm(StyledForm):
    """On the ticket page: the tickets to merge into this one, by number."""

    tickets = forms.CharField(
        label=_("Merge into this ticket"),
        max_length=2000,
        help_text=_("Numbers of the duplicates, e.g. INC-1042, INC-1043"),
    )

    def clean_tickets(self) -> list[str]:
        found = references(self.cleaned_data["tickets"])
        if not found:
            raise forms.ValidationError(_("Give the numbers of the tickets to merge, e.g. INC-1042."))
        return found


class SelectionMergeForm(StyledForm):
    """On the queue: the selected tickets (checkboxes named ``tickets``) and the one they go into."""

    tickets = forms.TypedMultipleChoiceField(label=_("Selected tickets"), coerce=int)
    merge_into = forms.CharField(label=_("Merge the selection into"), max_length=40)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        self.fields["tickets"].choices = [(v, v) for v in ids if str(v).isdigit()]  # type: ignore[attr-defined]
        self.fields["tickets"].error_messages["required"] = _("Select at least one ticket.")
        self.fields["merge_into"].error_messages["required"] = _(
            "Give the number of the ticket to keep, e.g. INC-1042."
        )

    def clean_merge_into(self) -> str:
        found = references(self.cleaned_data["merge_into"])
        if len(found) != 1:
            raise forms.ValidationError(_("Give the number of the ticket to keep, e.g. INC-1042."))
        return found[0]


class SplitForm(StyledForm):
    """On the ticket page: the message to move out and the new ticket's subject."""

    comment = forms.TypedChoiceField(label=_("Message to move out"), coerce=int)
    subject = forms.CharField(label=_("Subject of the new ticket"), max_length=250, required=False)

    def __init__(self, *args: Any, comments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["comment"].choices = comments  # type: ignore[attr-defined]
