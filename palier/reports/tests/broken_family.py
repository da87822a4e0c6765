"""A metric family that exists but cannot be imported (the registry must not skip it)."""

import palier.reports.metrics.no_such_dependency  # noqa: F401
