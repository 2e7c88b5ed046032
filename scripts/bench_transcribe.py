"""Benchmark: faster-whisper (batched, VAD) against openai-whisper on the same 5 minutes, same weights.

    python scripts/bench_transcribe.py [--minutes 5] [--model tiny.en]

Synthesises English speech with espeak-ng from varied sentences whose text is known, runs both
engines through media-tool's own transcribe path (same decoding, guards and segmenting), and
prints each engine's realtime factor, the speed ratio, both word error rates and the peak
memory of each run. Target: the fast path at least 3x faster, WER no more than 2 points worse.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

SUBJECTS = ["The ministry", "Our guest", "A local office", "The pension fund", "Every district", "The survey team",
            "A young worker", "The insurance agency", "Their committee", "The city council"]
VERBS = ["reviewed", "expanded", "explained", "simplified", "measured", "funded", "compared", "improved"]
OBJECTS = ["the sick leave rules", "unemployment benefits", "basic pensions for farmers", "the payment system",
           "coverage for migrant workers", "maternity insurance", "the appeals process", "training programmes"]
TAILS = ["last year", "in three provinces", "with help from experts", "after a long debate", "before the winter",
         "for the first time", "across the region", "within a few months"]


def script(minutes: float, seed: int = 7) -> str:
    rng = random.Random(seed)
    words_needed = int(minutes * 150)
    sentences, count = [], 0
    while count < words_needed:
        s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}."
        sentences.append(s)
        count += len(s.split())
    return " ".join(sentences)


def run_engine(name: str, model: str, audio: Path, reference: str) -> dict:
    """One engine in a child process, so its peak memory is its own."""
    code = f"""
import json, resource, sys, time
from pathlib import Path
import jiwer
from media_tool import transcripts as tx
from media_tool.stages import transcribe as tr
from media_tool.ffmpeg import FFmpeg
from media_tool.whisper_engines import load_engine
t0 = time.perf_counter()
engine = load_engine({name!r}, {model!r}, Path({str(Path.home() / '.cache' / 'media-tool')!r}))
loaded = time.perf_counter() - t0
out = tr.transcribe(Path({str(audio)!r}), FFmpeg.discover(), engine, language="en")
hyp = " ".join(s.text for s in out.transcript.segments)
ref = Path({str(reference)!r}).read_text()
print(json.dumps({{"load": loaded, "seconds": out.seconds, "audio": out.audio_seconds,
    "wer": jiwer.wer(tx.normalize_for_wer(ref), tx.normalize_for_wer(hyp)),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import json
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--model", default="tiny.en")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-transcribe-") as tmp:
        tmp = Path(tmp)
        text = script(args.minutes)
        (tmp / "ref.txt").write_text(text)
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(tmp / "raw.wav"), text], check=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(tmp / "raw.wav"), "-ar", "44100", "-ac", "2",
                        "-c:a", "libmp3lame", "-b:a", "128k", str(tmp / "speech.mp3")], check=True)
        rows = {}
        for name in ("openai-whisper", "faster-whisper"):
            rows[name] = run_engine(name, args.model, tmp / "speech.mp3", tmp / "ref.txt")
        audio = rows["faster-whisper"]["audio"]
        print(f"audio: {audio / 60:.1f} min of synthetic English speech, model {args.model}, "
              f"{len(text.split())} reference words\n")
        print(f"{'engine':16} {'seconds':>8} {'RTF':>6} {'WER %':>6} {'peak MB':>8} {'load s':>7}")
        for name, r in rows.items():
            print(f"{name:16} {r['seconds']:8.1f} {r['seconds'] / audio:6.3f} {100 * r['wer']:6.1f} "
                  f"{r['peak_mb']:8.0f} {r['load']:7.1f}")
        ratio = rows["openai-whisper"]["seconds"] / rows["faster-whisper"]["seconds"]
        worse = 100 * (rows["faster-whisper"]["wer"] - rows["openai-whisper"]["wer"])
        print(f"\nfaster-whisper is {ratio:.1f}x faster (target >= 3x); WER {worse:+.1f} points against "
              f"openai-whisper (target <= +2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
