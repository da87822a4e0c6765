"""The dependency order between Palier's apps, checked on the source (docs/architecture.md).

Every module of ``palier/`` is read with ``ast`` (nothing is imported) and every ``import`` and
``from … import`` counts, wherever it is: at module level, inside a function, under
``if TYPE_CHECKING:``. Tests and migrations do not count as importers. The imports give an
app -> app graph, which must follow ``LAYERS``: an app imports only apps of lower layers, so the
graph has no cycle. Interface packages sit on top: they may import any app, and only the project's
root modules (``palier/urls.py``, settings, the command line) import them. ``palier/lib`` imports
no app at all. No app imports a private name (``_x``) or a private module (``palier.x._y``) of
another app: it asks the owner for a public function instead. The interface packages that serve
requests read the database only through the apps' selectors: no ``Model.objects`` outside their
tests.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import palier

# Bottom first. An app may import the apps of the layers below its own, never its own layer's
# other apps nor anything above. A new app gets its place here.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("lib",),  # no tables, no domain rules
    ("core", "audit"),  # shared machinery with tables (the versioned process cache; the audit log), knowing no domain
    ("people",),
    ("tickets",),
    ("mail",),  # mailboxes, inbound mail, the Message-ID map
    ("notifications",),  # in-app notifications and the outbox; sends through mail's mailboxes
    ("assets",),  # assets and configuration items; routing, SLA and automation match on them
    ("routing",),
    ("sla",),
    ("catalog", "integrations", "timelog", "worklist"),
    ("kb", "macros", "surveys"),
    ("problems",),  # problems, known errors, major incidents: link incidents, assets, articles
    ("changes",),  # changes: name assets and problems, approved through the catalog's engine
    (
        "automation",
        "system",
        "reports",
        "backups",
        "identity",
        "webhooks",
        "teamsbot",
    ),  # reports: reads every domain, writes nothing of theirs
    ("ops", "dataexport"),  # /health, /ready, /metrics; the full data export: read every domain, write nothing
)
# may import any app; only the root modules (ROOT) import them
INTERFACES = frozenset({"agent", "portal", "api", "templatetags", "demo"})  # templatetags: shared by agent and portal
ROOT = "palier"  # the package's own modules: urls.py, settings.py, cli.py, wsgi.py

# The interface packages answering requests; ``demo`` only fills an empty database with sample data.
SERVING = INTERFACES - {"demo"}

# Imports exempt from every check, as (importing module, imported name): keep it empty; an entry
# is a debt to pay before the next change of the same modules.
PENDING_REMOVAL: frozenset[tuple[str, str]] = frozenset()

PACKAGE = Path(palier.__file__).parent


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. palier.sla.services.sweep
    line: int
    name: str  # what it imports, e.g. palier.routing.services.escalate

    @property
    def source(self) -> str:
        return app_of(self.module)

    @property
    def target(self) -> str:
        return app_of(self.name)

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.name}"


def app_of(dotted: str) -> str:
    """``palier.sla.selectors`` -> ``sla``; a root module (``palier.urls``) or ``palier`` -> ROOT."""
    parts = dotted.split(".")
    if len(parts) > 1 and (PACKAGE / parts[1] / "__init__.py").exists():
        return parts[1]
    return ROOT


def is_private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split(".")[1:])


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent)
        if {"tests", "migrations"} & set(relative.parts):
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _imports_of(module: str, source: str, *, is_package: bool = False) -> Iterator[Import]:
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, filename=module)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == ROOT or name.startswith(ROOT + "."):
                yield Import(module, node.lineno, name)


@cache
def imports() -> tuple[Import, ...]:
    """Every import of another app by a module of ``palier/`` (outside tests and migrations)."""
    found = (
        imp
        for module, path in _modules()
        for imp in _imports_of(module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py")
    )
    return tuple(imp for imp in found if imp.source != imp.target and (imp.module, imp.name) not in PENDING_REMOVAL)


def _layer() -> dict[str, int]:
    return {app: depth for depth, apps in enumerate(LAYERS) for app in apps}


def _shortest_cycle(edges: dict[str, set[str]], start: str) -> list[str]:
    """The shortest path start -> … -> start (breadth first), or [] when start is on no cycle."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        app = queue.pop(0)
        for other in sorted(edges.get(app, ())):
            if other == start:
                return [*paths[app], start]
            if other not in paths:
                paths[other] = [*paths[app], other]
                queue.append(other)
    return []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle through each app that is on one (each cycle once), e.g. [a, b, a]."""
    found: dict[frozenset[str], list[str]] = {}
    for app in sorted(edges):
        cycle = _shortest_cycle(edges, app)
        if cycle and frozenset(cycle) not in found:
            found[frozenset(cycle)] = cycle
    return list(found.values())


def _report(title: str, found: list[str]) -> str:
    return title + ":\n  " + "\n  ".join(found)


def test_the_walk_sees_every_kind_of_import() -> None:
    """Function-level, TYPE_CHECKING and relative imports all count; tests and migrations do not."""
    source = """
from typing import TYPE_CHECKING
import palier.people.models
from palier.tickets import services as tickets
from . import selectors
from ..routing.services import escalate

if TYPE_CHECKING:
    from palier.mail.models import Mailbox

def later():
    from palier.notifications.services import notify
"""
    found = {imp.name for imp in _imports_of("palier.sla.services.sweep", source)}
    assert found == {
        "palier.people.models",
        "palier.tickets.services",
        "palier.sla.services.selectors",
        "palier.sla.routing.services.escalate",
        "palier.mail.models.Mailbox",
        "palier.notifications.services.notify",
    }
    assert [imp.name for imp in _imports_of("palier.sla", "from .clock import x", is_package=True)] == [
        "palier.sla.clock.x"
    ]
    assert app_of("palier.routing.services.escalate") == "routing" and app_of("palier.urls") == ROOT
    assert is_private("palier.tickets.services._common.lock") and is_private("palier.tickets.services._lock")
    assert not is_private("palier.tickets.services.__init__")
    modules = dict(_modules())
    assert "palier.sla.services.sweep" in modules and "palier.urls" in modules
    assert not any(".tests" in module or ".migrations" in module for module in modules)


def test_every_app_has_a_place() -> None:
    layered = [app for apps in LAYERS for app in apps]
    assert len(layered) == len(set(layered)), "an app is listed twice in LAYERS"
    apps = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    missing = sorted(apps - set(layered) - INTERFACES)
    assert not missing, f"place these apps in LAYERS or INTERFACES: {missing}"


def test_no_cycle_between_apps() -> None:
    edges: dict[str, set[str]] = {}
    for imp in imports():
        edges.setdefault(imp.source, set()).add(imp.target)
    found = []
    for cycle in _cycles(edges):
        found.append(" -> ".join(cycle))
        for source, target in pairwise(cycle):
            examples = [imp for imp in imports() if (imp.source, imp.target) == (source, target)]
            found.extend(f"    {imp}" for imp in examples[:3])
    assert not found, _report("import cycles between apps", found)


def test_apps_import_only_lower_layers() -> None:
    layer = _layer()
    found = []
    for imp in imports():
        source, target = imp.source, imp.target
        if source == ROOT:
            continue  # the root wires everything together
        if target == ROOT or target in INTERFACES:
            if source not in INTERFACES or target == ROOT:
                found.append(f"{imp} (only the root modules import {target})")
            else:
                found.append(f"{imp} (interfaces do not import each other)")
        elif source not in INTERFACES and layer[target] >= layer[source]:
            found.append(f"{imp} ({source} is layer {layer[source]}, {target} is layer {layer[target]})")
    assert not found, _report("imports against the dependency order (LAYERS)", found)


def test_lib_imports_no_app() -> None:
    found = [str(imp) for imp in imports() if imp.source == "lib"]
    assert not found, _report("palier/lib imports a domain app", found)


def test_no_private_name_of_another_app() -> None:
    found = [str(imp) for imp in imports() if is_private(imp.name)]
    assert not found, _report("imports of another app's private names or modules", found)


def _manager_uses(module: str, source: str) -> Iterator[str]:
    """Every ``Something.objects`` of the source, in line order, as "module:line uses Something.objects"."""
    nodes = [n for n in ast.walk(ast.parse(source, filename=module)) if isinstance(n, ast.Attribute)]
    for node in sorted((n for n in nodes if n.attr == "objects"), key=lambda n: (n.lineno, n.col_offset)):
        yield f"{module}:{node.lineno} uses {ast.unparse(node)}"


def test_the_walk_sees_every_manager_use() -> None:
    source = """
from palier.people.models import User
objects = []
rows = User.objects.filter(is_active=True)
first = self.model.objects.first()
text = "User.objects"
def later():
    return getattr(User, "objects"), objects
"""
    assert list(_manager_uses("palier.agent.forms.x", source)) == [
        "palier.agent.forms.x:4 uses User.objects",
        "palier.agent.forms.x:5 uses self.model.objects",
    ]


def test_interfaces_read_through_selectors() -> None:
    """Views, forms and API handlers ask the apps' selectors (``palier/<app>/selectors.py``) for
    their rows and choice lists: no ORM manager in the interface packages outside their tests."""
    found = [
        use
        for module, path in _modules()
        if app_of(module) in SERVING
        for use in _manager_uses(module, path.read_text(encoding="utf-8"))
    ]
    assert not found, _report("interface code reading the database without a selector", found)
