"""The problem pages: list, page, form, the links from the queue and the ticket page, stale
versions, files, and the resolution form."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from palier.assets.tests.builders import make_asset
from palier.people.models import User
from palier.problems import services
from palier.problems.models import Problem, ProblemAttachment, ProblemIncident
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _client(user: User) -> Client:
    client = Client(**EN)
    client.force_login(user)
    return client


def _incident(requester: User, subject: str = "VPN drops every hour") -> Ticket:
    return make_ticket(requester, kind="incident", subject=subject)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# --- who sees what --------------------------------------------------------------------------------


def test_requesters_get_404_everywhere(requester: User, agent: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    client = _client(requester)
    for url in (
        reverse("problems:list"),
        reverse("problems:new"),
        reverse("problems:detail", args=[problem.pk]),
        reverse("problems:edit", args=[problem.pk]),
    ):
        assert client.get(url).status_code == 404
    response = client.post(reverse("problems:comment", args=[problem.pk]), {"body": "hello", "internal": "on"})
    assert response.status_code == 404
    assert not problem.comments.exists()


def test_unknown_problem_is_404(agent: User) -> None:
    assert _client(agent).get(reverse("problems:detail", args=[999999])).status_code == 404


# --- the list --------------------------------------------------------------------------------------


def test_the_list_filters_and_pages(agent: User, manager: User, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    vpn = services.create_problem(by=agent, title="Passerelle VPN instable", workaround="Reconnect")
    printer = services.create_problem(by=agent, title="Printer queue stalls", impact="high", urgency="high")
    done = services.create_problem(by=agent, title="Old mail outage")
    services.transition_problem(done, to=Problem.Status.RESOLVED, by=manager)
    client = _client(agent)
    url = reverse("problems:list")
    with django_assert_max_num_queries(10):
        page = _text(client.get(url))
    assert vpn.reference in page and printer.reference in page and done.reference not in page  # open by default
    assert "workaround available" in page
    assert done.reference in _text(client.get(url, {"status": "resolved"}))
    found = _text(client.get(url, {"q": "passerelle vpn"}))  # accents and case do not matter
    assert vpn.reference in found and printer.reference not in found
    assert vpn.reference in _text(client.get(url, {"q": vpn.reference}))
    assert printer.reference in _text(client.get(url, {"priority": "1"}))
    assert vpn.reference not in _text(client.get(url, {"priority": "1"}))


def test_the_list_is_paginated_by_keyset(agent: User, settings) -> None:  # type: ignore[no-untyped-def]
    from palier.problems import selectors

    for n in range(3):
        services.create_problem(by=agent, title=f"Problem {n}")
    page = selectors.problem_page(agent, selectors.ProblemFilters(), limit=2)
    assert [p.title for p in page.items] == ["Problem 2", "Problem 1"] and page.next_after is not None
    rest = selectors.problem_page(agent, selectors.ProblemFilters(), after=page.next_after, limit=2)
    assert [p.title for p in rest.items] == ["Problem 0"] and rest.next_after is None


# --- creating from incidents ---------------------------------------------------------------------------


def test_create_a_problem_from_three_incidents(agent: User, requester: User) -> None:
    incidents = [_incident(requester, f"VPN drops {n}") for n in range(3)]
    client = _client(agent)
    ids = ",".join(str(t.pk) for t in incidents)
    form = _text(client.get(reverse("problems:new"), {"tickets": ids}))
    for ticket in incidents:
        assert f'data-ticket="{ticket.reference}"' in form
    response = client.post(
        reverse("problems:new"),
        {"title": "VPN gateway drops", "impact": "high", "urgency": "medium", "incidents": ids},
    )
    problem = Problem.objects.get(title="VPN gateway drops")
    assert response.status_code == 302 and response["Location"] == reverse("problems:detail", args=[problem.pk])
    assert set(ProblemIncident.objects.filter(problem=problem).values_list("ticket_id", flat=True)) == {
        t.pk for t in incidents
    }
    page = _text(client.get(response["Location"]))
    for ticket in incidents:
        assert f'data-ticket="{ticket.reference}"' in page


def test_creating_with_a_request_or_a_hidden_ticket_creates_nothing(
    agent: User, agent_l2: User, requester: User
) -> None:
    mine = _incident(requester)
    request = make_ticket(requester, kind="request", subject="New laptop")
    data = {"title": "VPN gateway drops", "impact": "medium", "urgency": "medium"}
    response = _client(agent).post(reverse("problems:new"), {**data, "incidents": f"{mine.pk},{request.pk}"})
    assert response.status_code == 400 and "Only incidents are linked to problems" in _text(response)
    # in triage: Marc (L2) may not see it
    response = _client(agent_l2).post(reverse("problems:new"), {**data, "incidents": str(mine.pk)})
    assert response.status_code == 400 and "you may not see them" in _text(response)
    assert not Problem.objects.exists() and not ProblemIncident.objects.exists()


def test_the_queue_bulk_actions(agent: User, requester: User) -> None:
    incidents = [_incident(requester, f"VPN {n}") for n in range(3)]
    problem = services.create_problem(by=agent, title="VPN gateway drops", workaround="Reconnect the client")
    client = _client(agent)
    queue = _text(client.get(reverse("agent:ticket-list")))
    assert 'id="bulk-problem"' in queue
    ids = [str(t.pk) for t in incidents]
    response = client.post(
        reverse("problems:link-tickets"), {"tickets": ids, "problem": problem.reference.lower(), "next": "/agent/"}
    )
    assert response.status_code == 302
    assert ProblemIncident.objects.filter(problem=problem).count() == 3
    # the queue shows the badge on each row
    queue = _text(client.get(reverse("agent:ticket-list")))
    assert queue.count(f"problem-badge-{problem.pk}") == 3 and "workaround available" in queue
    # linking them again changes nothing; to an unknown problem is refused
    client.post(reverse("problems:link-tickets"), {"tickets": ids, "problem": problem.reference})
    assert ProblemIncident.objects.filter(problem=problem).count() == 3
    other = _incident(requester, "Another")
    response = client.post(
        reverse("problems:link-tickets"), {"tickets": [other.pk], "problem": "PRB-999999"}, follow=True
    )
    assert "No problem PRB-999999" in _text(response)
    assert not ProblemIncident.objects.filter(ticket=other).exists()
    # "create a problem from the selection" goes to the form with them
    response = client.post(reverse("problems:from-tickets"), {"tickets": [other.pk]})
    assert response.status_code == 302 and response["Location"] == reverse("problems:new") + f"?tickets={other.pk}"


def test_linking_from_the_queue_refuses_a_ticket_i_may_not_see(agent_l2: User, requester: User, agent: User) -> None:
    hidden = _incident(requester)  # in triage: Marc (L2) does not see it
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    response = _client(agent_l2).post(
        reverse("problems:link-tickets"), {"tickets": [hidden.pk], "problem": problem.reference}, follow=True
    )
    assert "you may not see them" in _text(response)
    assert not ProblemIncident.objects.exists()


# --- the ticket page's panel ---------------------------------------------------------------------------


def test_the_ticket_page_shows_the_problem_and_its_workaround(agent: User, requester: User) -> None:
    ticket = _incident(requester)
    client = _client(agent)
    page = _text(client.get(reverse("agent:ticket-detail", args=[ticket.pk])))
    assert 'id="problem-panel"' in page and 'id="problem-link-form"' in page
    problem = services.create_problem(by=agent, title="VPN gateway drops", workaround="Reconnect the client")
    client.post(
        reverse("problems:link-tickets"),
        {
            "tickets": [ticket.pk],
            "problem": problem.reference,
            "next": reverse("agent:ticket-detail", args=[ticket.pk]),
        },
    )
    page = _text(client.get(reverse("agent:ticket-detail", args=[ticket.pk])))
    assert 'id="problem-linked"' in page and f">{problem.reference}</a>" in page and "(workaround available)" in page
    assert "Reconnect the client" in page


# --- the problem's page -------------------------------------------------------------------------------


def test_the_problem_page_and_its_query_count(agent: User, requester: User, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    incidents = [_incident(requester, f"VPN {n}") for n in range(5)]
    asset = make_asset("VPN-GW-01", by=agent, type="server", name="vpn gateway")
    problem = services.create_problem(
        by=agent, title="VPN gateway drops", incident_ids=[t.pk for t in incidents], asset_ids=[asset.pk]
    )
    services.comment_on_problem(problem, by=agent, body="Vendor ticket opened", internal=True)
    services.set_watching(problem, by=agent, watching=True)
    client = _client(agent)
    # session, user, problem, incidents, watchers, events, comments, assets, articles (+ their
    # titles when there are some), changes, files: whatever the number of each
    with django_assert_max_num_queries(12):
        response = client.get(reverse("problems:detail", args=[problem.pk]))
    page = _text(response)
    assert response.status_code == 200
    assert "Vendor ticket opened" in page and "linked 5 incidents" in page and "VPN-GW-01" in page
    assert "Stop watching" in page


def test_status_buttons_and_the_stale_version(agent: User, manager: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    client = _client(agent)
    page = _text(client.get(reverse("problems:detail", args=[problem.pk])))
    assert 'value="investigating"' in page and 'value="closed"' not in page
    seen = problem.version
    services.update_problem(problem, by=manager, description="Someone else edited it")
    response = client.post(
        reverse("problems:status", args=[problem.pk]), {"status": "investigating", "version": seen}, follow=True
    )
    assert "changed by someone else" in _text(response)
    problem.refresh_from_db()
    assert problem.status == Problem.Status.NEW
    # out of order: refused with the reason
    response = client.post(
        reverse("problems:status", args=[problem.pk]),
        {"status": "known_error", "version": problem.version},
        follow=True,
    )
    assert "Write the root cause first" in _text(response) or "root cause" in _text(response)
    problem.refresh_from_db()
    assert problem.status == Problem.Status.NEW


def test_the_edit_form_with_a_stale_version(agent: User, manager: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    client = _client(agent)
    url = reverse("problems:edit", args=[problem.pk])
    assert client.get(url).status_code == 200
    data = {"title": "VPN gateway drops at night", "impact": "medium", "urgency": "medium", "version": problem.version}
    services.update_problem(problem, by=manager, root_cause="Firmware leak")
    response = client.post(url, data)
    assert response.status_code == 400 and "changed by someone else" in _text(response)
    problem.refresh_from_db()
    assert problem.title == "VPN gateway drops"
    data |= {"version": problem.version, "root_cause": problem.root_cause}  # reloaded: what the other wrote
    response = client.post(url, data)
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.title == "VPN gateway drops at night" and problem.root_cause == "Firmware leak"


def test_link_and_unlink_incidents_by_reference(agent: User, requester: User) -> None:
    first, second = _incident(requester, "one"), _incident(requester, "two")
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    client = _client(agent)
    url = reverse("problems:incidents-link", args=[problem.pk])
    response = client.post(url, {"references": f"{first.reference}, INC-999999"})
    assert response.status_code == 400 and "INC-999999" in _text(response)
    assert not ProblemIncident.objects.exists()
    response = client.post(url, {"references": f"{first.reference}, {second.reference.lower()}"})
    assert response.status_code == 302 and ProblemIncident.objects.filter(problem=problem).count() == 2
    client.post(reverse("problems:incident-unlink", args=[problem.pk, first.pk]))
    assert list(ProblemIncident.objects.values_list("ticket_id", flat=True)) == [second.pk]


def test_comments_assets_and_watchers(agent: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    make_asset("VPN-GW-01", by=agent, type="server")
    client = _client(agent)
    assert client.post(reverse("problems:comment", args=[problem.pk]), {"body": "  "}).status_code == 400
    client.post(reverse("problems:comment", args=[problem.pk]), {"body": "Public news"})
    assert problem.comments.get().internal is False
    assert client.post(reverse("problems:asset-link", args=[problem.pk]), {"tag": "NOPE"}).status_code == 400
    client.post(reverse("problems:asset-link", args=[problem.pk]), {"tag": "vpn-gw-01"})
    assert problem.asset_links.count() == 1
    client.post(reverse("problems:watch", args=[problem.pk]), {"watch": "1"})
    assert list(problem.watchers.all()) == [agent]
    client.post(reverse("problems:watch", args=[problem.pk]), {"watch": "0"})
    assert not problem.watchers.exists()


def test_files_are_checked_and_served_to_agents_only(agent: User, requester: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    client = _client(agent)
    url = reverse("problems:file-upload", args=[problem.pk])
    bad = SimpleUploadedFile("invoice.pdf.exe", b"MZ\x90\x00" + b"\x00" * 100, content_type="application/pdf")
    response = client.post(url, {"file": bad})
    assert response.status_code == 400 and not ProblemAttachment.objects.exists()
    empty = SimpleUploadedFile("empty.txt", b"", content_type="text/plain")
    assert client.post(url, {"file": empty}).status_code == 400
    good = SimpleUploadedFile("vpn.log", b"12:00 tunnel down\n", content_type="text/plain")
    assert client.post(url, {"file": good}).status_code == 302
    stored = ProblemAttachment.objects.get()
    download = reverse("problems:file", args=[problem.pk, stored.pk])
    response = client.get(download)
    assert response.status_code == 200 and b"tunnel down" in b"".join(response.streaming_content)
    assert _client(requester).get(download).status_code == 404
    assert client.get(reverse("problems:file", args=[problem.pk + 1, stored.pk])).status_code == 404


def test_the_resolve_form(agent: User, manager: User, requester: User) -> None:
    incident = _incident(requester)
    problem = services.create_problem(by=agent, title="VPN gateway drops", incident_ids=[incident.pk])
    url = reverse("problems:resolve", args=[problem.pk])
    assert 'id="resolve-form"' not in _text(_client(agent).get(reverse("problems:detail", args=[problem.pk])))
    _client(agent).post(url, {"message": "Fixed", "notify": "on", "resolve_incidents": "on"})
    problem.refresh_from_db()
    assert problem.status == Problem.Status.NEW
    client = _client(manager)
    assert 'id="resolve-form"' in _text(client.get(reverse("problems:detail", args=[problem.pk])))
    response = client.post(url, {"message": "", "notify": "on"})
    assert response.status_code == 400 and "Write the message" in _text(response)
    response = client.post(url, {"message": "Fixed", "notify": "on", "resolve_incidents": "on"}, follow=True)
    assert "1 open incident will be told" in _text(response)
    problem.refresh_from_db()
    assert problem.status == Problem.Status.RESOLVED


def test_the_queue_buttons_answer_htmx_with_a_redirect(agent: User, agent_l2: User, requester: User) -> None:
    incident = _incident(requester)
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    client = _client(agent)
    htmx = {"HX-Request": "true"}
    data = {"tickets": [incident.pk], "problem": problem.reference, "next": reverse("agent:ticket-list")}
    response = client.post(reverse("problems:link-tickets"), data, headers=htmx)
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("agent:ticket-list")
    assert ProblemIncident.objects.filter(problem=problem, ticket=incident).exists()
    response = client.post(reverse("problems:from-tickets"), {"tickets": [incident.pk]}, headers=htmx)
    assert response["HX-Redirect"] == reverse("problems:new") + f"?tickets={incident.pk}"
    # the form lists only the incidents the person may see
    form = _text(_client(agent_l2).get(reverse("problems:new"), {"tickets": str(incident.pk)}))
    assert f'data-ticket="{incident.reference}"' not in form
