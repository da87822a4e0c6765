"""Forms of the major-incident pages. They only parse; the rules are in
``palier.problems.services.major``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm

TEXTAREA = {"rows": 3}


class DeclareForm(StyledForm):
    headline = forms.CharField(
        label=_("Headline"), max_length=200, help_text=_("What people affected read on the portal and by email.")
    )
    status_note = forms.CharField(label=_("First status note"), widget=forms.Textarea(attrs=TEXTAREA), required=False)


class UpdateForm(StyledForm):
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs=TEXTAREA), max_length=20_000)
    portal = forms.BooleanField(label=_("Show it as the portal's status note"), required=False, initial=True)
    email = forms.BooleanField(label=_("Email it to the subscribers"), required=False, initial=True)
    internal = forms.BooleanField(label=_("Internal note for the desk only"), required=False)


class AttachForm(StyledForm):
    reference = forms.CharField(label=_("Ticket reference"), max_length=40, help_text=_("For example INC-1042."))


class ResolveForm(StyledForm):
    message = forms.CharField(
        label=_("Final message"),
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=20_000,
        help_text=_("Shown on the portal and emailed to the subscribers."),
    )
    resolve_attached = forms.BooleanField(
        label=_("Also resolve the attached tickets with this message as a reply"), required=False
    )


class ReviewForm(StyledForm):
    review_summary = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs=TEXTAREA), required=False)
    review_impact = forms.CharField(label=_("Impact"), widget=forms.Textarea(attrs=TEXTAREA), required=False)
    review_root_cause = forms.CharField(label=_("Root cause"), widget=forms.Textarea(attrs=TEXTAREA), required=False)
    review_actions = forms.CharField(
        label=_("Follow-up actions"), widget=forms.Textarea(attrs=TEXTAREA), required=False
    )
    review_lessons = forms.CharField(label=_("Lessons learned"), widget=forms.Textarea(attrs=TEXTAREA), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
