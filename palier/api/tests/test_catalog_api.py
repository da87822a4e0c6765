"""The service catalog API: what each caller may see and request, the item's form for clients,
submissions checked like the portal's form (a problem per field, nothing created), idempotent
retries, requests with their approvals and tasks, approval decisions, query budgets and the
OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.catalog.models import Approval, CatalogCategory, CatalogItem, Submission
from palier.catalog.tests.builders import make_item
from palier.people import services as people
from palier.people.models import Organisation, User
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db
V = CatalogItem.Visibility
D = Approval.Decision

FIELDS = [
    {"key": "software", "kind": "short_text", "required": True, "label_fr": "Logiciel", "label_en": "Software"},
    {"key": "why", "kind": "long_text"},
    {"key": "seats", "kind": "number", "min_value": 1, "max_value": 10},
    {"key": "start", "kind": "date"},
    {
        "key": "os",
        "kind": "choice",
        "choices": [{"value": "win", "fr": "Windows", "en": "Windows"}, {"value": "mac", "fr": "Mac", "en": "Mac"}],
    },
    {
        "key": "extras",
        "kind": "multiple",
        "choices": [{"value": "vpn", "fr": "VPN", "en": "VPN"}, {"value": "usb", "fr": "Clé USB", "en": "USB key"}],
    },
    {"key": "for_whom", "kind": "person"},
    {"key": "agree", "kind": "checkbox", "required": True, "help_fr": "Cochez", "help_en": "Tick it"},
]
GOOD = {
    "software": "Inkscape 1.3",
    "why": "Diagrams",
    "seats": 3,
    "start": "2030-05-04",
    "os": "mac",
    "extras": ["vpn", "usb"],
    "for_whom": "bob@acme.test",
    "agree": True,
}


@pytest.fixture
def category() -> CatalogCategory:
    return CatalogCategory.objects.create(name_fr="Logiciels", name_en="Software", order=1)


@pytest.fixture
def software(category: CatalogCategory, requester_b: User) -> CatalogItem:
    return make_item(name="Install software", category=category, fields=FIELDS)


@pytest.fixture
def acme_only(org: Organisation) -> CatalogItem:
    item = make_item(name="Acme badge", visibility=V.ORGANISATIONS)
    item.organisations.set([org])
    return item


@pytest.fixture
def boss(org: Organisation) -> User:
    return people.create_user(email="boss@acme.test", full_name="Bea Boss", organisation=org, password="pw-bea-123!")


@pytest.fixture
def approved_item(boss: User, l2: Any) -> CatalogItem:
    return make_item(name="New laptop", stages=[{"kind": "people", "people": [boss]}], tasks=[("Prepare", l2)])


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def counts() -> tuple[int, int]:
    return Ticket.objects.count(), Submission.objects.count()


def post(client: Any, item: CatalogItem, answers: dict[str, Any], **headers: Any) -> Any:
    return client.call("POST", f"/catalog/items/{item.pk}/requests", {"answers": answers}, **headers)


# --- browsing ---------------------------------------------------------------------------------------


def test_a_restricted_item_is_invisible_to_another_organisation(
    token_client, requester, outsider, agent, acme_only, software
) -> None:
    assert {acme_only.pk, software.pk} <= ids(token_client(requester).call("GET", "/catalog/items?limit=100"))
    theirs = ids(token_client(outsider).call("GET", "/catalog/items?limit=100"))
    assert software.pk in theirs and acme_only.pk not in theirs
    assert_problem(token_client(outsider).call("GET", f"/catalog/items/{acme_only.pk}"), 404)
    assert_problem(post(token_client(outsider), acme_only, {"what": "x"}), 404)
    assert token_client(requester).call("GET", f"/catalog/items/{acme_only.pk}").status_code == 200
    assert token_client(agent).call("GET", f"/catalog/items/{acme_only.pk}").status_code == 200


def test_an_inactive_item_answers_404_even_to_agents(token_client, agent, requester) -> None:
    item = make_item(name="Old fax", is_active=False)
    for user in (agent, requester):
        assert_problem(token_client(user).call("GET", f"/catalog/items/{item.pk}"), 404)
        assert item.pk not in ids(token_client(user).call("GET", "/catalog/items?limit=100"))


def test_items_are_searched_filtered_by_category_and_paginated(token_client, requester, category, software) -> None:
    other = make_item(name="Install printer driver", category=category)
    client = token_client(requester)
    assert ids(client.call("GET", f"/catalog/items?q=software&category={category.pk}")) == {software.pk}
    assert software.pk not in ids(client.call("GET", "/catalog/items?q=printer"))
    first = client.call("GET", f"/catalog/items?category={category.pk}&limit=1")
    assert ids(first) == {software.pk} or ids(first) == {other.pk}
    cursor = first.json()["next_cursor"]
    second = client.call("GET", f"/catalog/items?category={category.pk}&limit=1&cursor={cursor}")
    assert ids(first) | ids(second) == {software.pk, other.pk} and second.json()["next_cursor"] is None
    assert_problem(client.call("GET", "/catalog/items?cursor=garbage!"), 400, "cursor")


def test_categories_hold_only_visible_items(token_client, outsider, requester, org) -> None:
    hidden = CatalogCategory.objects.create(name_fr="Badges", name_en="Badges", order=9)
    item = make_item(name="Acme badge", visibility=V.ORGANISATIONS, category=hidden)
    item.organisations.set([org])
    names = [c["name_en"] for c in token_client(requester).call("GET", "/catalog/categories").json()]
    assert "Badges" in names
    names = [c["name_en"] for c in token_client(outsider).call("GET", "/catalog/categories").json()]
    assert "Badges" not in names


@pytest.mark.parametrize(
    ("language", "label", "help_text"), [("fr", "Logiciel", "Cochez"), ("en", "Software", "Tick it")]
)
def test_item_detail_describes_the_form_in_the_callers_language(
    token_client, requester, software, language, label, help_text
) -> None:
    requester.language = language
    requester.save(update_fields=["language"])
    r = token_client(requester).call("GET", f"/catalog/items/{software.pk}")
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["category"]["name"] == ("Logiciels" if language == "fr" else "Software")
    fields = {f["key"]: f for f in data["fields"]}
    assert [f["key"] for f in data["fields"]] == [f["key"] for f in FIELDS]
    assert fields["software"]["label"] == label and fields["software"]["required"] is True
    assert fields["software"]["label_fr"] == "Logiciel" and fields["software"]["label_en"] == "Software"
    assert fields["software"]["max_length"] == 200 and fields["why"]["max_length"] == 5000
    assert fields["agree"]["help"] == help_text
    assert (fields["seats"]["min_value"], fields["seats"]["max_value"]) == (1, 10)
    usb = fields["extras"]["choices"][1]
    assert usb == {
        "value": "usb",
        "label": "Clé USB" if language == "fr" else "USB key",
        "label_fr": "Clé USB",
        "label_en": "USB key",
    }
    assert data["needs_approval"] is False


# --- submitting -------------------------------------------------------------------------------------


def test_a_full_submission_creates_the_request_with_its_answers(token_client, requester, requester_b, software) -> None:
    r = post(token_client(requester), software, GOOD)
    assert r.status_code == 201, r.content
    data = r.json()
    ticket = Ticket.objects.get(pk=data["ticket"]["id"])
    assert r["Location"] == f"{API}/catalog/requests/{ticket.pk}"
    assert ticket.kind == Ticket.Kind.REQUEST and ticket.requester == requester
    assert ticket.subject.startswith("Install software") and ticket.subject.endswith(" — Inkscape 1.3")
    submission = Submission.objects.get(ticket=ticket)
    values = {a["key"]: a["value"] for a in submission.answers}
    assert values == {
        "software": "Inkscape 1.3",
        "why": "Diagrams",
        "seats": "3",
        "start": "2030-05-04",
        "os": "mac",
        "extras": ["vpn", "usb"],
        "for_whom": {"id": requester_b.pk, "email": "bob@acme.test"},
        "agree": True,
    }
    assert data["state"] == "fulfilment" and data["approval_steps"] == []
    assert {a["key"]: a["value"] for a in data["answers"]} == values
    # the same request reads back
    again = token_client(requester).call("GET", f"/catalog/requests/{ticket.pk}")
    assert again.status_code == 200 and again.json()["answers"] == data["answers"]


def test_optional_answers_may_be_left_out_or_null(token_client, requester, software) -> None:
    r = post(token_client(requester), software, {"software": "Vim", "agree": True, "why": None})
    assert r.status_code == 201, r.content
    assert {a["key"]: a["value"] for a in r.json()["answers"]}["seats"] is None


BAD = [
    ({**GOOD, "colour": "red"}, "answers.colour"),
    ({k: v for k, v in GOOD.items() if k != "software"}, "answers.software"),
    ({**GOOD, "agree": False}, "answers.agree"),
    ({**GOOD, "seats": "many"}, "answers.seats"),
    ({**GOOD, "seats": [3]}, "answers.seats"),
    ({**GOOD, "software": 42}, "answers.software"),
    ({**GOOD, "agree": "yes"}, "answers.agree"),
    ({**GOOD, "start": "04/05/2030"}, "answers.start"),
    ({**GOOD, "start": "2030-02-30"}, "answers.start"),
    ({**GOOD, "seats": 11}, "answers.seats"),
    ({**GOOD, "seats": 0}, "answers.seats"),
    ({**GOOD, "os": "linux"}, "answers.os"),
    ({**GOOD, "extras": ["vpn", "floppy"]}, "answers.extras"),
    ({**GOOD, "extras": "vpn"}, "answers.extras"),
    ({**GOOD, "for_whom": "eve@globex.test"}, "answers.for_whom"),
    ({**GOOD, "software": "x" * 201}, "answers.software"),
    ({**GOOD, "why": "x" * 5001}, "answers.why"),
]


@pytest.mark.parametrize(("answers", "field"), BAD)
def test_each_bad_answer_is_named_and_nothing_is_created(
    token_client, requester, outsider, software, answers, field
) -> None:
    before = counts()
    body = assert_problem(post(token_client(requester), software, answers), 422, field)
    assert list(body["errors"]) == [field] and body["errors"][field][0]
    assert counts() == before


def test_several_bad_answers_are_all_named(token_client, requester, software) -> None:
    body = assert_problem(post(token_client(requester), software, {"seats": 99, "os": 1}), 422)
    assert set(body["errors"]) == {"answers.software", "answers.agree", "answers.seats", "answers.os"}


def test_messages_follow_the_callers_language(token_client, requester, software) -> None:
    requester.language = "fr"
    requester.save(update_fields=["language"])
    body = assert_problem(post(token_client(requester), software, {**GOOD, "colour": "red"}), 422)
    assert body["errors"]["answers.colour"] == ["Champ inconnu."]


def test_malformed_bodies_are_refused(token_client, requester, software) -> None:
    before = counts()
    client = token_client(requester)
    url = f"{API}/catalog/items/{software.pk}/requests"
    assert_problem(client.post(url, data="{not json", content_type="application/json"), 400)
    assert_problem(client.post(url, data="answers=1", content_type="application/x-www-form-urlencoded"), 415)
    assert_problem(client.call("POST", f"/catalog/items/{software.pk}/requests", {"answers": ["x"]}), 422, "answers")
    assert_problem(client.call("POST", f"/catalog/items/{software.pk}/requests", {"answer": {}}), 422, "answer")
    big = {"answers": {**GOOD, "why": "x" * 2_000_000}}
    assert_problem(client.call("POST", f"/catalog/items/{software.pk}/requests", big), 413)
    assert counts() == before


def test_attachment_fields_are_refused_with_a_clear_message(token_client, requester) -> None:
    item = make_item(fields=[{"key": "what", "kind": "short_text"}, {"key": "quote", "kind": "attachment"}])
    required = make_item(fields=[{"key": "scan", "kind": "attachment", "required": True}])
    client = token_client(requester)
    detail = client.call("GET", f"/catalog/items/{item.pk}").json()
    assert [f["api_input"] for f in detail["fields"]] == ["string", "unsupported"]
    body = assert_problem(post(client, item, {"what": "x", "quote": "file.pdf"}), 422, "answers.quote")
    assert any(word in body["errors"]["answers.quote"][0] for word in ("portal", "portail"))  # in the caller's language
    assert_problem(post(client, required, {}), 422, "answers.scan")
    assert post(client, item, {"what": "x"}).status_code == 201  # an optional one may be left out


def test_an_idempotent_retry_returns_the_same_request(token_client, requester, software) -> None:
    client = token_client(requester)
    first = post(client, software, GOOD, **{"Idempotency-Key": "hr-42"})
    assert first.status_code == 201, first.content
    retry = post(client, software, GOOD, **{"Idempotency-Key": "hr-42"})
    assert retry.status_code == 200 and retry.json()["ticket"]["id"] == first.json()["ticket"]["id"]
    assert retry["Location"] == first["Location"]
    assert Submission.objects.count() == 1
    other = post(client, software, {**GOOD, "software": "Gimp"}, **{"Idempotency-Key": "hr-42"})
    assert_problem(other, 422, "Idempotency-Key")
    assert Submission.objects.count() == 1
    assert post(client, software, GOOD, **{"Idempotency-Key": "hr-43"}).status_code == 201


def test_agents_may_request_for_someone_requesters_may_not(
    token_client, agent, requester, requester_b, outsider, acme_only
) -> None:
    r = token_client(agent).call(
        "POST", f"/catalog/items/{acme_only.pk}/requests", {"answers": {"what": "Badge"}, "requester": requester.pk}
    )
    assert r.status_code == 201, r.content
    opened = Ticket.objects.get(pk=r.json()["ticket"]["id"])
    assert opened.requester == requester
    assert opened.created_by == agent  # the agent who asked is shown as its creator
    assert opened.channel == Ticket.Channel.API
    before = counts()
    mine = {"answers": {"what": "Badge"}, "requester": requester_b.pk}
    assert_problem(token_client(requester).call("POST", f"/catalog/items/{acme_only.pk}/requests", mine), 403)
    theirs = {"answers": {"what": "Badge"}, "requester": outsider.pk}
    body = assert_problem(token_client(agent).call("POST", f"/catalog/items/{acme_only.pk}/requests", theirs), 422)
    assert list(body["errors"]) == ["requester"]
    assert counts() == before


def test_read_only_tokens_cannot_submit_or_decide(token_client, requester, software) -> None:
    client = token_client(requester, scope="read")
    assert client.call("GET", f"/catalog/items/{software.pk}").status_code == 200
    assert_problem(post(client, software, GOOD), 403)
    assert_problem(client.call("POST", "/catalog/approvals/1", {"decision": "approve"}), 403)


# --- requests and approvals -------------------------------------------------------------------------


def _submit(client: Any, item: CatalogItem) -> int:
    r = post(client, item, {"what": "A laptop"})
    assert r.status_code == 201, r.content
    return int(r.json()["ticket"]["id"])


def test_approve_flow(token_client, requester, boss, outsider, approved_item) -> None:
    ticket_id = _submit(token_client(requester), approved_item)
    request = token_client(requester).call("GET", f"/catalog/requests/{ticket_id}").json()
    assert request["state"] == "approval" and request["ticket"]["status"] == "pending_approval"
    (step,) = request["approval_steps"]
    assert step["state"] == "open" and step["approvals"][0]["approver"]["name"] == "Bea Boss"
    assert request["tasks"][0]["ticket"] is None

    pending = token_client(boss).call("GET", "/catalog/approvals").json()["items"]
    assert [a["request"]["ticket"]["id"] for a in pending] == [ticket_id]
    assert pending[0]["request"]["answers"][0]["value"] == "A laptop"
    approval_id = pending[0]["id"]
    assert token_client(outsider).call("GET", "/catalog/approvals").json()["items"] == []
    assert_problem(
        token_client(outsider).call("POST", f"/catalog/approvals/{approval_id}", {"decision": "approve"}), 404
    )
    assert_problem(
        token_client(requester).call("POST", f"/catalog/approvals/{approval_id}", {"decision": "approve"}), 404
    )
    # the approver may read the request, someone else may not
    assert token_client(boss).call("GET", f"/catalog/requests/{ticket_id}").status_code == 200
    assert_problem(token_client(outsider).call("GET", f"/catalog/requests/{ticket_id}"), 404)

    r = token_client(boss).call("POST", f"/catalog/approvals/{approval_id}", {"decision": "approve", "comment": "ok"})
    assert r.status_code == 200, r.content
    assert r.json()["decision"] == "approved" and r.json()["request"]["state"] == "fulfilment"
    assert_problem(
        token_client(boss).call("POST", f"/catalog/approvals/{approval_id}", {"decision": "reject", "comment": "no"}),
        409,
    )
    assert token_client(boss).call("GET", "/catalog/approvals").json()["items"] == []
    request = token_client(requester).call("GET", f"/catalog/requests/{ticket_id}").json()
    assert request["approval_steps"][0]["state"] == "approved"
    assert request["approval_steps"][0]["approvals"][0]["decision"] == "approved"
    assert request["tasks"][0]["ticket"]["status"] in {"new", "assigned"}


def test_reject_needs_a_comment_and_closes_the_request(token_client, requester, boss, approved_item) -> None:
    ticket_id = _submit(token_client(requester), approved_item)
    approval = Approval.objects.get(approver=boss)
    url = f"/catalog/approvals/{approval.pk}"
    assert_problem(token_client(boss).call("POST", url, {"decision": "reject"}), 422, "comment")
    assert_problem(token_client(boss).call("POST", url, {"decision": "maybe"}), 422, "decision")
    approval.refresh_from_db()
    assert approval.decision == D.PENDING
    r = token_client(boss).call("POST", url, {"decision": "reject", "comment": "Budget frozen"})
    assert r.status_code == 200, r.content
    assert r.json()["decision"] == "rejected" and r.json()["comment"] == "Budget frozen"
    request = token_client(requester).call("GET", f"/catalog/requests/{ticket_id}").json()
    assert request["state"] == "rejected" and request["ticket"]["status"] == "closed"
    assert_problem(token_client(boss).call("POST", url, {"decision": "approve"}), 409)


def test_request_lists_follow_ticket_visibility(
    token_client, requester, requester_b, outsider, agent, admin_user, software, acme_only
) -> None:
    mine = _submit(token_client(requester), acme_only)
    theirs = _submit(token_client(outsider), make_item(name="Mouse"))
    assert ids_of_requests(token_client(requester).call("GET", "/catalog/requests")) == {mine}
    assert ids_of_requests(token_client(outsider).call("GET", "/catalog/requests")) == {theirs}
    assert ids_of_requests(token_client(requester_b).call("GET", "/catalog/requests")) == set()
    assert_problem(token_client(requester_b).call("GET", f"/catalog/requests/{mine}"), 404)
    everyone = token_client(admin_user)
    assert ids_of_requests(everyone.call("GET", "/catalog/requests")) == {mine, theirs}
    assert ids_of_requests(everyone.call("GET", "/catalog/requests?mine=true")) == set()
    assert ids_of_requests(everyone.call("GET", f"/catalog/requests?item={acme_only.pk}")) == {mine}
    assert ids_of_requests(everyone.call("GET", "/catalog/requests?state=rejected")) == set()
    assert_problem(everyone.call("GET", "/catalog/requests?state=lost"), 422, "state")


def ids_of_requests(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["ticket"]["id"] for item in response.json()["items"]}


# --- query budgets and documentation ----------------------------------------------------------------


def test_list_endpoints_stay_within_a_query_budget(
    token_client, requester, boss, category, django_assert_max_num_queries
) -> None:
    items = [
        make_item(name=f"Item {n}", category=category, stages=[{"kind": "people", "people": [boss]}]) for n in range(8)
    ]
    client = token_client(requester)
    for item in items:
        _submit(client, item)
    approver = token_client(boss)
    for path, c in (
        ("/catalog/items?limit=100", client),
        ("/catalog/categories", client),
        ("/catalog/requests?limit=100", client),
        ("/catalog/approvals?limit=100", approver),
    ):
        with django_assert_max_num_queries(6):
            r = c.call("GET", path)
        assert r.status_code == 200, r.content
    assert len(approver.call("GET", "/catalog/approvals").json()["items"]) == 8
    with django_assert_max_num_queries(10):
        assert client.call("GET", f"/catalog/items/{items[0].pk}").status_code == 200
    ticket_id = Submission.objects.filter(item=items[0]).values_list("ticket_id", flat=True).get()
    with django_assert_max_num_queries(10):
        assert client.call("GET", f"/catalog/requests/{ticket_id}").status_code == 200


def test_openapi_lists_the_catalog_endpoints(client_for) -> None:
    paths = client_for(None).get(f"{API}/openapi.json").json()["paths"]
    for path in (
        "/api/v1/catalog/categories",
        "/api/v1/catalog/items",
        "/api/v1/catalog/items/{item_id}",
        "/api/v1/catalog/items/{item_id}/requests",
        "/api/v1/catalog/requests",
        "/api/v1/catalog/requests/{ticket_id}",
        "/api/v1/catalog/approvals",
        "/api/v1/catalog/approvals/{approval_id}",
    ):
        assert path in paths
