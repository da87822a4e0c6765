"""API requests with a bearer token skip the browser's middleware (palier/lib/bearer.py): no
session, no CSRF cookie, fewer queries, and still the right user, language and refusals."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from palier.api.tests.conftest import API, ApiClient, assert_problem
from palier.lib.bearer import is_bearer_api_request


def test_token_request_sets_no_cookie_and_reads_no_session(token_client, agent, triage, django_assert_num_queries):
    client = token_client(agent)
    client.get(f"{API}/users/me")  # the token's first use of the minute writes its last use
    # the token and its owner in one query, the owner's groups, the organisation (none here)
    with django_assert_num_queries(2):
        response = client.get(f"{API}/users/me")
    assert response.status_code == 200
    assert [group["id"] for group in response.json()["groups"]] == [triage.pk]
    assert not response.cookies, response.cookies  # neither sessionid nor csrftoken
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{API}/users/me")
    assert not any("django_session" in q["sql"] for q in queries.captured_queries)


def test_own_profile_with_organisation_matches_the_stored_user(token_client, requester):
    body = token_client(requester).get(f"{API}/users/me").json()
    assert (body["id"], body["email"], body["organisation"]["id"]) == (
        requester.pk,
        requester.email,
        requester.organisation_id,
    )


def test_token_request_language_follows_the_browser_or_the_owner(token_client, agent, settings):
    settings.LANGUAGE_CODE = "fr"
    agent.language = ""
    agent.save(update_fields=["language"])
    client = token_client(agent, scope="read")
    assert client.get(f"{API}/users/me", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"
    assert client.get(f"{API}/users/me")["Content-Language"] == "fr"  # the site's language
    refused = client.post(f"{API}/tickets", data="{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert "read-only" in refused.json()["detail"]
    agent.language = "fr"
    agent.save(update_fields=["language"])
    assert client.get(f"{API}/users/me", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "fr"


def test_wrong_token_is_refused_even_with_a_signed_in_session(client_for, agent):
    client = client_for(agent)
    assert client.get(f"{API}/users/me").status_code == 200  # the session alone works
    refused = client.get(f"{API}/users/me", HTTP_AUTHORIZATION="Bearer plr_not-a-token")
    assert refused.status_code == 401


def test_session_api_requests_keep_csrf(client_for, agent):
    client = client_for(agent)
    client.handler.enforce_csrf_checks = True
    answer = client.call("PATCH", "/users/me", {"full_name": "Léa"})
    assert_problem(answer, 403)


def test_bearer_header_on_a_page_keeps_the_session(client_for, agent):
    client = client_for(agent)
    page = client.get("/agent/", HTTP_AUTHORIZATION="Bearer plr_whatever")
    assert page.status_code == 200  # signed in through the session, not sent to the sign-in page


def test_only_api_paths_with_a_bearer_scheme_count(rf):
    assert is_bearer_api_request(rf.get("/api/v1/users/me", HTTP_AUTHORIZATION="Bearer plr_x"))
    assert is_bearer_api_request(rf.get("/api/v1/users/me", HTTP_AUTHORIZATION="bearer plr_x"))
    assert not is_bearer_api_request(rf.get("/api/v1/users/me", HTTP_AUTHORIZATION="Basic eDp5"))
    assert not is_bearer_api_request(rf.get("/api/v1/users/me"))
    assert not is_bearer_api_request(rf.get("/agent/", HTTP_AUTHORIZATION="Bearer plr_x"))
    assert not is_bearer_api_request(rf.get("/apiary/", HTTP_AUTHORIZATION="Bearer plr_x"))


def test_anonymous_token_less_request_is_refused(db):
    assert ApiClient().get(f"{API}/users/me").status_code == 401
