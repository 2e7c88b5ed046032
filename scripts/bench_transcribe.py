"""Benchmark: faster-whisper (batched, VAD) against openai-whisper, same weights, whole processes.

    python scripts/bench_transcribe.py [--minutes 5] [--model base]

Synthesises English speech with espeak-ng from varied sentences whose text is known, and runs
`media-tool transcribe` with each engine as a user would (model load included) on it and on the
committed Mandarin fixtures (mandarin.opus, 29 s dense with terms; mandarin-long.opus, 115 s of
other sentences, held out from tuning); prints wall time, realtime factors, the speed ratio, WER,
Mandarin CER, peak memory, and term recall on each fixture with and without the show's glossary.
Targets: faster-whisper at least 3x faster, WER/CER no more than 1 point worse.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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


def run_cli(engine: str, model: str, audio: Path, out: Path, *extra: str) -> dict:
    """One whole `media-tool transcribe` process, as a user runs it: wall seconds, peak memory, its --json."""
    t0 = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "media_tool", "transcribe", str(audio),
                          "-o", str(out), "--engine", engine, "--model", model, "--translator", "none", "--json", *extra],
                         capture_output=True, text=True, check=True)
    d = json.loads(res.stdout)
    d["wall"] = time.perf_counter() - t0
    d["peak_mb"] = int(res.stderr.strip().splitlines()[-1]) / 1024
    return d


def text_of(out: Path, stem: str, lang: str) -> str:
    return " ".join(s["body"] for s in json.loads((out / f"{stem}.{lang}.json").read_text())["segments"])


def han(text: str) -> str:
    return re.sub(r"[^\u3400-\u9fff]", "", text)


def main() -> int:
    import jiwer

    from media_tool.model import glossary
    from media_tool.text.wer import normalize_for_wer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--model", default="base")
    args = ap.parse_args()
    fixtures = ROOT / "tests" / "fixtures"
    clips = ("mandarin", "mandarin-long")
    refs = {c: "".join((fixtures / f"{c}.txt").read_text(encoding="utf-8").split()) for c in clips}
    terms = glossary.load(ROOT / "glossary.csv")
    with tempfile.TemporaryDirectory(prefix="bench-transcribe-") as tmp:
        tmp = Path(tmp)
        text = script(args.minutes)
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(tmp / "raw.wav"), text], check=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(tmp / "raw.wav"), "-ar", "44100", "-ac", "2",
                        "-c:a", "libmp3lame", "-b:a", "128k", str(tmp / "speech.mp3")], check=True)
        rows = {}
        for name in ("openai-whisper", "faster-whisper"):
            en = run_cli(name, args.model, tmp / "speech.mp3", tmp / name, "--language", "en", "--languages", "en")
            rows[name] = {"wall": en["wall"], "audio": en["audio_seconds"], "peak_mb": en["peak_mb"],
                          "wer": jiwer.wer(normalize_for_wer(text), normalize_for_wer(text_of(tmp / name, "speech", "en")))}
            for c in clips:
                zh = run_cli(name, args.model, fixtures / f"{c}.opus", tmp / f"{name}-{c}", "--languages", "zh")
                rows[name][c] = jiwer.cer(han(refs[c]), han(text_of(tmp / f"{name}-{c}", c, "zh")))
                rows[name][f"{c}-wall"] = zh["wall"]
        audio = rows["faster-whisper"]["audio"]
        print(f"English: {audio / 60:.1f} min of synthetic speech; Mandarin: the committed fixtures; model {args.model}\n")
        print(f"{'engine':16} {'wall s':>7} {'RTF':>6} {'WER %':>6} {'zh CER % (29 s / 115 s)':>24} {'zh wall s':>10} "
              f"{'peak MB':>8}")
        for name, r in rows.items():
            cers = " / ".join(f"{100 * r[c]:.1f}" for c in clips)
            walls = " / ".join(f"{r[f'{c}-wall']:.1f}" for c in clips)
            print(f"{name:16} {r['wall']:7.1f} {r['wall'] / audio:6.3f} {100 * r['wer']:6.1f} {cers:>24} {walls:>10} "
                  f"{r['peak_mb']:8.0f}")
        ratio = rows["openai-whisper"]["wall"] / rows["faster-whisper"]["wall"]
        worse = 100 * (rows["faster-whisper"]["wer"] - rows["openai-whisper"]["wer"])
        cer_worse = " / ".join(f"{100 * (rows['faster-whisper'][c] - rows['openai-whisper'][c]):+.1f}" for c in clips)
        print(f"\nfaster-whisper is {ratio:.2f}x faster on English (whole processes; target >= 3x); WER {worse:+.1f}, "
              f"CER {cer_worse} points against openai-whisper (target <= +1)")
        for c in clips:
            run_cli("faster-whisper", args.model, fixtures / f"{c}.opus", tmp / f"glossed-{c}", "--languages", "zh",
                    "--glossary", str(ROOT / "glossary.csv"))
            spoken = [t.zh for t in terms.terms if t.zh in refs[c]]
            for k, out in (("without", tmp / f"faster-whisper-{c}"), ("with", tmp / f"glossed-{c}")):
                t = text_of(out, c, "zh")
                print(f"{c}: term recall {k} glossary {sum(x in t for x in spoken) / len(spoken):.2f} of "
                      f"{len(spoken)} terms (CER {100 * jiwer.cer(han(refs[c]), han(t)):.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
