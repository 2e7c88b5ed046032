"""Benchmark: does the machine translation keep the speaker's meaning? (never a test: it times things)

    python scripts/bench_quality.py [--set critical|heldout] [--repo PATH] [--limit N] [--json FILE]
    python scripts/bench_quality.py --planted      # the review queue's recall on planted errors (no LLM)

The set is `scripts/data/critical_sentences.json`: 58 sentences written for this benchmark (41
English, 17 Mandarin), or with `--set heldout` `critical_heldout.json` (30 more, written after the
translator was settled and never used to tune it), each with its reference in the other language and, per language, the words
that carry its critical elements (a number, a negation, a comparison, "only", a cause) as regular
expressions written by hand. Every sentence is translated both ways (116 lines) through the
translation core (`engines.translation.translate_all` with the local model) and a line counts as
kept when every hand-written pattern of the target language matches. The checker the core uses
(`text.meaning`) is not what scores here: the patterns are independent of it.

`--repo PATH` runs the same on another checkout (`git worktree add /tmp/before <commit>`), so the
figures before and after a change come from one machine in one session. Also reported: chrF against
the references (sacrebleu), the seconds, and the review queue's recall at 10% (the share of the
lines that lost their meaning which are among the 10% lowest-scored), where the core gives scores.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


PLANTS = [  # how an error is planted in a faithful translation: (name, target language, function)
    ("negation dropped", "zh", lambda t: re.sub(r"不|没有|未|无", "", t, count=1)),
    ("number changed", "zh", lambda t: re.sub(r"\d+", lambda m: str(int(m.group()) * 10), t, count=1)),
    ("less made more", "zh", lambda t: t.replace("减少", "增加").replace("减轻", "加重").replace("降低", "提高")),
    ("English left", "zh", lambda t: t[: len(t) // 2] + " coverage " + t[len(t) // 2 + 2:]),
    ("negation dropped", "en", lambda t: re.sub(r"\b(not|no|never) ", "", t, count=1)),
    ("number changed", "en", lambda t: re.sub(r"\d+", lambda m: str(int(m.group()) * 10), t, count=1)),
    ("less made more", "en", lambda t: re.sub(r"\b(less|fewer|lower)\b", "more", t, count=1)),
    ("half dropped", "en", lambda t: " ".join(t.split()[: max(3, len(t.split()) // 2)]) + "."),
]


def planted() -> int:
    """Faithful lines (the sets' references) with errors planted in some, all judged as the core
    judges a translation (`engines.quality.judge`: the hard checks and e5's similarity): the share of
    the planted errors a person finds by checking only the lowest-scored 10% of the lines."""
    import random

    from media_tool.engines.quality import judge
    from media_tool.engines.translation import Request
    from media_tool.search.semantic import similarity_or_none

    rows = []
    for name in ("critical_sentences.json", "critical_heldout.json"):
        data = json.loads((HERE / "data" / name).read_text(encoding="utf-8"))
        for it in data["items"] + data["items_zh"]:
            rows += [(it["en"], "en", it["zh"]), (it["zh"], "zh", it["en"])]
    rng = random.Random(7)
    lines = []
    for src, lang, answer in rows:
        target = "zh" if lang == "en" else "en"
        lines.append((src, lang, answer, None))
        if rng.random() < 0.1:  # about one line in eleven gets a planted error of its language
            kinds = [(k, f) for k, t, f in PLANTS if t == target and f(answer) != answer]
            if kinds:
                k, f = rng.choice(kinds)
                lines[-1] = (src, lang, f(answer), k)
    sim = similarity_or_none()
    scored = []
    for src, lang, answer, kind in lines:
        v = judge(Request(src, lang, "zh" if lang == "en" else "en"), [answer], sim)[0]
        scored.append((v.score, kind, bool(v.doubt)))
    scored.sort(key=lambda x: x[0])
    cut = scored[:max(1, round(0.1 * len(scored)))]
    n = sum(1 for _, k, _ in scored if k)
    print(f"{len(scored)} lines, {n} with a planted error; the lowest 10% ({len(cut)} lines) hold "
          f"{sum(1 for _, k, _ in cut if k)} of them ({100 * sum(1 for _, k, _ in cut if k) / max(n, 1):.0f}%); "
          f"flagged: {sum(1 for _, k, d in scored if d and k)}/{n} planted, "
          f"{sum(1 for _, k, d in scored if d and not k)} faithful lines flagged too")
    for kind in sorted({k for _, k, _ in scored if k}):
        got = [x for x in scored if x[1] == kind]
        print(f"    {kind}: {sum(1 for x in got if x in cut)}/{len(got)} in the lowest 10%")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", type=Path, default=HERE.parent, help="the checkout whose media_tool is measured")
    ap.add_argument("--set", choices=["critical", "heldout"], default="critical")
    ap.add_argument("--limit", type=int, default=0, help="only the first N sentences of each language")
    ap.add_argument("--json", type=Path, help="write every line's result here")
    ap.add_argument("--planted", action="store_true", help="only the review queue's recall on planted errors")
    args = ap.parse_args()
    if args.planted:
        sys.path.insert(0, str(HERE.parent))
        return planted()
    sys.path.insert(0, str(args.repo.resolve()))
    import media_tool
    from media_tool.engines import llm
    from media_tool.engines.models import user_cache
    from media_tool.engines.translation import segment_requests, translate_all
    from media_tool.engines.translators import LocalTranslator
    from media_tool.model.glossary import Glossary
    print(f"media_tool from {Path(media_tool.__file__).parent}")
    name = "critical_sentences.json" if args.set == "critical" else "critical_heldout.json"
    data = json.loads((HERE / "data" / name).read_text(encoding="utf-8"))
    sets = {"en": data["items"], "zh": data["items_zh"]}
    if args.limit:
        sets = {k: v[:args.limit] for k, v in sets.items()}
    model = llm.load(llm.model_dir(user_cache()))
    backend = LocalTranslator(model)
    extra = {}
    if "similarity" in inspect.signature(translate_all).parameters:
        from media_tool.search.semantic import similarity_or_none
        extra["similarity"] = similarity_or_none()
    rows, seconds = [], 0.0
    for source, target in (("en", "zh"), ("zh", "en"), ):
        items = sets["en"] + sets["zh"]
        texts = [it[source] for it in items]
        reqs = segment_requests(texts, source, target, Glossary())
        t0 = time.perf_counter()
        done = translate_all(backend, reqs, cache=None, **extra)
        seconds += time.perf_counter() - t0
        verdicts = getattr(done, "verdicts", None) or [None] * len(texts)
        for it, answer, v in zip(items, done.texts, verdicts):
            patterns = it["keep"][target]
            kept = answer is not None and all(re.search(p, answer, re.IGNORECASE) for p in patterns)
            rows.append({"source": it[source], "answer": answer, "reference": it[target], "direction":
                         f"{source}->{target}", "kept": kept, "score": (v or {}).get("score"),
                         "doubt": (v or {}).get("doubt")})
    import sacrebleu

    for direction in ("en->zh", "zh->en"):
        part = [r for r in rows if r["direction"] == direction]
        kept = sum(r["kept"] for r in part)
        chrf = sacrebleu.corpus_chrf([r["answer"] or "" for r in part], [[r["reference"] for r in part]]).score
        print(f"{direction}: meaning kept in {kept}/{len(part)} lines ({100 * kept / len(part):.1f}%), chrF {chrf:.1f}")
        for r in part:
            if not r["kept"]:
                print(f"    lost: {r['source']}\n       => {r['answer']}   [{r['doubt'] or 'no doubt raised'}]")
    kept = sum(r["kept"] for r in rows)
    print(f"all: {kept}/{len(rows)} ({100 * kept / len(rows):.1f}%) in {seconds:.0f} s")
    scored = [r for r in rows if r["score"] is not None]
    lost = [r for r in scored if not r["kept"]]
    if scored and lost:
        cut = sorted(scored, key=lambda r: r["score"])[:max(1, round(0.1 * len(scored)))]
        found = sum(1 for r in cut if not r["kept"])
        flagged = [r for r in scored if r["doubt"]]
        print(f"review queue: {found}/{len(lost)} of the lines that lost meaning are in the lowest 10% "
              f"({len(cut)} lines); {sum(1 for r in flagged if not r['kept'])}/{len(lost)} are flagged at all "
              f"({len(flagged)} flagged)")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
