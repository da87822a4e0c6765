"""The calendar's footprint of a change (docs/changes.md, "Calendar and conflicts").

``refresh(change)`` rewrites the change's ``ChangeFootprint`` rows: each asset it names directly,
plus everything that depends on them through the relationships (walking "up" the impact: the
items whose relationship targets these, i.e. what fails when they fail), each with the change's
planned window. A change without a window, closed or rejected has no footprint. Running it again
gives the same rows. Called by the change services after a change's window, status or assets
changed (``CHANGE_AFTER_SAVE`` in ``palier/events.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from palier.assets import graph
from palier.changes.models import Change, ChangeAsset, ChangeFootprint

# how far up the dependencies go, and how many items one change may touch at most
DEPTH = 5
MAX_ITEMS = 400
WITHOUT_FOOTPRINT: frozenset[str] = frozenset({Change.Status.CLOSED, Change.Status.REJECTED})


def has_footprint(change: Change) -> bool:
    return bool(change.planned_start and change.planned_end and change.status not in WITHOUT_FOOTPRINT)


def reached(direct_ids: Iterable[int]) -> dict[int, bool]:
    """Asset id -> named directly (True) or reached through a dependency (False), at most
    ``MAX_ITEMS``: the direct ones first, then each one's walk up, in order."""
    direct = sorted(set(direct_ids))[:MAX_ITEMS]
    items: dict[int, bool] = dict.fromkeys(direct, True)
    for asset_id in direct:
        if len(items) >= MAX_ITEMS:
            break
        walk = graph.walk(asset_id, direction="up", depth=DEPTH, max_nodes=MAX_ITEMS)
        for other in sorted(walk.levels, key=lambda pk: (walk.levels[pk], pk)):
            if len(items) >= MAX_ITEMS:
                break
            items.setdefault(other, False)
    return items


@transaction.atomic
def refresh(change: Change) -> int:
    """Rewrite the change's footprint; the number of rows written."""
    ChangeFootprint.objects.filter(change_id=change.pk).delete()
    if not has_footprint(change):
        return 0
    assert change.planned_start is not None and change.planned_end is not None
    direct = ChangeAsset.objects.filter(change_id=change.pk).values_list("asset_id", flat=True)
    rows = [
        ChangeFootprint(
            change_id=change.pk,
            asset_id=asset_id,
            direct=is_direct,
            starts_at=change.planned_start,
            ends_at=change.planned_end,
        )
        for asset_id, is_direct in reached(direct).items()
    ]
    ChangeFootprint.objects.bulk_create(rows)
    return len(rows)
