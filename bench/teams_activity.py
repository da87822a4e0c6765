#!/usr/bin/env python3
"""Teams bot benchmark: server CPU per activity, from the request to the reply queued.

    .venv/bin/python bench/teams_activity.py [--n 300]

A temporary SQLite database, 200 published articles, one linked person; a local server publishes
the test issuer's key (OpenID metadata and JWKS). Each activity is posted through Django's test
client with a fresh genuine token and a new id: the JWT check, the raw activity stored, the
knowledge-base search ("mon imprimante ne marche plus") and the reply card queued in the outbox.
The outbox items are not sent (no worker): this measures what the web process does before
answering. CPU time (time.process_time) per request, so the other people's load on the machine
counts less than with wall-clock times. Prints JSON: median and p95 in milliseconds.
Target: p95 at most 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="palier-teams-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ["PALIER_DATA_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    os.environ["PALIER_BENCH_TEAMS_SECRET"] = "secret"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    call_command("migrate", verbosity=0)

    from palier.integrations.models import ChatApp
    from palier.integrations.services import chat
    from palier.kb.tests.builders import make_article
    from palier.people import services as people
    from palier.people.models import User
    from palier.teamsbot import auth
    from palier.teamsbot.tests import conftest as fake

    agent = people.create_user(email="kb@bench.test", full_name="KB", role=User.Role.MANAGER)
    person = people.create_user(email="alice@bench.test", full_name="Alice")
    for n in range(200):
        words = "imprimante bloquée" if n % 20 == 0 else f"sujet {n} réseau messagerie"
        make_article(agent, fr=(f"Article {n} {words}", f"Corps de l'article {n} : {words} et la suite."))
    app = chat.create_chat_app(
        kind=ChatApp.Kind.TEAMS,
        name="Teams",
        slug="it",
        secret_env="PALIER_BENCH_TEAMS_SECRET",
        bot_app_id=fake.APP_ID,
        by=None,
    )
    chat.link_identity(kind=ChatApp.Kind.TEAMS, external_id=fake.AAD, user=person, by=None)

    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/openid":
                body = {"jwks_uri": base + "/keys"}
            else:
                body = {"keys": [{**fake.ISSUER_KEY.as_dict(private=False), "endorsements": ["msteams"]}]}
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.PALIER_TEAMS_OPENID_METADATA = base + "/openid"
    settings.PALIER_TEAMS_ALLOWED_SERVICE_URLS = [base + "/emea/"]
    settings.ALLOWED_HOSTS = ["*"]
    auth.clear_cache()

    class Fake:
        service_url = base + "/emea/"

    client = Client()
    samples = []
    for n in range(args.n + 20):
        activity = fake.load("personal_message", Fake(), id=f"bench-{n}")  # type: ignore[arg-type]
        header = "Bearer " + fake.token_for(activity)
        body = json.dumps(activity)
        start = time.process_time()
        response = client.post(
            f"/hooks/teams/{app.slug}/messages", data=body, content_type="application/json", HTTP_AUTHORIZATION=header
        )
        spent = time.process_time() - start
        assert response.status_code == 200, response.content
        if n >= 20:  # warm-up: first requests load templates, catalogs, URL resolvers
            samples.append(spent * 1000)
    samples.sort()
    print(
        json.dumps(
            {
                "activities": len(samples),
                "cpu_ms_median": round(statistics.median(samples), 2),
                "cpu_ms_p95": round(samples[int(len(samples) * 0.95) - 1], 2),
                "target_p95_ms": 50,
                "loadavg": os.getloadavg(),
            }
        )
    )
    server.shutdown()


if __name__ == "__main__":
    main()
