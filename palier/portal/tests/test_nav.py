"""The top bar every page shares (palier/templatetags/nav_tags.py, includes/main_nav.html), the
language switcher, and the keyboard shortcuts' frame on the agent pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.people.models import User
from palier.templatetags.nav_tags import Group, Link, bar_for

pytestmark = pytest.mark.django_db


def _keys(bar: list[Link | Group]) -> list[str]:
    return [item.key for item in bar]


def _current(bar: list[Link | Group]) -> list[str]:
    links = [link for item in bar for link in (item.links if isinstance(item, Group) else [item])]
    return [link.key for link in links if link.current]


def test_a_requester_sees_the_portal_entries_only(requester: User) -> None:
    bar = bar_for(requester, "/portal/requests/12/")
    assert _keys(bar) == ["portal", "requests", "kb"]
    assert _current(bar) == ["requests"]  # a request's page belongs to "My requests"
    assert _current(bar_for(requester, "/portal/")) == ["portal"]
    assert _current(bar_for(requester, "/accounts/profile/")) == []


def test_an_administrator_gets_menus_and_one_current_entry(admin_user: User) -> None:
    bar = bar_for(admin_user, "/agent/admin/users/3/")
    assert _keys(bar) == ["tickets", "call", "service", "team", "help", "admin"]
    assert _current(bar) == ["admin"]
    service = next(item for item in bar if isinstance(item, Group) and item.key == "service")
    assert [link.key for link in service.links] == ["problems", "changes", "assets", "macros"]
    assert not service.current
    problems = bar_for(admin_user, "/agent/problems/known-errors/")
    assert _current(problems) == ["problems"]
    assert next(item for item in problems if item.key == "service").current
    # the longest prefix wins: the team page is under /agent/routing/, which is administration
    assert _current(bar_for(admin_user, "/agent/routing/team/")) == ["my-team"]
    assert _current(bar_for(admin_user, "/agent/routing/rules/")) == ["admin"]
    assert _current(bar_for(admin_user, "/agent/")) == ["tickets"]
    assert _current(bar_for(admin_user, "/agent/tickets/5/")) == ["tickets"]


def test_an_agent_sees_no_administration_and_a_plain_my_figures_entry(agent: User, manager: User) -> None:
    bar = bar_for(agent, "/agent/reports/me/")
    assert "admin" not in _keys(bar) and "team" not in _keys(bar)
    assert "figures" in _keys(bar) and _current(bar) == ["figures"]
    team = next(item for item in bar_for(manager, "/") if item.key == "team")
    assert isinstance(team, Group) and [link.key for link in team.links] == ["my-team", "dashboard", "satisfaction"]


def test_signed_out_people_get_no_entries() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert bar_for(AnonymousUser(), "/") == []


def test_the_bar_reads_nothing(client: Client, admin_user: User, django_assert_num_queries: Any) -> None:
    client.force_login(admin_user)
    admin = User.objects.get(pk=admin_user.pk)
    with django_assert_num_queries(0):
        bar_for(admin, "/agent/")


def test_the_page_marks_the_current_section_and_menus_open_without_script(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    html = client.get(reverse("problems:list"), headers={"accept-language": "en"}).content.decode()
    assert re.search(r'<summary class="nav-link active" id="nav-service" aria-current="true">Service</summary>', html)
    assert 'data-nav="problems" aria-current="page">Problems</a>' in html
    assert html.count('aria-current="page"') == 1
    assert 'id="global-search"' in html and "data-kb-global-search" in html


def test_language_applies_on_selection_and_keeps_a_button_without_script(client: Client, requester: User) -> None:
    client.force_login(requester)
    html = client.get(reverse("portal:home"), headers={"accept-language": "en"}).content.decode()
    form = html[html.index('<form method="post" class="language-form') :]
    form = form[: form.index("</form>")]
    assert "data-submit-on-change" in form
    assert re.search(r"<noscript><button type=\"submit\"[^>]*>Switch language</button></noscript>", form)


def test_agent_pages_carry_the_shortcuts_and_their_help_in_the_persons_language(client: Client, agent: User) -> None:
    client.force_login(agent)
    html = client.get(reverse("agent:ticket-list"), headers={"accept-language": "en"}).content.decode()
    assert '<dialog id="kb-help"' in html and "Keyboard shortcuts" in html and "<kbd>j</kbd>" in html
    assert re.search(r'<script src="[^"]*agent/shortcuts[^"]*\.js" defer></script>', html)
    # no inline script anywhere (Content-Security-Policy)
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html)


def test_portal_pages_do_not_load_the_shortcuts(client: Client, requester: User) -> None:
    client.force_login(requester)
    html = client.get(reverse("portal:home")).content.decode()
    assert "shortcuts" not in html and "kb-help" not in html
