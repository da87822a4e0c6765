"""The survey answer form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.surveys.services import MAX_COMMENT

SCORE_LABELS = [
    (1, _("1 — Very dissatisfied")),
    (2, _("2 — Dissatisfied")),
    (3, _("3 — Neither satisfied nor dissatisfied")),
    (4, _("4 — Satisfied")),
    (5, _("5 — Very satisfied")),
]


class AnswerForm(StyledForm):
    score = forms.TypedChoiceField(label=_("Your rating"), choices=SCORE_LABELS, coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Anything to add? (optional)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=MAX_COMMENT,
    )
