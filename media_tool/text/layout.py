"""Burned-in captions: the layout of bilingual captions in a frame (ASS for libass), sized to the
frame and kept where short-video apps draw nothing over them (pure). The one caption-size rule:
the video's captions and the clips' audiograms both ask `caption_size`.
"""

from __future__ import annotations

import re

from media_tool.text.script import join_words, one_line, width, wrap
from media_tool.text.transcripts import Transcript, pair

CAPTION_FONT = "Noto Sans CJK SC"
"""Debian's fonts-noto-cjk: one family that draws Simplified Chinese and Latin alike (where it is
missing, the pip-installed Noto Sans SC: `media.video.caption_font`)."""

MIN_CAPTION_PX = 18
"""The smallest spoken-line size drawn: below it a Chinese character's strokes run together."""
MIN_CAPTIONED_HEIGHT = 360
"""A captioned copy is drawn at least this tall (a smaller master is scaled up first), so its
captions can be MIN_CAPTION_PX and still leave the picture: at 180 rows they would cover half of it."""


def caption_size(width: int, height: int) -> int:
    """The spoken line's font size in pixels for a frame: the one rule for video captions and clips
    (a vertical frame is as narrow as a phone, so its width bounds the size too)."""
    return max(MIN_CAPTION_PX, round(min(height / 18, width / 16)))


def captioned_frame(width: int, height: int) -> tuple[int, int]:
    """The frame a captioned copy is drawn in: the master's, scaled up (even sides) to at least
    MIN_CAPTIONED_HEIGHT rows on its short side."""
    short = min(width, height)
    if short >= MIN_CAPTIONED_HEIGHT or short <= 0:
        return width, height
    k = MIN_CAPTIONED_HEIGHT / short
    return round(width * k / 2) * 2, round(height * k / 2) * 2


def safe_margins(width: int, height: int) -> tuple[int, int, int]:
    """Left, right and bottom margins (px) that keep captions where apps draw nothing: in a vertical
    frame short-video apps (Douyin, WeChat Channels, TikTok) lay their description over the bottom
    fifth and their buttons down the right side, so captions end a quarter up and clear the right."""
    if height > width:
        return round(width * 0.06), round(width * 0.16), round(height * 0.25)
    return width // 20, width // 20, max(4, height // 30)


def _ass_text(lines: list[str]) -> str:
    return r"\N".join(line.replace("\\", "\\\\").replace("{", "(").replace("}", ")") for line in lines)


def _ass_time(seconds: float) -> str:
    cs = int(round(seconds * 100))
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def to_ass(source: Transcript, translation: Transcript | None, width: int, height: int, *,
           title: str | None = None, title_top: int = 0, duration: float = 0.0,
           title_other: str | None = None, font: str = CAPTION_FONT) -> str:
    """Bilingual captions for burning into a video: the spoken language on top, the translation under
    it, at most two lines of each, sized to the frame and kept in its lower third. A `title` (clips)
    is drawn centred from `title_top` px down for `duration` seconds, with `title_other` (the title in
    the other language) under it, a line of each."""
    size = caption_size(width, height)
    left, right, bottom = safe_margins(width, height)
    limit = max(8, int((width - left - right) / (size * 0.5)))  # display columns: a Chinese character counts two
    margin, outline = width // 20, max(1, size // 12)
    header = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}", "WrapStyle: 2", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, OutlineColour, BackColour, Bold, Italic, BorderStyle, "
        "Outline, Shadow, Alignment, MarginL, MarginR, MarginV",
        f"Style: Spoken,{font},{size},&H00FFFFFF,&H00000000,&H80000000,0,0,1,{outline},0,2,"
        f"{left},{right},{bottom}",
        f"Style: Translation,{font},{round(size * 0.85)},&H0000E5FF,&H00000000,&H80000000,0,0,1,"
        f"{outline},0,2,{left},{right},{bottom}",
        f"Style: Title,{font},{round(size * 1.1)},&H00FFFFFF,&H00000000,&H80000000,1,0,1,"
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
    screens = [wrap(join_words(parts[h:i]), limit) for h, i in reversed(cuts)]
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
