"""Authentication-Results (RFC 8601): only the trusted authserv-id counts, the grammar is strict,
and a pass must be aligned with the From domain."""

from __future__ import annotations

import pytest

from palier.mail.parsing import parse_authentication_results, parse_message, verdict

MX = "mx.acme.test"


def test_parses_the_rfc_examples_with_comments_versions_and_quotes() -> None:
    value = (
        "mx.acme.test 1; spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=acme.test;\r\n"
        '\tdkim=pass (2048-bit key) header.d=acme.test header.s="s1"; dmarc=pass (p=reject) header.from=acme.test'
    )
    parsed = parse_authentication_results(value)
    assert parsed is not None
    authserv_id, results = parsed
    assert authserv_id == MX
    assert [(r.method, r.result) for r in results] == [("spf", "pass"), ("dkim", "pass"), ("dmarc", "pass")]
    assert results[1].properties == {"header.d": "acme.test", "header.s": "s1"}
    assert parse_authentication_results("mx.acme.test; none") == (MX, [])


@pytest.mark.parametrize(
    "value",
    [
        "",
        "mx.acme.test; dmarc=pass (unclosed header.from=acme.test",
        'mx.acme.test; dmarc=pass header.from="acme.test',
        "mx.acme.test; dmarc=pass trailing-word header.from=acme.test",
        "mx.acme.test; dmarc",
        "mx.acme.test extra words; dmarc=pass header.from=acme.test",
        "mx.acme.test; dmarc=pass) header.from=acme.test",
        "mx.acme.test; dmarc=pass header=acme.test",
    ],
)
def test_malformed_headers_are_ignored_whole(value: str) -> None:
    assert parse_authentication_results(value) is None


def test_only_the_trusted_authserv_id_counts() -> None:
    forged = ["evil.test; dmarc=pass header.from=acme.test"]
    assert verdict(forged, authserv_id=MX, from_domain="acme.test").status == "none"
    own = [f"{MX.upper()}; dmarc=pass header.from=acme.test"]  # compared without case
    assert verdict(own, authserv_id=MX, from_domain="acme.test").verified


def test_a_failure_beats_a_forged_pass_with_the_same_authserv_id() -> None:
    headers = [f"{MX}; dmarc=fail header.from=acme.test", f"{MX}; dmarc=pass header.from=acme.test"]
    result = verdict(headers, authserv_id=MX, from_domain="acme.test")
    assert result.status == "fail" and "dmarc=fail" in result.detail


@pytest.mark.parametrize(
    ("header", "verified"),
    [
        ("dmarc=pass header.from=acme.test", True),
        ("dmarc=pass header.from=evil.test", False),  # the result of another From
        ("dmarc=fail header.from=acme.test; spf=pass smtp.mailfrom=acme.test", False),  # DMARC says no
        ("dmarc=none header.from=acme.test; spf=pass smtp.mailfrom=acme.test", True),  # no policy: SPF
        ("dmarc=none header.from=acme.test", False),
        ("spf=pass smtp.mailfrom=bounce@mail.acme.test", True),  # relaxed alignment
        ("spf=pass smtp.mailfrom=evil.test", False),
        ("spf=softfail smtp.mailfrom=acme.test", False),
        ("dkim=pass header.d=acme.test", True),
        ("dkim=pass header.i=@sub.acme.test", True),
        ("dkim=pass header.d=notacme.test", False),  # a suffix of the name is not a parent domain
        ("dkim=fail header.d=acme.test; dkim=pass header.d=evil.test", False),
        ("dkim=fail header.d=evil.test; dkim=pass header.d=acme.test", True),  # one good signature
        ("spf=pass smtp.mailfrom=test", False),
    ],
)
def test_a_pass_counts_only_when_aligned_with_from(header: str, verified: bool) -> None:
    assert verdict([f"{MX}; {header}"], authserv_id=MX, from_domain="acme.test").verified is verified


def test_the_parser_reads_the_headers_and_counts_from_addresses() -> None:
    raw = (
        b"Authentication-Results: mx.acme.test; dmarc=pass header.from=acme.test\r\n"
        b"Authentication-Results: evil.test; dmarc=pass header.from=acme.test\r\n"
        b"From: Alice <alice@acme.test>, Eve <eve@evil.test>\r\nSubject: hi\r\n\r\nbody\r\n"
    )
    parsed = parse_message(raw)
    assert len(parsed.authentication_results) == 2
    assert parsed.from_count == 2


def test_a_gmail_style_header_is_read() -> None:
    header = (
        "mx.google.com;\r\n       dkim=pass header.i=@acme.test header.s=s1 header.b=Ab+1;\r\n"
        "       spf=pass (google.com: domain of alice@acme.test designates 192.0.2.1 as permitted sender) "
        "smtp.mailfrom=alice@acme.test;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=acme.test"
    )
    assert verdict([header], authserv_id="mx.google.com", from_domain="acme.test").detail.startswith("dmarc=pass")


def test_a_header_without_authserv_id_is_ignored() -> None:
    office = "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=acme.test; dmarc=pass action=none header.from=acme.test"
    assert parse_authentication_results(office) is None
    assert verdict([office], authserv_id="spf=pass", from_domain="acme.test").status == "none"
