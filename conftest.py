"""Shared test fixtures: personas (requester, L1/L2 agents, manager, admin, outsider) and a
temporary media folder. Tests build data through services, like users do."""

from __future__ import annotations

import importlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from palier.people import services as people
from palier.people.models import Organisation, SupportGroup, User

pytest_plugins = [
    "testsupport.clamav",
    "testsupport.oidc_provider",
    "testsupport.s3",
]  # real clamd, OpenID provider, S3


_MIGRATED: dict[str, Path] = {}


def _postgres_run() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``engine_independent`` (heavy, and the same whatever the database) run in the
    PostgreSQL pass only: ``.ci/run`` runs both passes, so each runs once per CI, and the SQLite
    pass stays within its time budget. ``PALIER_TESTS_ALL=1`` runs them on SQLite too."""
    if _postgres_run() or os.environ.get("PALIER_TESTS_ALL") == "1":
        return
    kept = [item for item in items if item.get_closest_marker("engine_independent") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """pytest-django's test database, then (on SQLite) a file copy of it while it is freshly migrated:
    tests that run Palier in another process start from that copy instead of migrating again
    (15 s of CPU each)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        path = tmp_path_factory.mktemp("migrated") / "palier.sqlite3"
        with django_db_blocker.unblock():
            connection.ensure_connection()
            target = sqlite3.connect(path)
            connection.connection.backup(target)
            target.close()
        _MIGRATED["sqlite"] = path


@pytest.fixture(scope="session")
def migrated_sqlite(django_db_setup: None) -> Any:
    """``copy_to(path)``: put a freshly migrated SQLite database at ``path``; False when none is at
    hand (a PostgreSQL run), and the caller migrates itself."""

    def copy_to(path: Path) -> bool:
        source = _MIGRATED.get("sqlite")
        if source is None:
            return False
        shutil.copyfile(source, path)
        return True

    return copy_to


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Code called directly (services, selectors, tasks) speaks English in tests, so assertions read
    like the source strings; requests still pick their language (French by default) in middleware."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> None:
    """Each test has its own database state: start without the SLA policies another test cached."""
    from palier.sla.services.policies import forget_policies

    forget_policies()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Nothing cached by another test (dashboards' figures, counters) is seen by this one."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _no_request_id() -> None:
    """No request id left in the test thread by another test's request or task run."""
    from palier.lib.logs import request_id_var

    request_id_var.set(None)


@pytest.fixture(autouse=True)
def _media(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")  # type: ignore[attr-defined]
    # real hashing costs ~0.3 s per password; tests check behaviour, not key stretching
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}  # type: ignore[attr-defined]
    # a writer thread has its own connection: it cannot see a test's uncommitted data
    settings.PALIER_CREATE_BATCH = 0  # type: ignore[attr-defined]
    # dashboards compute their figures on every request unless a test is about the cache
    settings.PALIER_REPORTS_CACHE_SECONDS = 0  # type: ignore[attr-defined]


@pytest.fixture(scope="session", autouse=True)
def _no_session_left_at_the_end(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    """PostgreSQL refuses to drop a test database someone is still connected to: a worker
    subprocess a test stopped, or a thread's connection, can outlive its test by a moment. Before
    pytest-django drops this process's test database, end the other sessions still on it."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _live_server_settled(request: pytest.FixtureRequest) -> Iterator[None]:
    """A browser test ends while the live server may still answer a request the page started
    (an htmx refresh, a poll). Its transaction holds locks the flush that ends the test needs,
    and the flush's TRUNCATE, taking its locks table by table, can deadlock with it. Set up after
    pytest-django's own fixtures, this is torn down before their flush: on PostgreSQL it waits
    (at most ten seconds) until no other session of the test database is busy."""
    if "live_server" not in request.fixturenames:
        yield
        return
    blocker = request.getfixturevalue("django_db_blocker")
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 10
    with blocker.unblock(), connection.cursor() as cursor:  # type: ignore[attr-defined]
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            if not cursor.fetchone()[0]:
                return
            time.sleep(0.05)


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


_RESEED = pytest.StashKey[object]()


@pytest.fixture(autouse=True)
def _reseed_after_flush(request: pytest.FixtureRequest) -> None:
    """Transactional tests end with a flush that also wipes what data migrations seeded (the
    triage group, categories, the priority matrix); put it back for the tests that follow.

    The flush happens in pytest-django's own fixtures, which its autouse fixtures (live server,
    ``django_db`` marker) may set up before this one, so they are torn down after it: the reseed
    runs in ``pytest_runtest_teardown`` below, once every fixture of the test is torn down."""
    if _is_transactional(request):
        request.node.stash[_RESEED] = request.getfixturevalue("django_db_blocker")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        return (yield)
    finally:
        blocker = item.stash.get(_RESEED, None)
        if blocker is not None and nextitem is not None:  # after the last test the database is gone
            from django.apps import apps

            with blocker.unblock():  # type: ignore[attr-defined]
                importlib.import_module("palier.people.migrations.0002_triage_group").seed(apps, None)
                importlib.import_module("palier.tickets.migrations.0003_seed_categories_and_matrix").seed(apps, None)
                importlib.import_module("palier.sla.seed").seed(apps, None)
                importlib.import_module("palier.catalog.seed").seed(apps, None)
                importlib.import_module("palier.kb.migrations.0003_seed_categories").seed(apps, None)
                importlib.import_module("palier.assets.migrations.0002_seed_types").seed(apps, None)
                importlib.import_module("palier.changes.seed").seed(apps, None)


@pytest.fixture
def org(db: None) -> Organisation:
    return people.create_organisation(name="Acme", email_domain="acme.test")


@pytest.fixture
def other_org(db: None) -> Organisation:
    return people.create_organisation(name="Globex", email_domain="globex.test")


@pytest.fixture
def triage(db: None) -> SupportGroup:
    return SupportGroup.objects.get(is_triage=True)


@pytest.fixture
def l2(db: None) -> SupportGroup:
    return people.create_group(name="Network L2", level=2)


@pytest.fixture
def requester(org: Organisation) -> User:
    return people.create_user(
        email="alice@acme.test", full_name="Alice Martin", organisation=org, password="pw-alice-123!"
    )


@pytest.fixture
def requester_b(org: Organisation) -> User:
    return people.create_user(email="bob@acme.test", full_name="Bob Durand", organisation=org, password="pw-bob-123!")


@pytest.fixture
def outsider(other_org: Organisation) -> User:
    return people.create_user(
        email="eve@globex.test", full_name="Eve Outsider", organisation=other_org, password="pw-eve-123!"
    )


@pytest.fixture
def agent(triage: SupportGroup) -> User:
    user = people.create_user(email="lea@desk.test", full_name="Léa L1", role=User.Role.AGENT, password="pw-lea-123!")
    people.add_group_member(triage, user=user)
    return user


@pytest.fixture
def agent_l2(l2: SupportGroup) -> User:
    user = people.create_user(
        email="marc@desk.test", full_name="Marc L2", role=User.Role.AGENT, password="pw-marc-123!"
    )
    people.add_group_member(l2, user=user)
    return user


@pytest.fixture
def manager(triage: SupportGroup) -> User:
    user = people.create_user(
        email="nina@desk.test", full_name="Nina Manager", role=User.Role.MANAGER, password="pw-nina-123!"
    )
    triage.manager = user
    triage.save(update_fields=["manager"])
    return user


@pytest.fixture
def admin_user(db: None) -> User:
    return people.create_user(
        email="root@desk.test", full_name="Ada Admin", role=User.Role.ADMIN, password="pw-ada-123!"
    )
