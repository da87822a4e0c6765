"""The queue's hot HTML, written in Python: the ticket rows and the selects of its forms.

The queue page prints 25 rows of ten cells and about 250 options (agents, groups, categories)
on every request and every live refresh. Through Django's template engine (and its form widgets,
which render each option with a template) that was most of the page's CPU; a format string per
row costs a few microseconds. Everything printed is escaped here (``html.escape``, quotes too);
the only markup that is not built here is a problem badge, rendered by its template."""

from __future__ import annotations

from html import escape
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext


def _options(choices: Any, selected: set[str]) -> str:
    return "".join(
        f'<option value="{escape(str(value))}"{" selected" if str(value) in selected else ""}>{escape(str(label))}</option>'
        for value, label in choices
    )


def control(bound: Any, *, css: str = "") -> SafeString:
    """One field of the queue's forms: a select (several values when the field takes them) or
    a text input, with the field's id and name, its label as ``title``."""
    name, ident, field = bound.html_name, bound.id_for_label, bound.field
    value = bound.value()
    values = {str(v) for v in value} if isinstance(value, list | tuple) else {"" if value is None else str(value)}
    title = escape(str(field.label))
    if hasattr(field, "choices"):
        multiple = ' multiple size="3"' if field.widget.allow_multiple_selected else ""
        return mark_safe(  # noqa: S308 (name, id and classes are ours; the rest is escaped)
            f'<select name="{name}" id="{ident}" class="form-select form-select-sm {css}" title="{title}"{multiple}>'
            f"{_options(field.choices, values)}</select>"
        )
    shown = escape(next(iter(values), ""))
    return mark_safe(  # noqa: S308 (name, id and classes are ours; the value is escaped)
        f'<input type="text" name="{name}" id="{ident}" class="form-control form-control-sm {css}" value="{shown}">'
    )


def controls(
    form: Any, names: tuple[str, ...] | None = None, *, css: str = "", skip: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The fields of ``form`` (``names``, or every visible one but ``skip``) as label, id and HTML."""
    fields = [form[n] for n in names] if names else [b for b in form.visible_fields() if b.name not in skip]
    return [{"name": b.name, "label": b.label, "id": b.id_for_label, "html": control(b, css=css)} for b in fields]


def _sla_cell(r: dict[str, Any], overdue: str, at_risk: str) -> str:
    if not r["sla"]:
        return '<td class="sla-due">—</td>'
    sign = ""
    if r["sla"] == "breached":
        sign = f'<span class="badge text-bg-danger">{overdue}</span> '
    elif r["sla"] == "risk":
        sign = f'<span class="visually-hidden">{at_risk} </span><span aria-hidden="true">⚠ </span>'
    when = f'<time datetime="{r["sla_iso"]}" title="{escape(r["sla_title"])}">{escape(r["sla_text"])}</time>'
    return f'<td class="sla-due sla-{r["sla"]}">{sign}{when}</td>'


def rows_html(rows: list[dict[str, Any]], *, csrf_token: str, next_path: str) -> SafeString:
    """The ``<tr>`` of every row (``contexts.queue_rows``): one line per ticket, the keyboard
    contract's attributes (``data-kb-row``, ``data-href``, ``data-kb-select``), "Take it" for an
    open ticket nobody has."""
    updated, take, overdue, at_risk = (
        escape(gettext(text)) for text in ("updated", "Take it", "overdue", "SLA at risk:")
    )
    hidden = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
        f'<input type="hidden" name="next" value="{escape(next_path)}">'
    )
    out = []
    for r in rows:
        pk, href, subject = r["pk"], escape(r["href"]), escape(r["subject"])
        changed = ' class="row-changed"' if r["changed"] else ""
        badges = f' <span class="badge text-bg-info">{updated}</span>' if r["changed"] else ""
        if r["problem"]:
            badges += render_to_string("agent/problems/queue_badge.html", {"badge": r["problem"]})
        if r["assignee"]:
            assignee = f'<span title="{escape(r["assignee"])}">{escape(r["assignee"])}</span>'
        elif r["take_url"]:
            url = escape(r["take_url"])
            assignee = (
                f'<form method="post" action="{url}" class="d-inline" hx-post="{url}" hx-target="#queue-feedback"'
                f' hx-swap="innerHTML">{hidden}<button type="submit" class="btn btn-link btn-sm p-0 queue-take"'
                f' aria-label="{escape(r["take_label"])}">{take}</button></form>'
            )
        else:
            assignee = "—"
        requester, group, status = escape(r["requester"]), escape(r["group"] or "—"), escape(r["status_label"])
        out.append(
            f'<tr id="ticket-row-{pk}"{changed} data-kb-row data-href="{href}">'
            f'<td><input type="checkbox" class="form-check-input" name="tickets" value="{pk}" form="bulk-form"'
            f' id="select-{pk}" data-kb-select aria-label="{escape(r["select_label"])}"></td>'
            f'<td class="ticket-ref">{escape(r["ref"])}{badges}</td>'
            f'<td class="ticket-subject"><a href="{href}" title="{subject}">{subject}</a></td>'
            f'<td><span class="badge priority-{r["priority"]}">P{r["priority"]}</span></td>'
            f'<td class="status-{escape(r["status"])}" title="{status}">{status}</td>'
            f'<td title="{requester}">{requester}</td>'
            f'<td title="{group}">{group}</td>'
            f"<td>{assignee}</td>"
            f"{_sla_cell(r, overdue, at_risk)}"
            f'<td><time datetime="{r["updated_iso"]}" title="{escape(r["updated_title"])}">'
            f"{escape(r['updated_text'])}</time></td></tr>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 (every text above is escaped)
