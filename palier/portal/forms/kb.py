"""Forms of the knowledge-base reader."""

from __future__ import annotations

from django import forms


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    category = forms.SlugField(required=False)
