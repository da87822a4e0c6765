"""SLAs through the administration API: calendars, holidays, policies (palier/api/admin/sla.py),
and time through it: time entries across tickets, cost rates (palier/api/admin/timelog.py)."""

from __future__ import annotations

from datetime import date

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.sla import services as sla
from palier.sla.models import Calendar, CalendarHoliday, SlaPolicy
from palier.tickets.tests.builders import make_ticket
from palier.timelog import services as timelog
from palier.timelog.models import CostRate

pytestmark = pytest.mark.django_db

WEEK = {str(d): [["09:00", "18:00"]] for d in range(5)}


@pytest.fixture
def calendar(db):
    return sla.create_calendar(name="Paris office", hours=WEEK, by=None)


def test_only_administrators_manage_slas(client_for, agent, manager, calendar):
    policies = SlaPolicy.objects.count()
    for user in (agent, manager):
        client = client_for(user)
        assert_problem(client.get(f"{API}/sla-calendars"), 403)
        assert_problem(client.call("POST", "/holidays", {"calendar": calendar.pk, "date": "2026-12-24"}), 403)
        policy = {"name": "X", "calendar": calendar.pk, "first_response_minutes": 5, "resolution_minutes": 9}
        assert_problem(client.call("POST", "/sla-policies", policy), 403)
    assert not CalendarHoliday.objects.exists() and SlaPolicy.objects.count() == policies


def test_calendars_create_and_change(client_for, admin_user, calendar):
    client = client_for(admin_user)
    closed = client.call("POST", "/sla-calendars", {"name": "Closed", "hours": {}})
    assert_problem(closed, 422, "hours")
    made = client.call("POST", "/sla-calendars", {"name": "Lyon", "hours": WEEK, "holiday_country": "FR"})
    assert made.status_code == 201, made.content
    sla.add_holiday(calendar=calendar, day=date(2026, 12, 24), label="Veille", by=None)
    etag = client.get(f"{API}/sla-calendars/{calendar.pk}")["ETag"]
    r = client.call("PATCH", f"/sla-calendars/{calendar.pk}", {"time_zone": "Europe/Berlin"}, **{"If-Match": etag})
    assert r.status_code == 200 and r.json()["time_zone"] == "Europe/Berlin" and r.json()["hours"] == WEEK
    assert CalendarHoliday.objects.filter(calendar=calendar).count() == 1  # its holidays stay
    bad = client.call("PATCH", f"/sla-calendars/{calendar.pk}", {"time_zone": "Nowhere"}, **{"If-Match": r["ETag"]})
    assert_problem(bad, 422, "time_zone")
    assert Calendar.objects.get(pk=calendar.pk).time_zone == "Europe/Berlin"


def test_holidays_add_list_and_delete(client_for, admin_user, calendar, django_assert_max_num_queries):
    client = client_for(admin_user)
    body = {"calendar": calendar.pk, "date": "2026-12-24", "label": "Veille de Noël"}
    made = client.call("POST", "/holidays", body, **{"Idempotency-Key": "h-1"})
    assert made.status_code == 201, made.content
    assert client.call("POST", "/holidays", body, **{"Idempotency-Key": "h-1"}).status_code == 200
    assert client.call("POST", "/holidays", body).status_code == 409
    assert_problem(client.call("POST", "/holidays", {**body, "calendar": 999999}), 422, "calendar")
    assert_problem(client.call("POST", "/holidays", {**body, "date": "24/12"}), 422, "date")
    with django_assert_max_num_queries(5):
        items = client.get(f"{API}/holidays?calendar={calendar.pk}").json()["items"]
    assert [h["date"] for h in items] == ["2026-12-24"]
    assert client.call("DELETE", f"/holidays/{made.json()['id']}").status_code == 204
    assert not CalendarHoliday.objects.exists()


def test_policies_create_change_and_list(client_for, admin_user, calendar, l2, django_assert_max_num_queries):
    client = client_for(admin_user)
    body = {
        "name": "P1 incidents",
        "calendar": calendar.pk,
        "first_response_minutes": 30,
        "resolution_minutes": 240,
        "priorities": [1],
        "kinds": ["incident"],
        "breach_actions": [{"action": "escalate_group", "group": l2.pk}],
    }
    made = client.call("POST", "/sla-policies", body)
    assert made.status_code == 201, made.content
    assert made.json()["breach_actions"] == [{"action": "escalate_group", "group": l2.pk}]
    bad = client.call("POST", "/sla-policies", {**body, "name": "Other", "first_response_minutes": 0})
    assert_problem(bad, 422, "first_response_minutes")
    path = f"/sla-policies/{made.json()['id']}"
    r = client.call("PATCH", path, {"is_active": False, "warn_percent": 80}, **{"If-Match": made["ETag"]})
    assert r.status_code == 200, r.content
    assert r.json()["is_active"] is False and r.json()["priorities"] == [1] and r.json()["resolution_minutes"] == 240
    assert_problem(client.call("PATCH", path, {"warn_percent": 100}, **{"If-Match": r["ETag"]}), 422, "warn_percent")
    for i in range(4):
        sla.create_policy(
            name=f"Extra {i}", calendar=calendar, first_response_minutes=60, resolution_minutes=600, by=None
        )
    with django_assert_max_num_queries(7):
        page = client.get(f"{API}/sla-policies?limit=10").json()
    assert len(page["items"]) == SlaPolicy.objects.count()


# --- time -----------------------------------------------------------------------------------------


def test_time_entries_own_for_agents_all_for_managers(client_for, agent, manager, admin_user, requester):
    ticket = make_ticket(requester)
    other = make_ticket(requester)
    timelog.log_time(ticket, by=agent, minutes=30, work_date=date(2026, 11, 2))
    timelog.log_time(other, by=agent, minutes=15, work_date=date(2026, 11, 20))
    timelog.log_time(ticket, by=admin_user, minutes=60)
    assert_problem(client_for(requester).get(f"{API}/time-entries"), 403)
    own = client_for(agent).get(f"{API}/time-entries").json()["items"]
    assert [e["minutes"] for e in own] == [15, 30]  # newest day first, only theirs
    every = client_for(manager).get(f"{API}/time-entries?ticket={ticket.pk}").json()["items"]
    assert sorted(e["minutes"] for e in every) == [30, 60]
    ranged = client_for(admin_user).get(f"{API}/time-entries?user={agent.pk}&since=2026-11-10&until=2026-11-30")
    assert [e["minutes"] for e in ranged.json()["items"]] == [15]


def test_time_entries_page_in_few_queries(client_for, agent, requester, django_assert_max_num_queries):
    ticket = make_ticket(requester)
    for day in range(1, 8):
        timelog.log_time(ticket, by=agent, minutes=10, work_date=date(2026, 10, day))
    client = client_for(agent)
    with django_assert_max_num_queries(8):
        first = client.get(f"{API}/time-entries?limit=5").json()
    rest = client.get(f"{API}/time-entries?limit=5&cursor={first['next_cursor']}").json()
    assert len(first["items"]) == 5 and len(rest["items"]) == 2


def test_cost_rates(client_for, admin_user, agent, l2):
    body = {"valid_from": "2026-01-01", "hourly_rate": "55.50", "level": 2}
    assert_problem(client_for(agent).call("POST", "/time-rates", body), 403)
    client = client_for(admin_user)
    made = client.call("POST", "/time-rates", body, **{"Idempotency-Key": "rate-1"})
    assert made.status_code == 201, made.content
    assert made.json()["level"] == 2 and made.json()["hourly_rate"] in ("55.50", "55.5", 55.5)
    two = client.call("POST", "/time-rates", {**body, "agent": agent.pk})
    assert_problem(two, 422, "target")
    vendor = client.call("POST", "/time-rates", {**body, "level": None, "group": l2.pk})
    assert_problem(vendor, 422, "group")
    assert CostRate.objects.count() == 1
    assert client.get(f"{API}/time-rates?level=2").json()["items"][0]["valid_from"] == "2026-01-01"
