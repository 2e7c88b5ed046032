"""Transcribe stage: timed text in the language spoken, from Whisper or from a person.

The core decides (language, prompt, which file a person supplied, what to write) and shapes
the model's output (guards, Simplified Chinese); the engines in `whisper_engines` are the edge.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from . import transcripts as tx
from .errors import ConfigError, ModelError
from .transcripts import Segment, Transcript, TranscriptFormatError

REVISION = 1
FORMATS = ("srt", "vtt", "json", "txt")
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


def to_simplified(text: str) -> str:
    """Traditional to Simplified characters (OpenCC t2s), punctuation kept."""
    from opencc import OpenCC

    return OpenCC("t2s").convert(text)


def shape(raw, language: str, speech) -> list[Segment]:
    """Model segments after the guards, trimmed, in Simplified characters for Chinese."""
    from .whisper_engines import guard

    out = []
    for s in guard(list(raw), speech):
        text = " ".join(s.text.split())
        if language == "zh":
            text = to_simplified(text)
        out.append(Segment(round(s.start, 3), round(s.end, 3), text))
    return out


def check_language(engine, language: str) -> None:
    """An English-only model asked for anything but English is an error, not garbage."""
    if language != "en" and not engine.multilingual:
        raise ModelError(f"model {engine.model_name!r} is English-only: it cannot transcribe "
                         f"{LANGUAGE_NAMES.get(language, language)}; configure a multilingual model "
                         f"(for example \"small\" or \"large-v3\", or a local path) or supply a transcript")


def transcribe(audio_path: Path, ff, engine, *, language: str = "auto", progress=None) -> Outcome:
    """Run `engine` on one file: decode, find speech, detect or check the language, transcribe."""
    from .whisper_engines import decode_audio, speech_regions

    t0 = time.monotonic()
    audio = decode_audio(audio_path, ff)
    duration = len(audio) / 16000
    speech = speech_regions(audio)
    detected = language == "auto"
    if not speech:  # silence or music only: nothing was said, and nothing is invented
        lang = "en" if detected else language
        return Outcome(Transcript(lang, (), "model"), lang, detected, time.monotonic() - t0, duration)
    if detected:
        language = engine.detect_language(audio) if engine.multilingual else "en"
    check_language(engine, language)
    run = engine.run(audio, language=language, task="transcribe",
                     prompt=ZH_PROMPT if language == "zh" else None, speech=speech, progress=progress)
    segs = shape(run.segments, language, speech)
    return Outcome(Transcript(language, tuple(segs), f"model:{engine.name}:{engine.model_name}"), language,
                   detected, time.monotonic() - t0, duration)


def whisper_translation(audio_path: Path, ff, engine, source: Transcript, progress=None) -> Transcript:
    """English for a Mandarin recording by Whisper's translate task, put on the source's timings."""
    from .whisper_engines import decode_audio, speech_regions

    if not engine.multilingual:
        raise ModelError(f"model {engine.model_name!r} is English-only: it cannot translate Mandarin")
    audio = decode_audio(audio_path, ff)
    speech = speech_regions(audio)
    run = engine.run(audio, language=source.language, task="translate", prompt=None, speech=speech,
                     progress=progress)
    return tx.align_by_time(source, shape(run.segments, "en", speech), "en", f"whisper-translate:{engine.model_name}")


# -- files a person supplies -------------------------------------------------------------------
def human_file(folder: Path, language: str) -> Path | None:
    """`human.<lang>.srt|vtt|txt` in the episode's transcripts folder, if a person put one there."""
    for ext in ("srt", "vtt", "txt"):
        p = folder / f"human.{language}.{ext}"
        if p.is_file():
            return p
    return None


def read_human(path: Path, language: str, display: str) -> Transcript:
    """A person's timed transcript (SRT or VTT); the source of truth for its language."""
    text = _read_text(path, display)
    try:
        if path.suffix == ".txt":
            raise TranscriptFormatError("a transcript needs timings: use SRT or WebVTT (plain text is "
                                        "accepted only for translations)", 1)
        t = tx.read_srt(text, language) if path.suffix == ".srt" else tx.read_vtt(text, language)
        if not t.segments:
            raise TranscriptFormatError("no cues")
        tx.check_timing(t)
    except TranscriptFormatError as exc:
        raise _config_error(exc, display) from exc
    if language == "zh":
        t = Transcript(language, tuple(Segment(s.start, s.end, to_simplified(s.text), s.speaker)
                                       for s in t.segments), "human")
    return t


def read_human_translation(path: Path, source: Transcript, language: str, display: str) -> Transcript:
    """A person's translation, one segment per source segment, put on the source's timings."""
    text = _read_text(path, display)
    try:
        if path.suffix == ".txt":
            lines = tx.read_lines(text, language)
        else:
            t = tx.read_srt(text, language) if path.suffix == ".srt" else tx.read_vtt(text, language)
            lines = [s.text for s in t.segments]
        n = len(source.segments)
        if len(lines) != n:
            where = _line_of_segment(text, path.suffix, min(len(lines), n) + 1)
            raise TranscriptFormatError(f"{len(lines)} segments, but the transcript has {n}: "
                                        f"segment {min(len(lines), n) + 1} has no partner", where)
    except TranscriptFormatError as exc:
        raise _config_error(exc, display) from exc
    if language == "zh":
        lines = [to_simplified(x) for x in lines]
    return Transcript(language, tuple(Segment(s.start, s.end, line, s.speaker)
                                      for s, line in zip(source.segments, lines)), "human")


def _line_of_segment(text: str, suffix: str, k: int) -> int:
    """The file line where segment `k` starts (or would start: one past the end)."""
    lines = text.splitlines()
    if suffix == ".txt":
        content = [i + 1 for i, ln in enumerate(lines) if ln.strip()]
    else:
        content = [i + 1 for i, ln in enumerate(lines) if "-->" in ln]
    return content[k - 1] if k - 1 < len(content) else len(lines) + 1


def _read_text(path: Path, display: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", display) from exc


def _config_error(exc: TranscriptFormatError, display: str) -> ConfigError:
    """`file:line: problem`, the way compilers point at a line."""
    return ConfigError(str(exc), f"{display}:{exc.line}" if exc.line else display)


# -- writing, where a person's edits win ----------------------------------------------------------
def render(t: Transcript) -> dict[str, str]:
    """Every per-language file for one transcript, by extension."""
    return {"srt": tx.to_srt(t), "vtt": tx.to_vtt(t), "json": tx.to_json(t), "txt": tx.to_txt(t)}


def sha(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def write_files(folder: Path, files: dict[str, str], written: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Write `files` (name -> text) unless a person changed the one there; returns new hashes, conflicts.

    `written` maps each name to the hash of what the tool last wrote. A file whose content
    differs from that (edited), or that the tool never wrote (made by a person), is kept; the
    new machine text goes beside it as `<name>.machine.<ext>` and the conflict is reported.
    """
    from .fsutil import write_bytes

    hashes, conflicts = {}, []
    for name, text in files.items():
        path = folder / name
        new = sha(text)
        if path.is_file():
            current = sha(path.read_bytes())
            if current != new and written.get(name) != current:
                stem, _, ext = name.rpartition(".")
                write_bytes(folder / f"{stem}.machine.{ext}", text.encode())
                conflicts.append(name)
                hashes[name] = written.get(name, "")
                continue
        if not path.is_file() or sha(path.read_bytes()) != new:
            write_bytes(path, text.encode())
        hashes[name] = new
    return hashes, conflicts
