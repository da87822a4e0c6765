"""Pages of the macros app, mounted at /agent/macros/."""

from django.urls import path

from palier.macros import views

app_name = "macros"
urlpatterns = [
    path("", views.macro_list, name="list"),
    path("<int:macro_id>/", views.macro_edit, name="edit"),
    path("<int:macro_id>/delete/", views.macro_delete, name="delete"),
    path("picker/<int:ticket_id>/", views.macro_picker, name="picker"),
]
