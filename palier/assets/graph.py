"""Walks over the relationships between configuration items, one query per level.

``walk(start, direction, depth)`` returns the items reached and the relationships crossed:
"down" follows what an item needs (source → target: "what this service needs"), "up" follows what
needs it (target → source: "what depends on this server"). Each level is one indexed query on the
frontier, so five levels are five queries whatever the size of the CMDB; a cap on the nodes keeps
a picture of a hub readable and the time bounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .models import Relationship

MAX_DEPTH = 10
MAX_NODES = 400


@dataclass
class Walk:
    start: int
    direction: str
    # asset id -> level at which it was first reached (0 = start)
    levels: dict[int, int] = field(default_factory=dict)
    # (source_id, target_id, kind) crossed
    edges: list[tuple[int, int, str]] = field(default_factory=list)
    truncated: bool = False


def walk(
    start: int, *, direction: str = "up", depth: int = 5, kinds: Iterable[str] | None = None, max_nodes: int = MAX_NODES
) -> Walk:
    if direction not in ("up", "down"):
        raise ValueError(direction)
    depth = max(1, min(depth, MAX_DEPTH))
    result = Walk(start=start, direction=direction, levels={start: 0})
    frontier = [start]
    kinds = list(kinds) if kinds is not None else None
    seen_edges: set[tuple[int, int, str]] = set()
    for level in range(1, depth + 1):
        if not frontier:
            break
        query = Relationship.objects.all()
        if kinds is not None:
            query = query.filter(kind__in=kinds)
        if direction == "up":
            rows = query.filter(target_id__in=frontier).values_list("source_id", "target_id", "kind")
        else:
            rows = query.filter(source_id__in=frontier).values_list("source_id", "target_id", "kind")
        following: list[int] = []
        for source_id, target_id, kind in rows.order_by("id")[: max_nodes * 4]:
            reached = source_id if direction == "up" else target_id
            if reached not in result.levels:
                if len(result.levels) >= max_nodes:
                    result.truncated = True
                    continue
                result.levels[reached] = level
                following.append(reached)
            edge = (source_id, target_id, kind)
            if edge not in seen_edges:
                seen_edges.add(edge)
                result.edges.append(edge)
        frontier = following
    return result


def reaches(start: int, goal: int, *, kinds: Iterable[str]) -> bool:
    """Does following "needs" from ``start`` (over ``kinds``) ever reach ``goal``? The cycle check
    of a new relationship goal → start. Unbounded depth, bounded by the items visited once."""
    kinds = list(kinds)
    seen = {start}
    frontier = [start]
    while frontier:
        if goal in frontier:
            return True
        following: list[int] = []
        for chunk_start in range(0, len(frontier), 500):
            chunk = frontier[chunk_start : chunk_start + 500]
            for target_id in Relationship.objects.filter(source_id__in=chunk, kind__in=kinds).values_list(
                "target_id", flat=True
            ):
                if target_id == goal:
                    return True
                if target_id not in seen:
                    seen.add(target_id)
                    following.append(target_id)
        frontier = following
    return False
