"""Client tests for the people pages: sign-in by email, sign-out, home redirect, profile."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.people import services
from palier.people.models import ApiToken, User

pytestmark = pytest.mark.django_db


def test_login_with_email_then_home_sends_requester_to_portal(client: Client, requester: User) -> None:
    response = client.post(reverse("login"), {"username": "Alice@Acme.test", "password": "pw-alice-123!"})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("portal:home")


def test_login_with_a_wrong_password_shows_an_error(client: Client, requester: User) -> None:
    response = client.post(reverse("login"), {"username": requester.email, "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert 'role="alert"' in response.content.decode()


def test_login_page_is_labelled_and_has_a_skip_link(client: Client) -> None:
    html = client.get(reverse("login")).content.decode()
    assert 'class="skip-link" href="#main"' in html
    assert '<label class="form-label fw-semibold" for="id_username">' in html
    assert 'type="email"' in html


def test_logout_needs_post(client: Client, requester: User) -> None:
    client.force_login(requester)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_home_redirects_by_role(client: Client, agent: User, requester: User) -> None:
    assert client.get(reverse("home")).url.startswith(reverse("login"))
    client.force_login(agent)
    assert client.get(reverse("home")).url == reverse("agent:ticket-list")
    client.force_login(requester)
    assert client.get(reverse("home")).url == reverse("portal:home")


def test_profile_language_switch_changes_the_page_language(client: Client, requester: User) -> None:
    client.force_login(requester)
    response = client.post(reverse("profile-language"), {"language": "en", "next": reverse("portal:home")})
    assert response.status_code == 302
    assert response.url == reverse("portal:home")
    requester.refresh_from_db()
    assert requester.language == "en"
    assert '<html lang="en">' in client.get(reverse("profile")).content.decode()
    client.post(reverse("profile-language"), {"language": "fr"})
    assert '<html lang="fr">' in client.get(reverse("profile")).content.decode()


def test_profile_language_refuses_unknown_language_and_foreign_redirects(client: Client, requester: User) -> None:
    client.force_login(requester)
    client.post(reverse("profile-language"), {"language": "de"})
    requester.refresh_from_db()
    assert requester.language == ""
    response = client.post(reverse("profile-language"), {"language": "en", "next": "https://evil.test/"})
    assert response.url == reverse("profile")


def test_anonymous_pages_follow_the_browser_and_the_switcher(client: Client) -> None:
    html = client.get(reverse("login"), headers={"accept-language": "en"}).content.decode()
    assert '<html lang="en">' in html
    client.post(reverse("set_language"), {"language": "fr", "next": reverse("login")})
    html = client.get(reverse("login"), headers={"accept-language": "en"}).content.decode()
    assert '<html lang="fr">' in html


def test_token_secret_is_shown_once_and_can_be_revoked(client: Client, requester: User) -> None:
    client.force_login(requester)
    response = client.post(reverse("token-create"), {"name": "backup", "scope": "write"})
    assert response.status_code == 201
    secret = re.search(r'id="new-token">([^<]+)<', response.content.decode())
    assert secret is not None
    token = ApiToken.objects.get(user=requester)
    assert services.authenticate_token(secret.group(1)) == token
    assert token.scope == "write"
    assert secret.group(1) not in client.get(reverse("profile")).content.decode()
    assert client.post(reverse("token-revoke", args=[token.pk])).status_code == 302
    assert services.authenticate_token(secret.group(1)) is None


def test_token_create_validates_the_scope(client: Client, requester: User) -> None:
    client.force_login(requester)
    response = client.post(reverse("token-create"), {"name": "x", "scope": "admin"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_someone_elses_token_answers_404(client: Client, requester: User, requester_b: User) -> None:
    issued = services.create_api_token(requester_b)
    client.force_login(requester)
    assert client.post(reverse("token-revoke", args=[issued.token.pk])).status_code == 404
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_profile_requires_sign_in(client: Client) -> None:
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- the shared layout (palier/templates) -----------------------------------------------------------


def test_layout_has_landmarks_a_labelled_language_switcher_and_a_live_region(client: Client, requester: User) -> None:
    client.force_login(requester)
    html = client.get(reverse("portal:home"), headers={"accept-language": "en"}).content.decode()
    assert '<main id="main"' in html and 'class="skip-link" href="#main"' in html
    assert '<label class="visually-hidden" for="language-switch">' in html
    assert 'id="language-switch" name="language"' in html and "Switch language" in html  # works without JS
    assert 'id="messages" class="messages" role="status" aria-live="polite"' in html
    assert '<details class="user-menu">' in html and "Sign out" in html
    assert 'aria-current="page">Get help' in html
    assert "cdn" not in html.lower() and "fonts.googleapis" not in html


def test_error_500_page_renders_without_the_database(django_assert_num_queries: Any) -> None:
    from django.template.loader import render_to_string
    from django.utils import translation

    with django_assert_num_queries(0), translation.override("en"):
        html = render_to_string("500.html")
    assert "Something went wrong" in html and '<html lang="en">' in html
