"""Builders for the change calendar's tests: a small CMDB and changes with windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from palier.assets.models import Asset
from palier.assets.services.relations import relate
from palier.assets.tests.builders import make_asset
from palier.changes import services
from palier.changes.models import Change
from palier.people.models import User

BASE = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)  # a Monday


def cmdb(by: User) -> dict[str, Asset]:
    """payroll (service) depends on app-01, which runs on db-01; mail-01 stands alone."""
    db = make_asset("DB-01", by=by, type="server", name="Database server")
    app = make_asset("APP-01", by=by, type="application", name="Payroll application")
    service = make_asset("SVC-PAY", by=by, type="business-service", name="Payroll")
    mail = make_asset("MAIL-01", by=by, type="server", name="Mail server")
    relate(by, app, "runs_on", db)
    relate(by, service, "depends_on", app)
    return {"db": db, "app": app, "service": service, "mail": mail}


def change_on(
    by: User, assets: list[Asset], *, start: datetime = BASE, hours: float = 2, kind: str = "normal", **values: Any
) -> Change:
    values.setdefault("title", f"Work on {', '.join(a.tag for a in assets)}")
    return services.create_change(
        by=by,
        kind=kind,
        asset_ids=[a.pk for a in assets],
        planned_start=start,
        planned_end=start + timedelta(hours=hours),
        implementation_plan="Do it",
        **values,
    )
