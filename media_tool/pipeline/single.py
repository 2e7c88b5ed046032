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
from media_tool.media.audio import Speech, listen
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.loudness import LoudnessReport
from media_tool.media.probe import probe
from media_tool.model.glossary import Glossary
from media_tool.model.language import other_language
from media_tool.model.settings import AudioSettings, TranscriptionSettings
from media_tool.search.semantic import similarity_or_none
from media_tool.stages.normalize import leveler
from media_tool.stages.normalize.core import Target, normalize_recording
from media_tool.stages.speakers import core as speakers
from media_tool.stages.transcribe.core import Outcome, finish, hear
from media_tool.stages.transcript_files import write_files
from media_tool.stages.translate.core import crossed, translation_of
from media_tool.text.formats import bilingual_files, language_files

MAX_SPEAKERS = speakers.MAX_SPEAKERS
DEFAULTS = TranscriptionSettings()
"""The command's defaults are the show's (`[transcription]`): one dataclass holds them."""
LANGUAGES_WANTED = DEFAULTS.languages
LOCAL_NAME = llm.NAME


def normalize_file(ff: FFmpeg, source: Path, outputs: list[Path], settings: AudioSettings,
                   progress=None, speakers_wanted: str | None = None) -> LoudnessReport:
    """One recording into `outputs` (.mp3/.m4a/.mp4; the first held to target), noise reduced first
    where `settings.denoise` asks; a denoiser that cannot run is a usage error here, not a note.
    `speakers_wanted` (`--speakers N|auto`): the voices are found and leveled first."""
    targets = [Target.for_path(str(o)) for o in outputs]
    info = probe(str(source), ff)
    levels = None
    if speakers_wanted is not None:
        heard = listen(source, ff)
        levels = leveler.plan(heard.samples, heard.regions, speaker_turns(heard, speakers_wanted))
    with tempfile.TemporaryDirectory(prefix="media-tool-") as tmp:
        result, why = normalize_recording(ff, info, targets, settings, denoise_to=Path(tmp) / "denoised.wav",
                                          display=str(source), progress=progress, levels=levels)
    if why:
        raise UsageError(why[0])
    return result


def speaker_turns(speech: Speech, wanted: str) -> tuple[tuple[float, float, str], ...]:
    """`--speakers N|auto`: the speaker turns by voice, as (start, end, "Speaker N")."""
    if wanted != "auto" and not (wanted.isdigit() and 1 <= int(wanted) <= MAX_SPEAKERS):
        raise UsageError(f"--speakers: expected a number from 1 to {MAX_SPEAKERS} or auto, got {wanted!r}")
    if why := speakers.unavailable():
        raise UsageError(why)
    found = speakers.turns(speech.samples, list(speech.regions), None if wanted == "auto" else int(wanted))
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
                    wanted: tuple[str, ...] = LANGUAGES_WANTED, engine: str = DEFAULTS.engine,
                    model: str = DEFAULTS.model, glossary: Glossary = Glossary(),
                    speakers_wanted: str | None = None, progress=None, translator_for=None,
                    whisper_task: bool = False, speaker_names: bool = DEFAULTS.speaker_names,
                    title: str = "") -> Transcribed:
    """Transcripts of one file in the languages `wanted`, written into `out_dir` (a person's edit
    there is kept), by the same core as the build's transcribe and translate stages: the recording
    decoded and searched once, heard (`transcribe.core.hear`), finished (punctuation, each line
    labelled with its speaker where asked), the other language by the translate stage's policy."""
    probe(str(source), ff)  # a bad file gets its one line before any model loads
    loader = ThreadPoolExecutor(1)  # the model loads while the audio is decoded and searched for speech
    pending = loader.submit(load_engine, engine, model, user_cache())
    loader.shutdown(wait=False)
    speech = listen(source, ff)
    turns = speaker_turns(speech, speakers_wanted) if speakers_wanted else ()
    outcome = hear(speech, pending, language=language, turns=turns, glossary=glossary,
                   progress=progress)
    mixed = outcome.transcript.origin.endswith(":mixed")
    translator_for = translator_for or (lambda a, b: None)
    cache = user_translations()  # a second run on the same file (other speakers, other languages) reuses them
    main = finish(outcome.transcript, punctuator=translator_for("zh", "zh"), cache=cache, turns=turns,
                  keep=glossary.chinese())
    outcome = replace(outcome, transcript=main)
    eng = pending.result()
    named = _Named(eng.name, eng.model_name, eng.multilingual)
    if not mixed and not (whisper_task and outcome.language == "zh"):
        eng = None  # Whisper is done with: its memory is free before the translation model loads
        release_memory()
    missing: dict[str, str] = {}
    problems: list[dict] = []
    other = other_language(outcome.language)
    # a mixed conversation: the words as spoken, and each language's file completed (every turn, spoken or translated)
    files = language_files(source.stem, replace(main, language="spoken") if mixed else main, speaker_names)
    targets = [other] if other in wanted or mixed else []
    for lang in targets:
        done = translation_of(main, lang, speech=lambda: speech, engine=eng, mixed=mixed, glossary=glossary,
                              translator_for=translator_for, whisper_task=whisper_task, cache=cache,
                              context=title, similarity=similarity_or_none())
        cache.save()
        problems += [{"language": lang, **p} for p in done.misses + done.failures]
        if done.transcript is None:
            missing[lang] = done.missing
            continue
        by_lang = {lang: done.transcript, **done.extra}
        for lg, t in by_lang.items():
            if lg in wanted:
                files.update(language_files(source.stem, t, speaker_names))
        partner = crossed(main, by_lang) if mixed else done.transcript
        files.update(bilingual_files(source.stem, main, partner, speaker_names))
    cache.save()
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
    """`translator_for` of the offline model, loaded on first real use (assembled and converted once per
    machine into the user's model cache): a file whose lines need no model never loads it."""
    model = llm.LazyModel(lambda: llm.load(llm.model_dir(user_cache(), progress), device=device))
    translator = LocalTranslator(model)

    def translator_for(source: str, target: str):
        return translator
    return translator_for
