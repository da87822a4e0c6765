#!/usr/bin/env python3
"""CPU per request in this process: ``GET /api/v1/users/me`` (or another path) through Palier's
WSGI application with a raw environ, as a server calls it (request signals connected), and through
Django's test client (which disconnects the connection-closing signals).

    DATABASE_URL=postgres://… .venv/bin/python bench/overhead.py [--path /api/v1/users/me] [--profile]

Needs a database with the demo (``palier demo``); creates one API token for the demo agent. Prints
the median CPU (``time.process_time``) per request over batches, and with ``--profile`` the top of
a cProfile of the WSGI path. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
# the limits are still counted on every request, but never reached
os.environ.setdefault("PALIER_API_RATE_TOKEN", "100000000")
os.environ.setdefault("PALIER_API_RATE_ADDRESS", "100000000")

AGENT = "agent@demo.palier.test"


def wsgi_caller(path: str, token: str, query: str = ""):  # type: ignore[no-untyped-def]
    from palier.wsgi import application

    headers = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": "application/json",
        "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.8",
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []

    def start_response(s: str, h: list[tuple[str, str]], exc_info: object = None) -> None:
        status.append(s)

    def call() -> bytes:
        environ = dict(headers)
        environ["wsgi.input"] = io.BytesIO(b"")
        environ["wsgi.errors"] = sys.stderr
        result = application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        return body

    return call, status


def per_request_ms(call, n: int, batches: int) -> float:  # type: ignore[no-untyped-def]
    for _ in range(50):
        call()
    costs = []
    for _ in range(batches):
        t0 = time.process_time()
        for _ in range(n):
            call()
        costs.append((time.process_time() - t0) / n * 1000)
    return statistics.median(costs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--path", default="/api/v1/users/me")
    p.add_argument("--n", type=int, default=200, help="requests per batch")
    p.add_argument("--batches", type=int, default=7)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--sort", default="cumulative")
    p.add_argument("--top", type=int, default=45)
    args = p.parse_args()

    import django

    django.setup()
    from django.test import Client

    from palier.people.models import User
    from palier.people.services import create_api_token

    token = create_api_token(User.objects.get(email=AGENT), scope="write").secret
    call, status = wsgi_caller(args.path, token)
    call()
    if not status or not status[-1].startswith("200"):
        print(f"WSGI answered {status[-1:]}", file=sys.stderr)
        return 1
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")

    def test_client() -> bytes:
        return client.get(args.path).content

    wsgi_ms = per_request_ms(call, args.n, args.batches)
    client_ms = per_request_ms(test_client, args.n, args.batches)
    print(f"GET {args.path}: WSGI application {wsgi_ms:.2f} ms CPU/request, test client {client_ms:.2f} ms")
    if args.profile:
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        for _ in range(args.n * 2):
            call()
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
