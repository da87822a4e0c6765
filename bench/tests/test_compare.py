"""The pure parts of bench/compare.py (the side-by-side benchmark): the workload both systems are
seeded with, the result table and ratio, the peer's settings, the chart, and Palier's seeding of
the workload. No peer install here, and no timing: the benchmark measures, the tests check."""

from __future__ import annotations

import importlib.util
import math
import runpy
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH / "compare"))

import workload  # noqa: E402


def _load(name: str, path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


compare = _load("bench_compare", BENCH / "compare.py")


def test_the_workload_is_the_same_for_the_same_spec_and_has_the_announced_shares():
    spec = workload.Spec(tickets=3_000, agents=12, requesters=2_000, seed=42)
    first, second = list(workload.tickets(spec)), list(workload.tickets(spec))
    assert first == second
    assert len(first) == 3_000
    assert all(len(t.comments) == 3 for t in first)
    assert {t.agent is None for t in first if t.status == "new"} == {True}
    assert all(0 <= t.requester < 2_000 for t in first)
    assert all(0 <= t.agent < 12 for t in first if t.agent is not None)
    for position, (word, share) in enumerate(workload.SEARCH_WORDS.items()):
        found = sum(word in t.text.lower() for t in first)
        assert found == math.floor(3_000 * share) == workload.expected_count(3_000, share, offset=position * 7)
        # never in a comment: the peer's search reads only titles and descriptions
        assert not any(word in text.lower() for t in first for _r, _p, text, _a in t.comments)
    assert workload.expected_count(3_000, workload.SEARCH_WORDS["kerberos"]) == 0


def test_another_seed_gives_other_tickets_but_the_same_shares():
    a = list(workload.tickets(workload.Spec(tickets=1_000, agents=5, requesters=50, seed=1)))
    b = list(workload.tickets(workload.Spec(tickets=1_000, agents=5, requesters=50, seed=2)))
    assert a != b
    for word in workload.SEARCH_WORDS:
        assert sum(word in t.text.lower() for t in a) == sum(word in t.text.lower() for t in b)


def test_a_workload_without_people_is_refused():
    with pytest.raises(ValueError):
        list(workload.tickets(workload.Spec(tickets=10, agents=0, requesters=5)))


def test_the_sampled_tickets_are_spread_and_bounded():
    assert workload.sample_indexes(10) == list(range(10))
    sample = workload.sample_indexes(100_000)
    assert len(sample) == 2_000 and sample[0] == 0 and sample[-1] < 100_000
    assert workload.sample_indexes(0) == []


def test_ratio_reads_latencies_and_rates_the_right_way_round():
    fast, slow = compare.Side(requests=10, p50_ms=10.0), compare.Side(requests=10, p50_ms=250.0)
    assert compare.ratio("queue", fast, slow) == 25.0
    assert compare.fmt_ratio(compare.ratio("queue", fast, slow)) == "25.0x faster"
    assert compare.fmt_ratio(compare.ratio("queue", slow, fast)) == "25.0x slower"
    many, few = compare.Side(requests=10, per_second=150.0), compare.Side(requests=10, per_second=50.0)
    assert compare.ratio("create", many, few) == 3.0
    assert compare.fmt_ratio(compare.ratio("create", few, many)) == "3.0x slower"
    assert math.isnan(compare.ratio("queue", fast, compare.Side()))
    assert compare.fmt_ratio(float("nan")) == "-"
    assert compare.fmt_ratio(1234.0) == "1,234x faster"


def test_the_table_shows_both_systems_and_the_ratio():
    rows = [
        compare.Row(
            "postgresql",
            "ticket",
            compare.Side(requests=100, p50_ms=12.34, p95_ms=20.0, cpu_ms_per_request={"server": 9.0, "database": 1.0}),
            compare.Side(requests=100, p50_ms=91.0, p95_ms=140.0),
        ),
        compare.Row("sqlite", "mail", compare.Side(requests=1000, per_second=154.0), compare.Side(errors=2)),
    ]
    text = compare.table(rows)
    assert "Palier" in text and "django-helpdesk" in text
    ticket = next(line for line in text.splitlines() if " ticket " in line)
    assert "12.3 / 20.0" in ticket and "91.0 / 140" in ticket and "7.4x faster" in ticket and "9.0+1.0" in ticket
    mail = next(line for line in text.splitlines() if " mail " in line)
    assert "154.0/s" in mail and "(2 err)" in mail and mail.rstrip().endswith("- | -")


def test_the_chart_is_a_static_svg():
    rows = [
        compare.Row("postgresql", "queue", compare.Side(requests=1, p50_ms=10), compare.Side(requests=1, p50_ms=500)),
        compare.Row("postgresql", "ticket", compare.Side(requests=1, p50_ms=20), compare.Side(requests=1, p50_ms=10)),
    ]
    svg = compare.chart(rows, "Palier vs django-helpdesk")
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:500]
    assert "queue" in svg and "50.0x" in svg and "0.5x" in svg
    assert 'src="http' not in svg and "kozea.github.io" not in svg  # no script from the network


@pytest.fixture
def peer_settings(monkeypatch):
    def render(**env: str) -> dict:
        for key in ("PEER_DATABASE_URL", "PEER_SECRET_KEY", "PEER_DATA_DIR"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return runpy.run_path(str(BENCH / "compare" / "peer" / "settings.py"))

    return render


def test_the_peer_settings_render_for_postgresql_and_sqlite(peer_settings, tmp_path):
    pg = peer_settings(PEER_SECRET_KEY="k", PEER_DATABASE_URL="postgres://bench:s%40cret@127.0.0.1:5432/peer_bench_1")
    db = pg["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "peer_bench_1", "bench", "s@cret", "127.0.0.1", "5432",
    )  # fmt: skip
    assert pg["DEBUG"] is False and "helpdesk" in pg["INSTALLED_APPS"]
    assert pg["EMAIL_BACKEND"].endswith("dummy.EmailBackend")
    lite = peer_settings(PEER_SECRET_KEY="k", PEER_DATA_DIR=str(tmp_path))
    assert lite["DATABASES"]["default"] == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": f"{tmp_path}/peer.sqlite3",
    }
    assert lite["MEDIA_ROOT"] == str(tmp_path / "media")


def test_the_peer_settings_refuse_a_missing_key_or_an_unknown_database(peer_settings):
    with pytest.raises(RuntimeError):
        peer_settings()
    with pytest.raises(ValueError):
        peer_settings(PEER_SECRET_KEY="k", PEER_DATABASE_URL="mysql://root@localhost/x")


@pytest.mark.django_db
def test_palier_is_seeded_with_the_workload_in_the_triage_group():
    from palier.people.models import SupportGroup
    from palier.tickets.models import Comment, SearchEntry, Ticket

    seeder = _load("bench_palier_seed", BENCH / "compare" / "palier_seed.py")
    done = seeder.seed(120, 42, batch=50)
    triage = SupportGroup.objects.get(is_triage=True)
    assert done["tickets"] == 120 and done["comments"] == 360
    assert 0 < done["agents"] <= triage.members.count() and done["requesters"] > 0
    assert Ticket.objects.filter(group=triage).count() == 120
    assert Comment.objects.count() == 360
    assert len(done["ids"]) == 120 and set(done["ids"]) == set(Ticket.objects.values_list("pk", flat=True))
    spec = workload.Spec(tickets=120, agents=done["agents"], requesters=done["requesters"], seed=42)
    expected = list(workload.tickets(spec))
    assert list(Ticket.objects.order_by("pk").values_list("subject", "status")) == [
        (t.subject, t.status) for t in expected
    ]
    vpn = sum("vpn" in t.text for t in expected)
    assert vpn == 12
    assert SearchEntry.objects.filter(comment=None, text__contains="vpn").count() == vpn
