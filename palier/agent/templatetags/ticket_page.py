"""Tags of the agent ticket page.

``{% panel_fields form %}`` renders a side-panel edit form's fields with the markup of
``includes/field.html``, built in Python: the panel holds about ten small forms, and rendering each
control through Django's widget templates (``input.html``, ``attrs.html``) and the field include
was the largest cost of the page. Radio and checkbox fields keep the template.
"""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.forms.boundfield import BoundField
from django.forms.utils import flatatt
from django.forms.widgets import Input
from django.template.loader import get_template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _widget(bf: BoundField) -> SafeString:
    """What ``{{ field }}`` renders, for text, number, hidden and textarea controls."""
    widget = bf.field.widget
    if not isinstance(widget, Input | forms.Textarea) or isinstance(widget, forms.FileInput):
        return mark_safe(str(bf))  # noqa: S308  (Django's own escaped rendering)
    attrs = bf.build_widget_attrs({}, widget)
    if bf.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bf.auto_id)
    context = widget.get_context(bf.html_name, bf.value(), attrs)["widget"]
    if isinstance(widget, forms.Textarea):
        value = "" if context["value"] is None else context["value"]
        return format_html('<textarea name="{}"{}>\n{}</textarea>', context["name"], flatatt(context["attrs"]), value)
    if context["value"] is None:
        return format_html('<input type="{}" name="{}"{}>', context["type"], context["name"], flatatt(context["attrs"]))
    return format_html(
        '<input type="{}" name="{}" value="{}"{}>',
        context["type"],
        context["name"],
        str(context["value"]),
        flatatt(context["attrs"]),
    )


def _field(bf: BoundField) -> SafeString:
    if bf.is_hidden:
        return _widget(bf)
    if bf.widget_type in ("radioselect", "checkboxselectmultiple", "checkbox"):
        return mark_safe(get_template("includes/field.html").render({"field": bf}))  # noqa: S308
    required = bf.field.required or getattr(bf.field, "required_when_shown", False)
    help_text = (
        format_html('<div class="form-text" id="{}_helptext">{}</div>', bf.auto_id, bf.help_text)
        if bf.help_text
        else ""
    )
    errors = ""
    if bf.errors:
        errors = format_html(
            '<div class="invalid-feedback d-block" id="{}_error">{}</div>',
            bf.auto_id,
            format_html_join("", '<p class="mb-0">{}</p>', ((e,) for e in bf.errors)),
        )
    return format_html(
        '<div class="mb-3{}">\n  <label class="form-label fw-semibold" for="{}">{}{}</label>\n  {}\n  {}{}</div>\n',
        " has-error" if bf.errors else "",
        bf.id_for_label,
        bf.label,
        mark_safe(' <span aria-hidden="true">*</span>') if required else "",
        _widget(bf),
        help_text,
        errors,
    )


@register.simple_tag
def panel_fields(form: Any) -> SafeString:
    """Every field of ``form`` as ``includes/field.html`` would render it."""
    return mark_safe("".join(_field(bf) for bf in form))  # noqa: S308  (each piece is escaped above)
