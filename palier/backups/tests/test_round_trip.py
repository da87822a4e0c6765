"""Back up a populated desk, restore it into a fresh Palier in a subprocess, and find every table
and every file again: on the test database's engine, and SQLite → PostgreSQL → SQLite."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from palier.backups.services import verify_backup
from palier.backups.tests.helpers import (
    instance_env,
    media_hashes,
    media_members,
    populate,
    portable_rows,
    postgres_available,
    postgres_database,
    postgres_tables,
    run_palier,
    sqlite_portable_rows,
    sqlite_tables,
)
from palier.people.models import User
from testsupport.processes import shared_database

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sqlite_template(transactional_db: None, tmp_path: Path) -> Path:
    """An empty, migrated SQLite Palier (taken before the desk is populated)."""
    path = tmp_path / "template.sqlite3"
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
    return path


@pytest.fixture
def desk(requester: User, agent: User, manager: User, settings: object) -> Path:
    """A populated desk; returns its media folder."""
    populate(requester=requester, agent=agent, manager=manager)
    return Path(settings.MEDIA_ROOT)  # type: ignore[attr-defined]


def test_restore_gives_the_same_tables_and_files(desk: Path, tmp_path: Path) -> None:
    archive = tmp_path / "desk.tar.gz"
    with shared_database() as env:
        call_command("backup", str(archive))
        source_url = env["DATABASE_URL"]
        target = tmp_path / "restored"
        if connection.vendor == "sqlite":
            target_env = instance_env(target)
            run_palier("restore", str(archive), env=target_env)
            source_tables = sqlite_tables(Path(source_url.removeprefix("sqlite:///")))
            assert sqlite_tables(target / "palier.sqlite3") == source_tables
        else:
            with postgres_database("rt") as url:
                target_env = instance_env(target, url)
                run_palier("restore", str(archive), env=target_env)
                source_tables = postgres_tables(source_url)
                assert postgres_tables(url) == source_tables
    assert len(source_tables["tickets_ticket"]) == 4
    assert len(source_tables["tickets_attachment"]) == 3
    assert len(source_tables["kb_articlefile"]) == 1
    files = media_hashes(target / "media")
    assert files == media_hashes(desk)
    assert len(files) == 4


def test_restore_refuses_a_desk_with_tickets_and_force_keeps_other_files(desk: Path, tmp_path: Path) -> None:
    archive = tmp_path / "desk.tar.gz"
    with shared_database() as env:
        call_command("backup", str(archive))
        # the desk the archive came from is not empty: refused, nothing touched
        own = {**env, "PALIER_MEDIA_DIR": str(desk)}
        before = media_hashes(desk)
        refused = run_palier("restore", str(archive), env=own, check=False)
        assert refused.returncode != 0
        assert "already holds tickets or users" in refused.stderr
        assert media_hashes(desk) == before
        # --force replaces the database and the archive's files, and deletes nothing else
        (desk / "kept.txt").write_text("not in the archive")
        run_palier("restore", "--force", str(archive), env=own)
    assert (desk / "kept.txt").read_text() == "not in the archive"
    assert media_hashes(desk) == {**before, "kept.txt": media_hashes(desk)["kept.txt"]}


# it moves a desk through both engines whichever pass runs it: once per CI, in the PostgreSQL pass
@pytest.mark.postgres
@pytest.mark.engine_independent
def test_sqlite_to_postgresql_and_back(sqlite_template: Path, desk: Path, tmp_path: Path) -> None:
    postgres_available()
    if connection.vendor != "sqlite":
        pytest.skip("the migration path starts from a SQLite desk: run this test on the SQLite test database")
    sqlite_archive = tmp_path / "sqlite.tar.gz"
    with shared_database():
        call_command("backup", "--portable", str(sqlite_archive))
    with postgres_database("a") as url_a, postgres_database("b") as url_b:
        # SQLite -> PostgreSQL (an empty database: restore migrates it first)
        env_a = instance_env(tmp_path / "pg-a", url_a)
        run_palier("restore", "--portable", str(sqlite_archive), env=env_a)
        pg_archive = tmp_path / "pg.tar.gz"
        run_palier("backup", "--portable", str(pg_archive), env=env_a)
        assert verify_backup(pg_archive) == []  # pg_restore --list opens the dump
        assert portable_rows(pg_archive) == portable_rows(sqlite_archive)
        assert media_members(pg_archive) == media_members(sqlite_archive)
        # PostgreSQL -> PostgreSQL: pg_dump, pg_restore
        env_b = instance_env(tmp_path / "pg-b", url_b)
        run_palier("restore", str(pg_archive), env=env_b)
        assert postgres_tables(url_b) == postgres_tables(url_a)
        assert media_hashes(tmp_path / "pg-b" / "media") == media_hashes(desk)
    # PostgreSQL -> SQLite, into an empty migrated SQLite
    back = tmp_path / "back"
    back.mkdir()
    shutil.copyfile(sqlite_template, back / "palier.sqlite3")
    run_palier("restore", "--portable", str(pg_archive), env=instance_env(back))
    assert media_hashes(back / "media") == media_hashes(desk)
    rows = sqlite_portable_rows(back / "palier.sqlite3", tmp_path / "back.jsonl")
    assert rows == portable_rows(sqlite_archive)
    assert sum(row["model"] == "tickets.ticket" for row in rows) == 4
