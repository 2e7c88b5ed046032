"""Benchmark: the search index at archive scale (2000 hours, about 1.5 million segments).

    python scripts/bench_search.py [--segments 1500000] [--queries 200]

Builds a synthetic bilingual corpus through the real index API (one episode at a time, as the
build does), then times 200 mixed queries (Chinese of two characters and of four or more,
English words and phrases) and prints the build time and p50/p95 latency. Target: p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from media_tool.search import Row, SQLiteIndex

ZH_WORDS = ["病假", "养老", "保险", "工资", "社会", "保障", "失业", "医疗", "工人", "农民", "政策", "制度", "缴费",
            "待遇", "城市", "农村", "家庭", "儿童", "老人", "就业", "培训", "补贴", "救助", "残疾", "生育", "住房",
            "基金", "改革", "地方", "中央", "覆盖", "公平", "经验", "国际", "专家", "研究", "数据", "管理"]
EN_WORDS = ("pension insurance sick leave unemployment benefit worker farmer policy system contribution "
            "coverage family child elderly employment training subsidy assistance disability maternity "
            "housing fund reform local central fairness experience international expert research data "
            "management payment ministry province district rural urban migrant health care social protection "
            "scheme reform budget tax income poverty").split()


def zh_sentence(rng: random.Random) -> str:
    return "".join(rng.choice(ZH_WORDS) for _ in range(rng.randint(5, 9))) + "。"


def en_sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(EN_WORDS) for _ in range(rng.randint(8, 14))).capitalize() + "."


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=1_500_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--per-episode", type=int, default=750, help="segments per episode (about an hour)")
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        ix = SQLiteIndex(Path(tmp) / "search.sqlite3")
        t0 = time.perf_counter()
        episodes = args.segments // args.per_episode
        for e in range(episodes):
            slug = f"ep-{e:05d}"
            rows = []
            for k in range(args.per_episode):
                lang = "zh" if k % 2 else "en"
                text = zh_sentence(rng) if lang == "zh" else en_sentence(rng)
                rows.append(Row(slug, lang, k * 4.8, k * 4.8 + 4.5, text))
            date = (dt.datetime(2010, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=2 * e)).isoformat()
            ix.replace_episode(slug, f"Episode {e}", date, "u", "k", rows)
        build = time.perf_counter() - t0
        size = (Path(tmp) / "search.sqlite3").stat().st_size / 2**20
        print(f"indexed {ix.count():,} segments in {episodes} episodes: {build:.1f} s, {size:.0f} MB")

        q = []
        per = args.queries // 4
        q += [rng.choice(ZH_WORDS) for _ in range(per)]                                  # 2 characters
        q += [rng.choice(ZH_WORDS) + rng.choice(ZH_WORDS) for _ in range(per)]           # 4 characters
        q += [rng.choice(EN_WORDS) for _ in range(per)]                                  # words
        q += ['"' + " ".join(rng.sample(EN_WORDS, 2)) + '"' for _ in range(args.queries - 3 * per)]  # phrases
        rng.shuffle(q)
        ix.search("warm up")
        times, counts = [], []
        for query in q:
            t = time.perf_counter()
            counts.append(len(ix.search(query, limit=20)))
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
        print(f"{len(q)} queries: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms "
              f"(target p95 <= 20 ms); {sum(1 for c in counts if c):d} had hits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
