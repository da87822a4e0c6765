"""Macro pages (list, edit, the ticket page's picker), mounted at /agent/macros/ as ``macros:``."""

from django.urls import path

from palier.agent.views import macros as views

urlpatterns = [
    path("", views.macro_list, name="list"),
    path("<int:macro_id>/", views.macro_edit, name="edit"),
    path("<int:macro_id>/delete/", views.macro_delete, name="delete"),
    path("picker/<int:ticket_id>/", views.macro_picker, name="picker"),
]
