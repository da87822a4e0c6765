"""The reference pattern of a vendor: what an administrator may save, and a search that cannot hang."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError

from palier.lib import refpattern


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("x" * 201, "At most 200"),
        ("Case #(\\d+", "not a valid regular expression"),
        ("Case #\\d+", "exactly one group"),
        ("(Case) #(\\d+)", "exactly one group"),
        ("Case\n#(\\d+)", "one line"),
        ("(a+)+$", "too long"),
        ("(a|aa)+$", "too long"),
    ],
)
def test_a_bad_pattern_is_refused_with_its_reason(pattern: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        refpattern.check(pattern, field="vendor_reference_pattern")
    assert message in str(refused.value.message_dict["vendor_reference_pattern"])


def test_a_good_pattern_is_kept() -> None:
    assert refpattern.check("  Case #(\\d+)  ") == "Case #(\\d+)"
    assert refpattern.check("(?i)\\[sr-(?P<ref>\\d{6,10})\\]") == "(?i)\\[sr-(?P<ref>\\d{6,10})\\]"
    assert refpattern.check("") == ""


def test_the_subject_first_then_the_start_of_the_body() -> None:
    found = refpattern.search("Case #(\\d+)", subject="RE: Case #12 update", body="Case #34")
    assert found == refpattern.Found("12")
    assert refpattern.search("Case #(\\d+)", subject="RE: update", body="See Case #34.").reference == "34"
    late = "x" * refpattern.BODY_CHARS + " Case #56"
    assert refpattern.search("Case #(\\d+)", subject="", body=late) == refpattern.Found()


def test_a_capture_too_long_to_be_a_reference_is_dropped() -> None:
    assert refpattern.search("ref=(\\S+)", subject="ref=" + "9" * 150, body="").reference == ""


def test_a_catastrophic_pattern_is_cut_short() -> None:
    started = time.monotonic()
    found = refpattern.search("(a+)+$", subject="", body="a" * 4000 + "!")
    assert found == refpattern.Found(problem="timeout")
    assert time.monotonic() - started < refpattern.RUN_SECONDS + 3
