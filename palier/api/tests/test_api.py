"""Cross-cutting behaviour: authentication, problem details for bad input, OpenAPI and docs."""

from __future__ import annotations

import re

from django.test import Client

from palier.api.tests.conftest import API, ApiClient, assert_problem
from palier.people import services as people
from palier.people.models import ApiToken
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

# --- authentication -------------------------------------------------------------------------------


def test_anonymous_calls_are_401_problems(client_for, requester):
    ticket = make_ticket(requester)
    client = client_for(None)
    r = client.get(f"{API}/tickets")
    assert_problem(r, 401)
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.get(f"{API}/tickets/{ticket.pk}"), 401)
    assert_problem(client.call("POST", "/tickets", {"subject": "x"}), 401)
    assert Ticket.objects.count() == 1


def test_write_token_can_create_and_read(token_client, requester):
    client = token_client(requester, "write")
    r = client.call("POST", "/tickets", {"subject": "Par script"})
    assert r.status_code == 201, r.content
    assert client.get(f"{API}/tickets/{r.json()['id']}").status_code == 200


def test_read_token_can_read_but_not_write(token_client, requester):
    ticket = make_ticket(requester)
    client = token_client(requester, "read")
    assert client.get(f"{API}/tickets/{ticket.pk}").status_code == 200
    assert_problem(client.call("POST", "/tickets", {"subject": "x"}), 403)
    assert_problem(client.call("POST", f"/tickets/{ticket.pk}/comments", {"body": "x"}), 403)
    assert Ticket.objects.count() == 1
    assert ticket.comments.count() == 0


def test_revoked_and_unknown_tokens_are_401(requester):
    issued = people.create_api_token(requester, scope="write")
    people.revoke_api_token(issued.token, by=requester)
    for secret in (issued.secret, "plr_nope", "garbage"):
        client = ApiClient(headers={"Authorization": f"Bearer {secret}"})
        assert_problem(client.get(f"{API}/tickets"), 401)


def test_a_bad_token_does_not_fall_back_to_the_session(client_for, requester):
    client = client_for(requester)
    assert_problem(client.get(f"{API}/tickets", headers={"Authorization": "Bearer plr_wrong"}), 401)


def test_deactivated_users_token_is_401(requester):
    secret = people.create_api_token(requester, scope="read").secret
    people.update_user(requester, by=None, is_active=False)
    assert_problem(ApiClient(headers={"Authorization": f"Bearer {secret}"}).get(f"{API}/users/me"), 401)


def test_session_needs_csrf_for_unsafe_methods(requester):
    client = Client(enforce_csrf_checks=True)
    client.force_login(requester)
    assert client.get(f"{API}/tickets").status_code == 200
    r = client.post(f"{API}/tickets", '{"subject": "x"}', content_type="application/json")
    assert_problem(r, 403)
    token = client.get(f"{API}/docs").cookies["csrftoken"].value
    r = client.post(
        f"{API}/tickets", '{"subject": "x"}', content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert r.status_code == 201, r.content


def test_bearer_requests_need_no_csrf(requester):
    secret = people.create_api_token(requester, scope=ApiToken.Scope.WRITE).secret
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})
    assert client.post(f"{API}/tickets", '{"subject": "x"}', content_type="application/json").status_code == 201


def test_token_users_language_is_used(requester):
    people.update_user(requester, by=None, language="en")
    secret = people.create_api_token(requester, scope="write").secret
    client = ApiClient(headers={"Authorization": f"Bearer {secret}"})
    body = assert_problem(client.call("POST", "/tickets", {"subject": " "}), 422, "subject")
    assert body["errors"]["subject"] == ["This field is required."]


# --- bad input ------------------------------------------------------------------------------------


def test_unknown_field_is_named(client_for, requester):
    body = assert_problem(
        client_for(requester).call("POST", "/tickets", {"subject": "x", "colour": "red"}), 422, "colour"
    )
    assert "subject" not in body["errors"]
    assert Ticket.objects.count() == 0


def test_wrong_types_are_rejected_not_coerced(client_for, requester):
    r = client_for(requester).call("POST", "/tickets", {"subject": 12, "impact": "huge", "category": "1", "tags": [1]})
    assert_problem(r, 422, "subject", "impact", "category", "tags.0")


def test_missing_required_field(client_for, requester):
    body = assert_problem(client_for(requester).call("POST", "/tickets", {}), 422, "subject")
    assert body["errors"]["subject"]


def test_malformed_json_is_400(client_for, requester):
    r = client_for(requester).post(f"{API}/tickets", '{"subject": ', content_type="application/json")
    assert_problem(r, 400)


def test_json_that_is_not_an_object_is_422(client_for, requester):
    assert_problem(client_for(requester).post(f"{API}/tickets", "[1, 2]", content_type="application/json"), 422)


def test_empty_body_is_422(client_for, requester):
    assert_problem(client_for(requester).post(f"{API}/tickets", "", content_type="application/json"), 422)


def test_wrong_content_type_is_415(client_for, requester):
    r = client_for(requester).post(f"{API}/tickets", '{"subject": "x"}', content_type="text/plain")
    assert_problem(r, 415)
    assert Ticket.objects.count() == 0


def test_oversized_body_is_413(client_for, requester, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    r = client_for(requester).call("POST", "/tickets", {"subject": "x", "description": "a" * 5000})
    assert_problem(r, 413)
    assert Ticket.objects.count() == 0


def test_too_long_field_is_422(client_for, requester):
    assert_problem(client_for(requester).call("POST", "/tickets", {"subject": "x" * 300}), 422, "subject")


def test_non_numeric_id_in_path_is_a_404_problem(client_for, requester):
    assert_problem(client_for(requester).get(f"{API}/tickets/abc"), 404)
    assert_problem(client_for(requester).get(f"{API}/no-such-endpoint"), 404)


# --- OpenAPI and docs -----------------------------------------------------------------------------


def test_openapi_lists_the_ticket_endpoints(client_for):
    r = client_for(None).get(f"{API}/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["info"]["title"] == "Palier API"
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths[f"{API}/tickets"])
    assert {"get", "patch"} <= set(paths[f"{API}/tickets/{{ticket_id}}"])
    for suffix in ("transitions", "comments", "attachments", "history", "watchers", "links"):
        assert f"{API}/tickets/{{ticket_id}}/{suffix}" in paths
    assert f"{API}/attachments/{{attachment_id}}/download" in paths
    assert f"{API}/users/me" in paths
    assert set(schema["components"]["securitySchemes"]) == {"TokenAuth", "SessionAuth"}


def test_docs_render_without_external_urls(client_for):
    client = client_for(None)
    r = client.get(f"{API}/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html), html
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert b"".join(response.streaming_content)
    assert '"validatorUrl": null' in html
    assert client.get(f"{API}/docs/assets/../../settings.py").status_code == 404


def test_wrong_method_is_a_405_problem(client_for, requester):
    r = client_for(requester).delete(f"{API}/tickets")
    assert_problem(r, 405)
    assert set(r["Allow"].split(", ")) == {"GET", "POST"}
