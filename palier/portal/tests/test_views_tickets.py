"""Client tests for the requester portal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.people import services as people
from palier.people.models import User
from palier.tickets import services
from palier.tickets.models import Attachment, Category, Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
PNG = (  # a real 1×1 image (libmagic checks the IHDR chunk, not only the signature)
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _new_ticket_data(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "request",
        "category": Category.objects.get(slug="hardware-printer").pk,
        "subject": "Need a new toner",
        "description": "The printer says the toner is empty.",
        "impact": "medium",
        "urgency": "high",
        **extra,
    }


def test_portal_requires_sign_in(client: Client) -> None:
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_home_offers_get_help(client: Client, requester: User) -> None:
    client.force_login(requester)
    html = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:ticket-new") in html


def test_new_ticket_form_asks_in_plain_words_and_lists_the_category_tree(client: Client, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the browser asks for English
    client.force_login(requester)
    html = client.get(reverse("portal:ticket-new")).content.decode()
    assert "Who is affected?" in html
    assert "How soon do you need it?" in html
    assert "Hardware › Printers and scanners" in html or "Matériel › Imprimantes et scanners" in html


def test_requester_submits_a_ticket_with_an_attachment_and_sees_it(client: Client, requester: User) -> None:
    client.force_login(requester)
    upload = SimpleUploadedFile("screen.png", PNG, content_type="image/png")
    response = client.post(reverse("portal:ticket-new"), _new_ticket_data(attachments=[upload]))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response.url == reverse("portal:ticket-detail", args=[ticket.pk])
    assert (ticket.kind, ticket.requester, ticket.priority) == ("request", requester, 2)
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.content_type == "image/png"

    listing = client.get(reverse("portal:ticket-list")).content.decode()
    assert ticket.reference in listing and "Need a new toner" in listing
    detail = client.get(response.url).content.decode()
    assert "screen.png" in detail
    download = client.get(reverse("portal:attachment", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG


def test_invalid_ticket_shows_errors_and_creates_nothing(client: Client, requester: User) -> None:
    client.force_login(requester)
    response = client.post(reverse("portal:ticket-new"), _new_ticket_data(subject="  "))
    assert response.status_code == 400
    assert 'id="id_subject_error"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_refused_attachment_opens_no_ticket(client: Client, requester: User) -> None:
    client.force_login(requester)
    disguised = SimpleUploadedFile("photo.png", b"MZ not a picture", content_type="image/png")
    response = client.post(reverse("portal:ticket-new"), _new_ticket_data(attachments=[disguised]))
    assert response.status_code == 400
    assert 'id="id_attachments_error"' in response.content.decode()
    assert "photo.png" in response.content.decode()
    assert not Ticket.objects.exists()


def test_requester_cannot_reach_another_requesters_ticket(client: Client, requester: User, requester_b: User) -> None:
    theirs = make_ticket(requester_b, subject="Bob's secret laptop")
    upload = SimpleUploadedFile("bob.txt", b"bob only", content_type="text/plain")
    attachment = services.add_attachment(theirs, by=requester_b, upload=upload)
    client.force_login(requester)
    assert client.get(reverse("portal:ticket-detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("portal:attachment", args=[attachment.pk])).status_code == 404
    reply = client.post(reverse("portal:ticket-reply", args=[theirs.pk]), {"body": "hi"})
    assert reply.status_code == 404
    assert "Bob's secret laptop" not in client.get(reverse("portal:ticket-list")).content.decode()
    assert "Bob's secret laptop" not in client.get(reverse("portal:home")).content.decode()


def test_requester_never_sees_internal_notes(client: Client, requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    services.comment_on_ticket(ticket, by=agent, body="Public answer for Alice")
    note_file = SimpleUploadedFile("internal.txt", b"secret", content_type="text/plain")
    services.comment_on_ticket(ticket, by=agent, body="Internal: user is VIP", internal=True, uploads=[note_file])
    client.force_login(requester)
    html = client.get(reverse("portal:ticket-detail", args=[ticket.pk])).content.decode()
    assert "Public answer for Alice" in html
    assert "Internal: user is VIP" not in html
    assert "internal.txt" not in html
    note_attachment = Attachment.objects.get(is_internal=True)
    assert client.get(reverse("portal:attachment", args=[note_attachment.pk])).status_code == 404
    client.force_login(agent)  # the portal is the requester's view, even for agents
    html = client.get(reverse("portal:ticket-detail", args=[ticket.pk])).content.decode()
    assert "Internal: user is VIP" not in html


def test_requester_replies_with_an_attachment(client: Client, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(requester)
    upload = SimpleUploadedFile("log.txt", b"error 42", content_type="text/plain")
    url = reverse("portal:ticket-reply", args=[ticket.pk])
    response = client.post(url, {"body": "Here is the log", "attachments": [upload]})
    assert response.status_code == 302
    html = client.get(response.url).content.decode()
    assert "Here is the log" in html and "log.txt" in html


def test_empty_reply_shows_an_error(client: Client, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(requester)
    response = client.post(reverse("portal:ticket-reply", args=[ticket.pk]), {"body": ""})
    assert response.status_code == 400
    assert ticket.comments.count() == 0


def test_resolved_request_can_be_reopened_then_withdrawn(client: Client, requester: User, agent: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the browser asks for English
    ticket = make_ticket(requester)
    services.transition_ticket(ticket, to="resolved", by=agent)
    ticket.refresh_from_db()
    client.force_login(requester)
    html = client.get(reverse("portal:ticket-detail", args=[ticket.pk])).content.decode()
    assert 'value="in_progress"' in html and 'value="closed"' in html and 'value="cancelled"' not in html
    url = reverse("portal:ticket-transition", args=[ticket.pk])
    assert client.post(url, {"to": "in_progress", "version": ticket.version}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert client.post(url, {"to": "cancelled", "version": ticket.version}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "cancelled"
    html = client.get(reverse("portal:ticket-detail", args=[ticket.pk])).content.decode()
    assert "This request was withdrawn." in html


def test_stale_transition_changes_nothing(client: Client, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(requester)
    url = reverse("portal:ticket-transition", args=[ticket.pk])
    response = client.post(url, {"to": "cancelled", "version": ticket.version + 5})
    assert response.status_code == 409
    assert 'role="alert"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_illegal_transition_shows_a_message(client: Client, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(requester)
    url = reverse("portal:ticket-transition", args=[ticket.pk])
    response = client.post(url, {"to": "closed", "version": ticket.version})
    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_my_requests_is_paginated_and_searchable(client: Client, requester: User, settings: Any) -> None:
    settings.PALIER_PAGE_SIZE = 2
    for i in range(3):
        make_ticket(requester, subject=f"Problem number {i}")
    client.force_login(requester)
    first = client.get(reverse("portal:ticket-list"))
    assert first.context["next_cursor"]
    second = client.get(reverse("portal:ticket-list"), {"cursor": first.context["next_cursor"]})
    seen = {r.ticket.pk for r in first.context["rows"]} | {r.ticket.pk for r in second.context["rows"]}
    assert len(seen) == 3
    assert second.context["next_cursor"] is None
    assert client.get(reverse("portal:ticket-list"), {"cursor": "garbage"}).status_code == 200


def test_my_requests_runs_a_constant_number_of_queries(
    client: Client, requester: User, django_assert_max_num_queries: Any
) -> None:
    make_ticket(requester)
    client.force_login(requester)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("portal:ticket-list"))
    for _ in range(15):
        make_ticket(requester)
    with django_assert_max_num_queries(len(few)):
        client.get(reverse("portal:ticket-list"))


def test_invisible_pages_answer_a_404_page_in_the_users_language(client: Client, requester: User) -> None:
    people.update_user(requester, by=requester, language="en")
    client.force_login(requester)
    response = client.get(reverse("portal:ticket-detail", args=[999999]))
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="en">' in html and "Page not found" in html


def test_404_page_is_in_french_for_a_french_user(client: Client, requester: User) -> None:
    people.update_user(requester, by=requester, language="fr")
    client.force_login(requester)
    response = client.get("/portal/requests/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="fr">' in html and "Page introuvable" in html
    assert 'id="main"' in html and 'class="skip-link"' in html  # inside the layout


def test_unknown_url_answers_the_404_page_in_english(client: Client, requester: User) -> None:
    people.update_user(requester, by=requester, language="en")
    client.force_login(requester)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


# --- My requests: search, tabs --------------------------------------------------------------------


def test_search_only_finds_my_own_requests(client: Client, requester: User, requester_b: User, agent: User) -> None:
    people.update_organisation(requester.organisation, by=None, name="Acme", share_tickets=True)
    requester.refresh_from_db()
    mine = make_ticket(requester, subject="Laptop battery swollen")
    theirs = make_ticket(requester_b, subject="Laptop battery dead")  # same organisation, shared tickets
    services.comment_on_ticket(theirs, by=agent, body="battery ordered for Bob")
    client.force_login(requester)
    response = client.get(reverse("portal:ticket-list"), {"q": "battery"})
    assert [r.ticket.pk for r in response.context["rows"]] == [mine.pk]
    assert response.context["state"] == "all"  # a search looks in closed requests too
    html = response.content.decode()
    assert "Laptop battery swollen" in html and "Laptop battery dead" not in html
    # the requester filter cannot be overridden from the query string
    forced = client.get(reverse("portal:ticket-list"), {"q": "battery", "requester": requester_b.pk})
    assert [r.ticket.pk for r in forced.context["rows"]] == [mine.pk]


def test_search_by_reference_and_from_the_home_box(client: Client, requester: User) -> None:
    ticket = make_ticket(requester, subject="VPN drops every hour")
    client.force_login(requester)
    home = client.get(reverse("portal:home")).content.decode()
    assert 'role="search"' in home and 'name="q"' in home and 'for="portal-search"' in home
    response = client.get(reverse("portal:ticket-list"), {"q": "vpn", "state": "all"})
    assert [r.ticket.pk for r in response.context["rows"]] == [ticket.pk]


def test_open_and_closed_tabs(client: Client, requester: User, agent: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    open_one = make_ticket(requester, subject="Still broken")
    solved = make_ticket(requester, subject="Solved, waiting for me")
    services.transition_ticket(solved, to="resolved", by=agent)
    withdrawn = make_ticket(requester, subject="Not needed any more")
    services.transition_ticket(withdrawn, to="cancelled", by=requester)
    client.force_login(requester)
    url = reverse("portal:ticket-list")
    opened = client.get(url)
    assert opened.context["state"] == "open"
    assert {r.ticket.pk for r in opened.context["rows"]} == {open_one.pk, solved.pk}
    closed = client.get(url, {"state": "closed"})
    assert [r.ticket.pk for r in closed.context["rows"]] == [withdrawn.pk]
    html = closed.content.decode()
    assert 'aria-current="page"' in html and "Withdrawn" in html
    everything = client.get(url, {"state": "all"})
    assert len(everything.context["rows"]) == 3
    assert client.get(url, {"state": "bogus"}).status_code == 200  # ignored, not an error
    waiting = [r for r in opened.context["rows"] if r.needs_me]
    assert [r.ticket.pk for r in waiting] == [solved.pk]


def test_htmx_search_returns_only_the_results(client: Client, requester: User) -> None:
    make_ticket(requester, subject="Printer jam")
    client.force_login(requester)
    response = client.get(reverse("portal:ticket-list"), {"q": "printer"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results">') and "<html" not in html
    assert "Printer jam" in html


def test_my_requests_show_relative_times_with_the_date(client: Client, requester: User) -> None:
    make_ticket(requester)
    people.update_user(requester, by=requester, language="fr")
    client.force_login(requester)
    html = client.get(reverse("portal:ticket-list")).content.decode()
    assert "<time datetime=" in html and 'title="' in html
    assert "maintenant" in html or "il y a" in html


def test_confirming_a_solution_closes_the_request(client: Client, requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    services.transition_ticket(ticket, to="resolved", by=agent)
    ticket.refresh_from_db()
    client.force_login(requester)
    url = reverse("portal:ticket-transition", args=[ticket.pk])
    assert client.post(url, {"to": "closed", "version": ticket.version}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    closed = client.get(reverse("portal:ticket-list"), {"state": "closed"})
    assert [r.ticket.pk for r in closed.context["rows"]] == [ticket.pk]
    html = client.get(reverse("portal:ticket-detail", args=[ticket.pk])).content.decode()
    assert reverse("portal:ticket-reply", args=[ticket.pk]) not in html  # finished: no reply box


def test_request_page_explains_the_status_in_plain_words(client: Client, requester: User, agent: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    ticket = make_ticket(requester)
    services.transition_ticket(ticket, to="pending_requester", by=agent)
    client.force_login(requester)
    html = client.get(reverse("portal:ticket-detail", args=[ticket.pk])).content.decode()
    assert "Waiting for your answer" in html
    assert "We are waiting for an answer from you" in html
    assert 'aria-current="step"' in html
    assert "Answer the support team" in html


# --- bad input ------------------------------------------------------------------------------------


def test_form_errors_keep_what_was_typed(client: Client, requester: User) -> None:
    client.force_login(requester)
    data = _new_ticket_data(subject="", description="Typed with care: the screen flickers")
    response = client.post(reverse("portal:ticket-new"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Typed with care: the screen flickers" in html
    assert 'name="impact" value="medium" class="form-check-input" id="id_impact_1" required checked' in html
    assert 'aria-invalid="true" aria-describedby="id_subject_helptext id_subject_error"' in html
    assert not Ticket.objects.exists()


def test_oversized_upload_is_refused_and_nothing_is_stored(
    client: Client, requester: User, settings: Any, tmp_path: Any
) -> None:
    settings.PALIER_MAX_ATTACHMENT_BYTES = 100
    client.force_login(requester)
    big = SimpleUploadedFile("big.txt", b"x" * 500, content_type="text/plain")
    data = _new_ticket_data(subject="Keep this subject", attachments=[big])
    response = client.post(reverse("portal:ticket-new"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_attachments_error"' in html and "big.txt" in html
    assert 'value="Keep this subject"' in html
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    media = tmp_path / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_oversized_reply_attachment_is_refused(client: Client, requester: User, settings: Any) -> None:
    settings.PALIER_MAX_ATTACHMENT_BYTES = 100
    ticket = make_ticket(requester)
    client.force_login(requester)
    big = SimpleUploadedFile("big.log", b"y" * 500, content_type="text/plain")
    url = reverse("portal:ticket-reply", args=[ticket.pk])
    response = client.post(url, {"body": "See the log", "attachments": [big]})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_attachments_error"' in html and "See the log" in html
    assert ticket.comments.count() == 0 and not Attachment.objects.exists()


def test_a_body_larger_than_any_upload_is_refused_unread(client: Client, requester: User, settings: Any) -> None:
    settings.PALIER_MAX_ATTACHMENT_BYTES = 10
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(requester)
    huge = SimpleUploadedFile("huge.bin", b"z" * (1024 * 1024 + 500), content_type="application/octet-stream")
    response = client.post(reverse("portal:ticket-new"), _new_ticket_data(attachments=[huge]))
    assert response.status_code == 413
    assert "Files too large" in response.content.decode()
    assert not Ticket.objects.exists()


def test_upload_views_still_check_the_csrf_token(requester: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(requester)
    response = client.post(reverse("portal:ticket-new"), _new_ticket_data())
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_home_shows_open_requests_and_leaves_the_slots_empty(client: Client, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    make_ticket(requester, subject="Mouse is dead")
    client.force_login(requester)
    html = client.get(reverse("portal:home")).content.decode()
    assert "Mouse is dead" in html and "Get help" in html
    assert "SLOT" not in html  # the slots are template comments, nothing is rendered
