"""The Content-Security-Policy allows no inline code, so no page template may contain any: no
inline script, no style element or attribute, no event-handler attribute, no htmx code attribute.
Emails are not pages (mail clients need inline styles) and are left out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import palier

PACKAGE = Path(palier.__file__).parent
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+=", re.I),
    # an event filter (``hx-trigger="keyup[ctrlKey]"``) is evaluated code; a CSS attribute
    # selector (``hx-include="[name=body]"``) is not
    "htmx code attribute": re.compile(r"\shx-on[:-]|hx-trigger=\"[^\"]*\[|hx-vals=['\"]js:|hx-vars=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def _page_templates() -> list[Path]:
    return [p for p in PACKAGE.rglob("templates/**/*.html") if "email" not in p.parts and "tests" not in p.parts]


def test_no_page_template_holds_inline_code() -> None:
    templates = _page_templates()
    assert len(templates) > 100
    found = [
        f"{path.relative_to(PACKAGE)}:{text[: m.start()].count(chr(10)) + 1}: {kind}: {m.group(0).strip()}"
        for path in templates
        for text in [path.read_text(encoding="utf-8")]
        for kind, pattern in INLINE.items()
        for m in pattern.finditer(text)
    ]
    assert not found, "inline code the CSP refuses:\n  " + "\n  ".join(found)


def test_the_guard_sees_what_it_looks_for() -> None:
    samples = {
        "inline script": "<script>alert(1)</script>",
        "style element": "<style>p{}</style>",
        "style attribute": '<div style="width: 3%">',
        "event handler attribute": '<button onclick="go()">',
        "htmx code attribute": '<div hx-on::before-swap="x()">',
        "javascript: URL": '<a href="javascript:go()">',
    }
    for kind, sample in samples.items():
        assert INLINE[kind].search(sample), kind
    assert not INLINE["inline script"].search('<script src="/static/x.js" defer></script>')
    assert not INLINE["inline script"].search('<script type="application/json" id="s">{}</script>')
    assert INLINE["htmx code attribute"].search('hx-trigger="every 15s [idle()]"')
    assert not INLINE["htmx code attribute"].search('hx-include="#f [name=body], #f [name=kind]"')


@pytest.mark.django_db
def test_every_page_sends_the_policy(requester: object) -> None:
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe" not in policy
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_the_dashboard_charts_carry_no_inline_style(admin_user: object) -> None:
    client = Client()
    client.force_login(admin_user)  # type: ignore[arg-type]
    page = client.get(reverse("reports:team")).content.decode()
    assert "pygal-chart" in page and "<style" not in page and ' style="' not in page
    css = client.get(reverse("reports:charts-css"))
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    assert ".pygal-chart" in css.content.decode() and "#chart-" not in css.content.decode()
