"""Translation's core: the policy (`translation_of`), a transcript translated segment by segment
through the checked translation core (`engines.translation`), Whisper's translate task (an option
for Mandarin), and a mixed conversation completed both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from media_tool.engines.guards import clean_segments
from media_tool.engines.quality import Similarity
from media_tool.engines.translation import Cache, segment_requests, translate_all
from media_tool.errors import ModelError
from media_tool.media.audio import Speech
from media_tool.model.glossary import Glossary
from media_tool.model.language import other_language
from media_tool.text.transcripts import Segment, Transcript, align_by_time

REVISION = 6
Hearing = Callable[[], Speech]
"""The recording as the models hear it, asked for only where Whisper's translate task needs it (the
build's `Context.speech`, decoded once per build; the command's, decoded once per run)."""
NAMES = {"en": "English", "zh": "Chinese"}
MIN_COVERAGE = 0.5
"""A translation that leaves more than half the segments without text (a loop the guards dropped,
answers that failed their checks) is not published: it is reported missing."""


@dataclass(frozen=True)
class Translation:
    """The machine's transcript in the other language, or None and why; what its checks found."""

    transcript: Transcript | None
    missing: str = ""
    misses: tuple[dict, ...] = ()     # {"segment", "problem"}: a glossary term not rendered
    failures: tuple[dict, ...] = ()   # {"segment", "problem"}: no translation could be trusted
    extra: dict = field(default_factory=dict)  # language -> Transcript (a mixed episode's main language)


def translator_id(translator) -> str:
    """How a machine translation names its maker in the JSON (`translatedBy`) and on pages."""
    model = getattr(translator, "model_name", "")
    return f"{translator.name}:{model}" if model else translator.name


def usable_translation(t: Transcript) -> bool:
    """Whether enough segments got text to publish the translation (see MIN_COVERAGE)."""
    return sum(1 for s in t.segments if s.text.strip()) >= MIN_COVERAGE * len(t.segments)


def translate(translator, source: Transcript, target: str, *, glossary: Glossary = Glossary(),
              cache: Cache | None = None, progress=None, spoken: str | None = None, context: str = "",
              similarity: Similarity | None = None) -> tuple[Transcript, dict]:
    """`source`'s segments in `target`, one to one (never shifted): each through the checked core,
    with its glossary terms, the line before and `context` (the title); a segment no answer could be
    trusted for is left empty and reported. Each segment says what was spoken there, what translated
    it, and how far it can be trusted (score, doubt, the other candidates)."""
    lang = spoken or source.language
    texts = [s.text for s in source.segments]
    done = translate_all(translator, segment_requests(texts, lang, target, glossary, context), cache=cache,
                         progress=progress, similarity=similarity)
    via = translator_id(translator)
    segs = tuple(replace(s, text=t or "", lang=s.lang or lang, via=via, **_judged(v))
                 for s, t, v in zip(source.segments, done.texts, done.verdicts))
    report = done.to_dict()
    return Transcript(target, segs, f"translation:{via}"), report


def _judged(verdict: dict | None) -> dict:
    """A line's score, doubt and other candidates as Segment fields (none where nothing judged it)."""
    if not verdict:
        return {"score": None, "doubt": None, "alternatives": ()}
    return {"score": verdict.get("score"), "doubt": verdict.get("doubt"),
            "alternatives": tuple(verdict.get("alternatives") or ())}


def whisper_translation(speech: Speech, engine, source: Transcript, progress=None) -> Transcript:
    """English for a Mandarin recording by Whisper's translate task, put on the source's timings."""
    if not engine.multilingual:
        raise ModelError(f"model {engine.model_name!r} is English-only: it cannot translate Mandarin")
    regions = list(speech.regions)
    run = engine.run(speech.samples, language=source.language, task="translate", prompt=None, speech=regions,
                     progress=progress)
    return align_by_time(source, clean_segments(run.segments, "en", regions), "en",
                         f"whisper-translate:{engine.model_name}")


def _whisper_for(speech: Speech, engine, foreign: Transcript) -> dict[float, Segment]:
    """Whisper's translate task over just `foreign`'s (Mandarin) turns: start -> English segment."""
    spans = [(max(a, x.start - 0.2), min(b, x.end + 0.2)) for a, b in speech.regions
             for x in foreign.segments if min(b, x.end) > max(a, x.start)]
    run = engine.run(speech.only(spans), language="zh", task="translate", prompt=None, speech=spans)
    aligned = align_by_time(foreign, clean_segments(run.segments, "en", spans), "en", "")
    via = f"whisper-translate:{engine.model_name}"
    return {x.start: replace(y, lang=x.lang, via=via) for x, y in zip(foreign.segments, aligned.segments)
            if y.text.strip()}


def complete(source: Transcript, target: str, *, speech: Hearing, engine, translator_for,
             glossary: Glossary = Glossary(), cache: Cache | None = None,
             whisper_task: bool = False, context: str = "", similarity: Similarity | None = None) -> tuple[Transcript, dict]:
    """`target`'s file of a mixed conversation, one segment per spoken one: what was said in `target`
    as said; every other turn translated into it (by `translator_for(spoken, target)`, a backend or
    None; Mandarin by Whisper's task where asked or where there is no translator). A turn nothing could translate is left empty and reported,
    never shown in the other language under this one's name."""
    foreign = Transcript(source.language, tuple(x for x in source.segments if (x.lang or source.language) != target),
                         source.origin)
    done: dict[float, Segment] = {}
    report: dict = {"misses": [], "failures": [], "cached": 0}
    if foreign.segments:
        spoken = other_language(target)
        translator = translator_for(spoken, target) if not (spoken == "zh" and whisper_task) else None
        if translator is not None:
            made, report = translate(translator, foreign, target, glossary=glossary, cache=cache, spoken=spoken,
                                     context=context, similarity=similarity)
            starts = [x.start for x in foreign.segments]
            for item in ("misses", "failures"):  # the foreign subset's indexes, as the whole file's
                for r in report[item]:
                    r["segment"] = [x.start for x in source.segments].index(starts[r["segment"]])
            done = {x.start: y for x, y in zip(foreign.segments, made.segments) if y.text.strip()}
        elif spoken == "zh" and engine is not None and engine.multilingual:
            done = _whisper_for(speech(), engine, foreign)
    segs = []
    for i, x in enumerate(source.segments):
        if (x.lang or source.language) == target:
            segs.append(replace(x, lang=x.lang or source.language, via=None))
        elif x.start in done:
            segs.append(done[x.start])
        else:
            segs.append(replace(x, text="", lang=x.lang or source.language, via=None))
            if not any(f["segment"] == i for f in report["failures"]):
                report["failures"].append({"segment": i, "problem": f"no translation of this {NAMES[x.lang or source.language]} turn"})
    return Transcript(target, tuple(segs), f"mixed:{source.origin}"), report


def translation_of(source: Transcript, target: str, *, speech: Hearing, engine, translator_for, mixed: bool,
                   glossary: Glossary = Glossary(), cache: Cache | None = None,
                   whisper_task: bool = False, context: str = "", similarity: Similarity | None = None) -> Translation:
    """The machine's `target`-language transcript of `source`, or None and why not: the one policy
    the build and `media-tool transcribe` share. A mixed conversation: both languages' files
    completed (each turn as spoken in its own, translated into the other). Otherwise
    `translator_for(source language, target)` (a backend, or None where none applies); Mandarin to
    English by Whisper's translate task where asked or where there is no translator. Never the source
    under the other language's name."""
    if mixed:
        both = {"speech": speech, "engine": engine, "translator_for": translator_for, "glossary": glossary,
                "cache": cache, "whisper_task": whisper_task, "context": context, "similarity": similarity}
        t, report = complete(source, target, **both)
        main, main_report = complete(source, source.language, **both) if source.language != target else (None, {})
        misses = tuple(report["misses"]) + tuple(main_report.get("misses", ()))
        failures = tuple(report["failures"]) + tuple(main_report.get("failures", ()))
        return Translation(t, "", misses, failures, {source.language: main} if main is not None else {})
    translator = translator_for(source.language, target) if not (source.language == "zh" and whisper_task) else None
    if translator is not None:
        t, report = translate(translator, source, target, glossary=glossary, cache=cache, context=context,
                              similarity=similarity)
        if not usable_translation(t):
            return Translation(None, f"{NAMES[target]} translation missing: the machine translation passed its "
                                     f"checks for only {sum(1 for s in t.segments if s.text)} of "
                                     f"{len(t.segments)} segments", tuple(report["misses"]), tuple(report["failures"]))
        return Translation(t, "", tuple(report["misses"]), tuple(report["failures"]))
    if source.language == "zh" and target == "en":
        if engine is None or not engine.multilingual:
            name = getattr(engine, "model_name", "?")
            return Translation(None, f"English translation missing: model {name!r} is English-only")
        t = whisper_translation(speech(), engine, source)
        if not usable_translation(t):
            filled = sum(1 for s in t.segments if s.text.strip())
            return Translation(None, f"English translation missing: Whisper's translate task gave usable text for "
                                     f"only {filled} of {len(source.segments)} segments (a repetition loop or "
                                     f"silence was dropped)")
        return Translation(t)
    return Translation(None, f"{NAMES[target]} translation missing: no translator configured")


def crossed(source: Transcript, files: dict[str, Transcript]) -> Transcript:
    """A mixed conversation's bilingual partner of `source`: each turn in the other language than the
    one it was spoken in (its translation), so the bilingual files pair every line with its translation."""
    segs = []
    for i, x in enumerate(source.segments):
        spoken = x.lang or source.language
        segs.append(files[other_language(spoken)].segments[i])
    return Transcript(other_language(source.language), tuple(segs), "mixed")
