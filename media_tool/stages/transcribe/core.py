"""Transcription's core, the one the build's stages and `media-tool transcribe` share: a recording's
`Speech` (decoded and searched once) heard by Whisper (`hear`: the language checked, detected or
decided turn by turn; the output cleaned by the guards, in Simplified Chinese, glossary terms and
names corrected), then `finish`ed the same way on every path (punctuation, speaker labels).
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, replace

from media_tool.engines.guards import clean_segments
from media_tool.engines.translation import punctuate
from media_tool.errors import MediaToolError, ModelError
from media_tool.media.audio import Speech, windows
from media_tool.model.glossary import (
    Correction,
    Glossary,
    correct_english,
    english_names,
    english_prompt,
    names_heard,
    unsure,
)
from media_tool.text import homophones
from media_tool.text.transcripts import Transcript, label_speakers

REVISION = 4  # 4: English without an initial prompt, its names put right after
PUNCTUATION_REVISION = 2
"""Bumped when how Chinese is finished changes (`by_sound`, `engines.translation.punctuate`)."""
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


def hear(speech: Speech, engine, *, language: str = "auto", main: str | None = None, turns=(),
         glossary: Glossary = Glossary(), names: tuple[str, ...] = (), progress=None) -> Outcome:
    """Whisper's words for a recording, the one way the build and `media-tool transcribe` hear it:
    `language` en or zh (as said), mixed (decided turn by turn, `main` the file's main language,
    else the one heard most), or auto (detected; a second language noticed turn by turn makes it
    mixed). `engine` may be a Future of one, still loading while the audio was decoded."""
    if isinstance(engine, Future):
        engine = engine.result()
    if language == "auto" and engine.multilingual and speech.regions:
        heard = languages_heard(speech, engine, turns)
        if len(heard) > 1:
            return transcribe_mixed(speech, engine, main=max(heard, key=heard.get), turns=turns,
                                    glossary=glossary, names=names, detected=True)
        if heard:  # one language, already decided stretch by stretch: not detected a second time
            out = transcribe(speech, engine, language=next(iter(heard)), progress=progress, glossary=glossary,
                             names=names)
            return replace(out, detected=True)
    if language == "mixed":
        return transcribe_mixed(speech, engine, main=main, turns=turns, glossary=glossary, names=names)
    return transcribe(speech, engine, language=language, progress=progress, glossary=glossary, names=names)


def finish(t: Transcript, *, punctuator=None, cache=None, turns=(), keep: tuple[str, ...] = ()) -> Transcript:
    """What is done to Whisper's words before anyone reads them, on every path: misheard Mandarin put
    right by sound (`by_sound`, judged by the local model where `punctuator` is it; `keep`: glossary
    terms and names, never touched), Chinese punctuation put back (`punctuated`), then each line
    labelled with its speaker (a person's own names are kept)."""
    t = by_sound(t, punctuator, keep)
    t = punctuated(t, punctuator, cache)
    return replace(t, segments=label_speakers(t.segments, turns)) if turns else t


def by_sound(t: Transcript, backend=None, keep: tuple[str, ...] = ()) -> Transcript:
    """Whisper's Chinese lines with the words it wrote in characters of the same sound put right
    (`text.homophones`: the dictionary proposes, the local model reading each line decides); each
    change is listed in the transcript's corrections. Without the local model, nothing changes."""
    judge = getattr(getattr(backend, "model", None), "fluency", None)
    where = [i for i, s in enumerate(t.segments) if (s.lang or t.language) == "zh" and s.text.strip()]
    if judge is None or not where:
        return t
    try:
        texts, fixes = homophones.correct([t.segments[i].text for i in where], keep, judge)
    except MediaToolError:  # the local model cannot load here: the words as heard
        return t
    segs = list(t.segments)
    for i, text in zip(where, texts):
        s = segs[i]
        if text != s.text and s.doubt:  # the reviewer sees what the correction did to an unsure line
            s = replace(s, doubt=f"{s.doubt}; put right by sound: {s.text} → {text}")
        segs[i] = replace(s, text=text)
    made = tuple({**f.to_dict(), "segment": where[f.segment]} for f in fixes)
    return replace(t, segments=tuple(segs), corrections=t.corrections + made)


def punctuated(t: Transcript, backend=None, cache=None) -> Transcript:
    """Whisper's Chinese segments with their punctuation (`engines.translation.punctuate`): by the
    local model where one is given (a backend that takes requests), else only their closing marks."""
    where = [i for i, s in enumerate(t.segments) if (s.lang or t.language) == "zh"]
    if not where:
        return t
    bare = [t.segments[i].text for i in where]
    try:
        texts, _ = punctuate(backend, bare, cache=cache)
    except MediaToolError:  # the local model cannot load here (the translate stage says why): the marks only
        texts, _ = punctuate(None, bare)
    segs = list(t.segments)
    for i, text in zip(where, texts):
        segs[i] = replace(segs[i], text=text)
    return replace(t, segments=tuple(segs))


def transcribe(speech: Speech, engine, *, language: str = "auto", progress=None,
               glossary: Glossary = Glossary(), names: tuple[str, ...] = ()) -> Outcome:
    """Run `engine` on one recording: detect or check the language, transcribe, clean. English names
    and acronyms (the glossary's and the people's) are put right after (`glossary.correct_english`).

    Mandarin glossary terms Whisper mishears are corrected by sound (see `glossary`). The terms are
    not given to Whisper as hotwords or prompt: measured on the committed Mandarin fixture with
    Whisper base, both engines then lost most of the text (CER 0.15 -> 0.95 batched faster-whisper,
    one garbled segment with openai-whisper), while the correction alone took term recall from
    0.35 to 0.94 and CER from 0.154 to 0.073."""
    t0 = time.monotonic()
    if isinstance(engine, Future):  # the model was loading while the audio was decoded and searched
        engine = engine.result()
    detected = language == "auto"
    regions = list(speech.regions)
    if not regions:  # silence or music only: nothing was said, and nothing is invented
        lang = "en" if detected else language
        return Outcome(Transcript(lang, (), "model"), lang, detected, time.monotonic() - t0, speech.seconds)
    if detected:
        language = engine.detect_language(speech.samples) if engine.multilingual else "en"
    check_language(engine, language)
    run = engine.run(speech.samples, language=language, task="transcribe", prompt=ZH_PROMPT if language == "zh" else None,
                     speech=regions, progress=progress)
    segs, fixes = corrected(clean_segments(run.segments, language, regions), language, glossary, names,
                            audio=speech.samples, engine=engine, speech=regions)
    return Outcome(Transcript(language, tuple(segs), f"model:{engine.name}:{engine.model_name}",
                              tuple(f.to_dict() for f in fixes)), language, detected, time.monotonic() - t0,
                   speech.seconds)


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


def languages_heard(speech: Speech, engine, turns=()) -> dict[str, float]:
    """Seconds of speech per language (Mandarin, English), decided stretch by stretch (speaker turns
    where known); a language heard too little to count (see SECOND_LANGUAGE) is left out, so a file
    in one language gives one language."""
    if isinstance(engine, Future):
        engine = engine.result()
    if not engine.multilingual or not speech.regions:
        return {"en": 1.0} if not engine.multilingual else {}
    units = [(a, b) for a, b, _ in turns] if turns else windows(list(speech.regions), DETECT_S)
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    for (a, b), lang in zip(units, engine.languages_of([speech.clip(a, b) for a, b in units], ("zh", "en"))):
        seconds[lang] = seconds.get(lang, 0.0) + (b - a)
        counts[lang] = counts.get(lang, 0) + 1
    total = sum(seconds.values()) or 1.0
    n, share, alone = SECOND_LANGUAGE
    return {lg: s for lg, s in seconds.items()
            if (counts[lg] >= n and s / total >= share) or s / total >= alone or s == max(seconds.values())}


def transcribe_mixed(speech: Speech, engine, *, main: str | None = None, turns=(), glossary: Glossary = Glossary(),
                     names: tuple[str, ...] = (), detected: bool = False) -> Outcome:
    """A conversation in Mandarin and English: each turn (a speaker's, or else a stretch of speech)
    transcribed in the language it was spoken, decided turn by turn, not per 30-second window, so a
    short Mandarin question between English answers is heard as Mandarin. Every segment carries the
    language it was spoken in; the transcript is the words as spoken (in `main`'s files; without
    `main`, the language heard longest)."""
    t0 = time.monotonic()
    if isinstance(engine, Future):
        engine = engine.result()
    if not engine.multilingual:
        raise ModelError(f"model {engine.model_name!r} is English-only: a mixed-language episode needs a "
                         "multilingual model")
    regions = list(speech.regions)
    units = [(a, b) for a, b, _ in turns] if turns else windows(regions)
    langs = engine.languages_of([speech.clip(a, b) for a, b in units], ("zh", "en"))
    if main is None:
        said = {lg: sum(b - a for (a, b), x in zip(units, langs) if x == lg) for lg in ("zh", "en")}
        main = max(said, key=lambda lg: (said[lg], lg == "zh"))
    segs, fixes = [], []
    for lang in ("zh", "en"):
        part = within(regions, [u for u, lg in zip(units, langs) if lg == lang])
        if not part:
            continue
        said = speech.only(part)
        run = engine.run(said, language=lang, task="transcribe", prompt=ZH_PROMPT if lang == "zh" else None,
                         speech=part)
        found, fixed = corrected(clean_segments(run.segments, lang, part), lang, glossary, names, audio=said,
                                 engine=engine, speech=part)
        fixes += fixed
        segs += [replace(x, lang=lang) for x in found]
    segs.sort(key=lambda x: x.start)
    return Outcome(Transcript(main, tuple(segs), f"model:{engine.name}:{engine.model_name}:mixed",
                              tuple(f.to_dict() for f in fixes)), main, detected, time.monotonic() - t0,
                   speech.seconds)
