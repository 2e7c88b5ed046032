"""Translation's core: the policy (`translation_of`), translating a transcript segment by segment,
Whisper's translate task for Mandarin, and a mixed conversation's other-language file.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from media_tool.engines.guards import clean_segments
from media_tool.errors import ModelError, TranslationError
from media_tool.media.audio import decode_audio, only, speech_regions
from media_tool.text.transcripts import (
    Segment,
    Transcript,
    align_by_time,
    to_simplified,
)

REVISION = 3


def segments_with(source: Transcript, texts: list[str], language: str, origin: str) -> Transcript:
    if len(texts) != len(source.segments):
        raise TranslationError(f"translator returned {len(texts)} segments for {len(source.segments)}")
    return Transcript(language, tuple(Segment(s.start, s.end, " ".join(t.split()), s.speaker)
                                      for s, t in zip(source.segments, texts)), origin)


def translate(translator, source: Transcript, target: str) -> Transcript:
    texts = translator.translate([s.text for s in source.segments]) if source.segments else []
    if target == "zh":
        texts = [to_simplified(t) for t in texts]
    return segments_with(source, texts, target, f"translation:{translator.name}")


MIN_COVERAGE = 0.5
"""A Whisper translation that leaves more than half the segments empty (a loop the guards dropped,
or silence) is not published: it is reported missing."""


def usable_translation(t: Transcript) -> bool:
    """Whether enough segments got text to publish the translation (see MIN_COVERAGE)."""
    return sum(1 for s in t.segments if s.text.strip()) >= MIN_COVERAGE * len(t.segments)


def whisper_translation(audio_path: Path, ff, engine, source: Transcript, progress=None) -> Transcript:
    """English for a Mandarin recording by Whisper's translate task, put on the source's timings."""
    if not engine.multilingual:
        raise ModelError(f"model {engine.model_name!r} is English-only: it cannot translate Mandarin")
    audio = decode_audio(audio_path, ff)
    speech = speech_regions(audio)
    run = engine.run(audio, language=source.language, task="translate", prompt=None, speech=speech,
                     progress=progress)
    return align_by_time(source, clean_segments(run.segments, "en", speech), "en",
                         f"whisper-translate:{engine.model_name}")


def mixed_translation(audio_path: Path, ff, engine, translator, source: Transcript, target: str) -> Transcript:
    """The other-language file of a mixed-language episode, one segment per spoken one: what was said
    in `target` as said; the rest translated (Mandarin by Whisper's translate task over just those
    turns, English by the configured translator), or, where nothing can translate it, the words as
    spoken; each segment says which (`lang`, `via`)."""
    foreign = Transcript(source.language, tuple(x for x in source.segments if x.lang != target), source.origin)
    done: dict[float, Segment] = {}
    if foreign.segments:
        spoken = foreign.segments[0].lang or source.language
        if spoken == "zh" and engine is not None and engine.multilingual:
            audio = decode_audio(audio_path, ff)
            speech = [(max(a, x.start - 0.2), min(b, x.end + 0.2)) for a, b in speech_regions(audio)
                      for x in foreign.segments if min(b, x.end) > max(a, x.start)]
            run = engine.run(only(audio, speech), language="zh", task="translate", prompt=None, speech=speech)
            aligned = align_by_time(foreign, clean_segments(run.segments, "en", speech), "en", "")
            via = f"whisper-translate:{engine.model_name}"
            done = {x.start: replace(y, lang=x.lang, via=via) for x, y in zip(foreign.segments, aligned.segments)
                    if y.text.strip()}
        elif spoken == "en" and translator is not None:
            made = translate(translator, foreign, "zh")
            done = {x.start: replace(y, lang=x.lang, via=translator.name)
                    for x, y in zip(foreign.segments, made.segments) if y.text.strip()}
    segs = tuple(done.get(x.start, replace(x, via=None)) if x.lang != target else x for x in source.segments)
    return Transcript(target, segs, f"mixed:{source.origin}")


def translation_of(source: Transcript, target: str, *, audio_path: Path, ff, engine, translator,
                   mixed: bool) -> tuple[Transcript | None, str]:
    """The machine's `target`-language transcript of `source`, or None and why not: the one policy
    the build and `media-tool transcribe` share. A mixed conversation: each turn in `target` as
    spoken, the rest translated. Otherwise the translator (`translator`, None where none applies);
    Mandarin to English falls back to Whisper's translate task. Never the source under the other name."""
    if mixed:
        return mixed_translation(audio_path, ff, engine, translator, source, target), ""
    if translator is not None:
        return translate(translator, source, target), ""
    if source.language == "zh" and target == "en":
        if engine is None or not engine.multilingual:
            name = getattr(engine, "model_name", "?")
            return None, f"English translation missing: model {name!r} is English-only"
        t = whisper_translation(audio_path, ff, engine, source)
        if not usable_translation(t):
            filled = sum(1 for s in t.segments if s.text.strip())
            return None, (f"English translation missing: Whisper's translate task gave usable text for only "
                          f"{filled} of {len(source.segments)} segments (a repetition loop or silence was dropped)")
        return t, ""
    return None, "Chinese translation missing: no translator configured"
