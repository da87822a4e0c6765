"""The calendar's footprint and conflicts, freeze windows and maintenance windows."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from palier.changes import conflicts, footprint, services
from palier.changes.models import Change, ChangeFootprint, FreezeWindow, MaintenanceWindow
from palier.changes.services import freezes
from palier.changes.tests.calendar_builders import BASE, change_on, cmdb
from palier.lib.errors import PermissionDenied
from palier.people.models import User

pytestmark = pytest.mark.django_db


def test_a_change_on_the_database_conflicts_with_one_on_the_app_that_runs_on_it(agent: User) -> None:
    items = cmdb(agent)
    on_db = change_on(agent, [items["db"]])
    on_app = change_on(agent, [items["app"]], start=BASE + timedelta(hours=1))
    rows = dict(ChangeFootprint.objects.filter(change=on_db).values_list("asset__tag", "direct"))
    assert rows == {"DB-01": True, "APP-01": False, "SVC-PAY": False}
    mine = conflicts.conflicts_for_change(on_db)
    assert [(c.kind, c.other_id, c.asset_label, c.direct) for c in mine] == [
        ("asset", on_app.pk, "APP-01 Payroll application", False)
    ]
    assert "through a dependency" in mine[0].message and on_app.reference in mine[0].message
    assert [c.other_id for c in conflicts.conflicts_for_change(on_app)] == [on_db.pk]


def test_the_same_asset_named_by_both_is_a_direct_conflict(agent: User) -> None:
    items = cmdb(agent)
    first = change_on(agent, [items["db"]])
    second = change_on(agent, [items["db"], items["mail"]], start=BASE + timedelta(minutes=30))
    found = conflicts.detect(BASE - timedelta(days=1), BASE + timedelta(days=1))
    assert [(c.other_id, c.asset_label, c.direct) for c in found[first.pk]] == [
        (second.pk, "DB-01 Database server", True)
    ]
    assert "also changes DB-01" in found[first.pk][0].message


def test_windows_that_only_touch_do_not_conflict(agent: User) -> None:
    items = cmdb(agent)
    first = change_on(agent, [items["db"]], hours=2)
    change_on(agent, [items["db"]], start=BASE + timedelta(hours=2))
    assert conflicts.conflicts_for_change(first) == []


def test_unrelated_assets_and_closed_changes_do_not_conflict(agent: User) -> None:
    items = cmdb(agent)
    first = change_on(agent, [items["db"]])
    change_on(agent, [items["mail"]])
    assert conflicts.conflicts_for_change(first) == []
    other = change_on(agent, [items["app"]])
    assert len(conflicts.conflicts_for_change(first)) == 1
    services.transition_change(other, to=Change.Status.CLOSED, by=agent, outcome="cancelled")
    assert not ChangeFootprint.objects.filter(change=other).exists()
    assert conflicts.conflicts_for_change(first) == []


def test_the_footprint_is_rewritten_not_added_to(agent: User) -> None:
    items = cmdb(agent)
    change = change_on(agent, [items["db"]])
    before = sorted(ChangeFootprint.objects.filter(change=change).values_list("asset_id", "direct"))
    assert footprint.refresh(change) == 3 and footprint.refresh(change) == 3
    assert sorted(ChangeFootprint.objects.filter(change=change).values_list("asset_id", "direct")) == before
    services.update_change(
        change, by=agent, planned_start=BASE + timedelta(days=1), planned_end=BASE + timedelta(days=1, hours=1)
    )
    assert set(ChangeFootprint.objects.filter(change=change).values_list("starts_at", flat=True)) == {
        BASE + timedelta(days=1)
    }


def test_only_administrators_manage_freezes_and_overlaps_are_refused(agent: User, admin_user: User) -> None:
    with pytest.raises(PermissionDenied):
        freezes.create_freeze(by=agent, name="Year end", starts_at=BASE, ends_at=BASE + timedelta(days=3))
    year_end = freezes.create_freeze(by=admin_user, name="Year end", starts_at=BASE, ends_at=BASE + timedelta(days=3))
    with pytest.raises(ValidationError, match="overlaps the freeze “Year end”"):
        freezes.create_freeze(
            by=admin_user, name="Audit", starts_at=BASE + timedelta(days=2), ends_at=BASE + timedelta(days=5)
        )
    with pytest.raises(ValidationError, match="end after it starts"):
        freezes.create_freeze(by=admin_user, name="Backwards", starts_at=BASE, ends_at=BASE - timedelta(hours=1))
    # touching is fine; moving it onto the other is not
    audit = freezes.create_freeze(
        by=admin_user, name="Audit", starts_at=BASE + timedelta(days=3), ends_at=BASE + timedelta(days=5)
    )
    with pytest.raises(ValidationError, match="Year end"):
        freezes.update_freeze(
            audit, by=admin_user, name="Audit", starts_at=BASE + timedelta(days=1), ends_at=BASE + timedelta(days=5)
        )
    assert list(FreezeWindow.objects.values_list("name", flat=True)) == ["Year end", "Audit"]
    audit.refresh_from_db()
    assert audit.starts_at == BASE + timedelta(days=3)
    freezes.update_freeze(year_end, by=admin_user, name="Year end", starts_at=BASE, ends_at=BASE + timedelta(days=2))


def test_freeze_check_refuses_normal_and_standard_changes_and_flags_emergencies(agent: User, admin_user: User) -> None:
    items = cmdb(agent)
    freezes.create_freeze(by=admin_user, name="Year end", starts_at=BASE, ends_at=BASE + timedelta(days=3))
    normal = change_on(agent, [items["db"]], start=BASE + timedelta(days=1))
    with pytest.raises(ValidationError, match="freeze “Year end”"):
        conflicts.freeze_check(normal)
    emergency = change_on(agent, [items["mail"]], start=BASE + timedelta(days=1), kind="emergency")
    assert [f.name for f in conflicts.freeze_check(emergency)] == ["Year end"]
    after = change_on(agent, [items["db"]], start=BASE + timedelta(days=3))
    assert conflicts.freeze_check(after) == []
    assert [c.kind for c in conflicts.conflicts_for_change(emergency)] == ["freeze"]


def _slot(service: object, weekday: int, start: time, end: time, tz: str = "") -> MaintenanceWindow:
    return MaintenanceWindow.objects.create(
        service=service, weekday=weekday, start_time=start, end_time=end, time_zone=tz
    )


def test_maintenance_windows_hold_across_daylight_saving_time(agent: User) -> None:
    items = cmdb(agent)
    # Sunday 01:00–05:00 in Paris; on 29 March 2026 clocks go from 02:00 to 03:00
    sunday = _slot(items["service"], 6, time(1), time(5), "Europe/Paris")
    winter = datetime(2026, 3, 22, 0, 0, tzinfo=UTC)  # 01:00 Paris (UTC+1)
    assert conflicts.slots_cover([sunday], winter, winter + timedelta(hours=4))
    assert not conflicts.slots_cover([sunday], winter, winter + timedelta(hours=4, minutes=1))
    dst_day = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # 01:00 Paris; 05:00 Paris is 03:00 UTC
    assert conflicts.slots_cover([sunday], dst_day, dst_day + timedelta(hours=3))
    assert not conflicts.slots_cover([sunday], dst_day, dst_day + timedelta(hours=4))
    summer = datetime(2026, 4, 5, 23, 0, tzinfo=UTC) - timedelta(days=1)  # Sunday 01:00 Paris (UTC+2)
    assert conflicts.slots_cover([sunday], summer, summer + timedelta(hours=4))
    assert not conflicts.slots_cover([sunday], summer - timedelta(minutes=1), summer + timedelta(hours=1))


def test_a_change_on_a_service_outside_its_windows_is_flagged(agent: User) -> None:
    items = cmdb(agent)
    _slot(items["service"], 0, time(6), time(12), "UTC")  # Monday 06:00–12:00 UTC
    inside = change_on(agent, [items["db"]])  # Monday 08:00–10:00 UTC: the service is reached
    assert conflicts.conflicts_for_change(inside) == []
    outside = change_on(agent, [items["app"]], start=BASE + timedelta(days=1))
    found = conflicts.conflicts_for_change(outside)
    assert [(c.kind, c.service_label) for c in found] == [("maintenance", "SVC-PAY Payroll")]
    assert "outside the maintenance windows of SVC-PAY Payroll" in found[0].message


def test_maintenance_window_services_refuse_bad_input(agent: User, admin_user: User) -> None:
    items = cmdb(agent)
    with pytest.raises(PermissionDenied):
        freezes.add_maintenance_window(
            by=agent, service=items["service"], weekday=6, start_time=time(1), end_time=time(5)
        )
    with pytest.raises(ValidationError) as error:
        freezes.add_maintenance_window(
            by=admin_user,
            service=items["service"],
            weekday=6,
            start_time=time(5),
            end_time=time(1),
            time_zone="Mars/Base",
        )
    assert set(error.value.message_dict) == {"end_time", "time_zone"}
    with pytest.raises(ValidationError, match="business services"):
        freezes.add_maintenance_window(
            by=admin_user, service=items["db"], weekday=6, start_time=time(1), end_time=time(5)
        )
    assert not MaintenanceWindow.objects.exists()
    window = freezes.add_maintenance_window(
        by=admin_user,
        service=items["service"],
        weekday=6,
        start_time=time(1),
        end_time=time(5),
        time_zone="Europe/Paris",
    )
    assert window.time_zone == "Europe/Paris"


def test_scheduling_into_a_freeze_is_refused_except_for_an_emergency(agent: User, admin_user: User) -> None:
    from django.utils import timezone

    from palier.changes.models import ChangeEvent, ChangeTemplate

    start = timezone.now() + timedelta(days=10)
    freezes.create_freeze(
        by=admin_user, name="Year end", starts_at=start - timedelta(days=1), ends_at=start + timedelta(days=2)
    )
    template = ChangeTemplate.objects.create(name_fr="Redémarrer", name_en="Restart", implementation_plan="Restart")
    change = services.create_change(by=agent, kind="standard", template=template, planned_start=start)
    with pytest.raises(ValidationError, match="Year end"):
        services.transition_change(change, to=Change.Status.SCHEDULED, by=agent)
    change.refresh_from_db()
    assert change.status == Change.Status.DRAFT
    from palier.changes.services import boards
    from palier.people import services as people

    group = people.create_group(name="ECAB", level=2)
    people.add_group_member(group, user=admin_user)
    board = boards.save_board(by=admin_user, name="ECAB", group=group, rule="any", quorum=None, is_emergency=True)
    boards.add_stage(by=admin_user, path="emergency", board=board, min_risk="low")
    urgent = services.create_change(
        by=agent, kind="emergency", title="Patch now", planned_start=start, planned_end=start + timedelta(hours=1),
        implementation_plan="Patch", backout_plan="Revert",
    )  # fmt: skip
    urgent = services.transition_change(urgent, to=Change.Status.AWAITING_APPROVAL, by=None, system=True)
    urgent = services.transition_change(urgent, to=Change.Status.APPROVED, by=None, system=True)
    urgent = services.transition_change(urgent, to=Change.Status.SCHEDULED, by=agent)
    assert ChangeEvent.objects.filter(change=urgent, kind="status").last().data["freeze"] == ["Year end"]  # type: ignore[union-attr]
