"""Knowledge-base management forms: the article editor (both languages side by side), uploads,
categories."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.kb import selectors as kb_selectors
from palier.kb.models import Article, Language
from palier.kb.services import CategoryInput, TranslationInput
from palier.lib.uploads import file_input_attrs
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors

LANGUAGES = [Language.FR, Language.EN]


class ArticleForm(StyledForm):
    category = forms.ModelChoiceField(label=_("Category"), queryset=kb_selectors.all_categories(), required=False)
    visibility = forms.ChoiceField(label=_("Who can read it?"), choices=Article.Visibility.choices)
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations"),
        queryset=people_selectors.organisations_by_name(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only for articles restricted to some organisations."),
    )
    title_fr = forms.CharField(label=_("Title"), max_length=200, required=False)
    summary_fr = forms.CharField(label=_("Summary"), max_length=500, required=False)
    body_fr = forms.CharField(
        label=_("Text (Markdown)"), required=False, widget=forms.Textarea(attrs={"rows": 16}), max_length=200_000
    )
    title_en = forms.CharField(label=_("Title"), max_length=200, required=False)
    summary_en = forms.CharField(label=_("Summary"), max_length=500, required=False)
    body_en = forms.CharField(
        label=_("Text (Markdown)"), required=False, widget=forms.Textarea(attrs={"rows": 16}), max_length=200_000
    )
    ticket = forms.IntegerField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)  # the version being edited

    @classmethod
    def for_article(cls, article: Article, data: Any = None) -> ArticleForm:
        initial: dict[str, Any] = {
            "version": article.version,
            "category": article.category_id,
            "visibility": article.visibility,
            "organisations": [o.pk for o in article.organisations.all()],
        }
        for t in article.translations.all():
            initial.update(
                {f"title_{t.language}": t.title, f"summary_{t.language}": t.summary, f"body_{t.language}": t.body}
            )
        return cls(data, initial=initial)

    def translations(self) -> dict[str, TranslationInput]:
        data = self.cleaned_data
        return {
            lang: TranslationInput(
                title=data[f"title_{lang}"], summary=data[f"summary_{lang}"], body=data[f"body_{lang}"]
            )
            for lang in LANGUAGES
        }

    def language_fields(self) -> list[tuple[str, list[forms.BoundField]]]:
        """(language label, its bound fields) for the side-by-side editor."""
        return [
            (str(label), [self[f"{name}_{lang}"] for name in ("title", "summary", "body")])
            for lang, label in ((Language.FR, Language.FR.label), (Language.EN, Language.EN.label))
        ]


class FileForm(StyledForm):
    file = forms.FileField(label=_("Image or attachment"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update(file_input_attrs())


class CategoryForm(StyledForm):
    name_fr = forms.CharField(label=_("Name in French"), max_length=120)
    name_en = forms.CharField(label=_("Name in English"), max_length=120)
    slug = forms.CharField(
        label=_("Short name in addresses"),
        max_length=80,
        required=False,
        help_text=_("Lower-case letters, digits and hyphens; made from the English name when left empty."),
    )
    position = forms.IntegerField(
        label=_("Position"), min_value=0, max_value=32767, initial=0, help_text=_("Smaller numbers come first.")
    )

    def to_input(self) -> CategoryInput:
        data = self.cleaned_data
        return CategoryInput(
            name_fr=data["name_fr"], name_en=data["name_en"], slug=data["slug"], position=data["position"]
        )


STATUS_FILTERS = [("", _("All")), *Article.Status.choices]
