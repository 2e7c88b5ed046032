"""Transcription's core: decode, find speech, detect or check the language, run the engine, clean its
output (guards, Simplified Chinese, glossary corrections); a mixed conversation turn by turn.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

from media_tool.engines.guards import clean_segments
from media_tool.errors import ModelError
from media_tool.media.audio import (
    SAMPLE_RATE,
    decode_audio,
    only,
    speech_regions,
    windows,
)
from media_tool.model.glossary import (
    Correction,
    Glossary,
    correct_english,
    english_names,
    english_prompt,
    names_heard,
    unsure,
)
from media_tool.text.transcripts import Transcript

REVISION = 4  # 4: English without an initial prompt, its names put right after
PUNCTUATION_REVISION = 1
"""Bumped when how Chinese punctuation is restored changes (`engines.translation.punctuate`)."""
ZH_PROMPT = "以下是普通话的句子，使用简体中文和中文标点。"
"""Whisper follows the script of its prompt: a Simplified prompt steers it away from Traditional."""

LANGUAGE_NAMES = {"en": "English", "zh": "Mandarin"}


@dataclass(frozen=True)
class Outcome:
    """What transcribing one file did, for `--json` and the build record."""

    transcript: Transcript
    language: str
    detected: bool
    seconds: float
    audio_seconds: float

    @property
    def realtime_factor(self) -> float:
        return self.seconds / self.audio_seconds if self.audio_seconds else 0.0


def check_language(engine, language: str) -> None:
    """An English-only model asked for anything but English is an error, not garbage."""
    if language != "en" and not engine.multilingual:
        raise ModelError(f"model {engine.model_name!r} is English-only: it cannot transcribe "
                         f"{LANGUAGE_NAMES.get(language, language)}; configure a multilingual model "
                         f"(for example \"small\" or \"large-v3\", or a local path) or supply a transcript")


def transcribe(audio_path: Path, ff, engine, *, language: str = "auto", progress=None,
               glossary: Glossary = Glossary(), names: tuple[str, ...] = ()) -> Outcome:
    """Run `engine` on one file: decode, find speech, detect or check the language, transcribe.
    `engine` may be a Future of one, still loading while the audio is decoded. English names and
    acronyms (the glossary's and the people's) are put right after (`glossary.correct_english`).

    Mandarin glossary terms Whisper mishears are corrected by sound (see `glossary`). The terms are
    not given to Whisper as hotwords or prompt: measured on the committed Mandarin fixture with
    Whisper base, both engines then lost most of the text (CER 0.15 -> 0.95 batched faster-whisper,
    one garbled segment with openai-whisper), while the correction alone took term recall from
    0.35 to 0.94 and CER from 0.154 to 0.073."""
    t0 = time.monotonic()
    audio = decode_audio(audio_path, ff)
    duration = len(audio) / SAMPLE_RATE
    speech = speech_regions(audio)
    if isinstance(engine, Future):  # the model was loading while the audio was decoded and searched
        engine = engine.result()
    detected = language == "auto"
    if not speech:  # silence or music only: nothing was said, and nothing is invented
        lang = "en" if detected else language
        return Outcome(Transcript(lang, (), "model"), lang, detected, time.monotonic() - t0, duration)
    if detected:
        language = engine.detect_language(audio) if engine.multilingual else "en"
    check_language(engine, language)
    run = engine.run(audio, language=language, task="transcribe", prompt=ZH_PROMPT if language == "zh" else None,
                     speech=speech, progress=progress)
    segs, fixes = corrected(clean_segments(run.segments, language, speech), language, glossary, names,
                            audio=audio, engine=engine, speech=speech)
    return Outcome(Transcript(language, tuple(segs), f"model:{engine.name}:{engine.model_name}",
                              tuple(f.to_dict() for f in fixes)), language, detected, time.monotonic() - t0, duration)


def corrected(segs: list, language: str, glossary: Glossary, names: tuple[str, ...], *, audio=None,
              engine=None, speech=()) -> tuple[list, list[Correction]]:
    """Segments with the glossary's misheard terms put right: Mandarin by sound (`Glossary.correct`);
    English names and acronyms (the glossary's, the people's) by their letters
    (`glossary.correct_english`), then, on a line that still holds a word written as an acronym
    that is none of them ("The RIO adopted"), by hearing that stretch of `speech` again with the
    names as Whisper's prompt and taking only the names from it (`glossary.names_heard`).

    Why not the prompt for everything: given the names as its initial prompt, Whisper base wrote
    them over ordinary words ("Mothers usually collect" as "MoHRSS usually collect", "attendance
    rose" as "Endons Roses") and changed others ("sets" as "is"); `scripts/bench_names.py`
    measures the three ways."""
    texts = [s.text for s in segs]
    if language == "zh":
        texts, fixes = glossary.correct(texts) if glossary else (texts, [])
        return [replace(s, text=t) for s, t in zip(segs, texts)], fixes
    wanted = english_names(glossary, names)
    texts, fixes = correct_english(texts, wanted)
    prompt = english_prompt(wanted)
    doubt = [s for s, t in zip(segs, texts) if unsure(t, wanted)]
    if engine is None or not prompt or not doubt:
        return [replace(s, text=t) for s, t in zip(segs, texts)], fixes
    # heard again with their neighbours (Whisper needs the context: a line alone comes out worse)
    near = [(a, b) for a, b in speech if any(b > s.start - NEIGHBOURS_S and a < s.end + NEIGHBOURS_S for s in doubt)]
    again = engine.run(audio, language="en", task="transcribe", prompt=prompt, speech=near)
    heard = correct_english([" ".join(x.text for x in clean_segments(again.segments, "en", near))], wanted)[0][0]
    at = [n for n, s in enumerate(segs) if any(s.end > a and s.start < b for a, b in near)]
    text, _ = names_heard("\n".join(texts[n] for n in at), heard, wanted)
    for n, line in zip(at, text.split("\n")):
        if line != texts[n]:
            fixes.append(Correction(n, texts[n], line))
            texts[n] = line
    return [replace(s, text=t) for s, t in zip(segs, texts)], fixes


NEIGHBOURS_S = 15.0
"""How much speech either side of a doubtful line is heard again with it."""


def within(speech: list[tuple[float, float]], spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of the speech regions that fall inside `spans` (pure)."""
    out = []
    for a, b in speech:
        for c, d in spans:
            lo, hi = max(a, c), min(b, d)
            if hi - lo > 0.05:
                out.append((lo, hi))
    return sorted(out)


SECOND_LANGUAGE = (2, 0.04, 0.15)
"""A second language counts when it is heard in at least 2 stretches making 4 % of the speech, or in
15 % of it: one misjudged stretch (a name, a cough) does not make a file a conversation in two."""
DETECT_S = 10.0
"""Stretches of speech of at most this long are each given to language detection (a short question
between long answers keeps its own stretch)."""


def languages_heard(audio_path: Path, ff, engine, turns=()) -> dict[str, float]:
    """Seconds of speech per language (Mandarin, English), decided stretch by stretch (speaker turns
    where known); a language heard too little to count (see SECOND_LANGUAGE) is left out, so a file
    in one language gives one language."""
    audio = decode_audio(audio_path, ff)
    speech = speech_regions(audio)
    if isinstance(engine, Future):
        engine = engine.result()
    if not engine.multilingual or not speech:
        return {"en": 1.0} if not engine.multilingual else {}
    units = [(a, b) for a, b, _ in turns] if turns else windows(speech, DETECT_S)
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    for a, b in units:
        lang = engine.language_of(audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)], ("zh", "en"))
        seconds[lang] = seconds.get(lang, 0.0) + (b - a)
        counts[lang] = counts.get(lang, 0) + 1
    total = sum(seconds.values()) or 1.0
    n, share, alone = SECOND_LANGUAGE
    return {lg: s for lg, s in seconds.items()
            if (counts[lg] >= n and s / total >= share) or s / total >= alone or s == max(seconds.values())}


def transcribe_mixed(audio_path: Path, ff, engine, *, main: str, turns=(), glossary: Glossary = Glossary(),
                     names: tuple[str, ...] = (), progress=None) -> Outcome:
    """A conversation in Mandarin and English: each turn (a speaker's, or else a stretch of speech)
    transcribed in the language it was spoken, decided turn by turn, not per 30-second window, so a
    short Mandarin question between English answers is heard as Mandarin. Every segment carries the
    language it was spoken in; the transcript is the words as spoken (in `main`'s files)."""
    t0 = time.monotonic()
    audio = decode_audio(audio_path, ff)
    speech = speech_regions(audio)
    if isinstance(engine, Future):
        engine = engine.result()
    if not engine.multilingual:
        raise ModelError(f"model {engine.model_name!r} is English-only: a mixed-language episode needs a "
                         "multilingual model")
    units = [(a, b) for a, b, _ in turns] if turns else windows(speech)
    langs = [engine.language_of(audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)], ("zh", "en")) for a, b in units]
    segs, fixes = [], []
    for lang in ("zh", "en"):
        part = within(speech, [u for u, lg in zip(units, langs) if lg == lang])
        if not part:
            continue
        said = only(audio, part)
        run = engine.run(said, language=lang, task="transcribe", prompt=ZH_PROMPT if lang == "zh" else None,
                         speech=part)
        found, fixed = corrected(clean_segments(run.segments, lang, part), lang, glossary, names, audio=said,
                                 engine=engine, speech=part)
        fixes += fixed
        segs += [replace(x, lang=lang) for x in found]
    segs.sort(key=lambda x: x.start)
    return Outcome(Transcript(main, tuple(segs), f"model:{engine.name}:{engine.model_name}:mixed",
                              tuple(f.to_dict() for f in fixes)), main, False, time.monotonic() - t0,
                   len(audio) / SAMPLE_RATE)


