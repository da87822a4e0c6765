"""Seed Palier with the comparison's workload (bench/compare/workload.py), in Palier's own virtual
environment: the demo's people (``palier demo``'s accounts, password ``palier-demo``), then every
workload ticket in the "Service desk" triage group, written in bulk through the demo's own insert
path (comments, history, search entries, numbers, report facts).

    DATABASE_URL=... python bench/compare/palier_seed.py --tickets 2000 [--seed 42]

Prints one JSON line: {"agents": n, "requesters": n, "tickets": n, "comments": n, "seconds": s}.
The counts of agents (the triage group's members) and requesters are what the peer is seeded with.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

import workload  # noqa: E402

# the path a ticket takes to reach its final status (Palier's statuses)
PATHS = {
    "new": [],
    "assigned": ["assigned"],
    "in_progress": ["assigned", "in_progress"],
    "resolved": ["assigned", "in_progress", "resolved"],
    "closed": ["assigned", "in_progress", "resolved", "closed"],
}


def seed(tickets: int, seed: int, batch: int = 2_000) -> dict[str, object]:
    from django.db import transaction
    from django.utils import timezone

    from palier.demo import tickets as demo
    from palier.reports import facts
    from palier.tickets import stream
    from palier.tickets.models import Ticket, TicketEvent

    started = time.perf_counter()
    cat, _created = demo._catalogue(random.Random(seed))
    members = sorted(cat.triage[2])
    requesters = cat.requesters
    spec = workload.Spec(tickets=tickets, agents=len(members), requesters=len(requesters), seed=seed)
    number = demo._last_number("incident")
    first = (Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    now = timezone.now()
    comments = 0
    wanted = set(workload.sample_indexes(tickets))
    ids: dict[int, int] = {}
    for work in workload.batches(spec, batch):
        drafts = []
        for w in work:
            number += 1
            drafts.append(_draft(w, number, now, cat, members, requesters, demo, TicketEvent.Kind))
        with transaction.atomic():
            c, _e = demo._insert_batch(drafts)
            demo._save_numbers({"incident": number})
        comments += c
        ids.update({w.index: d.ticket.pk for w, d in zip(work, drafts, strict=True) if w.index in wanted})
    stream.skip_to_end()
    facts.recompute_from(first)
    return {
        "agents": len(members),
        "requesters": len(requesters),
        "tickets": tickets,
        "comments": comments,
        "ids": [ids[i] for i in sorted(ids)],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _draft(w, number, now, cat, members, requesters, demo, kinds):  # type: ignore[no-untyped-def]
    from palier.tickets.models import Ticket

    requester_id, organisation_id, _lang = requesters[w.requester]
    agent_id = members[w.agent] if w.agent is not None else None
    created = now - timedelta(seconds=w.age_seconds)
    last = created + timedelta(seconds=w.comments[-1][3] if w.comments else 0)
    ticket = Ticket(
        kind="incident",
        number=number,
        subject=w.subject,
        description=w.description,
        requester_id=requester_id,
        organisation_id=organisation_id,
        impact=w.impact,
        urgency=w.urgency,
        priority=cat.matrix[(w.impact, w.urgency)],
        status=w.status,
        group_id=cat.triage[0],
        assignee_id=agent_id,
        channel="web",
        created_by_id=requester_id,
        created_at=created,
        updated_at=last,
        version=1 + len(w.comments),
    )
    draft = demo.Draft(ticket=ticket, lines=[], events=[])
    demo._created_event(draft, cat)
    old = "new"
    for step in PATHS[w.status]:
        draft.events.append((last, kinds.STATUS, agent_id, False, {"old": old, "new": step}))
        old = step
    if w.status in ("resolved", "closed"):
        ticket.resolved_at = last
        ticket.resolved_level = 1
    if w.status == "closed":
        ticket.closed_at = last
    for role, person, text, after in w.comments:
        author = requesters[person][0] if role == "requester" else members[person]
        draft.lines.append(demo.Line(at=created + timedelta(seconds=after), author=author, body=text, internal=False))
        if role == "agent" and ticket.first_response_at is None:
            ticket.first_response_at = created + timedelta(seconds=after)
    return draft


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    import django

    django.setup()
    print(json.dumps(seed(args.tickets, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
