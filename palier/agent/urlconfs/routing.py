"""Routing pages (ticket actions, team, rules, defaults), mounted at /agent/routing/ as ``routing:``."""

from django.urls import path

from palier.agent.views import routing as views

urlpatterns = [
    path("tickets/<int:ticket_id>/escalate/", views.ticket_escalate, name="ticket-escalate"),
    path("tickets/<int:ticket_id>/reroute/", views.ticket_reroute, name="ticket-reroute"),
    path("tickets/<int:ticket_id>/vendor-reference/", views.ticket_vendor_reference, name="ticket-vendor-reference"),
    path("me/availability/", views.my_availability, name="my-availability"),
    path("team/", views.team, name="team"),
    path("team/<int:agent_id>/availability/", views.team_availability, name="team-availability"),
    path("team/<int:agent_id>/absences/", views.team_absence_add, name="team-absence-add"),
    path("team/absences/<int:absence_id>/delete/", views.team_absence_delete, name="team-absence-delete"),
    path("team/<int:agent_id>/requeue/", views.team_requeue, name="team-requeue"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule-edit"),
    path("rules/<int:rule_id>/move/<slug:direction>/", views.rule_move, name="rule-move"),
    path("rules/<int:rule_id>/active/", views.rule_active, name="rule-active"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule-delete"),
    path("defaults/", views.defaults, name="defaults"),
    path("defaults/<int:default_id>/delete/", views.default_delete, name="default-delete"),
]
