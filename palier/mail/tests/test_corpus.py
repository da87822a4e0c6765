"""Every message of the shared real-world corpus goes through the pipeline (see docs/email.md)."""

from __future__ import annotations

import pytest

from testsupport.mail_corpus import corpus_path, run


def test_every_corpus_message_is_processed_and_95_percent_of_expectations_are_met() -> None:
    root = corpus_path()
    if not (root / "INDEX.json").exists():
        pytest.skip(f"email corpus missing at {root} (set PALIER_EMAIL_CORPUS to its folder)")
    outcomes = run(root)
    errors = [f"{o.path}: {o.error}" for o in outcomes if o.error]
    assert not errors, errors[:10]
    checks = [c for o in outcomes for c in o.checks]
    met = sum(c.ok for c in checks)
    assert len(outcomes) >= 1000 and len(checks) >= 2000
    assert met / len(checks) >= 0.95, f"{met}/{len(checks)} expectations met"
