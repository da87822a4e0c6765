"""The impact view: what depends on an item ("up") or what it needs ("down"), several levels
deep, computed on the server and drawn as an inline SVG picture.

``impact(viewer, asset, direction=…, depth=…)`` walks the relationships (``graph.walk``: one query
per level), loads the items reached in one more query, with whether ``viewer`` may see each of
them, and lays them out: one column per level, boxes with tag, name and type, arrows from an item
to what it needs labelled with the relationship's kind. An item the viewer may not see is drawn
as a "restricted item", without its tag or name, and without a link.

``svg(picture, href)`` draws it. The picture carries no ``style`` attribute and no ``<style>``
element (the pages' Content-Security-Policy refuses inline style): its look comes from classes
styled by ``agent/impact.css``; positions are SVG presentation attributes (x, y, width…).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Case, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from palier.people.models import User

from . import graph, permissions
from .models import Asset, Relationship, _bilingual

DEFAULT_DEPTH = 5
BOX_W, BOX_H = 190, 58
GAP_X, GAP_Y = 90, 18
MARGIN = 12
NAME_CHARS = 26


@dataclass(frozen=True)
class Node:
    id: int
    level: int
    visible: bool
    tag: str = ""
    name: str = ""
    type_name: str = ""
    status: str = ""

    @property
    def label(self) -> str:
        return f"{self.tag} {self.name}" if self.visible else _("Restricted item")


@dataclass(frozen=True)
class Edge:
    source: int
    target: int
    kind: str

    @property
    def label(self) -> str:
        return str(Relationship.Kind(self.kind).label)


@dataclass
class Picture:
    start: int
    direction: str
    depth: int
    # the columns, left to right: level 0 (the start), 1, 2…
    columns: list[list[Node]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False

    @property
    def nodes(self) -> dict[int, Node]:
        return {node.id: node for column in self.columns for node in column}

    def rows(self) -> list[tuple[Node, Node, Edge]]:
        """The picture as a list: each relationship crossed, source and target, level by level
        (the accessible table under the picture)."""
        nodes = self.nodes
        up = self.direction == "up"

        def order(edge: Edge) -> tuple[int, str, str]:
            far = nodes[edge.source if up else edge.target]
            return (far.level, far.tag, edge.kind)

        ordered = sorted(self.edges, key=order)
        return [(nodes[e.source], nodes[e.target], e) for e in ordered]


def clamp_depth(raw: object) -> int:
    try:
        depth = int(str(raw))
    except ValueError:
        return DEFAULT_DEPTH
    return max(1, min(depth, graph.MAX_DEPTH))


def impact(viewer: User, asset: Asset, *, direction: str = "up", depth: int = DEFAULT_DEPTH) -> Picture:
    """The items reached from ``asset`` (which the caller fetched as visible to ``viewer``)."""
    if direction not in ("up", "down"):
        direction = "up"
    depth = clamp_depth(depth)
    walked = graph.walk(asset.pk, direction=direction, depth=depth)
    visible = permissions.visible(viewer)
    # an empty Q (administrators) cannot be a When() condition: everything is visible then
    seen = Value(True) if not visible else Case(When(visible, then=Value(True)), default=Value(False))
    rows = (
        Asset.objects.filter(pk__in=list(walked.levels))
        .annotate(seen=seen)
        .values_list("pk", "tag", "name", "status", "type__name_fr", "type__name_en", "seen")
    )
    nodes: dict[int, Node] = {}
    for pk, tag, name, status, type_fr, type_en, can_see in rows:
        level = walked.levels[pk]
        if can_see or pk == asset.pk:
            nodes[pk] = Node(pk, level, True, tag, name, _bilingual(type_fr, type_en), status)
        else:
            nodes[pk] = Node(pk, level, False)
    columns: list[list[Node]] = [[] for _level in range(max((n.level for n in nodes.values()), default=0) + 1)]
    for node in sorted(nodes.values(), key=lambda n: (not n.visible, n.tag, n.id)):
        columns[node.level].append(node)
    edges = [Edge(s, t, k) for s, t, k in walked.edges if s in nodes and t in nodes]
    return Picture(asset.pk, direction, depth, columns, edges, walked.truncated)


def _position(picture: Picture) -> dict[int, tuple[int, int]]:
    spots: dict[int, tuple[int, int]] = {}
    for level, column in enumerate(picture.columns):
        for row, node in enumerate(column):
            spots[node.id] = (MARGIN + level * (BOX_W + GAP_X), MARGIN + row * (BOX_H + GAP_Y))
    return spots


def _short(text: str, limit: int = NAME_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _box(node: Node, x: int, y: int, *, start: bool, href: Callable[[int], str]) -> str:
    css = "impact-node" + (" impact-start" if start else "") + ("" if node.visible else " impact-restricted")
    rect = f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" ry="6" class="impact-box"/>'
    if not node.visible:
        text = f'<text x="{x + 10}" y="{y + 34}" class="impact-name">{escape(_("Restricted item"))}</text>'
        return f'<g class="{css}">{rect}{text}</g>'
    texts = (
        f'<text x="{x + 10}" y="{y + 18}" class="impact-tag">{escape(_short(node.tag))}</text>'
        f'<text x="{x + 10}" y="{y + 35}" class="impact-name">{escape(_short(node.name))}</text>'
        f'<text x="{x + 10}" y="{y + 51}" class="impact-type">{escape(_short(node.type_name, 30))}</text>'
    )
    title = f"<title>{escape(node.label)} ({escape(node.type_name)})</title>"
    return f'<a href="{escape(href(node.id))}" class="impact-link"><g class="{css}">{title}{rect}{texts}</g></a>'


def _arrow(edge: Edge, spots: dict[int, tuple[int, int]]) -> str:
    (sx, sy), (tx, ty) = spots[edge.source], spots[edge.target]
    # from the side of the source box facing the target to the facing side of the target box
    if sx < tx:
        x1, x2 = sx + BOX_W, tx
    elif sx > tx:
        x1, x2 = sx, tx + BOX_W
    else:  # same column: go round the right side
        x1 = x2 = sx + BOX_W
    y1, y2 = sy + BOX_H // 2, ty + BOX_H // 2
    if x1 == x2:
        bend = x1 + GAP_X // 2
        path = f"M{x1},{y1} C{bend},{y1} {bend},{y2} {x2},{y2}"
        lx, ly = bend - 4, (y1 + y2) // 2
    else:
        middle = (x1 + x2) // 2
        path = f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"
        lx, ly = middle, (y1 + y2) // 2 - 4
    label = escape(edge.label)
    return (
        f'<g class="impact-edge"><path d="{path}" class="impact-line" marker-end="url(#impact-arrow)"/>'
        f'<text x="{lx}" y="{ly}" text-anchor="middle" class="impact-kind">{label}</text></g>'
    )


def svg(picture: Picture, href: Callable[[int], str]) -> SafeString:
    """The picture as an inline ``<svg>`` (every text escaped here); ``href(asset_id)`` links a box."""
    spots = _position(picture)
    tallest = max((len(column) for column in picture.columns), default=1)
    width = 2 * MARGIN + len(picture.columns) * BOX_W + (len(picture.columns) - 1) * GAP_X
    height = 2 * MARGIN + tallest * BOX_H + (tallest - 1) * GAP_Y
    title = (
        _("What depends on this item, %(n)d levels deep")
        if picture.direction == "up"
        else _("What this item needs, %(n)d levels deep")
    ) % {"n": picture.depth}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="impact-svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="impact-svg-title">',
        f'<title id="impact-svg-title">{escape(title)}</title>',
        '<defs><marker id="impact-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="impact-arrowhead"/></marker></defs>',
    ]
    parts.extend(_arrow(edge, spots) for edge in picture.edges)
    for node in picture.nodes.values():
        x, y = spots[node.id]
        parts.append(_box(node, x, y, start=node.id == picture.start, href=href))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every text above is escaped)
