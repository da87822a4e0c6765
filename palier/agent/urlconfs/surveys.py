"""Survey answers and settings, mounted at /surveys/ as ``surveys:``."""

from django.urls import path

from palier.agent.views import surveys as views

urlpatterns = [
    path("responses/", views.responses, name="responses"),
    path("settings/", views.survey_settings, name="settings"),
    path("settings/organisations/<int:organisation_id>/", views.organisation_opt_out, name="organisation-opt-out"),
]
