"""The metric registry: families gathered lazily, a missing or broken one failing loudly, and
metrics called with what their signature asks for."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from palier.reports import registry
from palier.reports.periods import Period

SAMPLE = "palier.reports.tests.sample_metrics"


def test_names_keep_their_order_and_a_missing_family_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "MODULES", (SAMPLE,))
    assert list(registry.metrics())[:2] == ["created_kpis", "created_series"]
    assert registry.get("split") is not None and registry.get("split").options == ["by"]  # type: ignore[union-attr]
    assert registry.get("nothing") is None
    monkeypatch.setattr(registry, "MODULES", ("palier.reports.metrics.not_written", SAMPLE))
    with pytest.raises(ModuleNotFoundError):
        registry.metrics()


def test_every_family_of_the_desk_is_listed() -> None:
    families = {metric.family for metric in registry.metrics().values()}
    assert families == {"flow", "sla", "satisfaction", "knowledge", "cost", "problems", "changes"}


def test_a_family_that_fails_to_import_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    # the module exists, but what it imports does not: that is a bug, not a family to come
    monkeypatch.setattr(registry, "MODULES", ("palier.reports.tests.broken_family",))
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency"):
        registry.metrics()


def test_options_are_checked_before_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "MODULES", (SAMPLE,))
    metric = registry.get("viewer_kpi")
    assert metric is not None
    period = Period(date(2026, 5, 1), date(2026, 5, 3), ZoneInfo("Europe/Paris"))

    class FakeScope:
        viewer = None

    assert registry.run(metric, scope=FakeScope(), period=period).value == 3  # type: ignore[arg-type,attr-defined]
    split = registry.get("split")
    assert split is not None
    with pytest.raises(ValidationError) as caught:
        registry.run(split, scope=FakeScope(), period=period, options={})  # type: ignore[arg-type]
    assert set(caught.value.message_dict) == {"by"}
