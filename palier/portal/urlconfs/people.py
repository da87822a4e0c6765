"""Sign-in, sign-out and the profile (language, personal API tokens), mounted at /accounts/."""

from django.urls import path

from palier.portal.forms.people import EmailAuthenticationForm
from palier.portal.views import oidc as oidc_views
from palier.portal.views import people as views

# Not namespaced: settings.LOGIN_URL and LOGOUT_REDIRECT_URL name "login".
urlpatterns = [
    path(
        "login/",
        views.SignInView.as_view(
            template_name="portal/people/login.html",
            authentication_form=EmailAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", oidc_views.sign_out, name="logout"),  # also ends an OpenID Connect session
    path("profile/", views.profile, name="profile"),
    path("profile/language/", views.profile_language, name="profile-language"),
    path("profile/tokens/", views.token_create, name="token-create"),
    path("profile/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
]
