"""Test support that is not part of the product: the shared email corpus runner and its report,
and helpers that run real Palier processes (workers, schedulers) against the test database.

Tests import it from the repository root, which the root ``conftest.py`` puts on ``sys.path``."""
