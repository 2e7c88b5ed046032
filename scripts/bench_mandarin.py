"""Benchmark: Mandarin character error rate with the default model, before and after the words Whisper
misheard are put right by sound (`text.homophones`, judged by the local model), and what it cost.

    python scripts/bench_mandarin.py [--model base] [--glossary glossary.csv]

Clips: the committed Mandarin fixtures (mandarin.opus 29 s, mandarin-long.opus 115 s, held out from
tuning) and the sample show's Mandarin video (ep-002), each against the text its speech was made
from. Each is heard once by the build's core (`transcribe.core.hear`, the show's glossary), then
finished without and with the correction; CER counts Han characters only (punctuation is restored
separately). Also: how many characters the correction changed that were right before (a false
correction), and its seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> int:
    import jiwer
    import make_mandarin_speech as speech_texts
    from bench_transcribe import han

    from media_tool.engines import llm
    from media_tool.engines.models import user_cache
    from media_tool.engines.whisper import load_engine
    from media_tool.media.audio import listen
    from media_tool.media.ffmpeg import FFmpeg
    from media_tool.model import glossary as glossary_csv
    from media_tool.stages.transcribe.core import by_sound, hear

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="base")
    ap.add_argument("--glossary", type=Path, default=ROOT / "glossary.csv")
    args = ap.parse_args()
    fixtures = ROOT / "tests" / "fixtures"
    clips = {"mandarin (29 s)": (fixtures / "mandarin.opus", (fixtures / "mandarin.txt").read_text(encoding="utf-8")),
             "mandarin-long (115 s, held out)": (fixtures / "mandarin-long.opus",
                                                 (fixtures / "mandarin-long.txt").read_text(encoding="utf-8")),
             "ep-002 (video)": (ROOT / "episodes" / "ep-002-sick-leave" / "recording.mp4", "".join(speech_texts.EPISODE))}
    terms = glossary_csv.load(args.glossary)
    ff = FFmpeg.discover()
    engine = load_engine("faster-whisper", args.model, user_cache())
    judge = llm.load(llm.model_dir(user_cache()))

    class Backend:  # the local model as `finish` receives it (the translator's .model)
        model = judge

    total = {"before": [0, 0], "after": [0, 0]}
    queue: list[tuple[float, bool, bool]] = []  # (score, wrong, flagged) of each line after the correction
    print(f"{'clip':34} {'CER before %':>12} {'after %':>8} {'lines changed':>14} {'false':>6} {'seconds':>8}")
    for name, (path, truth) in clips.items():
        t = hear(listen(path, ff), engine, language="zh", glossary=terms).transcript
        t0 = time.perf_counter()
        fixed = by_sound(t, Backend(), terms.chinese())
        seconds = time.perf_counter() - t0
        ref = han(truth)
        before, after = han(" ".join(s.text for s in t.segments)), han(" ".join(s.text for s in fixed.segments))
        cb, ca = jiwer.cer(ref, before), jiwer.cer(ref, after)
        for k, v in (("before", cb), ("after", ca)):
            total[k][0] += v * len(ref)
            total[k][1] += len(ref)
        lines = [s.text for s in t.segments]
        changed = [(i, a.text, b.text) for i, (a, b) in enumerate(zip(t.segments, fixed.segments)) if a.text != b.text]
        false = sum(1 for i, _, b in changed  # this change alone makes the clip's CER worse
                    if jiwer.cer(ref, han(" ".join(lines[:i] + [b] + lines[i + 1:]))) > cb)
        print(f"{name:34} {100 * cb:12.1f} {100 * ca:8.1f} {len(changed):14d} {false:6d} {seconds:8.1f}")
        for _, a, b in changed:
            print(f"    {a}  ->  {b}")
        queue += [(s.score if s.score is not None else 1.0, han(s.text) not in ref, bool(s.doubt)) for s in fixed.segments]
    wrong = sum(w for _, w, _ in queue)
    low = sorted(queue)[:max(1, round(0.1 * len(queue)))]
    flagged = [q for q in queue if q[2]]
    print(f"\nreview queue (recognition): {len(queue)} lines, {wrong} still with a wrong character; the lowest 10% "
          f"({len(low)} lines) hold {sum(w for _, w, _ in low)} of them; {len(flagged)} flagged, "
          f"{sum(w for _, w, _ in flagged)} of them wrong")
    print(f"all clips: CER {100 * total['before'][0] / total['before'][1]:.1f}% -> "
          f"{100 * total['after'][0] / total['after'][1]:.1f}% (model {args.model}, glossary {args.glossary.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
