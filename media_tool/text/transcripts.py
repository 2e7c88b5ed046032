"""Transcripts as values: timed segments in one language, where they came from, and the pure
operations on them (alignment of another timeline onto them, spans, snapping, speaker labels).

The files people and apps read are made in `text.formats`; burned-in captions in `text.layout`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, replace

from media_tool.text.script import CJK_PUNCT, is_wide, one_line


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    lang: str | None = None  # the language spoken here, in a mixed-language episode
    via: str | None = None   # what translated the text (None: the words as spoken)
    score: float | None = None  # how far the machine's line can be trusted (0..1), where it judged it
    doubt: str | None = None    # why a person should check the line, or None
    alternatives: tuple[str, ...] = ()  # the machine's other candidates, for a reviewer


@dataclass(frozen=True)
class Transcript:
    """One language's timed text and where it came from."""

    language: str
    segments: tuple[Segment, ...]
    origin: str = "model"  # "model" | "human" | "translation:<engine>"
    corrections: tuple[dict, ...] = ()  # glossary corrections: {"segment", "before", "after"}
    problems: tuple[dict, ...] = ()     # machine translation's checks: {"segment", "problem"}

    def to_dict(self) -> dict:
        d = {"language": self.language, "origin": self.origin, "segments": [asdict(s) for s in self.segments]}
        if self.corrections:
            d["corrections"] = list(self.corrections)
        if self.problems:
            d["problems"] = list(self.problems)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Transcript":
        return cls(d["language"], tuple(Segment(**{**s, "alternatives": tuple(s.get("alternatives", ()))})
                                        for s in d["segments"]), d.get("origin", "model"),
                   tuple(d.get("corrections", ())), tuple(d.get("problems", ())))


class TranscriptFormatError(ValueError):
    """A supplied transcript or translation file cannot be used; `line` says where."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def file_name(stem: str, language: str, ext: str) -> str:
    """`<stem>.<lang>.<ext>` (or `<stem>.zh-en.<ext>` for the bilingual pair): one naming for every caller."""
    return f"{stem}.{language}.{ext}"


def pair(source: Transcript, translation: Transcript) -> list[tuple[Segment, Segment]]:
    """Each source segment with its translation; they must match one to one in time."""
    if len(source.segments) != len(translation.segments):
        raise TranscriptFormatError(f"translation has {len(translation.segments)} segments, "
                                    f"the transcript {len(source.segments)}")
    return list(zip(source.segments, translation.segments))


def check_timing(t: Transcript, duration: float | None = None) -> None:
    """Cue times must rise, and stay inside the audio."""
    last = 0.0
    for i, s in enumerate(t.segments, 1):
        if s.end < s.start or s.start < last - 0.001:
            raise TranscriptFormatError(f"segment {i} is out of order ({s.start:.2f}-{s.end:.2f} s)")
        if duration is not None and s.end > duration + 0.5:
            raise TranscriptFormatError(f"segment {i} ends at {s.end:.2f} s, after the audio ({duration:.2f} s)")
        last = s.start


def as_spoken_elsewhere(segment: dict, language: str) -> bool:
    """A JSON transcript segment of the `language` file that holds another language's words as
    spoken (a mixed episode's turn nothing translated): not a translation, and indexed from the file
    of the language it was spoken in."""
    return segment.get("spokenLanguage", language) != language and not segment.get("translatedBy")


def align_by_time(source: Transcript, other: list[Segment], language: str, origin: str) -> Transcript:
    """Put another timeline's text (e.g. Whisper's translate task) onto the source's segments.

    Each of the other segment's words goes to the source segment spoken at the moment the word
    is (proportionally) spoken, of those the one whose middle is nearest. A word that falls in a
    pause between segments goes to the segment its own cue overlaps most: a person's cue that starts
    a breath before the turn it translates keeps its first word (only a cue that overlaps nothing
    falls back to the nearest middle). Every source segment gets one translation.
    """
    texts: list[list[str]] = [[] for _ in source.segments]
    if not source.segments:
        return Transcript(language, (), origin)
    nearest = _Nearest(source.segments)
    for seg in other:
        words = _pieces(seg.text)
        home = None  # the source segment this cue overlaps most, found only when a word needs it
        for k, word in enumerate(words):
            t = seg.start + (seg.end - seg.start) * (k + 0.5) / max(1, len(words))
            at = nearest.spoken_at(t)
            if at < 0:
                if home is None:
                    home = nearest.most_overlap(seg.start, seg.end)
                at = home if home >= 0 else nearest.nearest_middle(t)
            texts[at].append(word)
    return Transcript(language, tuple(Segment(s.start, s.end, one_line(" ".join(w)), s.speaker)
                                      for s, w in zip(source.segments, texts)), origin)


class _Nearest:
    """Which source segment a moment or a span belongs to, by bisection: a 10 000-cue transcript
    aligned in a second, not minutes."""

    def __init__(self, segments):
        self.starts = [s.start for s in segments]
        self.ends = [s.end for s in segments]
        self.mids = [(s.start + s.end) / 2 for s in segments]
        self.reach, top = [], float("-inf")  # the latest end among the segments so far
        for e in self.ends:
            top = max(top, e)
            self.reach.append(top)
        self.by_mid = sorted(range(len(segments)), key=lambda i: (self.mids[i], i))
        self.sorted_mids = [self.mids[i] for i in self.by_mid]

    def _overlapping(self, a: float, b: float):
        """Indices of the segments with start <= b and end >= a, latest start first."""
        j = bisect.bisect_right(self.starts, b) - 1
        while j >= 0 and self.reach[j] >= a:  # no earlier segment lasts until a
            if self.ends[j] >= a:
                yield j
            j -= 1

    def spoken_at(self, t: float) -> int:
        """Of the segments spoken at t, the one whose middle is nearest (ties: the earlier); -1 if none."""
        best, key = -1, None
        for j in self._overlapping(t, t):
            k = (abs(self.mids[j] - t), j)
            if key is None or k <= key:
                best, key = j, k
        return best

    def most_overlap(self, a: float, b: float) -> int:
        """The segment that overlaps [a, b] longest (ties: the earlier); -1 if none overlaps it."""
        best, key = -1, None
        for j in self._overlapping(a, b):
            k = (-(min(b, self.ends[j]) - max(a, self.starts[j])), j)
            if k[0] < 0 and (key is None or k <= key):
                best, key = j, k
        return best

    def nearest_middle(self, t: float) -> int:
        """The segment whose middle is nearest t (ties: the earlier)."""
        at = bisect.bisect_left(self.sorted_mids, t)
        left = bisect.bisect_left(self.sorted_mids, self.sorted_mids[at - 1]) if at else -1  # its earliest
        near = [self.by_mid[x] for x in (left, at) if 0 <= x < len(self.by_mid)]
        return min(near, key=lambda i: (abs(self.mids[i] - t), i))


def _pieces(text: str) -> list[str]:
    """What time alignment moves as a unit: words, and Chinese clauses (cut after their punctuation)."""
    out = []
    for word in text.split():
        if any(is_wide(c) for c in word):
            out += [p for p in re.split(f"(?<=[{CJK_PUNCT}])", word) if p]
        else:
            out.append(word)
    return out


def span(t: Transcript, start: float, end: float, min_overlap: float = 0.0) -> Transcript:
    """The segments overlapping [start, end) by more than `min_overlap` s, cut to it and moved so that
    `start` is 0 (a clip's text)."""
    segs = tuple(Segment(max(s.start, start) - start, min(s.end, end) - start, s.text, s.speaker)
                 for s in t.segments if min(s.end, end) - max(s.start, start) > min_overlap)
    return replace(t, segments=segs, corrections=())


def snap(segments: tuple[Segment, ...], start: float, end: float) -> tuple[float, float]:
    """[start, end] moved to the nearest segment boundaries (a start to a segment's start, an end to
    one's end), so a clip neither begins nor ends mid-sentence; unchanged where nothing fits."""
    starts = [s.start for s in segments]
    ends = [s.end for s in segments]
    if not starts:
        return start, end
    a = min(starts, key=lambda x: abs(x - start))
    later = [e for e in ends if e > a]
    b = min(later, key=lambda x: abs(x - end)) if later else end
    return (a, b) if b > a else (start, end)


def label_speakers(segments, turns: tuple[tuple[float, float, str], ...]):
    """Each segment with the speaker of the (start, end, name) turn it overlaps most; unchanged where
    none overlaps or a person already named its speaker."""
    out = []
    for s in segments:
        best, most = None, 0.0
        for a, b, name in turns:
            overlap = min(s.end, b) - max(s.start, a)
            if overlap > most:
                best, most = name, overlap
        out.append(replace(s, speaker=best) if best and not s.speaker else s)
    return tuple(out)
