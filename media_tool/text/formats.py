"""Every transcript format people and apps use (pure: text in, text out).

Per language: SRT and WebVTT for players (lines kept to the Podcasting 2.0 guidance), the
Podcasting 2.0 JSON transcript, and plain text. Bilingual SRT/VTT pair each segment with its
translation, the spoken language on top. Readers accept the same formats back, for
transcripts and translations a person supplies.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from dataclasses import replace

import srt
import webvtt

from media_tool.text.script import (
    CLAUSE_MARK,
    break_tokens,
    join_words,
    one_line,
    width,
    wrap,
)
from media_tool.text.transcripts import (
    Segment,
    Transcript,
    TranscriptFormatError,
    file_name,
    pair,
)

MACHINE = "机器翻译 · machine translation"
"""How every file says that a line is the machine's: plain words a listener reads, both languages."""
LABEL_LINE = f"({MACHINE})"
TXT_WHOLE = f"[{MACHINE}]"
TXT_MIXED = "[标 * 的句子为机器翻译 · lines marked * are machine translation]"


def machine_made(s: Segment) -> bool:
    """Whether a line is the machine's translation (not the words as spoken, not a person's)."""
    return bool(s.via) and s.via != "human" and bool(s.text.strip())


def _marks(segments) -> list[bool]:
    """Where a label goes: the first line of each run of machine lines."""
    made = [machine_made(c) for c in segments]
    return [m and (i == 0 or not made[i - 1]) for i, m in enumerate(made)]


SRT_LINE = 32       # Podcasting 2.0: at most 2 lines of 32 characters per cue


SRT_LINES = 2


VTT_LINE = 65


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


MIN_CUE_S = 1.0
"""A cue shown for less than this cannot be read: it joins a neighbour (same voice, same origin)."""
ORPHAN_CHARS = 2
"""A cue of this few letters or characters (「金。」) is a fragment of its neighbour's sentence."""


_SENTENCE_END = tuple("。！？.!?…")


def _fragment(s: Segment, before: Segment | None) -> bool:
    """A character or two left over from the sentence before, which does not end: 「金。」 after
    「…养老」 is; 「谢谢。」 after a full stop is a sentence of its own."""
    said = sum(1 for ch in s.text if ch.isalnum())
    return (bool(s.text.strip()) and said <= ORPHAN_CHARS and before is not None
            and not before.text.rstrip().endswith(_SENTENCE_END))


def _joinable(a: Segment, b: Segment) -> bool:
    return a.speaker == b.speaker and a.lang == b.lang and a.via == b.via and b.start - a.end <= MIN_CUE_S


def _joined(segments) -> list[Segment]:
    """Segments for reading: each fragment joined to the sentence it broke off from (same voice and
    origin), then each cue shorter than MIN_CUE_S given the time it needs from the silence after it,
    else before it (never over a neighbour). Whole segments stay whole, so a person's edit of one
    line still lands on that line."""
    out: list[Segment] = []
    for seg in segments:
        before = out[-1] if out else None
        if before is not None and _fragment(seg, before) and _joinable(before, seg):
            out[-1] = Segment(before.start, seg.end, join_words([before.text, seg.text]), before.speaker,
                              before.lang, before.via)
        else:
            out.append(seg)
    for i, seg in enumerate(out):
        if seg.end - seg.start >= MIN_CUE_S or not seg.text.strip():
            continue
        after = out[i + 1].start if i + 1 < len(out) else seg.start + MIN_CUE_S
        end = min(max(seg.end, seg.start + MIN_CUE_S), max(seg.end, after))
        earliest = out[i - 1].end if i else 0.0
        start = max(min(seg.start, end - MIN_CUE_S), min(seg.start, earliest))
        out[i] = Segment(round(start, 3), round(end, 3), seg.text, seg.speaker, seg.lang, seg.via)
    return out


def cues(segments: tuple[Segment, ...] | list[Segment], limit: int, max_lines: int) -> list[Segment]:
    """Cues for subtitle files: fragments joined to their neighbours (`_joined`), then long segments
    split into as few cues as fit `max_lines` lines, cut between words and as even as can be (no
    orphan last cue), each timed by its share of the text."""
    out = []
    for seg in _joined(segments):
        text = one_line(seg.text)
        need = max(1, -(-len(wrap(text, limit)) // max_lines))
        for k in range(need, need + 4):
            parts = _even(text, k)
            groups = [wrap(p, limit) for p in parts]
            if all(len(g) <= max_lines for g in groups):
                break
        else:  # (never for real text) the plain split by lines
            lines = wrap(text, limit) or [""]
            groups = [lines[i:i + max_lines] for i in range(0, len(lines), max_lines)]
        total = sum(width("".join(g)) for g in groups) or 1
        t = seg.start
        for i, g in enumerate(groups):
            share = width("".join(g)) / total
            end = seg.end if i == len(groups) - 1 else min(seg.end, t + (seg.end - seg.start) * share)
            out.append(Segment(round(t, 3), round(end, 3), "\n".join(g), seg.speaker, seg.lang, seg.via))
            t = end
    return out


def _even(text: str, k: int) -> list[str]:
    """`text` cut between words into `k` parts of about equal width, each cut moved to a clause or
    sentence end where one lies within a third of a part of it (pure)."""
    if k <= 1:
        return [text]
    tokens = [t for t in break_tokens(text) if t != " "]
    ends, acc = [], 0
    for t in tokens:
        acc += width(t)
        ends.append(acc)
    total = acc or 1
    cuts, last = [], 0
    for j in range(1, k):
        target, slack = total * j / k, total / k / 3
        options = [i for i in range(last, len(tokens) - 1) if abs(ends[i] - target) <= slack] or \
                  [min(range(last, len(tokens) - 1), key=lambda i: abs(ends[i] - target), default=len(tokens) - 1)]
        marked = [i for i in options if CLAUSE_MARK.search(tokens[i][-1:])]
        at = min(marked or options, key=lambda i: abs(ends[i] - target))
        cuts.append(at + 1)
        last = at + 1
    bounds = [0, *cuts, len(tokens)]
    return [p for p in (join_words(tokens[a:b]) for a, b in zip(bounds, bounds[1:])) if p]


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
    labelled = [f"{text}\n{LABEL_LINE}" if mark else text
                for text, mark in zip(named(shown, speakers), _marks(shown))]  # SRT has no comments: a line
    return srt.compose([srt.Subtitle(i + 1, _td(c.start), _td(c.end), text)
                        for i, (c, text) in enumerate(zip(shown, labelled))], reindex=False)


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
    shown = cues(t.segments, VTT_LINE, SRT_LINES)
    whole = bool(shown) and all(machine_made(c) for c in shown if c.text.strip())
    if whole:
        body.append(f"NOTE\n{MACHINE}: every line of this file was translated by machine\n")
    for c, mark in zip(shown, _marks(shown)):
        if mark and not whole:
            body.append(f"NOTE {MACHINE}: the lines that follow, until the next note or line as spoken\n")
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
        if s.score is not None:  # the machine's own estimate, for the review queue (apps ignore unknown keys)
            d["confidence"] = s.score
        if s.doubt:
            d["doubt"] = s.doubt
        if s.alternatives:
            d["alternatives"] = list(s.alternatives)
        segs.append(d)
    doc = {"version": "1.0.0", "segments": segs}
    if t.corrections:  # what the glossary put right, for a person to review (apps ignore unknown keys)
        doc["corrections"] = list(t.corrections)
    if t.problems:  # where the machine translation missed a glossary term or was left out (cue = segment + 1)
        doc["translationProblems"] = [{"cue": p["segment"] + 1, "problem": p["problem"]} for p in t.problems]
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def to_txt(t: Transcript) -> str:
    """One line per segment, after a header where the machine translated lines (mixed: each marked *)."""
    made = [machine_made(s) for s in t.segments]
    if not any(made):
        return "".join(f"{s.text}\n" for s in t.segments)
    if all(m or not s.text.strip() for m, s in zip(made, t.segments)):
        return TXT_WHOLE + "\n" + "".join(f"{s.text}\n" for s in t.segments)
    return TXT_MIXED + "\n" + "".join(f"{'* ' if m else ''}{s.text}\n" for m, s in zip(made, t.segments))


def to_bilingual_srt(source: Transcript, translation: Transcript, speakers: bool = True) -> str:
    """Both languages in each cue, the spoken one on top, `Name: ` before it where the voice changes; a
    line left as spoken (a mixed episode's turn nothing translated) once, not twice."""
    pairs = pair(source, translation)
    tops = named([replace(a, text=one_line(a.text)) for a, _ in pairs], speakers)
    marks = _marks([b for _, b in pairs])
    subs = [srt.Subtitle(i + 1, _td(a.start), _td(a.end),
                         (top if one_line(a.text) == one_line(b.text) else f"{top}\n{one_line(b.text)}")
                         + (f"\n{LABEL_LINE}" if mark else ""))
            for i, ((a, b), top, mark) in enumerate(zip(pairs, tops, marks))]
    return srt.compose(subs, reindex=False)


def to_bilingual_vtt(source: Transcript, translation: Transcript) -> str:
    """Both languages in each cue, the whole cue one `<v Name>` span where the speaker is known; a
    line left as spoken (a mixed episode's turn nothing translated) once, not twice."""
    body = ["WEBVTT\n"]
    if any(machine_made(b) for b in translation.segments):
        body.append(f"NOTE\n{MACHINE}: the lines under the words as spoken were translated by machine, "
                    "unless a person translated them\n")
    for a, b in pair(source, translation):
        text = "\n".join(dict.fromkeys([one_line(a.text), one_line(b.text)]))
        body.append(f"{_vtt_time(a.start)} --> {_vtt_time(a.end)}\n{_vtt_text(text, a.speaker)}\n")
    return "\n".join(body)


_TAGS = re.compile(r"</?(?:i|b|u|c|ruby|rt|lang)(?:[.\s][^>]*)?>|</?font[^>]*>|\{\\[^}]*\}", re.IGNORECASE)
"""Cue formatting a person's editor may add (SRT <i>, <b>, <font>, ASS {\\an8}; WebVTT <c>, <lang>): the
transcript is the words, so these are dropped on reading (they would show literally on pages)."""


def cue_text(text: str, entities: bool = False) -> str:
    """A cue's words: formatting tags and the machine's label dropped, WebVTT's entities (&amp; &lt;
    &gt; &nbsp; ...) decoded."""
    text = _TAGS.sub("", text).replace(LABEL_LINE, "")
    if entities:
        text = html.unescape(text)
    return one_line(text)


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
    """Plain text, one segment per non-empty line (the machine's header and marks, as `to_txt` wrote them, left out)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and lines[0] in (TXT_WHOLE, TXT_MIXED):
        mixed = lines.pop(0) == TXT_MIXED
        lines = [ln.removeprefix("* ") if mixed else ln for ln in lines]
    return lines
