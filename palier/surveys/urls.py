"""Pages of the surveys app, mounted at /surveys/."""

from django.urls import path

from palier.surveys import views

app_name = "surveys"
urlpatterns = [
    path("answer/<str:token>/", views.answer, name="answer"),
    path("answer/<str:token>/thanks/", views.thanks, name="thanks"),
    path("responses/", views.responses, name="responses"),
    path("settings/", views.survey_settings, name="settings"),
    path("settings/organisations/<int:organisation_id>/", views.organisation_opt_out, name="organisation-opt-out"),
]
