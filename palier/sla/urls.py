"""Pages of the sla app: calendar and policy administration, the ticket's SLA panel (htmx)."""

from django.urls import URLPattern, path

from palier.sla import views

app_name = "sla"
urlpatterns: list[URLPattern] = [
    path("calendars/", views.calendars, name="calendars"),
    path("calendars/<int:calendar_id>/", views.calendar_edit, name="calendar-edit"),
    path("policies/", views.policies, name="policies"),
    path("policies/<int:policy_id>/", views.policy_edit, name="policy-edit"),
    path("tickets/<int:ticket_id>/panel/", views.ticket_panel, name="ticket-panel"),
]
