"""The top navigation of every page: ``{% main_nav %}`` (in ``base.html``).

One list of entries for everyone, filtered by role, so the bar is the same on the agent and the
portal pages. A person with many entries (managers, administrators) gets them grouped under a few
menus, which keeps the bar on one line at 1280 px in both languages. The current section is the
entry whose path prefix is the longest match of the request's path (``aria-current``). Reads
nothing from the database: the user is already loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import template
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

register = template.Library()

AGENT, MANAGER, ADMIN = "agent", "manager", "admin"


@dataclass(frozen=True)
class Entry:
    key: str
    url_name: str
    label: Promise
    prefixes: tuple[str, ...] = ()  # the paths that belong to this entry (its own URL always does)
    who: tuple[str, ...] = ()  # roles that see it; empty: everyone signed in


@dataclass(frozen=True)
class Menu:
    key: str
    label: Promise
    entries: tuple[Entry, ...]


# Agents' areas that are administration although their URLs are not under /agent/admin/.
_ADMIN_AREAS = (
    "/agent/admin/",
    "/agent/routing/",
    "/agent/sla/",
    "/agent/mail/",
    "/agent/identity/",
    "/agent/automation/",
    "/agent/webhooks/",
    "/agent/audit/",
    "/hooks/",
)
_PORTAL = (
    Entry("portal", "portal:home", _("Get help"), ("/portal/new/", "/catalog/")),
    Entry("requests", "portal:ticket-list", _("My requests"), ("/portal/requests/",)),
    Entry("kb", "kb:home", _("Knowledge base"), ("/kb/",)),
)
_AGENT_BAR: tuple[Entry | Menu, ...] = (
    Entry("tickets", "agent:ticket-list", _("Tickets"), ("/agent/tickets/", "/agent/search/", "/agent/work/")),
    Entry("call", "agent:call-new", _("Log a call"), ("/agent/calls/",)),
    Menu(
        "service",
        _("Service"),
        (
            Entry("problems", "problems:list", _("Problems"), ("/agent/problems/", "/agent/major/")),
            Entry("changes", "changes:list", _("Changes"), ("/agent/changes/",)),
            Entry("assets", "assets:list", _("Assets"), ("/agent/assets/",)),
            Entry("macros", "macros:list", _("Macros"), ("/agent/macros/",)),
        ),
    ),
    Menu(
        "team",
        _("Team"),
        (
            Entry("my-team", "routing:team", _("My team"), ("/agent/routing/team/",), who=(MANAGER, ADMIN)),
            Entry("dashboard", "reports:team", _("Dashboard"), ("/agent/reports/",), who=(MANAGER, ADMIN)),
            Entry("figures", "reports:personal", _("My figures"), ("/agent/reports/",), who=(AGENT,)),
            Entry(
                "satisfaction", "surveys:responses", _("Satisfaction"), ("/surveys/responses/",), who=(MANAGER, ADMIN)
            ),
        ),
    ),
    Menu("help", _("Portal"), _PORTAL),
    Entry("admin", "agent:admin", _("Administration"), _ADMIN_AREAS, who=(ADMIN,)),
)


@dataclass
class Link:
    key: str
    url: str
    label: Promise
    current: bool = False


@dataclass
class Group:
    key: str
    label: Promise
    links: list[Link] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


def _role(user: Any) -> str:
    if getattr(user, "is_admin", False):
        return ADMIN
    return MANAGER if getattr(user, "role", "") == "manager" else AGENT


def _visible(entries: tuple[Entry, ...], role: str) -> list[Entry]:
    return [e for e in entries if not e.who or role in e.who]


def bar_for(user: Any, path: str) -> list[Link | Group]:
    """The entries ``user`` sees, in order, the one matching ``path`` marked current."""
    if not getattr(user, "is_authenticated", False):
        return []
    if getattr(user, "is_agent", False):
        role = _role(user)
        items: list[Entry | Menu] = []
        for item in _AGENT_BAR:
            if isinstance(item, Menu):
                entries = _visible(item.entries, role)
                # a menu of one entry is that entry (an agent's "Team" is only "My figures")
                if len(entries) == 1:
                    items.append(entries[0])
                elif entries:
                    items.append(Menu(item.key, item.label, tuple(entries)))
            elif not item.who or role in item.who:
                items.append(item)
    else:
        items = list(_PORTAL)
    bar: list[Link | Group] = []
    best: tuple[int, Link | None] = (0, None)
    for item in items:
        members: tuple[Entry, ...] = item.entries if isinstance(item, Menu) else (item,)
        links = []
        for entry in members:
            url = reverse(entry.url_name)
            link = Link(entry.key, url, entry.label)
            links.append(link)
            # its own URL exactly, or any path under one of its prefixes; the longest match wins
            matches = [len(url)] if path == url else []
            matches += [len(prefix) for prefix in entry.prefixes if path.startswith(prefix)]
            if matches and max(matches) > best[0]:
                best = (max(matches), link)
        bar.append(Group(item.key, item.label, links) if isinstance(item, Menu) else links[0])
    if best[1] is not None:
        best[1].current = True
    return bar


@register.inclusion_tag("includes/main_nav.html", takes_context=True)
def main_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    path = getattr(request, "path", "")
    return {
        "bar": bar_for(user, path),
        "user": user,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "search_q": context.get("search_q", ""),
    }
