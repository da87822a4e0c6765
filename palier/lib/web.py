"""Small helpers shared by the HTML interfaces (people, portal, agent). No domain rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import flatatt
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from palier.lib.errors import DomainError

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def _require(test: Callable[[Any], bool], *, admin_page: bool = False) -> Callable[[View], View]:
    """Anonymous users go to the login page; signed-in users who fail ``test`` get a 404.
    ``admin_page`` marks the view as an administration page: the API must have its counterpart
    (``palier/api/tests/test_admin_coverage.py``)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not test(request.user):
                raise Http404("page")
            return view(request, *args, **kwargs)

        wrapper.admin_page = admin_page  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


signed_in = _require(lambda user: True)
agent_required = _require(lambda user: user.is_agent)
admin_required = _require(lambda user: user.is_admin, admin_page=True)


# service field name -> form field name, where the pages name a field differently
FIELD_ALIASES = {"file": "attachments"}


def apply_errors(form: forms.Form, exc: ValidationError | DomainError) -> None:
    """Show a service error on the form: on its field when the form has one, else on top."""
    if isinstance(exc, DomainError):
        messages: dict[str, list[str]] = {exc.field or NON_FIELD_ERRORS: [exc.message]}
    elif hasattr(exc, "error_dict"):
        messages = {name: [str(m) for e in errors for m in e.messages] for name, errors in exc.error_dict.items()}
    else:
        messages = {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}
    for name, texts in messages.items():
        name = FIELD_ALIASES.get(name, name)
        target = name if name in form.fields else None
        for text in texts:
            form.add_error(target, text)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several uploaded files in one control (Django's documented recipe); cleans to a list."""

    def __init__(self, *args: Any, max_files: int = 10, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        self.max_files = max_files
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(items) > self.max_files:
            raise ValidationError(_("At most %(n)d files at once.") % {"n": self.max_files})
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class FastSelect(forms.Select):
    """A ``<select>`` whose options are built in Python.

    Django renders each option through its own template include, which made the agent queue's
    filter and bulk forms (agents, groups, categories, statuses) the largest cost of the page.
    The markup is the same as Django's ``select.html`` and ``select_option.html``.
    """

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('<optgroup label="{}">', group_name))
            parts.extend(
                format_html(
                    '<option value="{}"{}>{}</option>', str(option["value"]), flatatt(option["attrs"]), option["label"]
                )
                for option in options
            )
            if group_name:
                parts.append(mark_safe("</optgroup>"))
        parts.append(mark_safe("</select>"))
        return mark_safe("".join(parts))  # noqa: S308  (every piece above is escaped by format_html)


class StyledFormMixin:
    """Give every widget its Bootstrap class, so templates render fields without extra markup."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if type(field.widget) is forms.Select:
                field.widget = FastSelect(attrs=field.widget.attrs, choices=field.widget.choices)
                field.widget.is_required = field.required
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


class StyledForm(StyledFormMixin, forms.Form):
    pass
