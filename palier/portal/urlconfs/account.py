"""Password reset and the Security page of the profile, mounted at /accounts/ as ``account:``."""

from django.urls import path

from palier.portal.views import account as views

urlpatterns = [
    path("password/forgot/", views.forgot, name="password-forgot"),
    path("password/reset/<str:uidb64>/<str:token>/", views.reset_link, name="password-reset-link"),
    path("profile/security/", views.security, name="security"),
    path("profile/security/password/", views.password_change, name="password-change"),
    path("profile/security/sessions/<int:session_id>/end/", views.session_end, name="session-end"),
    path("profile/security/sessions/end-others/", views.sessions_end_others, name="sessions-end-others"),
    path("profile/security/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
]
