"""Automation pages (rules, dry runs, recurring tickets), mounted at /agent/automation/ as ``automation:``."""

from django.urls import path

from palier.agent.views import automation as views

urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_new, name="rule-new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule-edit"),
    path("rules/rows/<slug:kind>/", views.rule_row, name="rule-row"),
    path("rules/<int:rule_id>/move/<slug:direction>/", views.rule_move, name="rule-move"),
    path("rules/<int:rule_id>/active/", views.rule_active, name="rule-active"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule-delete"),
    path("rules/<int:rule_id>/dry-run/", views.rule_dry_run, name="rule-dry-run"),
    path("rules/<int:rule_id>/runs/", views.rule_runs, name="rule-runs"),
    path("recurring/", views.recurring, name="recurring"),
    path("recurring/<int:row_id>/", views.recurring_edit, name="recurring-edit"),
    path("recurring/requesters/", views.recurring_requesters, name="recurring-requesters"),
    path("recurring/<int:row_id>/active/", views.recurring_active, name="recurring-active"),
]
