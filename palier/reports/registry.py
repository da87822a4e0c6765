"""Every metric by its URL name: the ``METRICS`` dicts of the metric modules, gathered lazily.

The API and the exports look a metric up here (``get``) and call it with what it asks for
(``run``): ``scope`` for ticket figures, ``viewer`` for the knowledge base's, plus any extra
keyword-only option such as ``cost_by``'s ``by``, taken from the query as text.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from palier.reports.filters import Scope
from palier.reports.periods import Period

# the metric families, in the order the API lists them (palier/reports/metrics/<family>.py)
MODULES: tuple[str, ...] = (
    "palier.reports.metrics.flow",
    "palier.reports.metrics.sla",
    "palier.reports.metrics.satisfaction",
    "palier.reports.metrics.knowledge",
    "palier.reports.metrics.cost",
    "palier.reports.metrics.problems",
    "palier.reports.metrics.changes",
)
STANDARD = frozenset({"scope", "period", "viewer"})


@dataclass(frozen=True)
class Metric:
    name: str
    family: str
    function: Callable[..., object]

    @property
    def options(self) -> list[str]:
        """The extra keyword-only parameters the metric needs (``by`` for ``cost_by``)."""
        params = inspect.signature(self.function).parameters.values()
        return [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name not in STANDARD]


def metrics() -> dict[str, Metric]:
    """Every metric by name, in the order of ``MODULES`` and of each module's ``METRICS``."""
    found: dict[str, Metric] = {}
    for path in MODULES:
        module = importlib.import_module(path)  # a missing family is a bug: fail loudly
        family = path.rpartition(".")[2]
        for name, function in getattr(module, "METRICS", {}).items():
            found[name] = Metric(name=name, family=family, function=function)
    return found


def get(name: str) -> Metric | None:
    return metrics().get(name)


def run(metric: Metric, *, scope: Scope, period: Period, options: Mapping[str, Any] | None = None) -> object:
    """Call ``metric`` with what it asks for. A missing option is refused, naming it."""
    params = inspect.signature(metric.function).parameters
    kwargs: dict[str, Any] = {"period": period}
    kwargs["viewer" if "viewer" in params else "scope"] = scope.viewer if "viewer" in params else scope
    errors: dict[str, str] = {}
    for option in metric.options:
        value = (options or {}).get(option)
        if value in (None, "") and params[option].default is inspect.Parameter.empty:
            errors[option] = _("This field is required.")
        elif value not in (None, ""):
            kwargs[option] = value
    if errors:
        raise ValidationError(errors)
    return metric.function(**kwargs)
