"""The transcripts folder: files a person supplies, and files the tool writes where a person's edits win.

`transcripts/<slug>/human.<lang>.srt|vtt|txt` are a person's transcript or translation (the
truth for their language). Everything else there the tool wrote; a file that differs from what
the tool last wrote was edited by a person and is kept, the new machine text going beside it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from media_tool.errors import ConfigError
from media_tool.model.show import Show
from media_tool.stages.episode import Episode
from media_tool.store.files import inside, sha256, write_bytes
from media_tool.text.formats import (
    language_files,
    read_lines,
    read_srt,
    read_vtt,
    speakers_from_prefixes,
)
from media_tool.text.script import to_simplified
from media_tool.text.transcripts import (
    Segment,
    Transcript,
    TranscriptFormatError,
    align_by_time,
    check_timing,
    file_name,
)


def folder(show, slug: str) -> Path:
    """transcripts/<slug>/: where an episode's transcripts live, a person's and the tool's. A folder
    that is a link to somewhere outside the show is refused: nothing from outside is published."""
    where = show.transcripts_dir / slug
    if where.exists() and not inside(show.root, where):
        raise ConfigError("a link to a folder outside the show folder: nothing from outside is published",
                          f"transcripts/{slug}")
    return where


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
        t = read_srt(text, language) if path.suffix == ".srt" else read_vtt(text, language)
        if not t.segments:
            raise TranscriptFormatError("no cues")
        check_timing(t)
    except TranscriptFormatError as exc:
        raise _config_error(exc, display) from exc
    if language == "zh":
        t = Transcript(language, tuple(Segment(s.start, s.end, to_simplified(s.text), s.speaker)
                                       for s in t.segments), "human")
    return t


def read_human_translation(path: Path, source: Transcript, language: str, display: str) -> Transcript:
    """A person's translation on the source's segments: a timed file (SRT/VTT) is aligned by time,
    so re-transcribing (new segment boundaries) never breaks it; plain text is one line per segment."""
    text = _read_text(path, display)
    try:
        if path.suffix != ".txt":
            t = read_srt(text, language) if path.suffix == ".srt" else read_vtt(text, language)
            if not t.segments:
                raise TranscriptFormatError("no cues")
            check_timing(t)
            aligned = align_by_time(source, list(t.segments), language, "human")
            if language == "zh":
                aligned = Transcript(language, tuple(replace(s, text=to_simplified(s.text))
                                                     for s in aligned.segments), "human")
            return _marked(aligned, source)
        lines = read_lines(text, language)
        n = len(source.segments)
        if len(lines) != n:
            where = _line_of_segment(text, path.suffix, min(len(lines), n) + 1)
            raise TranscriptFormatError(f"{len(lines)} segments, but the transcript has {n}: "
                                        f"segment {min(len(lines), n) + 1} has no partner", where)
    except TranscriptFormatError as exc:
        raise _config_error(exc, display) from exc
    if language == "zh":
        lines = [to_simplified(x) for x in lines]
    return _marked(Transcript(language, tuple(Segment(s.start, s.end, line, s.speaker)
                                              for s, line in zip(source.segments, lines)), "human"), source)


def _marked(t: Transcript, source: Transcript) -> Transcript:
    """A mixed-language episode's translation says, per segment, what was spoken and that a person
    translated it; on lines spoken in the translation's own language the person's words are a
    correction of what was heard, and win (the transcript's words stand where the person left a line empty)."""
    return Transcript(t.language, tuple(
        replace(s, lang=src.lang, via="human") if src.lang and src.lang != t.language
        else replace(s, lang=src.lang, text=s.text.strip() or src.text) if src.lang else s
        for s, src in zip(t.segments, source.segments)), t.origin)


def overlay(t: Transcript, path: Path, language: str, display: str) -> Transcript:
    """A mixed conversation's words as heard, with a person's file for `language` laid over them: on
    the turns spoken in `language` the person's words win (their file holds what was said there, and
    a translation of the other turns, which is not used here). What is translated, captioned and
    searched is then the person's correction, not the recogniser's mistake."""
    theirs = read_human_translation(path, t, language, display)
    segs = tuple(replace(x, text=y.text, score=None, doubt=None, alternatives=())
                 if (x.lang or t.language) == language and y.text.strip() and y.text != x.text else x
                 for x, y in zip(t.segments, theirs.segments))
    return replace(t, segments=segs)


def _line_of_segment(text: str, suffix: str, k: int) -> int:
    """The file line where segment `k` starts (or would start: one past the end)."""
    lines = text.splitlines()
    if suffix == ".txt":
        content = [i + 1 for i, ln in enumerate(lines) if ln.strip()]
    else:
        content = [i + 1 for i, ln in enumerate(lines) if "-->" in ln]
    return content[k - 1] if k - 1 < len(content) else len(lines) + 1


def _read_text(path: Path, display: str) -> str:
    show_root = path.parents[2]  # <show>/transcripts/<slug>/<file>
    if not inside(show_root, path):  # nothing from outside is published
        raise ConfigError("a link to a file outside the show folder", display)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", display) from exc


def _config_error(exc: TranscriptFormatError, display: str) -> ConfigError:
    """`file:line: problem`, the way compilers point at a line."""
    return ConfigError(str(exc), f"{display}:{exc.line}" if exc.line else display)


def write_files(folder: Path, files: dict[str, str], written: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Write `files` (name -> text) unless a person changed the one there; returns new hashes, conflicts.

    `written` maps each name to the hash of what the tool last wrote. A file whose content
    differs from that (edited), or that the tool never wrote (made by a person), is kept; the
    new machine text goes beside it as `<name>.machine.<ext>` and the conflict is reported.
    """
    hashes, conflicts = {}, []
    for name, text in files.items():
        path = folder / name
        new = sha256(text)
        if path.is_file():
            current = sha256(path.read_bytes())
            if current != new and written.get(name) != current:
                hashes[name] = written.get(name, "")
                if written.get(name) == new:  # the machine would write what it wrote before: nothing new
                    continue
                stem, _, ext = name.rpartition(".")
                write_bytes(folder / f"{stem}.machine.{ext}", text.encode())
                conflicts.append(name)
                continue
        if not path.is_file() or sha256(path.read_bytes()) != new:
            write_bytes(path, text.encode())
        hashes[name] = new
    return hashes, conflicts


WRITTEN = ".media-tool-written.json"
"""Beside the transcripts (`transcripts/<slug>/`): name -> hash of what the tool last wrote there. It
lives with the files, not in the build state, so deleting `.media-tool/` or copying the show without
it still tells a person's edit from the machine's file."""


def written_here(folder: Path) -> dict[str, str]:
    """What the tool last wrote in `folder` (the file beside the transcripts; empty if none or damaged)."""
    try:
        data = json.loads((folder / WRITTEN).read_text(encoding="utf-8"))
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
    except (OSError, ValueError, AttributeError):
        return {}


def _remember(folder: Path, hashes: dict[str, str]) -> None:
    if hashes and folder.is_dir():
        merged = {**written_here(folder), **{k: v for k, v in hashes.items() if v}}
        write_bytes(folder / WRITTEN, (json.dumps(merged, indent=1, sort_keys=True) + "\n").encode())


def edited(folder: Path, written: dict[str, str]) -> frozenset[str]:
    """Names of the files in `folder` whose content is not what the tool last wrote (a person's edit)."""
    return frozenset(name for name, digest in written.items()
                     if (folder / name).is_file() and sha256((folder / name).read_bytes()) != digest)


def write_transcripts(show: Show, ep: Episode, previous: dict[str, str], t: Transcript,
                      texts: dict[str, str], also: tuple[Transcript, ...] = (),
                      label: str | None = None) -> tuple[Episode, dict]:
    """Write a stage's transcript files (a person's edits win); the Episode gains them (`t`, and the
    transcripts in `also`: a mixed episode's translate stage completes both languages), the record
    keeps the hashes of what was written so the next build can tell an edit. `previous`: name ->
    hash of what the stage wrote last time."""
    where = folder(show, ep.slug)
    previous = {**{k: v for k, v in previous.items() if v}, **written_here(where)}  # the file beside wins
    written, conflicts = write_files(where, texts, previous)
    _remember(where, written)
    notes = tuple(f"{show.rel(where / c)}: edited by a person, kept; the new machine version is "
                  f"beside it as .machine" for c in conflicts)
    for other in also:
        ep = _with_files(show, ep, other, written, ())
    return (_with_files(show, ep, t, written, notes, label),
            {"transcript": t.to_dict(), "also": [a.to_dict() for a in also], "written": written,
             "conflicts": conflicts, "label": label})


def restore_transcripts(show: Show, ep: Episode, data: dict) -> Episode | None:
    """The Episode as `write_transcripts` left it, or None when a file it wrote went missing."""
    where = folder(show, ep.slug)
    if not all((where / name).is_file() for name in data["written"]):
        return None  # a file went missing: make it again
    if data.get("missing"):
        return replace(ep, notices=ep.notices + (f"{show.rel(where)}: {data['missing']}",))
    if "transcript" not in data:
        return ep
    for other in data.get("also", ()):
        ep = _with_files(show, ep, Transcript.from_dict(other), data["written"], ())
    return _with_files(show, ep, Transcript.from_dict(data["transcript"]), data["written"], (), data.get("label"))


def _read_edit(path: Path, display: str, t: Transcript) -> Transcript:
    """A person's edit of a transcript file (SRT, WebVTT or one line per segment) on `t`'s segments:
    cues re-cut by the editor are put back on the segments by time, so the transcript and its
    translation stay one to one; who spoke and what was spoken where are kept."""
    text = _read_text(path, display)
    try:
        if path.suffix == ".txt":
            lines = read_lines(text, t.language)
            if len(lines) != len(t.segments):
                raise TranscriptFormatError(f"{len(lines)} lines for {len(t.segments)} segments: keep one line "
                                            "per segment (or edit the SRT or VTT, which have timings)")
            cues = tuple(replace(s, text=x) for s, x in zip(t.segments, lines))
        else:
            cues = (read_srt(text, t.language) if path.suffix == ".srt" else read_vtt(text, t.language)).segments
            check_timing(Transcript(t.language, cues))
    except TranscriptFormatError as exc:
        raise _config_error(exc, display) from exc
    names = {x.speaker for x in t.segments if x.speaker}
    if names and path.suffix == ".srt":
        cues = speakers_from_prefixes(cues, names)
    if len(cues) != len(t.segments) or any(abs(c.start - s.start) > 0.05 for c, s in zip(cues, t.segments)):
        cues = align_by_time(t, list(cues), t.language, "edited").segments
    segs = tuple(o if c.text == o.text else
                 replace(o, text=c.text, via="human" if o.via else None, score=None, doubt=None, alternatives=())
                 for c, o in zip(cues, t.segments))
    if t.language == "zh":
        segs = tuple(replace(s, text=to_simplified(s.text)) for s in segs)
    return Transcript(t.language, segs, "edited", t.corrections, t.problems)


def _with_files(show: Show, ep: Episode, t: Transcript, written: dict[str, str], notes: tuple[str, ...],
                label: str | None = None) -> Episode:
    """`label`: the language part of the files' names where it is not `t.language` (`spoken`: a mixed
    conversation's words as spoken, in both languages)."""
    where = folder(show, ep.slug)
    written = {**written, **{k: v for k, v in written_here(where).items() if k in written}}
    edits = edited(where, written)
    stem = label or t.language
    mine = [n for n in (file_name(ep.slug, stem, e) for e in ("srt", "vtt", "txt")) if n in edits]
    if mine:  # a person corrected the transcript: their text is what is translated, captioned, searched
        name = max(mine, key=lambda n: (where / n).stat().st_mtime_ns)  # the latest edit, if several
        t = _read_edit(where / name, show.rel(where / name), t)
        made = language_files(ep.slug, replace(t, language=stem), show.transcription.speaker_names)
        refreshed = {n: text for n, text in made.items() if n not in edits and n in written}
        if refreshed:  # every other format made from the edit (they are the machine's files)
            for n, text in refreshed.items():
                write_bytes(where / n, text.encode())
            _remember(where, {n: sha256(text) for n, text in refreshed.items()})
            written = {**written, **{n: sha256(text) for n, text in refreshed.items()}}
    return replace(ep, transcripts={**ep.transcripts, t.language: t},
                   transcript_files={**ep.transcript_files, **{n: show.rel(where / n) for n in written}},
                   edited=ep.edited | edits, notices=ep.notices + notes)
