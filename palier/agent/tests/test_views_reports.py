"""Client tests for the dashboards, with fake metrics (``dashboards.metric`` is the one resolver):
who sees which dashboard, bad filters, drill-down links that lead to the right tickets, charts
without any outside URL, and a page whose query count does not grow with the figures' rows."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from palier.people.models import SupportGroup, User
from palier.reports import dashboards, drill
from palier.reports.filters import ReportFilters
from palier.reports.periods import Period
from palier.reports.types import Kpi, Point, Row, Series, Table
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
TEAM = "reports:team"
MINE = "reports:personal"
PARIS = ZoneInfo("Europe/Paris")


class FakeMetrics:
    """Stands for ``palier.reports.metrics``: results shaped like the contract, no query."""

    def __init__(self, rows: int = 2) -> None:
        self.rows = rows
        self.calls: list[str] = []
        self.failing: set[str] = set()

    def __call__(self, path: str) -> Callable[..., object]:
        def run(**kwargs: Any) -> object:
            self.calls.append(path)
            if path in self.failing:
                raise RuntimeError("broken metric")
            return self.result(path, kwargs.get("period"))

        return run

    def result(self, path: str, period: Period) -> object:
        if path.endswith("_kpis"):
            return [
                Kpi("open", 12, 10, better="down"),
                Kpi("resolution_rate", 80.0, 75.5, unit="percent"),
                Kpi("created", 7, 7),
                Kpi("response_business_mean", 125, None, unit="minutes", better="down"),
            ]
        if path in ("flow.created_resolved", "flow.channel_mix", "flow.resolution_by_level"):
            keys = {"flow.created_resolved": ["created", "resolved"], "flow.channel_mix": ["email", "web"]}.get(
                path, ["self", "L1", "L2", "vendor"]
            )
            days = list(period.buckets())
            return [Series(k, k.title(), [Point(d, float(i % 3)) for i, d in enumerate(days)]) for k in keys]
        if path == "flow.backlog":
            columns = [(c, c) for c in ("lt1d", "1_3d", "3_7d", "7_30d", "gt30d", "total")]
            return Table("backlog", columns, [Row("new", "New", [1, 0, 0, 0, 0, 1])])
        return Table(
            "t",
            [("count", "Count"), ("average", "Average")],
            [Row(str(i), f"Row {i}", [i, 4.5]) for i in range(self.rows)],
        )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeMetrics:
    metrics = FakeMetrics()
    monkeypatch.setattr(dashboards, "metric", metrics)
    return metrics


@pytest.fixture
def en(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_figures_are_kept_a_minute_per_viewer_and_say_when_they_were_computed(
    en: Client, fake: FakeMetrics, settings: Any, manager: User, admin_user: User
) -> None:
    settings.PALIER_REPORTS_CACHE_SECONDS = 60
    en.force_login(manager)
    first = en.get(reverse(TEAM), {"period": "30d"})
    computed = len(fake.calls)
    assert computed > 10 and "figures as of" in first.content.decode()
    again = en.get(reverse(TEAM), {"period": "30d"})
    assert again.status_code == 200 and len(fake.calls) == computed  # nothing computed again
    assert "Agent workload" in again.content.decode()
    en.get(reverse(TEAM), {"period": "7d"})  # another period is other figures
    assert len(fake.calls) == 2 * computed
    en.force_login(admin_user)  # another viewer (other groups) never gets the manager's figures
    en.get(reverse(TEAM), {"period": "30d"})
    assert len(fake.calls) == 3 * computed
    settings.PALIER_REPORTS_CACHE_SECONDS = 0
    en.get(reverse(TEAM), {"period": "30d"})
    assert len(fake.calls) == 4 * computed


def test_who_sees_which_dashboard(
    en: Client, fake: FakeMetrics, requester: User, agent: User, manager: User, admin_user: User
) -> None:
    en.force_login(requester)
    assert en.get(reverse(TEAM)).status_code == 404
    assert en.get(reverse(MINE)).status_code == 404
    en.force_login(agent)
    assert en.get(reverse(TEAM)).status_code == 404
    page = en.get(reverse(MINE))
    assert page.status_code == 200
    html = page.content.decode()
    assert "My figures" in html and f'href="{reverse(TEAM)}"' not in html
    assert "flow.backlog" in fake.calls and "flow.agent_workload" not in fake.calls  # personal panels only
    en.force_login(manager)
    html = en.get(reverse(TEAM)).content.decode()
    assert f'href="{reverse(TEAM)}"' in html and "Agent workload" in html


def test_a_manager_chooses_among_their_groups_and_an_admin_among_all(
    en: Client, fake: FakeMetrics, manager: User, admin_user: User, triage: SupportGroup, l2: SupportGroup
) -> None:
    en.force_login(manager)
    choices = dict(en.get(reverse(TEAM)).context["form"].fields["group"].choices)
    assert str(triage.pk) in choices and str(l2.pk) not in choices
    en.force_login(admin_user)
    choices = dict(en.get(reverse(TEAM)).context["form"].fields["group"].choices)
    assert {str(triage.pk), str(l2.pk)} <= set(choices)


def test_bad_filters_say_why_per_field_and_compute_nothing(
    en: Client, fake: FakeMetrics, manager: User, l2: SupportGroup
) -> None:
    en.force_login(manager)
    response = en.get(
        reverse(TEAM), {"period": "custom", "since": "2026-05-10", "until": "2026-05-01", "channel": "fax"}
    )
    assert response.status_code == 400 and fake.calls == []
    errors = response.context["form"].errors
    assert "comes before" in errors["until"][0] and "fax" in errors["channel"][0]
    assert response.context["board"] is None
    # a group out of reach reads exactly like a group that does not exist
    out_of_reach = en.get(reverse(TEAM), {"group": l2.pk})
    unknown = en.get(reverse(TEAM), {"group": 987654})
    assert out_of_reach.status_code == unknown.status_code == 400
    assert out_of_reach.context["form"].errors["group"] == [
        unknown.context["form"].errors["group"][0].replace("987654", str(l2.pk))
    ]
    swapped = en.get(reverse(TEAM), {"period": "forever"}, HTTP_HX_REQUEST="true")
    assert swapped.status_code == 400 and "<html" not in swapped.content.decode()
    assert 'id="report-body"' in swapped.content.decode() and "forever" in swapped.content.decode()


def test_the_period_is_in_the_viewer_time_zone(en: Client, fake: FakeMetrics, manager: User) -> None:
    manager.work_time_zone = "America/Montreal"
    manager.save(update_fields=["work_time_zone"])
    en.force_login(manager)
    board = en.get(reverse(TEAM), {"period": "custom", "since": "2026-03-01", "until": "2026-03-31"}).context["board"]
    assert board.period.zone == ZoneInfo("America/Montreal") and board.period.days == 31
    assert dashboards.viewer_zone(User(work_time_zone="Nowhere/Else")) == ZoneInfo(settings.TIME_ZONE)


def test_a_failing_metric_shows_unavailable_not_an_error(
    en: Client, fake: FakeMetrics, manager: User, caplog: pytest.LogCaptureFixture
) -> None:
    fake.failing = {"sla.sla_kpis"}
    en.force_login(manager)
    response = en.get(reverse(TEAM))
    assert response.status_code == 200
    panels = {p.path: p for p in response.context["board"].panels}
    assert panels["sla.sla_kpis"].unavailable and not panels["flow.backlog_kpis"].unavailable
    assert "unavailable at the moment" in response.content.decode()
    assert "sla.sla_kpis" in caplog.text


def test_kpi_cards_format_units_and_colour_the_direction(en: Client, fake: FakeMetrics, manager: User) -> None:
    en.force_login(manager)
    board = en.get(reverse(TEAM)).context["board"]
    cards = {c.key: c for c in board.panels[0].cards}
    # open: 12 now against 10 before, and fewer is better: up, bad news
    assert (cards["open"].value, cards["open"].arrow, cards["open"].tone) == ("12", "▲", "bad")
    assert cards["resolution_rate"].value == "80.0 %" and cards["resolution_rate"].tone == "good"
    assert cards["created"].direction == "flat" and cards["created"].tone == "neutral"
    assert cards["response_business_mean"].value == "2 h 05" and cards["response_business_mean"].previous == "—"
    assert dashboards.format_value(1234.5, "money").endswith("EUR")


def test_charts_are_inline_svg_without_any_outside_url(en: Client, fake: FakeMetrics, manager: User) -> None:
    en.force_login(manager)
    html = en.get(reverse(TEAM), {"period": "7d"}).content.decode()
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) >= 4
    for svg in svgs:
        assert "http" not in svg and "<script" not in svg and "<?xml" not in svg
    assert 'xlink:href="/agent/?' in svgs[0]
    assert "<details" in html and "Show the numbers as a table" in html


def test_charts_and_cards_speak_the_viewer_language(client: Client, fake: FakeMetrics, manager: User) -> None:
    client.force_login(manager)
    params = {"period": "custom", "since": "2026-03-01", "until": "2026-03-10"}
    french = client.get(reverse(TEAM), params, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    english = client.get(reverse(TEAM), params, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 mars" in french and "80,0 %" in french
    assert "March 1" in english and "80.0 %" in english


def test_the_page_reads_the_same_whatever_the_number_of_rows(
    client: Client, monkeypatch: pytest.MonkeyPatch, manager: User
) -> None:
    client.force_login(manager)
    counts = []
    for rows in (1, 30):
        monkeypatch.setattr(dashboards, "metric", FakeMetrics(rows=rows))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(TEAM)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def _link(board: Any, path: str, **target: Any) -> str:
    panel = next(p for p in board.panels if p.path == path)
    url = panel.link(drill.Target(**target))
    assert url is not None
    return str(url)


def _subjects(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return sorted(t.subject for t in response.context["table"].page.items)


def test_drill_down_links_open_the_queue_with_the_same_filters(
    en: Client, fake: FakeMetrics, manager: User, requester: User, agent: User, triage: SupportGroup, l2: SupportGroup
) -> None:
    recent = timezone.now() - timedelta(hours=2)
    day = recent.astimezone(PARIS).date()  # the local day of "recent", in the last 7 days
    tickets = {
        "Email recent": make_ticket(requester, subject="Email recent", channel="email"),
        "Web recent": make_ticket(requester, subject="Web recent"),
        "Email long ago": make_ticket(requester, subject="Email long ago", channel="email"),
        "Other group": make_ticket(requester, subject="Other group", group=l2, by=agent, channel="email"),
    }
    created = {"Email long ago": recent - timedelta(days=40)}
    for subject, ticket in tickets.items():  # test builder: the creation times are set by hand
        Ticket.objects.filter(pk=ticket.pk).update(created_at=created.get(subject, recent))
    en.force_login(manager)
    board = en.get(reverse(TEAM), {"period": "7d"}).context["board"]
    email = _link(board, "flow.channel_mix", key="email", bucket=day)
    assert "channel=email" in email and f"groups={triage.pk}" in email
    assert _subjects(en, email) == ["Email recent"]  # not the old one, not the other group's
    assert _subjects(en, _link(board, "flow.created_resolved", key="created")) == ["Email recent", "Web recent"]
    # the backlog's age buckets: created 1-3 days ago, more than 30 days ago
    assert _subjects(en, _link(board, "flow.backlog", key="new", column="1_3d")) == []
    assert _subjects(en, _link(board, "flow.backlog", key="new", column="gt30d")) == ["Email long ago"]
    # created two hours ago: less than a day old
    assert _subjects(en, _link(board, "flow.backlog", key="new", column="lt1d")) == ["Email recent", "Web recent"]
    # a group's row adds the group; the queue's form shows the filters it applied
    response = en.get(_link(board, "flow.group_workload", key=str(triage.pk), column="created"))
    assert response.context["form"].cleaned_data["group"] == str(triage.pk)
    assert response.context["form"].cleaned_data["created_after"] is not None


def test_a_personal_dashboard_drills_into_my_tickets(
    en: Client, fake: FakeMetrics, agent: User, requester: User
) -> None:
    mine = make_ticket(requester, subject="Mine")
    Ticket.objects.filter(pk=mine.pk).update(assignee=agent)
    make_ticket(requester, subject="Nobody's")
    en.force_login(agent)
    board = en.get(reverse(MINE)).context["board"]
    url = _link(board, "flow.backlog_kpis", key="open")
    assert parse_qs(urlsplit(url).query)["assignee"] == ["me"]
    assert _subjects(en, url) == ["Mine"]


def test_drill_rules_for_levels_ages_and_tickets() -> None:
    period = Period(date(2026, 5, 1), date(2026, 5, 31), PARIS)
    now = datetime(2026, 5, 31, 12, tzinfo=PARIS)
    ctx = drill.DrillContext(filters=ReportFilters(priority=[1, 2]), group_ids=[3], period=period, now=now)
    vendor = drill.queue_url("flow.resolution_by_level", ctx, drill.Target(key="vendor", bucket=date(2026, 5, 4)))
    query = parse_qs(urlsplit(vendor or "").query)
    assert query["level"] == ["4", "5"] and query["priority"] == ["1", "2"] and query["groups"] == ["3"]
    # one day of the period, in the period's time zone (summer time in Paris: +02:00)
    assert query["resolved_after"] == ["2026-05-04T00:00:00+02:00"]
    assert query["resolved_before"] == ["2026-05-05T00:00:00+02:00"]
    assert drill.queue_url("flow.resolution_by_level", ctx, drill.Target(key="self")) is None
    breach = drill.queue_url("sla.sla_breaches", ctx, drill.Target(key="42"))
    assert breach == reverse("agent:ticket-detail", args=[42])
    age = parse_qs(urlsplit(drill.queue_url("flow.backlog", ctx, drill.Target(key="new", column="3_7d")) or "").query)
    assert age["created_after"] == ["2026-05-24T12:00:00+02:00"] and age["created_before"] == [
        "2026-05-28T12:00:00+02:00"
    ]
    assert drill.queue_url("knowledge.top_articles", ctx, drill.Target(key="1")) is None
    nowhere = drill.DrillContext(filters=ReportFilters(), group_ids=[], period=period, now=now)
    assert drill.queue_url("flow.backlog_kpis", nowhere, drill.Target(key="open")) is None  # a manager of no group


def test_the_dashboard_downloads_as_an_a4_pdf_with_the_same_filters(
    en: Client, fake: FakeMetrics, manager: User
) -> None:
    from palier.reports import pdf

    if not pdf.available():
        pytest.fail("WeasyPrint cannot draw here: install libpango-1.0-0")
    en.force_login(manager)
    page = en.get(reverse(TEAM), {"period": "7d", "channel": "email"}).content.decode()
    link = re.search(r'class="report-pdf" href="([^"]+)"', page)
    assert link is not None and "channel=email" in link.group(1) and "format=pdf" in link.group(1)
    fake.calls.clear()
    answer = en.get(link.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"].startswith('attachment; filename="dashboard-')
    body = answer.content
    assert body.startswith(b"%PDF-")
    objects = body + b"".join(
        zlib.decompress(stream) for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S)
    )
    assert re.search(rb"/MediaBox \[\s*0 0 595\.\d+ 841\.\d+", objects)  # A4 portrait, in points
    assert "flow.agent_workload" in fake.calls  # the team's panels, computed for the PDF


def test_the_pdf_loads_only_palier_static_files() -> None:
    from palier.reports import pdf

    body, kind = pdf._static_file("http://palier.invalid/static/agent/reports-pdf.css")
    assert kind == "text/css" and b"@page" in body
    for url in (
        "http://127.0.0.1:9/static/../../settings.py",
        "http://palier.invalid/static/../palier/settings.py",
        "file:///etc/passwd",
        "http://example.org/logo.png",
        "http://palier.invalid/media/secret.pdf",
    ):
        with pytest.raises(ValueError):
            pdf._static_file(url)
