"""Benchmark: English names and acronyms (the glossary's MoHRSS, ILO, C102, the people's names) as
Whisper's initial prompt (the baseline, what media-tool did before) against what it does now
(`transcribe.core.corrected`: no prompt, the names put right by their letters, and a line that still
holds a word written as an acronym heard again with the prompt, only its names taken), and against no
prompt at all.

    python scripts/bench_names.py [--model base]

espeak-ng reads four texts, each at two speeds, loudness-normalized as the build's MP3 is: one
dense with the names, one of ordinary speech about other things (held out: written after the
change), the committed English fixture and the sample show's English episode (which says the
show's name once). Prints WER per recording and variant, the times each
name was written right, and, for the speech dense with names and for the rest, the ratio of the
summed WER with the prompt to that of what media-tool does now.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "scripts"))
from make_sample_media import EN_TEXT  # noqa: E402

from media_tool.model.glossary import Glossary, Term, english_names, english_prompt  # noqa: E402
from media_tool.text.wer import normalize_for_wer  # noqa: E402

NAMED = ("The ILO adopted Convention C102 on minimum standards of social security. In China, MoHRSS sets the "
         "rules for pensions. The ILO and MoHRSS compared individual accounts and contributory insurance. "
         "Maria Silva advised the ILO on the reform.")
ORDINARY = ("Hello and welcome to the programme. Today our guest explains how cash transfers for families with "
            "young children work in Brazil. Mothers usually collect the payment with a bank card. Studies show "
            "that school attendance rose and child labour fell. The payment is small, but it arrives every month, "
            "and families can plan with it. Thank you for listening.")
GLOSSARY = Glossary((Term("人力资源和社会保障部", "MoHRSS"), Term("国际劳工组织", "ILO"), Term("公约", "C102"),
                     Term("社会保障对话", "Social Protection Dialogues")))
PEOPLE = ("Maria Silva",)


def speech(text: str, speed: int, out: Path) -> Path:
    wav = out.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", str(wav), text], check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-af", "loudnorm=I=-19:TP=-1.5",
                    "-ar", "44100", "-b:a", "128k", str(out)], check=True)
    return out


def main() -> int:
    import jiwer

    from media_tool.engines.guards import clean_segments
    from media_tool.engines.models import user_cache
    from media_tool.engines.whisper import load_engine
    from media_tool.media.audio import decode_audio, speech_regions
    from media_tool.media.ffmpeg import FFmpeg
    from media_tool.stages.transcribe.core import corrected
    from media_tool.text.transcripts import Segment

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="base")
    ap.add_argument("-v", action="store_true", help="print what each variant heard")
    args = ap.parse_args()
    engine, ff = load_engine("faster-whisper", args.model, user_cache()), FFmpeg.discover()
    names = english_names(GLOSSARY, PEOPLE)
    prompt = english_prompt(names)  # the baseline: the names as the prompt of the whole hearing
    texts = {"named": NAMED, "ordinary": ORDINARY, "fixture": (ROOT / "tests/fixtures/english.txt").read_text(),
             "sample": EN_TEXT}
    total = {kind: {"plain": 0.0, "prompt": 0.0, "put right": 0.0} for kind in ("named", "the rest")}
    right = {k: 0 for k in total["named"]}
    said = sum(text.count(n) for text in texts.values() for n in names) * 2
    print(f"Whisper {args.model} (faster-whisper); names: {', '.join(names)}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, text in texts.items():
            for speed in (150, 175):
                mp3 = speech(text, speed, Path(tmp) / f"{label}-{speed}.mp3")
                audio = decode_audio(mp3, ff)
                regions = speech_regions(audio)

                def heard(with_prompt: str | None) -> list[str]:
                    run = engine.run(audio, language="en", task="transcribe", prompt=with_prompt, speech=regions)
                    return [s.text for s in clean_segments(run.segments, "en", regions)]

                plain = heard(None)
                segs = [Segment(s.start, s.end, s.text) for s in
                        clean_segments(engine.run(audio, language="en", task="transcribe", prompt=None,
                                                  speech=regions).segments, "en", regions)]
                now = [s.text for s in corrected(segs, "en", GLOSSARY, PEOPLE, audio=audio, engine=engine,
                                                speech=regions)[0]]
                got = {"plain": plain, "prompt": heard(prompt), "put right": now}
                row = []
                for variant, lines in got.items():
                    hyp = " ".join(lines)
                    wer = jiwer.wer(normalize_for_wer(text), normalize_for_wer(hyp))
                    total["named" if label == "named" else "the rest"][variant] += wer
                    right[variant] += sum(min(hyp.count(n), text.count(n)) for n in names)
                    row.append(f"{variant} {wer:.3f}")
                print(f"{label:8s} {speed} wpm  WER  " + "  ".join(row))
                if "-v" in sys.argv:
                    print("   ", " | ".join(" ".join(v) for v in got.values()))
    print(f"names written right (of {said}): " + ", ".join(f"{k} {v}" for k, v in right.items()))
    for kind, sums in total.items():
        print(f"summed WER, {kind}: " + ", ".join(f"{k} {v:.3f}" for k, v in sums.items()) +
              f"; ratio prompt / put right x{sums['prompt'] / max(sums['put right'], 1e-9):.2f} (above 1: better now)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
