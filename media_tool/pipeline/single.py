"""One file at a time, outside a show: what `media-tool normalize` and `transcribe` run.

The same cores the build's stages call (normalize's sequence, transcription with its speaker
labelling, the translation policy), so a command and a build cannot disagree; the CLI only
parses arguments and renders.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from media_tool.engines import llm
from media_tool.engines.models import release_memory, user_cache
from media_tool.engines.translation import user_translations
from media_tool.engines.translators import LocalTranslator
from media_tool.engines.whisper import load_engine
from media_tool.errors import UsageError
from media_tool.media.audio import decode_audio, speech_regions
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.loudness import LoudnessReport
from media_tool.media.probe import probe
from media_tool.model.glossary import Glossary
from media_tool.model.language import other_language
from media_tool.model.settings import AudioSettings
from media_tool.stages.normalize.core import Target, normalize_recording
from media_tool.stages.speakers import core as speakers
from media_tool.stages.transcribe.core import (
    Outcome,
    languages_heard,
    transcribe,
    transcribe_mixed,
)
from media_tool.stages.transcript_files import write_files
from media_tool.stages.translate.core import crossed, translation_of
from media_tool.text.transcripts import bilingual_files, label_speakers, language_files

MAX_SPEAKERS = speakers.MAX_SPEAKERS
LOCAL_NAME = llm.NAME


def normalize_file(ff: FFmpeg, source: Path, outputs: list[Path], settings: AudioSettings,
                   progress=None) -> LoudnessReport:
    """One recording into `outputs` (.mp3/.m4a/.mp4; the first held to target), noise reduced first
    where `settings.denoise` asks; a denoiser that cannot run is a usage error here, not a note."""
    targets = [Target.for_path(str(o)) for o in outputs]
    info = probe(str(source), ff)
    with tempfile.TemporaryDirectory(prefix="media-tool-") as tmp:
        result, why = normalize_recording(ff, info, targets, settings, denoise_to=Path(tmp) / "denoised.wav",
                                          display=str(source), progress=progress)
    if why:
        raise UsageError(why[0])
    return result


def speaker_turns(ff: FFmpeg, source: Path, wanted: str) -> tuple[tuple[float, float, str], ...]:
    """`--speakers N|auto`: the speaker turns by voice, as (start, end, "Speaker N")."""
    if wanted != "auto" and not (wanted.isdigit() and 1 <= int(wanted) <= MAX_SPEAKERS):
        raise UsageError(f"--speakers: expected a number from 1 to {MAX_SPEAKERS} or auto, got {wanted!r}")
    if why := speakers.unavailable():
        raise UsageError(why)
    audio = decode_audio(source, ff)
    found = speakers.turns(audio, speech_regions(audio), None if wanted == "auto" else int(wanted))
    return tuple((x.start, x.end, f"Speaker {x.speaker + 1}") for x in found)


@dataclass
class Transcribed:
    """What `transcribe_file` made: the outcome, the files written and kept, what is missing."""

    outcome: Outcome
    engine: object
    files: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)  # machine translation's checks, per language


def transcribe_file(ff: FFmpeg, source: Path, out_dir: Path, *, language: str = "auto",
                    wanted: tuple[str, ...] = ("zh", "en"), engine: str = "faster-whisper", model: str = "base",
                    glossary: Glossary = Glossary(), speakers_wanted: str | None = None,
                    progress=None, translator_for=None, whisper_task: bool = False) -> Transcribed:
    """Transcripts of one file in the languages `wanted`, written into `out_dir` (a person's edit
    there is kept): the spoken language by Whisper, each line labelled with its speaker where
    asked, the other language by the same policy as the build's translate stage."""
    probe(str(source), ff)  # a bad file gets its one line before any model loads
    loader = ThreadPoolExecutor(1)  # the model loads while the audio is decoded and searched for speech
    pending = loader.submit(load_engine, engine, model, user_cache())
    loader.shutdown(wait=False)
    turns = speaker_turns(ff, source, speakers_wanted) if speakers_wanted else ()
    mixed, main_language = language == "mixed", "zh"
    if language == "auto":  # a second language noticed turn by turn makes the file a conversation in both
        heard = languages_heard(source, ff, pending, turns)
        if len(heard) > 1:
            mixed, main_language = True, max(heard, key=heard.get)
    if mixed:
        outcome = transcribe_mixed(source, ff, pending, main=main_language, turns=turns, glossary=glossary)
    else:
        outcome = transcribe(source, ff, pending, language=language, progress=progress, glossary=glossary)
    eng = pending.result()
    if turns:
        outcome = replace(outcome, transcript=replace(outcome.transcript, segments=label_speakers(
            outcome.transcript.segments, turns)))
    main = outcome.transcript
    named = _Named(eng.name, eng.model_name, eng.multilingual)
    if not mixed and not (whisper_task and outcome.language == "zh"):
        eng = None  # Whisper is done with: its memory is free before the translation model loads
        release_memory()
    missing: dict[str, str] = {}
    problems: list[dict] = []
    other = other_language(outcome.language)
    if mixed:  # the words as spoken, and each language's file completed (every turn, spoken or translated)
        files = language_files(source.stem, replace(main, language="spoken"))
    else:
        files = language_files(source.stem, main)
    targets = [other] if other in wanted or mixed else []
    cache = user_translations()  # a second run on the same file (other speakers, other languages) reuses them
    for lang in targets:
        done = translation_of(main, lang, audio_path=source, ff=ff, engine=eng, mixed=mixed, glossary=glossary,
                              translator_for=translator_for or (lambda a, b: None), whisper_task=whisper_task,
                              cache=cache)
        cache.save()
        problems += [{"language": lang, **p} for p in done.misses + done.failures]
        if done.transcript is None:
            missing[lang] = done.missing
            continue
        by_lang = {lang: done.transcript, **done.extra}
        for lg, t in by_lang.items():
            if lg in wanted:
                files.update(language_files(source.stem, t))
        partner = crossed(main, by_lang) if mixed else done.transcript
        files.update(bilingual_files(source.stem, main, partner))
    out_dir.mkdir(parents=True, exist_ok=True)
    _, conflicts = write_files(out_dir, files, {})
    return Transcribed(outcome, named, [str(out_dir / n) for n in files if n not in conflicts], conflicts, missing,
                       problems)


@dataclass(frozen=True)
class _Named:
    """What the report says of the Whisper engine that ran, once the engine itself is let go."""

    name: str
    model_name: str
    multilingual: bool


def local_translators(device: str = "auto", progress=None):
    """`translator_for` of the offline model, loaded on first use (assembled and converted once per
    machine into the user's model cache)."""
    loaded: list = []

    def translator_for(source: str, target: str):
        if not loaded:
            loaded.append(LocalTranslator(llm.LocalModel(llm.model_dir(user_cache(), progress), device=device)))
        return loaded[0]
    return translator_for
