"""Jobs run inside the peer's virtual environment (django-helpdesk), by bench/compare.py:

    python bench/compare/peer_tasks.py seed --tickets N --agents A --requesters R [--seed 42]
    python bench/compare/peer_tasks.py mailbox --port P --user U --password W

``seed`` writes the workload of bench/compare/workload.py with bulk inserts: one queue
("Service desk"), A staff agents (the first, ``agent@peer.test``, is the one the benchmark signs
in as; password ``peer-bench``), R requesters, the tickets and their follow-ups, and an API
token for the agent. Prints one JSON line: counts, the token, and the ticket ids of the sampled
workload indexes (``--sample``), in order, so both systems open the same tickets.

``mailbox`` points the queue at an IMAP folder (for ``manage.py get_email``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workload  # noqa: E402

PASSWORD = "peer-bench"
AGENT = "agent@peer.test"
# Palier's statuses -> django-helpdesk's (1 open, 2 reopened, 3 resolved, 4 closed)
STATUS = {"new": 1, "assigned": 1, "in_progress": 1, "resolved": 3, "closed": 4}
# the workload's impact x urgency -> django-helpdesk's priority (1 critical .. 5 very low)
PRIORITY = {"high": 0, "medium": 1, "low": 2}


def seed(args: argparse.Namespace) -> dict[str, object]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone
    from helpdesk.models import FollowUp, Queue, Ticket
    from rest_framework.authtoken.models import Token

    started = time.perf_counter()
    User = get_user_model()
    queue, _ = Queue.objects.get_or_create(
        slug="desk",
        defaults={"title": "Service desk", "email_address": "desk@peer.test", "allow_email_submission": True},
    )
    agents = []
    for n in range(args.agents):
        email = AGENT if n == 0 else f"agent{n:03d}@peer.test"
        user = User.objects.filter(username=email).first()
        if user is None:  # one at a time: django-helpdesk makes each agent's settings on save
            user = User.objects.create_user(email, email, PASSWORD, is_staff=True, first_name=f"Agent {n}")
        agents.append(user)
    hashed = make_password(None)
    User.objects.bulk_create(
        [
            User(username=f"requester{n:05d}@peer.test", email=f"requester{n:05d}@peer.test", password=hashed)
            for n in range(args.requesters)
        ],
        ignore_conflicts=True,
        batch_size=2_000,
    )
    requesters = list(
        User.objects.filter(username__startswith="requester").order_by("username").values_list("id", "email")
    )
    token, _ = Token.objects.get_or_create(user=agents[0])
    spec = workload.Spec(tickets=args.tickets, agents=args.agents, requesters=args.requesters, seed=args.seed)
    wanted = set(workload.sample_indexes(args.tickets, args.sample))
    ids: dict[int, int] = {}
    now = timezone.now()
    comments = 0
    for batch in workload.batches(spec, 2_000):
        rows = []
        for w in batch:
            created = now - timedelta(seconds=w.age_seconds)
            last = created + timedelta(seconds=w.comments[-1][3] if w.comments else 0)
            rows.append(
                Ticket(
                    title=w.subject,
                    queue=queue,
                    created=created,
                    modified=last,
                    submitter_email=requesters[w.requester][1],
                    assigned_to=agents[w.agent] if w.agent is not None else None,
                    status=STATUS[w.status],
                    description=w.description,
                    resolution="Done." if w.status in ("resolved", "closed") else None,
                    priority=1 + PRIORITY[w.impact] + PRIORITY[w.urgency],
                )
            )
        with transaction.atomic():
            Ticket.objects.bulk_create(rows)
            followups = []
            for w, ticket in zip(batch, rows, strict=True):
                if w.index in wanted:
                    ids[w.index] = ticket.pk
                created = ticket.created
                for role, person, text, after in w.comments:
                    user_id = requesters[person][0] if role == "requester" else agents[person].pk
                    followups.append(
                        FollowUp(
                            ticket=ticket,
                            date=created + timedelta(seconds=after),
                            title="Comment",
                            comment=text,
                            public=True,
                            user_id=user_id,
                        )
                    )
            FollowUp.objects.bulk_create(followups)
        comments += len(followups)
    return {
        "agents": args.agents,
        "requesters": args.requesters,
        "tickets": args.tickets,
        "comments": comments,
        "token": token.key,
        "queue": queue.pk,
        "ids": [ids[i] for i in sorted(ids)],
        "seconds": round(time.perf_counter() - started, 1),
    }


def mailbox(args: argparse.Namespace) -> dict[str, object]:
    from helpdesk.models import Queue

    queue = Queue.objects.get(slug="desk")
    queue.email_box_type = "imap"
    queue.email_box_host = "127.0.0.1"
    queue.email_box_port = args.port
    queue.email_box_ssl = False
    queue.email_box_user = args.user
    queue.email_box_pass = args.password
    queue.email_box_imap_folder = "INBOX"
    queue.email_box_interval = 0
    queue.email_box_last_check = None
    queue.allow_email_submission = True
    queue.save()
    return {"queue": queue.pk}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="job", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--tickets", type=int, required=True)
    s.add_argument("--agents", type=int, required=True)
    s.add_argument("--requesters", type=int, required=True)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--sample", type=int, default=2_000)
    m = sub.add_parser("mailbox")
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--user", required=True)
    m.add_argument("--password", required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
    import django

    django.setup()
    print(json.dumps(seed(args) if args.job == "seed" else mailbox(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
