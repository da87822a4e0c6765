"""Automation pages (administrators only), mounted at /agent/automation/: the rule list, a rule's
form (rows of conditions and actions, no JSON, one more row at a time with htmx), its dry run and
run log, and recurring tickets (their requester found by name or email: that search answers any
agent, like the caller search of "Log a call")."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms import automation as f
from palier.agent.views._admin import form_page, save_form
from palier.automation import selectors, services
from palier.automation.models import Rule
from palier.lib.errors import DomainError
from palier.lib.web import admin_required, agent_required, apply_errors
from palier.people.http import AuthedRequest

# --- rules ------------------------------------------------------------------------------------------------


@admin_required
def rules(request: AuthedRequest) -> HttpResponse:
    rows = [
        selectors.RuleRow(rule=rule, trigger=selectors.trigger_text(rule), summary=selectors.describe(rule))
        for rule in selectors.rules_for_admin()
    ]
    return render(request, "agent/automation/rules.html", {"rows": rows})


def _options() -> dict[str, f.Choices]:
    return {**f._references(), **f._fixed()}


def _subject(request: AuthedRequest) -> str | None:
    """The subject a new rule applies to (``?subject=``), or None when it is still to be chosen; a
    form posted without one is a ticket rule (the form as it was before rules had subjects)."""
    subject = request.GET.get("subject", "")
    if not subject and request.method == "POST":
        return Rule.Subject.TICKET
    return subject if subject in Rule.Subject.values else None


def _rule_forms(request: AuthedRequest, rule: Rule | None, subject: str) -> tuple[Any, Any, Any]:
    options = _options()
    data = request.POST if request.method == "POST" else None
    names = ("name", "is_active", "trigger", "to_status", "wait_status", "wait_hours", "wait_business")
    initial = {name: getattr(rule, name) for name in names} if rule else None
    form = f.RuleForm(data, initial=initial, subject=subject)
    conditions = f.ConditionFormSet(  # type: ignore[call-arg]
        data, prefix="c", options=options, subject=subject,
        initial=f.condition_initial(rule.conditions or {}, subject) if rule else None,
    )  # fmt: skip
    actions = f.ActionFormSet(  # type: ignore[call-arg]
        data, prefix="a", options=options, subject=subject,
        initial=f.action_initial(rule.actions or [], subject) if rule else None,
    )  # fmt: skip
    return form, conditions, actions


def _save_rule(request: AuthedRequest, rule: Rule | None, forms: tuple[Any, Any, Any]) -> Rule | None:
    form, conditions, actions = forms
    if request.method != "POST" or not all([form.is_valid(), conditions.is_valid(), actions.is_valid()]):
        return None
    rows, chosen = f.collect(conditions, actions)
    fields = {**form.cleaned_data, "conditions": rows, "actions": chosen}
    if form.subject == Rule.Subject.TICKET:
        fields["wait_status"] = fields.get("wait_status") or ""
    else:
        fields["to_status"] = fields.get("to_status") or ""
    try:
        if rule is None:
            return services.create_rule(by=request.user, subject=form.subject, **fields)
        return services.update_rule(rule, by=request.user, **fields)
    except (ValidationError, DomainError) as exc:
        apply_errors(form, exc)
        return None


def _rule_page(request: AuthedRequest, rule: Rule | None, forms: tuple[Any, Any, Any]) -> HttpResponse:
    form, conditions, actions = forms
    context = {
        "rule": rule, "form": form, "conditions": conditions, "actions": actions, "subject": form.subject,
        "subject_label": Rule.Subject(form.subject).label,
    }  # fmt: skip
    return render(request, "agent/automation/rule_edit.html", context, status=400 if form.is_bound else 200)


@admin_required
def rule_new(request: AuthedRequest) -> HttpResponse:
    """First the subject (tickets, problems or changes), then that subject's rule form."""
    subject = _subject(request)
    if subject is None:
        return render(request, "agent/automation/rule_subject.html", {"subjects": Rule.Subject.choices})
    forms = _rule_forms(request, None, subject)
    if created := _save_rule(request, None, forms):
        messages.success(request, _("The rule “%(name)s” is created.") % {"name": created.name})
        return redirect("automation:rule-edit", created.pk)
    return _rule_page(request, None, forms)


@admin_required
def rule_edit(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.get_rule_for_admin(rule_id)
    forms = _rule_forms(request, rule, rule.subject)
    if saved := _save_rule(request, rule, forms):
        messages.success(request, _("The rule “%(name)s” is saved.") % {"name": saved.name})
        return redirect("automation:rule-edit", saved.pk)
    return _rule_page(request, rule, forms)


# "Add a condition" / "Add an action": formset prefix, formset
ROW_KINDS: dict[str, tuple[str, Any]] = {"condition": ("c", f.ConditionFormSet), "action": ("a", f.ActionFormSet)}


@admin_required
def rule_row(request: AuthedRequest, kind: str) -> HttpResponse:
    """One empty row for the rule form (htmx), numbered after the rows already on the page (the
    formset's TOTAL_FORMS, sent with the request); the response also raises that count."""
    if kind not in ROW_KINDS:
        raise Http404("row")
    prefix, formset_class = ROW_KINDS[kind]
    total = request.GET.get(f"{prefix}-TOTAL_FORMS", "")
    if not total.isdigit():
        return HttpResponseBadRequest()
    index = int(total)
    subject = _subject(request) or Rule.Subject.TICKET
    context = {"kind": kind, "prefix": prefix, "max": formset_class.max_num}
    if index >= formset_class.max_num:
        return render(request, "agent/automation/rule_edit.html#row-limit", context)
    row = formset_class(prefix=prefix, options=_options(), subject=subject).blank_form(index)
    return render(request, "agent/automation/rule_edit.html#row-added", {**context, "row": row, "total": index + 1})


@admin_required
@require_POST
def rule_move(request: AuthedRequest, rule_id: int, direction: str) -> HttpResponse:
    if direction not in ("up", "down"):
        raise Http404("direction")
    services.move_rule(selectors.get_rule_for_admin(rule_id), by=request.user, up=direction == "up")
    return redirect("automation:rules")


@admin_required
@require_POST
def rule_active(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.get_rule_for_admin(rule_id)
    try:
        services.set_rule_active(rule, by=request.user, active=request.POST.get("active") == "1")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("automation:rules")


@admin_required
@require_POST
def rule_delete(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.get_rule_for_admin(rule_id)
    services.delete_rule(rule, by=request.user)
    messages.success(request, _("The rule “%(name)s” is deleted.") % {"name": rule.name})
    return redirect("automation:rules")


@admin_required
def rule_dry_run(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.get_rule_for_admin(rule_id)
    if rule.subject != Rule.Subject.TICKET:
        found = selectors.subject_dry_run(rule, page=request.GET.get("page"))
        return render(request, "agent/automation/rule_dry_run_subject.html", {"rule": rule, "result": found})
    result = selectors.dry_run(rule, page=request.GET.get("page"))
    return render(request, "agent/automation/rule_dry_run.html", {"rule": rule, "result": result})


@admin_required
def rule_runs(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.get_rule_for_admin(rule_id)
    runs = selectors.rule_runs(rule, page=request.GET.get("page"))
    return render(request, "agent/automation/rule_runs.html", {"rule": rule, "runs": runs})


# --- recurring tickets --------------------------------------------------------------------------------------


@admin_required
def recurring(request: AuthedRequest) -> HttpResponse:
    form = f.RecurringForm(request.POST or None)
    if created := save_form(request, form, services.create_recurring):
        messages.success(request, _("The recurring ticket “%(name)s” is created.") % {"name": created.name})
        return redirect("automation:recurring")
    page = selectors.recurring_for_admin(page=request.GET.get("page"))
    rows = [(row, selectors.schedule_text(row.schedule)) for row in page]
    return form_page(request, "agent/automation/recurring.html", form, page=page, rows=rows)


@admin_required
def recurring_edit(request: AuthedRequest, row_id: int) -> HttpResponse:
    row = selectors.get_recurring_for_admin(row_id)
    form = f.RecurringForm(request.POST or None, initial=f.recurring_initial(row))
    if save_form(request, form, services.update_recurring, row=row):
        messages.success(request, _("The recurring ticket “%(name)s” is saved.") % {"name": row.name})
        return redirect("automation:recurring")
    schedule_text = selectors.schedule_text(row.schedule)
    return form_page(request, "agent/automation/recurring_edit.html", form, row=row, schedule_text=schedule_text)


@agent_required
def recurring_requesters(request: AuthedRequest) -> HttpResponse:
    """The people matching what was typed in a recurring ticket's requester box (htmx)."""
    q = request.GET.get("requester_q", "")[:200]
    people, more = f.requesters_matching(q)
    context = {
        "people": people,
        "more": more,
        "q": q,
        "found": True,
        "name": "requester",
        "id_prefix": "id_requester_found",
    }
    return render(request, "agent/automation/widgets/person_choices.html", context)


@admin_required
@require_POST
def recurring_active(request: AuthedRequest, row_id: int) -> HttpResponse:
    row = selectors.get_recurring_for_admin(row_id)
    services.set_recurring_active(row, by=request.user, active=request.POST.get("active") == "1")
    return redirect("automation:recurring")
