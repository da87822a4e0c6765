"""Time tracking pages (log work, edit or delete an entry, cost rates), mounted at /agent/time/ as
``timelog:``."""

from django.urls import path

from palier.agent.views import timelog as views

urlpatterns = [
    path("tickets/<int:ticket_id>/log/", views.log_work, name="log"),
    path("entries/<int:entry_id>/edit/", views.entry_edit, name="entry-edit"),
    path("entries/<int:entry_id>/delete/", views.entry_delete, name="entry-delete"),
    path("rates/", views.cost_rates, name="rates"),
]
