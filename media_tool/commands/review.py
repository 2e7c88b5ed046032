"""The review queue: the lines across the show that a person should check, lowest score first, and the
one way a person's fix is saved (into `transcripts/<slug>/human.<lang>.srt`, other lines untouched).

The queue is read from the built transcripts' JSON (`confidence`, `doubt`, `alternatives` per line:
the machine's own estimate, written by the transcribe and translate stages), so it costs no model.
A line a person fixed is theirs from the next build on: no score, no doubt, off the queue.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import srt

from media_tool.errors import ConfigError, UsageError
from media_tool.model.language import LANGUAGES
from media_tool.model.show import Show, episode_slugs, load_episode
from media_tool.stages import transcript_files as files
from media_tool.store.files import write_bytes
from media_tool.text.formats import read_srt, read_vtt
from media_tool.text.transcripts import Segment, Transcript


@dataclass(frozen=True)
class Line:
    """One line to check: where it is, what it says, what it was made from, and why it is doubted."""

    episode: str
    index: int              # the line's place in its file (0-based), the same in every language's file
    start: float
    end: float
    language: str           # the language of `text`
    text: str
    source: str             # what it was translated from ("" for a line as heard)
    source_language: str
    score: float
    reason: str
    kind: str               # "translation" (the machine translated it) or "recognition" (the recogniser heard it)
    alternatives: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)


def _segments(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [s for s in data.get("segments", ()) if isinstance(s, dict)]
    except (OSError, ValueError, AttributeError):
        return []


def queue(show: Show, slugs: list[str] | None = None) -> list[Line]:
    """Every doubted line of the built transcripts, lowest score first (then by episode and time)."""
    out: list[Line] = []
    for slug in slugs or episode_slugs(show):
        try:
            cfg = load_episode(show, slug)
        except ConfigError:
            continue  # `check` and `build` name it; a broken episode has nothing built to review
        where = show.transcripts_dir / slug
        heard_lang = "spoken" if cfg.mixed else cfg.language
        heard = _segments(where / f"{slug}.{heard_lang}.json")
        for lang in LANGUAGES:
            mine = _segments(where / f"{slug}.{lang}.json")
            for i, s in enumerate(mine):
                doubt, by = s.get("doubt"), s.get("translatedBy")
                if not doubt or by == "human":
                    continue
                made = bool(by)
                if not made and lang != cfg.language and not cfg.mixed:
                    continue
                if not made and cfg.mixed and i < len(heard):
                    continue  # a mixed episode's line as heard is listed once, from the file of what was said
                src = heard[i] if made and i < len(heard) else {}
                out.append(Line(slug, i, float(s.get("startTime", 0)), float(s.get("endTime", 0)), lang,
                                str(s.get("body", "")), str(src.get("body", "")),
                                str(s.get("spokenLanguage") or (cfg.language if made else lang)),
                                float(s.get("confidence") or 0.0), str(doubt),
                                "translation" if made else "recognition", tuple(s.get("alternatives") or ())))
        if cfg.mixed:
            for i, s in enumerate(heard):
                if s.get("doubt"):
                    out.append(Line(slug, i, float(s.get("startTime", 0)), float(s.get("endTime", 0)),
                                    str(s.get("spokenLanguage") or cfg.language), str(s.get("body", "")), "",
                                    "", float(s.get("confidence") or 0.0), str(s["doubt"]), "recognition"))
    return sorted(out, key=lambda x: (x.score, x.episode, x.start))


def save_fix(show: Show, slug: str, language: str, start: float, end: float, text: str) -> Path:
    """A person's fix of the line at start..end in `language`, written into human.<language>.srt (SRT
    or VTT, where the person keeps one already): the cue there that overlaps the line most takes the
    new words, or a new cue is added at its place; no other cue changes. A file that did not exist
    holds only the fix (the machine translates the rest), except where it is the spoken language's
    transcript of a single-language episode: then it starts as the built transcript, for a person's
    transcript is read whole."""
    if language not in LANGUAGES:
        raise UsageError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    text = " ".join(text.split())
    if not text:
        raise UsageError("the fix is empty: a line cannot be removed from the review page")
    if not end > start >= 0:
        raise UsageError(f"the line's times are wrong ({start}-{end})")
    cfg = load_episode(show, slug)
    where = files.folder(show, slug)
    path = files.human_file(where, language)
    if path is not None and path.suffix == ".txt":
        raise UsageError(f"{show.rel(path)}: a plain-text file has no timings; fix the line there by hand")
    if path is None:
        path = where / f"human.{language}.srt"
        cues = list(_built(where, slug, language).segments) if language == cfg.language and not cfg.mixed else []
    else:
        raw = path.read_text(encoding="utf-8-sig")
        cues = list((read_srt(raw, language) if path.suffix == ".srt" else read_vtt(raw, language)).segments)
    best = max(range(len(cues)), key=lambda k: _overlap(cues[k], start, end), default=None)
    if best is not None and _overlap(cues[best], start, end) > 0.5 * min(end - start, cues[best].end - cues[best].start):
        cues[best] = Segment(cues[best].start, cues[best].end, text, cues[best].speaker)
    else:
        cues.append(Segment(start, end, text))
        cues.sort(key=lambda c: c.start)
    write_bytes(path, (_as_srt(cues) if path.suffix == ".srt" else _as_vtt(cues)).encode("utf-8"))
    return path


def _built(where: Path, slug: str, language: str) -> Transcript:
    segs = _segments(where / f"{slug}.{language}.json")
    return Transcript(language, tuple(Segment(float(s["startTime"]), float(s["endTime"]), str(s.get("body", "")),
                                              s.get("speaker")) for s in segs))


def _overlap(c: Segment, start: float, end: float) -> float:
    return max(0.0, min(c.end, end) - max(c.start, start))


def _as_srt(cues: list[Segment]) -> str:
    import datetime as dt

    td = lambda x: dt.timedelta(milliseconds=round(x * 1000))  # noqa: E731
    return srt.compose([srt.Subtitle(i + 1, td(c.start), td(c.end), c.text) for i, c in enumerate(cues)])


def _as_vtt(cues: list[Segment]) -> str:
    from media_tool.text.formats import _vtt_text, _vtt_time

    return "WEBVTT\n\n" + "\n".join(f"{_vtt_time(c.start)} --> {_vtt_time(c.end)}\n{_vtt_text(c.text, c.speaker)}\n"
                                    for c in cues)
