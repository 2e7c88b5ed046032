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

from media_tool.engines.models import user_cache
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
from media_tool.stages.transcribe.core import Outcome, transcribe, transcribe_mixed
from media_tool.stages.transcript_files import write_files
from media_tool.stages.translate.core import translation_of
from media_tool.text.transcripts import bilingual_files, label_speakers, language_files

MAX_SPEAKERS = speakers.MAX_SPEAKERS


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


def transcribe_file(ff: FFmpeg, source: Path, out_dir: Path, *, language: str = "auto",
                    wanted: tuple[str, ...] = ("zh", "en"), engine: str = "faster-whisper", model: str = "base",
                    glossary: Glossary = Glossary(), speakers_wanted: str | None = None,
                    progress=None, translator=None) -> Transcribed:
    """Transcripts of one file in the languages `wanted`, written into `out_dir` (a person's edit
    there is kept): the spoken language by Whisper, each line labelled with its speaker where
    asked, the other language by the same policy as the build's translate stage."""
    probe(str(source), ff)  # a bad file gets its one line before any model loads
    loader = ThreadPoolExecutor(1)  # the model loads while the audio is decoded and searched for speech
    pending = loader.submit(load_engine, engine, model, user_cache())
    loader.shutdown(wait=False)
    turns = speaker_turns(ff, source, speakers_wanted) if speakers_wanted else ()
    mixed = language == "mixed"
    if mixed:
        outcome = transcribe_mixed(source, ff, pending, main="zh", turns=turns, glossary=glossary)
    else:
        outcome = transcribe(source, ff, pending, language=language, progress=progress, glossary=glossary)
    eng = pending.result()
    if turns:
        outcome = replace(outcome, transcript=replace(outcome.transcript, segments=label_speakers(
            outcome.transcript.segments, turns)))
    files = language_files(source.stem, outcome.transcript)
    missing: dict[str, str] = {}
    for lang in wanted:
        if lang == outcome.language and not mixed:
            continue
        t, why = translation_of(outcome.transcript, lang, audio_path=source, ff=ff, engine=eng,
                                translator=translator if lang == "zh" else None, mixed=mixed)
        if t is None:
            missing[lang] = why
            continue
        files.update(language_files(source.stem, t))
        if lang == other_language(outcome.language):
            files.update(bilingual_files(source.stem, outcome.transcript, t))
    out_dir.mkdir(parents=True, exist_ok=True)
    _, conflicts = write_files(out_dir, files, {})
    return Transcribed(outcome, eng, [str(out_dir / n) for n in files if n not in conflicts], conflicts, missing)

