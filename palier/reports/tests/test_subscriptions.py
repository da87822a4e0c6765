"""Scheduled summaries and exports: who may subscribe to what, the schedule in the owner's time
zone, one sending per slot even with two workers, the summary in French and English, the export
attachment, failures tried again and owners who lost the right turned off.

The metrics are fakes returning contract types (``subscriptions.metric`` is the one resolver), so
these tests check what the subscriptions do with figures, not the figures."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.mime.base import MIMEBase
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection

from palier.lib.errors import PermissionDenied
from palier.notifications import email
from palier.people.models import SupportGroup, User
from palier.reports import services, subscriptions
from palier.reports.filters import Scope
from palier.reports.models import ReportSubscription
from palier.reports.periods import Period
from palier.reports.types import Kpi, Row, Series, Table
from palier.reports.types import Point as P

pytestmark = pytest.mark.django_db

WEDNESDAY = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
MONDAY_SLOT = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # Monday 7 December, 07:00 in Paris (UTC+1 in winter)
MONTH_SLOT = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)  # 1 January 2027, 07:00 in Paris


class FakeMetrics:
    """Stands for ``palier.reports.metrics``: records each call, returns fixed contract values."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail: set[str] = set()
        self.results: dict[str, object] = {
            "flow.flow_kpis": [
                Kpi("created", 12, 10),
                Kpi("resolved", 9, 11),
                Kpi("resolution_rate", 75.0, 110.0, unit="percent"),
                Kpi("escalation_rate", 8.0, 5.0, unit="percent", better="none"),
            ],
            "flow.backlog_kpis": [Kpi("open", 30, 25, better="down")],
            "sla.sla_kpis": [Kpi("breaches", 2, 4, better="down")],
            "satisfaction.csat_kpis": [Kpi("csat_average", 4.25, None, unit="score")],
            "flow.backlog": Table(
                "backlog",
                [("lt1d", "< 1 day"), ("total", "Total")],
                [Row("new", "New", [3, 5]), Row("assigned", "=HYPERLINK(1)", [1, None])],
            ),
            "flow.created_resolved": [
                Series("created", "Created", [P(date(2026, 11, 30), 4), P(date(2026, 12, 1), 2)]),
                Series("resolved", "Resolved", [P(date(2026, 11, 30), 1)]),
            ],
        }

    def __call__(self, path: str) -> Callable[..., object]:
        def run(**kwargs: Any) -> object:
            self.calls.append((path, kwargs))
            if path in self.fail:
                raise RuntimeError("metric down")
            return self.results[path]

        return run


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeMetrics:
    metrics = FakeMetrics()
    monkeypatch.setattr(subscriptions, "metric", metrics)
    return metrics


def _summary(user: User, **fields: Any) -> ReportSubscription:
    values: dict[str, Any] = {"kind": "summary", "frequency": "weekly", "filters": {}, "now": WEDNESDAY}
    return services.subscribe(by=user, **(values | fields))


def _export(user: User, **fields: Any) -> ReportSubscription:
    values: dict[str, Any] = {
        "kind": "export", "frequency": "weekly", "filters": {}, "metric": "backlog", "format": "csv",
        "recipients": "Boss@Acme.test, ops@acme.test\nboss@acme.test", "now": WEDNESDAY,
    }  # fmt: skip
    return services.subscribe(by=user, **(values | fields))


# --- who may subscribe to what (attackers first) -------------------------------------------------------


def test_a_manager_cannot_subscribe_to_another_groups_summary(manager: User, l2: SupportGroup) -> None:
    with pytest.raises(ValidationError) as error:
        _summary(manager, filters={"group": l2.pk})
    assert "group" in error.value.error_dict
    assert not ReportSubscription.objects.exists()


@pytest.mark.parametrize("persona", ["agent", "requester"])
def test_agents_and_requesters_cannot_subscribe(persona: str, request: pytest.FixtureRequest) -> None:
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        _summary(user)
    assert not ReportSubscription.objects.exists()


def test_a_manager_cannot_schedule_an_export(manager: User) -> None:
    with pytest.raises(PermissionDenied):
        _export(manager)
    assert not ReportSubscription.objects.exists()


def test_unknown_filter_values_are_refused_per_field(manager: User) -> None:
    with pytest.raises(ValidationError) as error:
        _summary(manager, filters={"channel": "pigeon", "priority": ["9"]})
    assert set(error.value.error_dict) == {"channel", "priority"}


@pytest.mark.parametrize(
    ("recipients", "message"),
    [
        ("boss@acme.test, not-an-address", "“not-an-address” is not an email address."),
        ("", "Give at least one email address."),
        (",".join(f"p{n}@acme.test" for n in range(21)), "At most 20 addresses."),
        ("a@acme.test\r\nBcc: x@evil.test", "“bcc: x@evil.test” is not an email address."),  # no header smuggled
    ],
)
def test_bad_addresses_are_refused(admin_user: User, recipients: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        _export(admin_user, recipients=recipients)
    assert error.value.error_dict["recipients"][0].messages == [message]


def test_an_export_needs_a_known_report_and_format(admin_user: User) -> None:
    with pytest.raises(ValidationError) as error:
        _export(admin_user, metric="passwords")
    assert "metric" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        _export(admin_user, format="pdf")
    assert "format" in error.value.error_dict


def test_addresses_are_lower_cased_and_kept_once(admin_user: User) -> None:
    row = _export(admin_user)
    assert row.recipients == ["boss@acme.test", "ops@acme.test"]


def test_only_the_owner_or_an_administrator_changes_or_removes(
    manager: User, admin_user: User, agent: User, triage: SupportGroup
) -> None:
    other = User.objects.create(email="max@desk.test", role=User.Role.MANAGER)
    row = _summary(manager, filters={"group": triage.pk})
    for intruder in (other, agent):
        with pytest.raises(PermissionDenied):
            services.change_subscription(row, by=intruder, frequency="monthly")
        with pytest.raises(PermissionDenied):
            services.unsubscribe(row, by=intruder)
    row = services.change_subscription(row, by=admin_user, frequency="monthly", now=WEDNESDAY)
    assert (row.frequency, row.next_run_at) == ("monthly", MONTH_SLOT)
    services.unsubscribe(row, by=manager)
    assert not ReportSubscription.objects.exists()


def test_an_administrator_cannot_widen_a_managers_scope(manager: User, admin_user: User, l2: SupportGroup) -> None:
    row = _summary(manager)
    with pytest.raises(ValidationError):
        services.change_subscription(row, by=admin_user, filters={"group": l2.pk})  # the manager receives it


# --- when -----------------------------------------------------------------------------------------------


def test_next_sending_is_monday_or_the_first_at_seven_in_the_owners_zone(manager: User) -> None:
    assert _summary(manager).next_run_at == MONDAY_SLOT
    assert _summary(manager, frequency="monthly").next_run_at == MONTH_SLOT
    manager.work_time_zone = "America/Montreal"
    manager.save(update_fields=["work_time_zone"])
    assert _summary(manager).next_run_at == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # 07:00 in Montréal (UTC-5)


def test_a_slot_covers_the_week_or_month_before() -> None:
    paris = subscriptions.zone_of(User(work_time_zone="Europe/Paris"))
    week = subscriptions.period_of("weekly", paris, MONDAY_SLOT)
    assert (week.first, week.last) == (date(2026, 11, 30), date(2026, 12, 6))  # Monday to Sunday
    month = subscriptions.period_of("monthly", paris, MONTH_SLOT)
    assert (month.first, month.last) == (date(2026, 12, 1), date(2026, 12, 31))
    # summer time: Monday 6 April 2026 at 07:00 in Paris is 05:00 UTC
    assert subscriptions.next_slot("weekly", paris, datetime(2026, 4, 1, tzinfo=UTC)) == datetime(
        2026, 4, 6, 5, 0, tzinfo=UTC
    )


# --- the summary ---------------------------------------------------------------------------------------


def _run(now: datetime) -> int:
    sent = services.run_due_subscriptions(now=now)
    email.send_pending()
    return sent


def test_the_summary_in_english(fake: FakeMetrics, manager: User, triage: SupportGroup, settings: Any) -> None:
    settings.PALIER_BASE_URL = "https://desk.example"
    manager.language = "en"
    manager.save(update_fields=["language"])
    row = _summary(manager, filters={"group": triage.pk, "channel": "email"})
    assert _run(MONDAY_SLOT - timedelta(minutes=1)) == 0  # not yet
    assert _run(MONDAY_SLOT + timedelta(seconds=30)) == 1
    [message] = mail.outbox
    assert message.to == ["nina@desk.test"]
    assert message.subject == "Weekly summary of the service desk: Nov. 30, 2026 – Dec. 6, 2026"
    text = str(message.body)
    assert "- Tickets created: 12 ↑ (10)" in text
    assert "- Resolution rate (resolved ÷ created): 75.0 % ↓ (110.0 %)" in text
    assert "- Open tickets: 30 ↑ (25)" in text
    assert "- SLA breaches: 2 ↓ (4)" in text
    assert "- Average satisfaction: 4.25 / 5 · (—)" in text  # no previous value: no direction
    url = "https://desk.example/agent/reports/?group={}&channel=email&period=custom&since=2026-11-30&until=2026-12-06"
    assert url.format(triage.pk) in text
    html = str(message.alternatives[0][0])  # type: ignore[index]
    assert 'data-kpi="open"' in html and "#cf222e" in html  # more open tickets is bad news: red
    assert 'data-kpi="created"' in html and "#1a7f37" in html  # more created is "up": green
    assert url.format(triage.pk).replace("&", "&amp;") in html
    # every metric got the manager's scope (their group, the channel) and the week before
    for path, kwargs in fake.calls:
        scope, period = kwargs["scope"], kwargs["period"]
        assert isinstance(scope, Scope) and isinstance(period, Period), path
        assert (scope.filters.group, scope.filters.channel, period.first, period.last) == (
            triage.pk, "email", date(2026, 11, 30), date(2026, 12, 6),
        )  # fmt: skip
    row.refresh_from_db()
    assert (row.last_run_at, row.next_run_at) == (
        MONDAY_SLOT + timedelta(seconds=30), MONDAY_SLOT + timedelta(days=7),
    )  # fmt: skip


def test_the_summary_in_french(fake: FakeMetrics, manager: User) -> None:
    manager.language = "fr"
    manager.save(update_fields=["language"])
    _summary(manager, frequency="monthly")
    assert _run(MONTH_SLOT) == 1
    [message] = mail.outbox
    assert "1 décembre 2026 – 31 décembre 2026" in message.subject
    text = str(message.body)
    assert ": 75,0 % ↓ (110,0 %)" in text  # French decimals
    assert ": 4,25 / 5" in text
    assert "since=2026-12-01&until=2026-12-31" in text


def test_two_runs_at_once_send_once(fake: FakeMetrics, manager: User) -> None:
    _summary(manager)
    first, second = ReportSubscription.objects.get(), ReportSubscription.objects.get()  # both read the slot
    assert services.run_subscription(first, MONDAY_SLOT) is True
    assert services.run_subscription(second, MONDAY_SLOT) is False
    assert _run(MONDAY_SLOT) == 0  # and the slot is gone
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_send_a_slot_once(fake: FakeMetrics, manager: User) -> None:
    _summary(manager)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(services.run_due_subscriptions(now=MONDAY_SLOT))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]


def test_a_failure_is_logged_and_tried_again_at_the_next_run(fake: FakeMetrics, manager: User) -> None:
    row = _summary(manager)
    fake.fail.add("sla.sla_kpis")
    assert _run(MONDAY_SLOT) == 0
    row.refresh_from_db()
    assert (row.next_run_at, row.is_active, row.problem) == (MONDAY_SLOT, True, "RuntimeError: metric down")
    assert not mail.outbox
    fake.fail.clear()
    assert _run(MONDAY_SLOT + timedelta(minutes=5)) == 1
    row.refresh_from_db()
    assert (row.next_run_at, row.problem) == (MONDAY_SLOT + timedelta(days=7), "")
    assert len(mail.outbox) == 1


def test_an_owner_who_lost_the_right_is_turned_off_not_sent(fake: FakeMetrics, manager: User) -> None:
    row = _summary(manager)
    manager.role = User.Role.AGENT
    manager.save(update_fields=["role"])
    assert _run(MONDAY_SLOT) == 0
    row.refresh_from_db()
    assert (row.is_active, row.next_run_at) == (False, None)
    assert row.problem == "Only managers and administrators can subscribe to summaries."
    assert not mail.outbox and not fake.calls


def test_an_inactive_owner_is_turned_off(fake: FakeMetrics, admin_user: User) -> None:
    row = _export(admin_user)
    admin_user.is_active = False
    admin_user.save(update_fields=["is_active"])
    assert _run(MONDAY_SLOT) == 0
    row.refresh_from_db()
    assert not row.is_active and not mail.outbox


def test_a_manager_who_left_the_group_is_turned_off(fake: FakeMetrics, manager: User, triage: SupportGroup) -> None:
    row = _summary(manager, filters={"group": triage.pk})
    SupportGroup.objects.filter(pk=triage.pk).update(manager=None)
    assert _run(MONDAY_SLOT) == 0
    row.refresh_from_db()
    assert not row.is_active and not mail.outbox


# --- the export ------------------------------------------------------------------------------------------


def _attachment(message: mail.EmailMessage) -> tuple[str, bytes, str]:
    [attachment] = message.attachments
    assert not isinstance(attachment, MIMEBase)
    name, content, content_type = attachment
    return name, content if isinstance(content, bytes) else content.encode(), content_type


def test_the_export_is_attached_as_csv(fake: FakeMetrics, admin_user: User) -> None:
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    _export(admin_user)
    assert _run(MONDAY_SLOT) == 1
    [message] = mail.outbox
    assert message.to == ["boss@acme.test", "ops@acme.test"]
    assert message.subject == "Palier report: Backlog by status and age, Nov. 30, 2026 – Dec. 6, 2026"
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    name, content, content_type = _attachment(message)
    assert (name, content_type) == ("palier-backlog-2026-11-30-2026-12-06.csv", "text/csv; charset=utf-8")
    # the header, the rows; a label a spreadsheet would run as a formula is neutralised
    # the reports' one table writer: the first column is named, formulas are neutralised
    assert content.decode("utf-8-sig").splitlines() == ["Name,< 1 day,Total", "New,3,5", "'=HYPERLINK(1),1,"]
    [(path, kwargs)] = fake.calls
    assert path == "flow.backlog" and kwargs["scope"].group_ids is None  # an administrator: every group


def test_the_export_as_xlsx_and_series_as_rows(fake: FakeMetrics, admin_user: User) -> None:
    _export(admin_user, metric="created_resolved", format="xlsx")
    assert _run(MONDAY_SLOT) == 1
    name, content, content_type = _attachment(mail.outbox[0])
    assert name.endswith(".xlsx") and content_type.endswith("spreadsheetml.sheet")
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<t>Created</t>" in strings and "<t>Resolved</t>" in strings  # one column per series
    # one row per day: 30 Nov (4 created, 1 resolved), 1 Dec (2 created, none resolved)
    assert '<c r="B2"><v>4</v></c><c r="C2"><v>1</v></c>' in sheet
    assert '<c r="B3"><v>2</v></c>' in sheet and 'r="C3"' not in sheet


def test_an_export_that_cannot_be_sent_is_tried_again(fake: FakeMetrics, admin_user: User, settings: Any) -> None:
    row = _export(admin_user)
    settings.EMAIL_BACKEND = "palier.reports.tests.test_subscriptions.BrokenBackend"
    assert _run(MONDAY_SLOT) == 0
    row.refresh_from_db()
    assert (row.next_run_at, row.problem) == (MONDAY_SLOT, "ConnectionRefusedError: no server")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _run(MONDAY_SLOT + timedelta(minutes=5)) == 1
    assert len(mail.outbox) == 1


class BrokenBackend:
    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        raise ConnectionRefusedError("no server")


def test_the_periodic_job_is_wired() -> None:
    from palier import events

    assert ("reports-subscriptions", 300, "palier.reports.tasks.run_report_subscriptions_task") in events.PERIODIC_JOBS


def test_values_are_written_for_people() -> None:
    from django.utils import translation

    with translation.override("en"):
        assert subscriptions.format_value(125.4, "minutes") == "2 h 05"  # 125 minutes
        assert subscriptions.format_value(45, "minutes") == "45 min"
        assert subscriptions.format_value(1234.5, "money") == "1,234.50"
        assert subscriptions.format_value(None, "percent") == "—"
        table = subscriptions.as_table("k", [Kpi("breaches", 2, 4, better="down")])
    assert table.columns == [("value", "Value"), ("previous", "Previous period")]
    assert table.rows == [Row("breaches", "SLA breaches", [2, 4])]
    with translation.override("fr"):
        assert subscriptions.format_value(1234.5, "money") == "1\xa0234,50"  # French grouping: a no-break space
