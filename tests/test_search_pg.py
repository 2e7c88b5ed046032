"""The PostgreSQL backend against a real server this test starts (and stops) on loopback:
the same queries give the same hits, in the same order, as the embedded SQLite index."""

from __future__ import annotations

import glob
import os
import random
import shutil
import socket
import subprocess

import pytest
from helpers import build_json, search_hits

from media_tool.search import Row, SQLiteIndex

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
QUERIES = ["病假", "养老保险", "病", "老保", "保老", '"social protection"', "PENSIONS", "welcome", "zzz",
           '"', "*", "NEAR(", "病假*", '"protection social"', "养老 pension", "listening"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    if not PG_BIN:
        pytest.skip("needs Debian's postgresql package (.ci/run installs it)")
    import tempfile
    from pathlib import Path

    bindir = PG_BIN[-1]
    data = Path(tempfile.mkdtemp(prefix="media-tool-pg-"))  # pytest's own folders are closed to other users
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = _free_port()
    run = lambda *a: subprocess.run([*as_user, *a], check=True, capture_output=True, text=True)  # noqa: E731
    run(f"{bindir}/initdb", "-D", str(data / "db"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
    run(f"{bindir}/pg_ctl", "-D", str(data / "db"), "-w", "-l", str(data / "log"), "-o",
        f"-k {data} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    finally:
        run(f"{bindir}/pg_ctl", "-D", str(data / "db"), "-m", "fast", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)


def _fresh(dsn: str):
    from media_tool.search.postgres import PostgresIndex

    ix = PostgresIndex(dsn)
    ix.db.execute("TRUNCATE mt_segments, mt_episodes")
    return ix


@pytest.mark.slow
def test_sample_show_same_hits_from_both_backends(built_show, postgres, monkeypatch):
    lite = {q: search_hits(built_show, q) for q in QUERIES}
    with open(built_show / "podcast.toml", "a") as fh:
        fh.write('\n[search]\nbackend = "postgres"\n')
    _fresh(postgres).close()
    monkeypatch.setenv("MEDIA_TOOL_PG_DSN", postgres)
    code, report = build_json(built_show)
    assert code == 0, report
    assert {e["stages"]["index"]["status"] for e in report["episodes"]} == {"done"}  # re-indexed into PG
    for q in QUERIES:
        assert search_hits(built_show, q) == lite[q], q
    assert lite["病假"] and lite['"social protection"']
    filtered = search_hits(built_show, "welcome", "--lang", "en", "--episode", "ep-001-pensions")
    assert {h["slug"] for h in filtered} == {"ep-001-pensions"}


@pytest.mark.slow
def test_ranking_matches_on_a_larger_corpus(postgres, tmp_path):
    """Enough rows that the ranking orders them: the two backends must agree hit for hit."""
    rng = random.Random(3)
    zh = ["病假", "养老", "保险", "工资", "社会", "保障", "失业", "医疗", "工人", "农民"]
    en = "pension insurance sick leave unemployment benefit worker farmer policy coverage".split()
    lite, pg = SQLiteIndex(tmp_path / "s.sqlite3"), _fresh(postgres)
    for e in range(30):
        rows = []
        for k in range(40):
            text = ("".join(rng.choice(zh) for _ in range(rng.randint(2, 8))) + "。") if k % 2 else \
                " ".join(rng.choice(en) for _ in range(rng.randint(3, 12))).capitalize() + "."
            rows.append(Row(f"e{e}", "zh" if k % 2 else "en", k * 3.0, k * 3.0 + 2.5, text))
        date = f"2025-{1 + e % 12:02d}-{1 + e // 12:02d}T00:00:00+00:00"
        for ix in (lite, pg):
            ix.replace_episode(f"e{e}", f"E{e}", date, "u", "k", rows)
    queries = zh + en + ["养老保险", "病假工资", '"sick leave"', "pension coverage", "险", "保险 worker", "社会保",
                         '"worker farmer policy"', '"Pensions insurance"']
    for q in queries:
        a = [(h.slug, h.lang, h.start) for h in lite.search(q, limit=15)]
        b = [(h.slug, h.lang, h.start) for h in pg.search(q, limit=15)]
        assert a == b, q
        assert a or q in ("保险 worker",)
    assert [h.slug for h in pg.search("病假", slug="e3")] == [h.slug for h in lite.search("病假", slug="e3")]
    import time

    from media_tool.errors import SearchTimeout
    assert pg.search("养老保险", deadline=time.monotonic() + 60) == pg.search("养老保险")  # statement_timeout, then reset
    with pytest.raises(SearchTimeout):
        pg.search("养老保险", deadline=time.monotonic() - 1)
    pg.replace_episode("e0", "E0", "2025-01-01T00:00:00+00:00", "u", "k2", [Row("e0", "en", 0, 1, "only this")])
    assert pg.count("e0") == 1 and pg.remove_except({"e0"}) and pg.count() == 1
    pg.close()
