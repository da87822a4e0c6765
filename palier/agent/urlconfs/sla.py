"""SLA pages: calendar and policy administration, the ticket's SLA panel (htmx), mounted at
/agent/sla/ as ``sla:``."""

from django.urls import URLPattern, path

from palier.agent.views import sla as views

urlpatterns: list[URLPattern] = [
    path("calendars/", views.calendars, name="calendars"),
    path("calendars/<int:calendar_id>/", views.calendar_edit, name="calendar-edit"),
    path("policies/", views.policies, name="policies"),
    path("policies/<int:policy_id>/", views.policy_edit, name="policy-edit"),
    path("tickets/<int:ticket_id>/panel/", views.ticket_panel, name="ticket-panel"),
]
