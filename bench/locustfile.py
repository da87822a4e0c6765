"""Locust users for ``bench/load.py``: agents and requesters working through the HTML pages.

Run by ``bench/load.py`` (which seeds, starts the server, worker, scheduler and the mail feed);
it reads the accounts and settings from ``PALIER_LOAD_CONFIG`` (a JSON file it writes):

    {"password": "...", "agents": ["a@x", ...], "requesters": ["r@y", ...],
     "agent_think": [5, 15], "requester_think": [20, 40], "minutes": 10, "mark": "/tmp/…/measuring"}

Every user signs in through the sign-in form (CSRF token from the page), then loops with think
time between actions, as a browser with JavaScript on does: htmx posts (``HX-Request``) get the
page's partials. Once every user has started, the statistics are reset, ``mark`` is written and
the measured period of ``minutes`` runs; then locust stops.

Request names are the pages ("agent: ticket page"); an answer other than the one the page gives
in normal use is a failure. A reply or status change refused because another agent changed the
ticket meanwhile is not a failure but the product's collision check (409, "changed while you were
writing"): it is counted under its own name ("… (changed meanwhile)") and sent anyway, as the
page offers.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import time
from typing import Any

from locust import HttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser

CONFIG: dict[str, Any] = {}
if os.environ.get("PALIER_LOAD_CONFIG"):
    with open(os.environ["PALIER_LOAD_CONFIG"], encoding="utf-8") as handle:
        CONFIG = json.load(handle)

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
ATTR = re.compile(r'([\w:-]+)="([^"]*)"')
INPUT = re.compile(r"<input\b[^>]*>", re.S)
SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
OPTION = re.compile(r'<option\b[^>]*\bvalue="([^"]*)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
AGENT_TICKET = re.compile(r'href="/agent/tickets/(\d+)/"')
PORTAL_TICKET = re.compile(r'href="/portal/requests/(\d+)/"')
SUCCESS = 'class="alert alert-success'
STALE = 'id="stale-warning"'

SUBJECTS = [
    "Imprimante du 2e étage bloquée",
    "Cannot open the shared mailbox",
    "VPN qui se déconnecte toutes les 5 minutes",
    "Nouvel écran pour le poste d'accueil",
    "Laptop very slow since this morning",
    "Accès au dossier partagé Finance",
    "Teams: no sound in meetings",
    "Mot de passe expiré, impossible de me connecter",
]
REPLIES = [
    "Bonjour, pouvez-vous redémarrer le poste et me dire si le problème persiste ?",
    "Hello, I have reset the setting on our side. Could you try again?",
    "Merci pour ces précisions, je regarde et je reviens vers vous.",
    "The replacement is ordered; we will install it tomorrow morning.",
]
HTMX = {"HX-Request": "true"}


def form(page: str, action_end: str) -> dict[str, Any] | None:
    """The form whose action ends with ``action_end``: its hidden and text inputs, and the options
    of each select (``{"action": ..., "fields": {...}, "options": {name: [values]}}``)."""
    for attrs_text, body in FORM.findall(page):
        attrs = dict(ATTR.findall(attrs_text))
        if not attrs.get("action", "").endswith(action_end):
            continue
        fields: dict[str, str] = {}
        for tag in INPUT.findall(body):
            a = dict(ATTR.findall(tag))
            if "name" in a and a.get("type") not in ("radio", "checkbox", "file"):
                fields[a["name"]] = html.unescape(a.get("value", ""))
        options = {
            dict(ATTR.findall(sel_attrs)).get("name", ""): [html.unescape(v) for v in OPTION.findall(sel_body)]
            for sel_attrs, sel_body in SELECT.findall(body)
        }
        return {"action": html.unescape(attrs["action"]), "fields": fields, "options": options}
    return None


STATE = {"signed_in": 0, "stopping": False}


def refusal(page: str) -> str:
    """What a page says went wrong (its error alerts and field errors), for the failure report."""
    found = re.findall(r'class="(?:alert alert-danger|invalid-feedback)[^"]*"[^>]*>(.*?)</', page, re.S)
    return " | ".join(html.unescape(re.sub(r"\s+", " ", f)).strip() for f in found)[:300] or page[:300]


def think(user: HttpUser, bounds: list[float]) -> None:
    """Pause as a person reading or typing would (gevent sleep, does not block the others); at the
    end of the measured period the user leaves here, never in the middle of a request."""
    time.sleep(random.uniform(bounds[0], bounds[1]))
    if STATE["stopping"]:
        raise StopUser()


class Person(HttpUser):
    abstract = True
    accounts: list[str] = []
    counter: itertools.count[int] = itertools.count()
    think_range: list[float] = [5, 15]
    home = "/"

    def wait_time(self) -> float:  # between two rounds of the task
        if STATE["stopping"]:
            raise StopUser()
        return random.uniform(*self.think_range)

    def on_start(self) -> None:
        self.email = self.accounts[next(self.counter) % len(self.accounts)]
        self.client.headers["Accept-Language"] = "en"
        # one connection per request: a kept-alive connection that gunicorn closes (after 2 s idle)
        # just as the next request leaves would fail it; browsers and proxies retry those silently
        self.client.headers["Connection"] = "close"
        page = self.client.get("/accounts/login/", name="sign-in page")
        token = CSRF.search(page.text)
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.email,
                "password": CONFIG["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="sign-in",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"sign-in of {self.email}: {answer.status_code}")
        STATE["signed_in"] += 1
        if STATE["signed_in"] == int(CONFIG.get("agent_count", 0)) + int(CONFIG.get("requester_count", 0)):
            _measure()
        think(self, self.think_range)

    def get(self, path: str, name: str, **kwargs: Any) -> str | None:
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False, **kwargs) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {answer.error or answer.headers.get('Location', '')}")
                return None
            return str(answer.text)

    def post(self, path: str, data: dict[str, str], name: str, *, expect: int, htmx: bool = False) -> Any:
        headers = {"Referer": f"{self.host}{path}", **(HTMX if htmx else {})}
        with self.client.post(
            path, data=data, headers=headers, name=name, allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code == 409:
                answer.success()  # the collision check: the caller sends again
            elif answer.status_code != expect:
                answer.failure(f"{answer.status_code} {answer.error or refusal(answer.text)}")
            return answer


class Agent(Person):
    """Queue → ticket page (and its presence poll) → public reply → status change."""

    fixed_count = int(CONFIG.get("agent_count", 0))
    accounts = list(CONFIG.get("agents", []))
    counter = itertools.count()
    think_range = list(CONFIG.get("agent_think", [5, 15]))

    @task
    def work(self) -> None:
        queue = self.get("/agent/", "agent: queue")
        if queue is None:
            return
        ids = AGENT_TICKET.findall(queue)
        if not ids:
            queue = self.get("/agent/?status=open&assignee=any", "agent: queue (all open)")
            ids = AGENT_TICKET.findall(queue or "")
        if not ids:
            return
        ticket = random.choice(ids)
        think(self, self.think_range)
        page = self.get(f"/agent/tickets/{ticket}/", "agent: ticket page")
        if page is None:
            return
        reply = form(page, f"/agent/tickets/{ticket}/reply/")
        if reply is None:
            return  # closed or cancelled: no reply box, the agent goes back to the queue
        stamp = {k: reply["fields"].get(k, "") for k in ("version", "since")}
        self.post(
            f"/agent/tickets/{ticket}/presence/",
            {"csrfmiddlewaretoken": reply["fields"]["csrfmiddlewaretoken"], **stamp},
            "agent: presence poll",
            expect=200,
            htmx=True,
        )
        think(self, self.think_range)
        workspace = self.reply(ticket, reply["fields"])
        if workspace is not None:
            self.change_status(ticket, workspace)

    def reply(self, ticket: str, shown: dict[str, str]) -> str | None:
        """A public reply as htmx posts it; "Send anyway" when the ticket changed meanwhile.
        Returns the workspace the answer shows, or None when the reply did not go."""
        fields = {**shown, "visibility": "public", "body": random.choice(REPLIES), "minutes": ""}
        answer = self.post(f"/agent/tickets/{ticket}/reply/", fields, "agent: reply", expect=200, htmx=True)
        for _attempt in range(3):
            if answer.status_code != 200 or STALE not in answer.text:
                break
            # changed meanwhile: the page shows what changed and offers "Send anyway" with the new stamp
            retry = form(answer.text, f"/agent/tickets/{ticket}/reply/")
            if retry is None:
                return None
            fields |= {k: retry["fields"].get(k, "") for k in ("version", "since")}
            answer = self.post(
                f"/agent/tickets/{ticket}/reply/",
                fields,
                "agent: reply (changed meanwhile, sent anyway)",
                expect=200,
                htmx=True,
            )
        if answer.status_code == 200 and STALE in answer.text:
            # changed again before each of three "Send anyway": the collision check, not an error
            events.request.fire(
                request_type="POST",
                name="agent: reply (changed 3 times, given up)",
                response_time=0,
                response_length=0,
                exception=None,
                context={},
            )
            return None
        if answer.status_code != 200 or SUCCESS not in answer.text:
            if answer.status_code == 200:
                if CONFIG.get("dump"):
                    with open(f"{CONFIG['dump']}/reply-{ticket}-{time.time():.0f}.html", "w", encoding="utf-8") as out:
                        out.write(answer.text)
                events.request.fire(
                    request_type="POST",
                    name="agent: reply",
                    response_time=0,
                    response_length=0,
                    exception=Exception(f"reply not sent: {refusal(answer.text)}"),
                    context={},
                )
            return None
        return str(answer.text)

    def change_status(self, ticket: str, workspace: str) -> None:
        status = form(workspace, f"/agent/tickets/{ticket}/edit/status/")
        if status is None:
            return
        allowed = status["options"].get("status", [])
        wanted = ["resolved"] if random.random() < 0.2 else []
        wanted += ["in_progress", "pending_requester", "closed"]
        target = next((s for s in wanted if s in allowed), "")
        if not target:
            return
        think(self, self.think_range)
        data = {**status["fields"], "status": target, "note": ""}
        with self.client.post(
            f"/agent/tickets/{ticket}/edit/status/",
            data=data,
            headers={"Referer": f"{self.host}/agent/tickets/{ticket}/", **HTMX},
            name="agent: change status",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {answer.error or refusal(answer.text)}")
            elif SUCCESS not in answer.text:
                # refused: another agent changed the ticket meanwhile (the panel says so) — not an error
                answer.success()
                events.request.fire(
                    request_type="POST",
                    name="agent: change status (changed meanwhile)",
                    response_time=0,
                    response_length=0,
                    exception=None,
                    context={},
                )


class Requester(Person):
    """Portal home → My requests → one request → the new-request form → a new request."""

    fixed_count = int(CONFIG.get("requester_count", 0))
    accounts = list(CONFIG.get("requesters", []))
    counter = itertools.count()
    think_range = list(CONFIG.get("requester_think", [20, 40]))

    @task
    def visit(self) -> None:
        if self.get("/portal/", "portal: home") is None:
            return
        think(self, self.think_range)
        mine = self.get("/portal/requests/", "portal: my requests")
        ids = PORTAL_TICKET.findall(mine or "")
        if ids:
            think(self, self.think_range)
            self.get(f"/portal/requests/{random.choice(ids)}/", "portal: request page")
        think(self, self.think_range)
        page = self.get("/portal/new/", "portal: new request form")
        token = CSRF.search(page or "")
        if token is None:
            return
        think(self, self.think_range)
        data = {
            "csrfmiddlewaretoken": token.group(1),
            "kind": random.choice(["incident", "request"]),
            "category": "",
            "subject": random.choice(SUBJECTS),
            "description": "Depuis ce matin. Since this morning, on my usual workstation.",
            "impact": "low",
            "urgency": random.choice(["low", "medium"]),
        }
        answer = self.post("/portal/new/", data, "portal: create request", expect=302)
        location = answer.headers.get("Location", "") if answer.status_code == 302 else ""
        if location:
            self.get(location, "portal: request page (new)")


def _measure() -> None:
    """Every user has signed in: keep the ramp-up's figures, reset, mark the start, and stop
    after the measured minutes (users leave at their next pause; then locust quits)."""
    import gevent

    env: Environment | None = getattr(_measure, "env", None)
    if env is None or env.runner is None:
        return
    ramp = CONFIG.get("ramp_stats")
    if ramp:  # the sign-ins happen in the ramp-up: keep their figures before the reset
        stats = env.runner.stats
        pages = [
            {
                "name": e.name,
                "requests": e.num_requests - e.num_failures,
                "errors": e.num_failures,
                "p50_ms": e.get_response_time_percentile(0.5),
                "p95_ms": e.get_response_time_percentile(0.95),
                "p99_ms": e.get_response_time_percentile(0.99),
                "rps": 0.0,
            }
            for e in stats.entries.values()
            if e.name.startswith("sign-in")
        ]
        failures = [f"ramp-up: {e.occurrences}x {e.method} {e.name}: {e.error}"[:400] for e in stats.errors.values()]
        with open(ramp, "w", encoding="utf-8") as handle:
            json.dump({"pages": pages, "failures": failures}, handle)
    env.runner.stats.reset_all()
    mark = CONFIG.get("mark")
    if mark:
        with open(mark, "w", encoding="utf-8") as handle:
            handle.write(str(time.time()))
    minutes = float(CONFIG.get("minutes", 10))

    def stop() -> None:
        STATE["stopping"] = True
        gevent.spawn_later(30, env.runner.quit)

    gevent.spawn_later(minutes * 60, stop)


@events.init.add_listener
def _keep_env(environment: Environment, **_: Any) -> None:
    _measure.env = environment  # type: ignore[attr-defined]
