"""Transcripts as values, and every format people and apps use (pure: text in, text out).

Per language: SRT and WebVTT for players (lines kept to the Podcasting 2.0 guidance), the
Podcasting 2.0 JSON transcript, and plain text. Bilingual SRT/VTT pair each segment with its
translation, the spoken language on top. Readers accept the same formats back, for
transcripts and translations a person supplies.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import html
import io
import json
import re
import threading
import unicodedata
from dataclasses import asdict, dataclass, replace

import srt
import webvtt

SRT_LINE = 32       # Podcasting 2.0: at most 2 lines of 32 characters per cue
SRT_LINES = 2
VTT_LINE = 65
CJK_PUNCT = "，。！？；：、"


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    lang: str | None = None  # the language spoken here, in a mixed-language episode
    via: str | None = None   # what translated the text (None: the words as spoken)


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
        return cls(d["language"], tuple(Segment(**s) for s in d["segments"]), d.get("origin", "model"),
                   tuple(d.get("corrections", ())), tuple(d.get("problems", ())))


def file_name(stem: str, language: str, ext: str) -> str:
    """`<stem>.<lang>.<ext>` (or `<stem>.zh-en.<ext>` for the bilingual pair): one naming for every caller."""
    return f"{stem}.{language}.{ext}"


def render(t: Transcript, names: bool = True) -> dict[str, str]:
    """Every per-language file for one transcript, by extension (`names`: SRT's `Name: ` prefixes)."""
    return {"srt": to_srt(t, names), "vtt": to_vtt(t), "json": to_json(t), "txt": to_txt(t)}


def language_files(stem: str, t: Transcript, names: bool = True) -> dict[str, str]:
    """File name -> text for one transcript's language: what the stages and `transcribe` write."""
    return {file_name(stem, t.language, ext): text for ext, text in render(t, names).items()}


def bilingual_files(stem: str, source: Transcript, translation: Transcript, names: bool = True) -> dict[str, str]:
    """The pair files, named zh-en whichever was spoken, the spoken language on top."""
    return {file_name(stem, "zh-en", "srt"): to_bilingual_srt(source, translation, names),
            file_name(stem, "zh-en", "vtt"): to_bilingual_vtt(source, translation)}


_HALF_TO_FULL = {",": "，", "?": "？", "!": "！", ";": "；", ":": "："}


def chinese_punctuation(text: str) -> str:
    """ASCII , ? ! ; : after a Chinese character as the full-width marks Chinese text uses."""
    return re.sub(r"(?<=[\u3400-\u9fff])([,?!;:])\s*", lambda m: _HALF_TO_FULL[m.group(1)], text)


_MARK = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\u2014-\u2026!-/:-@\[-`{-~]")
"""What restoring punctuation may add or change: spaces, CJK and ASCII punctuation."""
_CLAUSE_MARK = re.compile(r"[，。？！、；：,.?!;:…]")
BARE_RUN = 20
"""Chinese characters in a row with no mark or pause between them that a clause rarely reaches: a
longer run is one Whisper left unpunctuated."""


def needs_punctuation(text: str) -> bool:
    """A Chinese segment Whisper left without punctuation: a run of BARE_RUN characters with no mark or
    space between, or 12 and more with no mark at all (a short one only needs its closing mark)."""
    runs = [len(re.findall(r"[\u3400-\u9fff]", piece)) for piece in re.split(r"[\s，。？！、；：,.?!;:…]", text)]
    if not runs or max(runs) == 0:
        return False
    return max(runs) >= BARE_RUN or (sum(runs) >= 12 and not _CLAUSE_MARK.search(text) and " " not in text.strip())


def same_characters(before: str, after: str) -> bool:
    """Whether `after` is `before` with only punctuation and spacing changed: the guard on restored
    punctuation (a model that "improves" a word, or drops one, is not trusted)."""
    return bool(after.strip()) and _MARK.sub("", before) == _MARK.sub("", after)


def close_sentence(text: str) -> str:
    """A Chinese segment ending in a closing mark: ？ after a question particle, else 。; spaces between
    Chinese characters become ，(Whisper's pause where it wrote no mark)."""
    text = re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])", "，", text.strip())
    if text and not _CLAUSE_MARK.search(text[-1]) and text[-1] not in "”’）》":
        text += "？" if text[-1] in "吗嘛么" else "。"
    return text


def to_simplified(text: str) -> str:
    """Traditional to Simplified characters (OpenCC t2s), punctuation kept."""
    with _T2S_LOCK:  # one converter, shared by the build's threads
        return _t2s().convert(text)


_T2S_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _t2s():
    """One converter per process: making one reads its dictionaries (5 ms, 10 000 times for a long file)."""
    from opencc import OpenCC

    return OpenCC("t2s")


class TranscriptFormatError(ValueError):
    """A supplied transcript or translation file cannot be used; `line` says where."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


# -- text layout -----------------------------------------------------------------------------
def width(text: str) -> int:
    """Display columns: a Chinese character takes two, as on a screen."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _tokens(text: str) -> list[str]:
    """Break points: words for spaced text, characters (keeping punctuation attached) for Chinese."""
    out: list[str] = []
    for word in text.split():
        if any(width(c) == 2 for c in word):
            for ch in word:
                if out and ch in CJK_PUNCT and out[-1] != " ":
                    out[-1] += ch
                else:
                    out.append(ch)
            out.append(" ")
        else:
            out += [word, " "]
    while out and out[-1] == " ":
        out.pop()
    return out


def wrap(text: str, limit: int) -> list[str]:
    """Lines of at most `limit` columns, broken between words (or between Chinese characters)."""
    lines, cur = [], ""
    for tok in _tokens(text):
        if tok == " ":
            cur += " " if cur else ""
            continue
        if cur and width(cur.rstrip() + (" " if cur.endswith(" ") else "") + tok) > limit:
            lines.append(cur.rstrip())
            cur = ""
        cur += tok
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def cues(segments: tuple[Segment, ...] | list[Segment], limit: int, max_lines: int) -> list[Segment]:
    """Split long segments into cues of at most `max_lines` lines, timed by share of text."""
    out = []
    for seg in segments:
        lines = wrap(seg.text, limit) or [""]
        groups = [lines[i:i + max_lines] for i in range(0, len(lines), max_lines)]
        total = sum(width("".join(g)) for g in groups) or 1
        t = seg.start
        for i, g in enumerate(groups):
            share = width("".join(g)) / total
            end = seg.end if i == len(groups) - 1 else min(seg.end, t + (seg.end - seg.start) * share)
            out.append(Segment(round(t, 3), round(end, 3), "\n".join(g), seg.speaker))
            t = end
    return out


# -- writers ---------------------------------------------------------------------------------
def _td(seconds: float) -> dt.timedelta:
    return dt.timedelta(milliseconds=round(seconds * 1000))


def named(segments, names: bool = True) -> list[str]:
    """Each segment's text, starting `Name: ` where the voice changes (speakers known and `names`
    on): the plain-text way a transcript says who speaks (SRT, the bilingual SRT, the MP3 USLT)."""
    out, last = [], None
    for c in segments:
        text = c.text
        if names and c.speaker and c.speaker != last:
            text = f"{c.speaker}: {text}"
        last = c.speaker or last
        out.append(text)
    return out


def to_srt(t: Transcript, speakers: bool = True) -> str:
    """SRT; where speakers are known (and `speakers`), a cue where the voice changes starts `Name: `."""
    shown = cues(t.segments, SRT_LINE, SRT_LINES)
    return srt.compose([srt.Subtitle(i + 1, _td(c.start), _td(c.end), text)
                        for i, (c, text) in enumerate(zip(shown, named(shown, speakers)))], reindex=False)


def speakers_from_prefixes(segments: tuple[Segment, ...], names: set[str]) -> tuple[Segment, ...]:
    """Read back what `to_srt` wrote: a cue starting `Name: ` (a known name) is that person's, and so
    are the cues after it until the next name; the prefix is not part of what was said."""
    out, current = [], None
    for s in segments:
        text = s.text
        for name in names:
            for sep in (": ", "："):
                if text.startswith(name + sep):
                    current, text = name, text[len(name) + len(sep):]
        out.append(Segment(s.start, s.end, text, s.speaker or current))
    return tuple(out)


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _vtt_text(text: str, speaker: str | None) -> str:
    safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<v {speaker}>{safe}" if speaker else safe


def to_vtt(t: Transcript) -> str:
    """WebVTT; the language is the <track srclang> of whoever plays it (WebVTT has no language header)."""
    body = ["WEBVTT\n"]
    for c in cues(t.segments, VTT_LINE, SRT_LINES):
        body.append(f"{_vtt_time(c.start)} --> {_vtt_time(c.end)}\n{_vtt_text(c.text, c.speaker)}\n")
    return "\n".join(body)


def to_json(t: Transcript) -> str:
    """The Podcasting 2.0 JSON transcript (version 1.0.0)."""
    segs = []
    for s in t.segments:
        d = {"startTime": round(s.start, 3), "endTime": round(s.end, 3), "body": s.text}
        if s.speaker:
            d["speaker"] = s.speaker
        if s.lang:  # mixed-language episodes: what was spoken here, and whether this is a translation
            d["spokenLanguage"] = s.lang
            d["translatedBy"] = s.via
        segs.append(d)
    doc = {"version": "1.0.0", "segments": segs}
    if t.corrections:  # what the glossary put right, for a person to review (apps ignore unknown keys)
        doc["corrections"] = list(t.corrections)
    if t.problems:  # where the machine translation missed a glossary term or was left out (cue = segment + 1)
        doc["translationProblems"] = [{"cue": p["segment"] + 1, "problem": p["problem"]} for p in t.problems]
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def as_spoken_elsewhere(segment: dict, language: str) -> bool:
    """A JSON transcript segment of the `language` file that holds another language's words as
    spoken (a mixed episode's turn nothing translated): not a translation, and indexed from the file
    of the language it was spoken in."""
    return segment.get("spokenLanguage", language) != language and not segment.get("translatedBy")


def to_txt(t: Transcript) -> str:
    return "".join(f"{s.text}\n" for s in t.segments)


def pair(source: Transcript, translation: Transcript) -> list[tuple[Segment, Segment]]:
    """Each source segment with its translation; they must match one to one in time."""
    if len(source.segments) != len(translation.segments):
        raise TranscriptFormatError(f"translation has {len(translation.segments)} segments, "
                                    f"the transcript {len(source.segments)}")
    return list(zip(source.segments, translation.segments))


def to_bilingual_srt(source: Transcript, translation: Transcript, speakers: bool = True) -> str:
    """Both languages in each cue, the spoken one on top, `Name: ` before it where the voice changes; a
    line left as spoken (a mixed episode's turn nothing translated) once, not twice."""
    pairs = pair(source, translation)
    tops = named([replace(a, text=one_line(a.text)) for a, _ in pairs], speakers)
    subs = [srt.Subtitle(i + 1, _td(a.start), _td(a.end),
                         top if one_line(a.text) == one_line(b.text) else f"{top}\n{one_line(b.text)}")
            for i, ((a, b), top) in enumerate(zip(pairs, tops))]
    return srt.compose(subs, reindex=False)


def to_bilingual_vtt(source: Transcript, translation: Transcript) -> str:
    """Both languages in each cue, the whole cue one `<v Name>` span where the speaker is known; a
    line left as spoken (a mixed episode's turn nothing translated) once, not twice."""
    body = ["WEBVTT\n"]
    for a, b in pair(source, translation):
        text = "\n".join(dict.fromkeys([one_line(a.text), one_line(b.text)]))
        body.append(f"{_vtt_time(a.start)} --> {_vtt_time(a.end)}\n{_vtt_text(text, a.speaker)}\n")
    return "\n".join(body)


def one_line(text: str) -> str:
    """Cue lines rejoined: with a space between words, without one between Chinese characters."""
    out = ""
    for part in text.split():
        if out and not (width(out[-1]) == 2 and width(part[0]) == 2):
            out += " "
        out += part
    return out




_TAGS = re.compile(r"</?(?:i|b|u|c|ruby|rt|lang)(?:[.\s][^>]*)?>|</?font[^>]*>|\{\\[^}]*\}", re.IGNORECASE)
"""Cue formatting a person's editor may add (SRT <i>, <b>, <font>, ASS {\\an8}; WebVTT <c>, <lang>): the
transcript is the words, so these are dropped on reading (they would show literally on pages)."""


def cue_text(text: str, entities: bool = False) -> str:
    """A cue's words: formatting tags dropped, WebVTT's entities (&amp; &lt; &gt; &nbsp; ...) decoded."""
    text = _TAGS.sub("", text)
    if entities:
        text = html.unescape(text)
    return one_line(text)


# -- readers (for files a person supplies) --------------------------------------------------
def read_srt(text: str, language: str) -> Transcript:
    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as exc:
        line = text[:exc.expected_start].count("\n") + 1 if hasattr(exc, "expected_start") else None
        raise TranscriptFormatError("not valid SRT", line) from exc
    return Transcript(language, tuple(Segment(s.start.total_seconds(), s.end.total_seconds(),
                                              cue_text(s.content)) for s in subs), "human")


def read_vtt(text: str, language: str) -> Transcript:
    try:
        captions = webvtt.from_buffer(io.StringIO(text))
    except Exception as exc:  # webvtt raises its own MalformedFileError / MalformedCaptionError
        raise TranscriptFormatError(f"not valid WebVTT ({exc})") from exc
    return Transcript(language, tuple(Segment(c.start_in_seconds, c.end_in_seconds, cue_text(c.text, entities=True),
                                              getattr(c, "voice", None) or None) for c in captions), "human")


def read_lines(text: str, language: str) -> list[str]:
    """Plain text, one segment per non-empty line."""
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def check_timing(t: Transcript, duration: float | None = None) -> None:
    """Cue times must rise, and stay inside the audio."""
    last = 0.0
    for i, s in enumerate(t.segments, 1):
        if s.end < s.start or s.start < last - 0.001:
            raise TranscriptFormatError(f"segment {i} is out of order ({s.start:.2f}-{s.end:.2f} s)")
        if duration is not None and s.end > duration + 0.5:
            raise TranscriptFormatError(f"segment {i} ends at {s.end:.2f} s, after the audio ({duration:.2f} s)")
        last = s.start


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
        if any(width(c) == 2 for c in word):
            out += [p for p in re.split(f"(?<=[{CJK_PUNCT}])", word) if p]
        else:
            out.append(word)
    return out


def normalize_for_wer(text: str) -> str:
    """Lower case, no punctuation, numbers as written: the usual text normalization before WER."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


# -- burned-in captions ----------------------------------------------------------------------------
CAPTION_FONT = "Noto Sans CJK SC"
"""Debian's fonts-noto-cjk: one family that draws Simplified Chinese and Latin alike."""


def _ass_text(lines: list[str]) -> str:
    return r"\N".join(line.replace("\\", "\\\\").replace("{", "(").replace("}", ")") for line in lines)


def _ass_time(seconds: float) -> str:
    cs = int(round(seconds * 100))
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def to_ass(source: Transcript, translation: Transcript | None, width: int, height: int, *,
           title: str | None = None, title_top: int = 0, duration: float = 0.0,
           title_other: str | None = None) -> str:
    """Bilingual captions for burning into a video: the spoken language on top, the translation under
    it, at most two lines of each, sized to the frame and kept in its lower third. A `title` (clips)
    is drawn centred from `title_top` px down for `duration` seconds, with `title_other` (the title in
    the other language) under it, a line of each."""
    size = max(10, round(min(height / 18, width / 16)))  # a vertical frame is as narrow as a phone
    limit = max(8, int(width * 0.9 / (size * 0.5)))  # display columns: a Chinese character counts two
    margin, outline = width // 20, max(1, size // 12)
    header = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}", "WrapStyle: 2", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, OutlineColour, BackColour, Bold, Italic, BorderStyle, "
        "Outline, Shadow, Alignment, MarginL, MarginR, MarginV",
        f"Style: Spoken,{CAPTION_FONT},{size},&H00FFFFFF,&H00000000,&H80000000,0,0,1,{outline},0,2,"
        f"{margin},{margin},{max(4, height // 30)}",
        f"Style: Translation,{CAPTION_FONT},{round(size * 0.85)},&H0000E5FF,&H00000000,&H80000000,0,0,1,"
        f"{outline},0,2,{margin},{margin},{max(4, height // 30)}",
        f"Style: Title,{CAPTION_FONT},{round(size * 1.1)},&H00FFFFFF,&H00000000,&H80000000,1,0,1,"
        f"{outline},0,8,{margin},{margin},{title_top}", "",
        "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = []
    if title:
        other = title_other if title_other and title_other != title else None
        text = _ass_text(wrap(one_line(title), int(limit / 1.1))[:1 if other else 2])
        if other:
            # Inline overrides, not \r (which would take the Translation style's margins and move the title).
            text += rf"\N{{\b0\fs{round(size * 0.85)}\c&H00E5FF&}}" + _ass_text(wrap(one_line(other), limit)[:1])
        events.append(f"Dialogue: 1,{_ass_time(0)},{_ass_time(duration)},Title,,0,0,0,,{text}")
    pairs = pair(source, translation) if translation else [(s, None) for s in source.segments]
    for a, b in pairs:
        other = b.text if b is not None and b.text != a.text else ""  # (mixed: a turn as spoken has none)
        top_parts, under_parts, ends = screens(a.text, other, limit)
        for k, (t, u) in enumerate(zip(top_parts, under_parts)):
            text = _ass_text(t)
            if u:
                text += (r"\N" if text else "") + r"{\rTranslation}" + _ass_text(u)
            if text:
                t0, t1 = (a.start + (a.end - a.start) * f for f in ((ends[k - 1] if k else 0.0), ends[k]))
                events.append(f"Dialogue: 0,{_ass_time(t0)},{_ass_time(t1)},Spoken,,0,0,0,,{text}")
    return "\n".join(header + events) + "\n"


_CLAUSE_END = re.compile(r"(?<=[.!?;:,])\s+|(?<=[。！？；：，、])\s*")


_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|vs|cf|Mr|Mrs|Ms|Dr|Prof|No|St)|(?:^|[\s.])[A-Z])\.$", re.IGNORECASE)
"""A full stop that ends an abbreviation (e.g., Dr., U.S.), not a sentence."""


def clauses(text: str) -> list[str]:
    """A cue's text cut after each sentence or clause mark (. ! ? ; : , and the Chinese 。！？；：，、;
    a Latin mark only before a space, so 3.5 stays whole, and not after e.g. or Dr.) (pure)."""
    out: list[str] = []
    for part in (x.strip() for x in _CLAUSE_END.split(one_line(text))):
        if not part:
            continue
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] += " " + part
        else:
            out.append(part)
    return out


def _join(parts: list[str]) -> str:
    out = ""
    for p in parts:
        out += ("" if not out or (width(out[-1]) == 2 and width(p[0]) == 2) else " ") + p
    return out


def _grouped(parts: list[str], k: int, limit: int) -> list[list[str]] | None:
    """`parts` (clauses) joined into exactly `k` screens of at most two lines each, cut only between
    clauses and as even in width as can be (the least widest screen); None when they cannot be."""
    n = len(parts)
    if n < k:
        return None
    w = [0]
    for p in parts:
        w.append(w[-1] + width(p))
    best = {(0, 0): (0, -1)}  # (clauses used, screens made) -> (widest screen so far, where the last cut fell)
    for j in range(1, k + 1):
        for i in range(j, n - (k - j) + 1):
            options = [(max(best[(h, j - 1)][0], w[i] - w[h]), h) for h in range(j - 1, i) if (h, j - 1) in best]
            if options:
                best[(i, j)] = min(options)
    cuts, i = [], n
    for j in range(k, 0, -1):
        h = best[(i, j)][1]
        cuts.append((h, i))
        i = h
    screens = [wrap(_join(parts[h:i]), limit) for h, i in reversed(cuts)]
    return screens if all(len(s) <= 2 for s in screens) else None


def screens(spoken: str, other: str, limit: int) -> tuple[list[list[str]], list[list[str]], list[float]]:
    """One cue over as many screens as it needs, each with at most two lines of the spoken text and
    two of its translation (`other`, maybe empty), both cut at the same clause boundaries where they
    can be, so a screen shows a clause and its translation; else by lines (see _shares). Returns the
    screens' lines and where each screen ends, as fractions of the cue, by the spoken text's share
    (pure)."""
    top, under = wrap(one_line(spoken), limit), wrap(one_line(other), limit) if other else []
    need = max(1, -(-len(top) // 2), -(-len(under) // 2))
    a, b = clauses(spoken), clauses(other) if other else []
    for k in range(need, need + 3):
        t = _grouped(a, k, limit)
        u = _grouped(b, k, limit) if b else [[] for _ in range(k)]
        if t is not None and u is not None:
            break
    else:  # too few clauses for the screens a line needs: shared out by lines
        k = need
        t, u = _shares(spoken, top, limit, k), _shares(other, under, limit, k)
    sizes = [sum(width(x) for x in lines) for lines in t]
    total, ends, acc = sum(sizes), [], 0
    for size in sizes:
        acc += size
        ends.append(acc / total if total and len(set(map(tuple, t))) == len(t) else (len(ends) + 1) / k)
    ends[-1] = 1.0
    return t, u, ends


def _shares(text: str, lines: list[str], limit: int, chunks: int) -> list[list[str]]:
    """`lines` (of `text`, wrapped at `limit`) dealt into `chunks` screens of at most two lines each,
    every screen getting some: re-wrapped narrower when it has fewer lines than screens, and a text
    too short to share out shown whole on each."""
    if not lines:
        return [[] for _ in range(chunks)]
    if len(lines) < chunks:
        narrower = wrap(one_line(text), max(4, -(-width(one_line(text)) // chunks) + 1))
        if len(narrower) >= chunks:
            lines = narrower
        elif len(lines) <= 2:  # too short to share out: shown whole on every screen
            return [lines for _ in range(chunks)]
    out, n = [], len(lines)
    for k in range(chunks):
        part = lines[round(k * n / chunks):round((k + 1) * n / chunks)]
        while len(part) > 2:  # (only after re-wrapping) the last two lines become one
            glue = "" if width(part[-2][-1:]) == 2 else " "
            part = part[:-2] + [part[-2] + glue + part[-1]]
        out.append(part)
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
