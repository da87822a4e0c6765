"""The change calendar's pages: month, week, list, filters, conflicts, freezes, feeds, administration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from palier.changes import feeds
from palier.changes.models import FreezeWindow, MaintenanceWindow
from palier.changes.services import freezes
from palier.changes.tests.calendar_builders import BASE, change_on, cmdb
from palier.people.models import User

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
JUNE = "?month=2026-06"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_requesters_and_strangers_never_see_the_calendar(requester: User, client: Client) -> None:
    assert client.get(reverse("change_calendar:month"), **EN).status_code == 302
    for name in ("month", "week", "list", "freezes", "maintenance"):
        assert _client(requester).get(reverse(f"change_calendar:{name}"), **EN).status_code == 404


def test_agents_do_not_administer_freezes(agent: User) -> None:
    response = _client(agent).post(
        reverse("change_calendar:freezes"),
        {"name": "Sneaky", "starts_at": "2026-06-01T00:00", "ends_at": "2026-06-02T00:00"},
        **EN,
    )
    assert response.status_code == 404 and not FreezeWindow.objects.exists()


def test_the_month_shows_chips_conflicts_and_freezes(agent: User, admin_user: User) -> None:
    items = cmdb(agent)
    on_db = change_on(agent, [items["db"]], title="Patch the database")
    on_app = change_on(agent, [items["app"]], start=BASE + timedelta(hours=1), title="Upgrade payroll")
    change_on(agent, [items["mail"]], start=BASE + timedelta(days=3), title="Mail quota")
    freezes.create_freeze(
        by=admin_user, name="Half-year close", starts_at=BASE + timedelta(days=20), ends_at=BASE + timedelta(days=22)
    )
    body = _client(agent).get(reverse("change_calendar:month") + JUNE, **EN).content.decode()
    assert "June 2026" in body and "3 changes" in body
    assert on_db.reference in body and "Patch the database" in body and "Mail quota" in body
    assert body.count("cal-conflict ") + body.count('cal-conflict"') >= 2
    assert (
        f"{on_app.reference} touches APP-01 Payroll application in an overlapping window, through a dependency" in body
    )
    assert "Half-year close" in body and 'id="day-2026-06-28"' in body
    # another month: nothing
    body = _client(agent).get(reverse("change_calendar:month") + "?month=2026-08", **EN).content.decode()
    assert "Patch the database" not in body and "No conflict among these changes." in body


def test_filters_narrow_the_calendar(agent: User) -> None:
    items = cmdb(agent)
    change_on(agent, [items["db"]], title="Patch the database")
    change_on(agent, [items["mail"]], title="Mail quota", start=BASE + timedelta(days=1))
    client = _client(agent)
    url = reverse("change_calendar:month")
    body = client.get(url, {"month": "2026-06", "service": items["service"].pk}, **EN).content.decode()
    assert "Patch the database" in body and "Mail quota" not in body
    body = client.get(url, {"month": "2026-06", "asset": "mail-01"}, **EN).content.decode()
    assert "Mail quota" in body and "Patch the database" not in body
    body = client.get(url, {"month": "2026-06", "risk": "critical"}, **EN).content.decode()
    assert "Mail quota" not in body and "Patch the database" not in body
    body = client.get(url, {"month": "2026-06", "asset": "NOPE-404"}, **EN).content.decode()
    assert "No asset you may see has this tag." in body and "Mail quota" not in body
    body = client.get(url, {"month": "2026-13"}, **EN).content.decode()
    assert "Unknown month “2026-13”: use YYYY-MM." in body


def test_week_and_list_views(agent: User) -> None:
    items = cmdb(agent)
    first = change_on(agent, [items["db"]], title="Patch the database")
    change_on(agent, [items["app"]], title="Upgrade payroll", start=BASE + timedelta(days=10))
    client = _client(agent)
    body = client.get(reverse("change_calendar:week"), {"week": "2026-W24"}, **EN).content.decode()
    assert "Patch the database" in body and "Upgrade payroll" not in body and 'id="day-2026-06-08"' in body
    assert "Unknown week" in client.get(reverse("change_calendar:week"), {"week": "2026-W60"}, **EN).content.decode()
    body = client.get(
        reverse("change_calendar:list"), {"start": "2026-06-01", "end": "2026-06-30"}, **EN
    ).content.decode()
    assert f'id="row-{first.pk}"' in body and "Upgrade payroll" in body
    body = client.get(
        reverse("change_calendar:list"), {"start": "2026-06-30", "end": "2026-06-01"}, **EN
    ).content.decode()
    assert "The period must end after it starts." in body


def test_the_list_pages_by_keyset(agent: User, monkeypatch: pytest.MonkeyPatch) -> None:
    from palier.changes import calendar_selectors

    items = cmdb(agent)
    made = [change_on(agent, [items["mail"]], title=f"Step {i}", start=BASE + timedelta(hours=3 * i)) for i in range(3)]
    monkeypatch.setattr(calendar_selectors, "LIST_PAGE", 2)
    client = _client(agent)
    body = client.get(
        reverse("change_calendar:list"), {"start": "2026-06-01", "end": "2026-06-30"}, **EN
    ).content.decode()
    assert "Step 0" in body and "Step 1" in body and "Step 2" not in body and "Next page" in body
    after = f"{made[1].planned_start.isoformat()}_{made[1].pk}"
    body = client.get(
        reverse("change_calendar:list"), {"start": "2026-06-01", "end": "2026-06-30", "after": after}, **EN
    ).content.decode()
    assert "Step 2" in body and "Step 0" not in body
    assert client.get(reverse("change_calendar:list"), {"after": "garbage"}, **EN).status_code == 404


def test_the_month_page_costs_the_same_queries_for_more_changes(
    agent: User, django_assert_max_num_queries: object
) -> None:
    items = cmdb(agent)
    client = _client(agent)
    url = reverse("change_calendar:month") + JUNE
    change_on(agent, [items["db"]])
    change_on(agent, [items["app"]])  # a conflict already, so the labels are read in both runs
    client.get(url, **EN)  # warm the session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url, **EN).status_code == 200
    for i in range(8):
        change_on(agent, [items["app"] if i % 2 else items["mail"]], start=BASE + timedelta(hours=i))
    with CaptureQueriesContext(connection) as many:
        body = client.get(url, **EN).content.decode()
    assert "10 changes" in body
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_max_num_queries(25):  # type: ignore[operator]
        client.get(url, **EN)


def test_freeze_administration_refuses_overlaps_with_a_clear_message(admin_user: User) -> None:
    client = _client(admin_user)
    url = reverse("change_calendar:freezes")
    ok = client.post(url, {"name": "Year end", "starts_at": "2026-12-20T00:00", "ends_at": "2027-01-03T00:00"}, **EN)
    assert ok.status_code == 302
    refused = client.post(url, {"name": "Audit", "starts_at": "2027-01-02T00:00", "ends_at": "2027-01-05T00:00"}, **EN)
    assert refused.status_code == 400 and "overlaps the freeze “Year end”" in refused.content.decode()
    backwards = client.post(url, {"name": "Back", "starts_at": "2027-02-02T00:00", "ends_at": "2027-02-01T00:00"}, **EN)
    assert "The freeze must end after it starts." in backwards.content.decode()
    assert list(FreezeWindow.objects.values_list("name", flat=True)) == ["Year end"]
    freeze = FreezeWindow.objects.get()
    edit = client.post(
        reverse("change_calendar:freeze-edit", args=[freeze.pk]),
        {"name": "Year-end close", "starts_at": "2026-12-21T00:00", "ends_at": "2027-01-03T00:00"},
        **EN,
    )
    assert edit.status_code == 302
    assert "Year-end close" in client.get(url, **EN).content.decode()
    client.post(reverse("change_calendar:freeze-delete", args=[freeze.pk]), **EN)
    assert not FreezeWindow.objects.exists()


def test_maintenance_windows_page(agent: User, admin_user: User) -> None:
    items = cmdb(agent)
    client = _client(admin_user)
    assert "SVC-PAY" in client.get(reverse("change_calendar:maintenance"), **EN).content.decode()
    url = reverse("change_calendar:maintenance-service", args=[items["service"].pk])
    bad = client.post(
        url, {"weekday": 6, "start_time": "01:00", "end_time": "05:00", "time_zone": "Nowhere/Atlantis"}, **EN
    )
    assert bad.status_code == 400 and "Unknown time zone" in bad.content.decode()
    backwards = client.post(url, {"weekday": 6, "start_time": "05:00", "end_time": "01:00"}, **EN)
    assert "must end after it starts" in backwards.content.decode()
    assert not MaintenanceWindow.objects.exists()
    assert (
        client.post(
            url, {"weekday": 6, "start_time": "01:00", "end_time": "05:00", "time_zone": "Europe/Paris"}, **EN
        ).status_code
        == 302
    )
    window = MaintenanceWindow.objects.get()
    assert "Europe/Paris" in client.get(url, **EN).content.decode()
    # not a service: 404
    assert client.get(reverse("change_calendar:maintenance-service", args=[items["db"].pk]), **EN).status_code == 404
    client.post(reverse("change_calendar:maintenance-delete", args=[items["service"].pk, window.pk]), **EN)
    assert not MaintenanceWindow.objects.exists()


def test_the_conflicts_box_of_the_change_page(agent: User) -> None:
    from django.template import Context, Template
    from django.test import RequestFactory

    items = cmdb(agent)
    on_db = change_on(agent, [items["db"]])
    change_on(agent, [items["app"]], start=BASE + timedelta(hours=1))
    request = RequestFactory().get("/")
    request.user = agent
    html = Template('{% include "agent/changes/_conflicts.html" %}').render(
        Context({"change": on_db, "request": request})
    )
    assert "Calendar conflicts" in html and "through a dependency" in html and "APP-01 Payroll application" in html
    assert "?week=2026-W24" in html


def test_the_feed_of_a_person_and_of_a_group(agent: User, triage: object, requester: User) -> None:
    items = cmdb(agent)
    mine = change_on(agent, [items["db"]], title="Patch the database", start=BASE)
    group_change = change_on(agent, [items["mail"]], title="Mail quota", group=triage)
    from django.utils import timezone

    # the feed covers the last 30 and next 180 days: move the windows near today
    now = timezone.now().replace(microsecond=0)
    for change, hours in ((mine, 24), (group_change, 48)):
        type(change).objects.filter(pk=change.pk).update(
            planned_start=now + timedelta(hours=hours), planned_end=now + timedelta(hours=hours + 2)
        )
    client = Client()
    body = client.get(reverse("change_calendar:feed", args=[feeds.token_for(agent)]))
    assert body.status_code == 200 and body["Content-Type"].startswith("text/calendar")
    text = body.content.decode()
    assert "BEGIN:VCALENDAR" in text and f"SUMMARY:{mine.reference} Patch the database" in text
    assert "Mail quota" in text  # the person is in the change's group
    group_text = client.get(reverse("change_calendar:feed", args=[feeds.token_for(agent, triage.pk)])).content.decode()
    assert "Mail quota" in group_text and "Patch the database" not in group_text


def test_feed_tokens_that_were_tampered_with_or_revoked_answer_404(agent: User, requester: User, l2: object) -> None:
    client = Client()
    token = feeds.token_for(agent)
    assert client.get(reverse("change_calendar:feed", args=[token])).status_code == 200
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.get(reverse("change_calendar:feed", args=[forged])).status_code == 404
    assert client.get(reverse("change_calendar:feed", args=["nonsense"])).status_code == 404
    # a requester's link, or a group the person is not in
    assert client.get(reverse("change_calendar:feed", args=[feeds.token_for(requester)])).status_code == 404
    assert client.get(reverse("change_calendar:feed", args=[feeds.token_for(agent, l2.pk)])).status_code == 404
    # new links: the old one stops working, the new one works
    page = _client(agent)
    assert page.post(reverse("change_calendar:feed-regenerate"), **EN).status_code == 302
    assert client.get(reverse("change_calendar:feed", args=[token])).status_code == 404
    assert client.get(reverse("change_calendar:feed", args=[feeds.token_for(agent)])).status_code == 200
    body = page.get(reverse("change_calendar:month"), **EN).content.decode()
    assert feeds.token_for(agent) in body and "My changes" in body
