from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.http import HttpResponse

from palier.api.errors import Problem
from palier.api.etag import expected_version, set_etag


@dataclass
class Row:
    pk: int
    version: int

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


def test_the_etag_header_names_the_row_and_its_version():
    response = HttpResponse()
    set_etag(response, Row(7, 3))
    assert response["ETag"] == '"7-3"'


@pytest.mark.parametrize("header", ['"7-3"', 'W/"7-3"', ' "7-3" '])
def test_if_match_gives_the_version_seen(header):
    assert expected_version(Row(7, 5), header, None, required=True, mismatch="no") == 3


def test_if_match_wins_over_the_body_version():
    assert expected_version(Row(7, 5), '"7-2"', 4, required=False, mismatch="no") == 2


@pytest.mark.parametrize("header", ['"8-3"', "7-3", "*", ""])
def test_an_if_match_for_something_else_answers_412(header):
    with pytest.raises(Problem) as refused:
        expected_version(Row(7, 3), header, None, required=False, mismatch="Not this row.")
    assert (refused.value.status, refused.value.detail) == (412, "Not this row.")


def test_the_body_version_is_used_without_if_match():
    assert expected_version(Row(7, 3), None, 2, required=True, mismatch="no") == 2
    assert expected_version(Row(7, 3), None, None, required=False, mismatch="no") is None


def test_a_required_version_missing_answers_428():
    with pytest.raises(Problem) as refused:
        expected_version(Row(7, 3), None, None, required=True, mismatch="no")
    assert refused.value.status == 428
    assert refused.value.errors == {"version": ["This field is required."]}
