"""``palier-client``: the client from a shell or a script.

    export PALIER_URL=https://desk.example.org PALIER_TOKEN=plr_…
    palier-client tickets list --status new --group 3
    palier-client tickets get INC-1042
    palier-client tickets create "Disk full on db-2" --impact high --tag monitoring
    palier-client tickets bulk tickets.jsonl --no-atomic
    palier-client tickets bulk-update --filter '{"status": ["new"]}' --patch '{"priority": 1}' --max 50
    palier-client request GET /users/me

Output is JSON (one object per line for lists). Exit status: 0 done, 1 refused by the server
(the problem is printed on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from palier_client.client import ApiError, Client


def _print(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, ensure_ascii=False) + "\n")


def _client(args: argparse.Namespace) -> Client:
    if not args.url or not args.token:
        raise SystemExit("palier-client: set --url and --token (or PALIER_URL and PALIER_TOKEN)")
    return Client(args.url, token=args.token, timeout=args.timeout, retries=args.retries)


def _read_items(path: str) -> list[dict[str, Any]]:
    """A JSON array of tickets, or JSON Lines (one ticket per line); ``-`` reads stdin."""
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    text = text.strip()
    if text.startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _tickets_list(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    filters = {
        "status": args.status or None,
        "group": args.group,
        "assignee": args.assignee,
        "q": args.q or None,
        "sort": args.sort,
    }
    tickets = client.iter_tickets(**{k: v for k, v in filters.items() if v is not None})
    for count, ticket in enumerate(tickets, start=1):
        _print(ticket, out)
        if args.max and count >= args.max:
            break
    return 0


def _tickets_get(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    ref = args.ticket
    _print(client.get_ticket(int(ref)) if ref.isdigit() else client.get_ticket_by_reference(ref), out)
    return 0


def _tickets_create(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    fields: dict[str, Any] = {"description": args.description, "kind": args.kind}
    fields.update({"impact": args.impact, "urgency": args.urgency})
    if args.tag:
        fields["tags"] = args.tag
    if args.group is not None:
        fields["group"] = args.group
    _print(client.create_ticket(args.subject, idempotency_key=args.idempotency_key, **fields), out)
    return 0


def _tickets_bulk(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    result = client.bulk_create(_read_items(args.file), atomic=not args.no_atomic)
    _print(result, out)
    return 1 if result["failed"] else 0


def _tickets_bulk_update(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    patch = json.loads(args.patch)
    filters = json.loads(args.filter) if args.filter else {}
    _print(client.bulk_update(patch, max=args.max, filter=filters, dry_run=args.dry_run), out)
    return 0


def _request(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    body = json.loads(args.body) if args.body else None
    _print(client.request(args.method, args.path, json_body=body).body, out)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="palier-client", description="The Palier service desk API from a shell.")
    p.add_argument("--url", default=os.environ.get("PALIER_URL"), help="server address (PALIER_URL)")
    p.add_argument("--token", default=os.environ.get("PALIER_TOKEN"), help="API token (PALIER_TOKEN)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--retries", type=int, default=4)
    top = p.add_subparsers(dest="area", required=True)

    tickets = top.add_parser("tickets", help="list, read, open tickets").add_subparsers(dest="action", required=True)
    ls = tickets.add_parser("list", help="matching tickets, one JSON object per line (every page)")
    ls.add_argument("--status", action="append", help="repeatable")
    ls.add_argument("--group", type=int)
    ls.add_argument("--assignee", type=int)
    ls.add_argument("--q", help="full-text search")
    ls.add_argument("--sort", default="-created")
    ls.add_argument("--max", type=int, default=0, help="stop after this many (0: all)")
    ls.set_defaults(run=_tickets_list)

    get = tickets.add_parser("get", help="one ticket by id or reference (INC-1042)")
    get.add_argument("ticket")
    get.set_defaults(run=_tickets_get)

    new = tickets.add_parser("create", help="open a ticket (retried safely with an Idempotency-Key)")
    new.add_argument("subject")
    new.add_argument("--description", default="")
    new.add_argument("--kind", default="incident", choices=["incident", "request"])
    new.add_argument("--impact", default="low", choices=["high", "medium", "low"])
    new.add_argument("--urgency", default="low", choices=["high", "medium", "low"])
    new.add_argument("--group", type=int)
    new.add_argument("--tag", action="append")
    new.add_argument("--idempotency-key")
    new.set_defaults(run=_tickets_create)

    bulk = tickets.add_parser("bulk", help="open the tickets of a JSON array or JSON Lines file (- for stdin)")
    bulk.add_argument("file")
    bulk.add_argument("--no-atomic", action="store_true", help="create the good ones even if some are refused")
    bulk.set_defaults(run=_tickets_bulk)

    upd = tickets.add_parser("bulk-update", help="apply a patch to the tickets a filter matches")
    upd.add_argument("--patch", required=True, help='JSON, e.g. \'{"status": "resolved"}\'')
    upd.add_argument("--filter", help='JSON filters of GET /tickets, e.g. \'{"status": ["new"], "group": 3}\'')
    upd.add_argument("--max", type=int, required=True, help="refuse if more tickets match")
    upd.add_argument("--dry-run", action="store_true")
    upd.set_defaults(run=_tickets_bulk_update)

    raw = top.add_parser("request", help="any endpoint: METHOD PATH [--body JSON]")
    raw.add_argument("method")
    raw.add_argument("path", help="relative to /api/v1, e.g. /users/me")
    raw.add_argument("--body")
    raw.set_defaults(run=_request)
    return p


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    out = out or sys.stdout
    try:
        return int(args.run(_client(args), args, out))
    except ApiError as exc:
        sys.stderr.write(json.dumps({"status": exc.status, "detail": exc.detail, "errors": exc.errors}) + "\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
