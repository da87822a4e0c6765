#!/usr/bin/env python3
"""Knowledge-base search benchmark: 10,000 bilingual articles in a throwaway PostgreSQL database,
p95 of ``search_articles`` and of the deflection endpoint (``kb:suggest``, view + template).

    .venv/bin/python bench/kb_search.py --database-url postgres://postgres@127.0.0.1:5432/
    .venv/bin/python bench/kb_search.py --articles 10000 --rounds 20 --keep
    .venv/bin/python bench/kb_search.py --database-url postgres://postgres@127.0.0.1:5432/palier_kbbench_…  # again

The database ``palier_kbbench_<time>`` is created on the given server and dropped afterwards
(unless ``--keep``). Everything runs in this process against 127.0.0.1; no HTTP server, so the
figures are the cost of the query and the rendering, without the network and WSGI overhead.
Target (issue #6): p95 ≤ 100 ms for both.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 100.0

TOPICS = [
    # (French words, English words): each generated article is about one of these 20 subjects, as in
    # a service desk's knowledge base (so a subject word is in about 5 % of the articles)
    (["imprimante", "bourrage", "papier", "toner", "bac", "impression"], ["printer", "jam", "paper", "toner", "tray", "printing"]),
    (["réseau", "wifi", "câble", "invité", "borne", "débit"], ["network", "wifi", "cable", "guest", "hotspot", "bandwidth"]),
    (["vpn", "télétravail", "certificat", "jeton", "domicile", "tunnel"], ["vpn", "telework", "certificate", "token", "home", "tunnel"]),
    (["mot de passe", "verrouillé", "réinitialiser", "authentification", "expiration", "complexité"], ["password", "locked", "reset", "authentication", "expiry", "complexity"]),
    (["messagerie", "courriel", "boîte", "pièce jointe", "signature", "quota"], ["email", "mail", "mailbox", "attachment", "signature", "quota"]),
    (["écran", "portable", "clavier", "souris", "station d'accueil", "batterie"], ["screen", "laptop", "keyboard", "mouse", "docking station", "battery"]),
    (["logiciel", "licence", "installation", "tableur", "navigateur", "catalogue"], ["software", "licence", "installation", "spreadsheet", "browser", "catalogue"]),
    (["agenda", "réunion", "invitation", "salle", "calendrier", "délégation"], ["calendar", "meeting", "invitation", "room", "schedule", "delegation"]),
    (["téléphone", "mobile", "sim", "forfait", "messagerie vocale", "standard"], ["phone", "mobile", "sim", "plan", "voicemail", "switchboard"]),
    (["badge", "accès", "porte", "parking", "accueil", "visiteur"], ["badge", "access", "door", "parking", "reception", "visitor"]),
    (["sauvegarde", "restauration", "corbeille", "version", "archive", "récupération"], ["backup", "restore", "recycle bin", "version", "archive", "recovery"]),
    (["partage", "dossier", "droits", "lecteur", "synchronisation", "sharepoint"], ["share", "folder", "permissions", "drive", "synchronisation", "sharepoint"]),
    (["visioconférence", "caméra", "micro", "teams", "son", "partage d'écran"], ["videoconference", "camera", "microphone", "teams", "sound", "screen sharing"]),
    (["antivirus", "hameçonnage", "pièce suspecte", "quarantaine", "alerte", "menace"], ["antivirus", "phishing", "suspicious file", "quarantine", "alert", "threat"]),
    (["arrivée", "nouvel employé", "compte", "matériel", "intégration", "parrain"], ["arrival", "new employee", "account", "equipment", "onboarding", "buddy"]),
    (["départ", "restitution", "désactivation", "transfert", "archivage", "clôture"], ["departure", "return", "deactivation", "transfer", "archiving", "closure"]),
    (["commande", "achat", "devis", "fournisseur", "validation", "livraison"], ["order", "purchase", "quote", "supplier", "approval", "delivery"]),
    (["erp", "facture", "comptabilité", "export", "rapport", "module"], ["erp", "invoice", "accounting", "export", "report", "module"]),
    (["tablette", "application", "magasin", "profil", "enrôlement", "chiffrement"], ["tablet", "app", "store", "profile", "enrolment", "encryption"]),
    (["serveur", "lenteur", "panne", "redémarrage", "maintenance", "disponibilité"], ["server", "slowness", "outage", "restart", "maintenance", "availability"]),
]  # fmt: skip
FILLER_FR = "Vérifiez d'abord que l'appareil est allumé puis suivez les étapes ci-dessous avant d'appeler le support."
FILLER_EN = "First check that the device is on, then follow the steps below before calling the support team."
QUERIES = [
    "imprimante", "imprimantes bloquées", "reseau", "réseau wifi invité", "vpn", "mot de passe oublie",
    "printers", "password reset", "email calendar", "ecran portable", "licence logiciel", "toner",
    "badge parking", "certificat vpn", "zzzz introuvable",
]  # fmt: skip
DEFLECTION = [
    "Mon imprimante du 2e étage n'imprime plus depuis ce matin, le voyant clignote",
    "Je n'arrive plus à me connecter au VPN depuis chez moi, le certificat a expiré",
    "My laptop screen stays black when I plug the docking station",
    "Password locked after too many attempts, please reset my account",
    "La messagerie ne synchronise plus mon agenda sur le téléphone",
]


@contextmanager
def database(url: str, *, keep: bool) -> Iterator[str]:
    """A fresh database on the server of ``url``, dropped afterwards; or, when ``url`` names a
    database (one kept by an earlier run), that database, untouched."""
    import psycopg

    parts = urlsplit(url)
    if parts.path.strip("/"):
        yield url
        return
    name = f"palier_kbbench_{datetime.now(UTC):%Y%m%d%H%M%S}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        if keep:
            sys.stderr.write(f"kept database {name}\n")
        else:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _text(rng: random.Random, words: list[str], filler: str, n: int) -> str:
    picked = [rng.choice(words) for _ in range(n)]
    return f"{filler} {' '.join(picked)}."


def seed(count: int, rng: random.Random) -> tuple[object, object]:
    """``count`` published-or-not bilingual articles, bulk-inserted with their rendered text."""
    from palier.kb import render, search
    from palier.kb.models import Article, ArticleTranslation, KbCategory
    from palier.people import services as people
    from palier.people.models import User

    org = people.create_organisation(name="Bench", email_domain="bench.test")
    agent = people.create_user(email="agent@bench.test", full_name="Agent", role=User.Role.AGENT)
    requester = people.create_user(email="req@bench.test", full_name="Requester", organisation=org)
    categories = list(KbCategory.objects.all())
    statuses = [Article.Status.PUBLISHED] * 17 + [
        Article.Status.DRAFT,
        Article.Status.IN_REVIEW,
        Article.Status.ARCHIVED,
    ]
    visibilities = [Article.Visibility.PUBLIC] * 8 + [Article.Visibility.INTERNAL, Article.Visibility.ORGANISATIONS]
    articles = Article.objects.bulk_create(
        Article(
            created_by=agent,
            status=rng.choice(statuses),
            visibility=rng.choice(visibilities),
            category=rng.choice(categories) if categories else None,
            view_count=rng.randint(0, 500),
        )
        for _ in range(count)
    )
    through = Article.organisations.through
    through.objects.bulk_create(
        through(article_id=a.pk, organisation_id=org.pk) for a in articles if a.visibility == "organisations"
    )
    rows = []
    for article in articles:
        fr_words, en_words = rng.choice(TOPICS)
        for language, words, filler in (("fr", fr_words, FILLER_FR), ("en", en_words, FILLER_EN)):
            title = " ".join(rng.sample(words, 3)).capitalize()
            body = "\n\n".join(_text(rng, words, filler, 12) for _ in range(4))
            html = render.markdown_to_html(body)
            plain = render.html_to_text(html)
            search_title, search_body = search.search_fields(title=title, summary="", plain_body=plain)
            rows.append(
                ArticleTranslation(
                    article=article,
                    language=language,
                    title=title,
                    body=body,
                    body_html=html,
                    plain_text=plain,
                    search_title=search_title,
                    search_body=search_body,
                )
            )
    ArticleTranslation.objects.bulk_create(rows, batch_size=2000)
    return agent, requester


def measure(fn: Callable[[], object], rounds: int) -> list[float]:
    fn()  # warm up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    with database(args.database_url, keep=args.keep) as url:
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import RequestFactory

        from palier.kb.search import search_articles
        from palier.people.models import User
        from palier.portal.views.kb import suggest

        call_command("migrate", verbosity=0)
        if User.objects.filter(email="agent@bench.test").exists():  # a database kept by an earlier run
            agent, requester = User.objects.get(email="agent@bench.test"), User.objects.get(email="req@bench.test")
        else:
            started = time.perf_counter()
            agent, requester = seed(args.articles, random.Random(42))
            seconds = time.perf_counter() - started
            print(f"seeded {args.articles} articles ({2 * args.articles} translations) in {seconds:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        factory = RequestFactory()

        def suggest_call(text: str) -> Callable[[], object]:
            def call() -> object:
                request = factory.get("/kb/suggest/", {"subject": text[:40], "description": text[40:]})
                request.user = requester
                request.htmx = True  # type: ignore[attr-defined]
                return suggest(request).content

            return call

        results: dict[str, list[float]] = {"search (requester)": [], "search (agent)": [], "suggest": []}
        for query in QUERIES:
            lang = "en" if query in {"printers", "password reset", "email calendar"} else "fr"
            for name, user in (("search (requester)", requester), ("search (agent)", agent)):
                results[name] += measure(lambda u=user, q=query, lg=lang: search_articles(u, q, lg, 10), args.rounds)
        for text in DEFLECTION + QUERIES[:5]:
            results["suggest"] += measure(suggest_call(text), args.rounds)
        failed = False
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'scenario':<22}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  target p95 ≤ {TARGET_MS:.0f} ms")
        for name, values in results.items():
            worst = p95(values)
            failed |= worst > TARGET_MS
            print(f"{name:<22}{len(values):>6}{statistics.median(values):>9.1f}{worst:>9.1f}{max(values):>9.1f}"
                  f"  {'met' if worst <= TARGET_MS else 'MISSED'}")  # fmt: skip
        return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20, help="repetitions of each query")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
