"""The administration of changes (administrators): standard change templates, the risk
questionnaire and the risk thresholds. Rules and audit live in ``palier.changes.services.admin``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.changes import QuestionForm, TemplateForm, ThresholdsForm
from palier.agent.views._admin import form_page, save_form
from palier.changes import selectors
from palier.changes.services import admin
from palier.lib.errors import DomainError
from palier.lib.web import admin_required
from palier.people.http import AuthedRequest


@admin_required
def template_list(request: AuthedRequest) -> HttpResponse:
    form = TemplateForm(request.POST or None)
    if save_form(request, form, admin.create_template) is not None:
        messages.success(request, _("Template created."))
        return redirect("changes:templates")
    return form_page(request, "agent/changes/admin/templates.html", form, templates=selectors.all_templates())


@admin_required
def template_edit(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = selectors.get_template(template_id)
    form = TemplateForm(request.POST or None, initial=TemplateForm.initial_for(template))
    if save_form(request, form, admin.update_template, template=template) is not None:
        messages.success(request, _("Saved."))
        return redirect("changes:templates")
    return form_page(request, "agent/changes/admin/template_edit.html", form, change_template=template)


@admin_required
def question_list(request: AuthedRequest) -> HttpResponse:
    form = QuestionForm(request.POST or None)
    if save_form(request, form, admin.create_question) is not None:
        messages.success(request, _("Question added."))
        return redirect("changes:risk-questions")
    context = {"questions": selectors.risk_questions(), "settings_row": selectors.change_settings()}
    return form_page(request, "agent/changes/admin/questions.html", form, **context)


@admin_required
def question_edit(request: AuthedRequest, question_id: int) -> HttpResponse:
    question = selectors.get_question(question_id)
    form = QuestionForm(request.POST or None, initial=QuestionForm.initial_for(question))
    if save_form(request, form, admin.update_question, question=question) is not None:
        messages.success(request, _("Saved."))
        return redirect("changes:risk-questions")
    return form_page(request, "agent/changes/admin/question_edit.html", form, question=question)


@admin_required
@require_POST
def question_move(request: AuthedRequest, question_id: int) -> HttpResponse:
    question = selectors.get_question(question_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        raise Http404("direction")
    try:
        admin.move_question(question, by=request.user, up=direction == "up")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("changes:risk-questions")


@admin_required
def thresholds(request: AuthedRequest) -> HttpResponse:
    row = selectors.change_settings()
    initial = {"medium_from": row.medium_from, "high_from": row.high_from, "critical_from": row.critical_from}
    form = ThresholdsForm(request.POST or None, initial=initial)
    if save_form(request, form, admin.update_thresholds) is not None:
        messages.success(request, _("Risk thresholds saved."))
        return redirect("changes:settings")
    return form_page(request, "agent/changes/admin/settings.html", form, settings_row=row)
