"""`media-tool check`: the show and the built feed against Apple's and Podcasting 2.0's rules.

The rules live here, in one place: each is a small function adding `Problem`s. Errors make the
command exit 1; warnings are advice.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from lxml import etree

from media_tool.errors import ConfigError
from media_tool.model import taxonomy
from media_tool.model.identity import load as load_identity
from media_tool.model.reader import parse_timestamp
from media_tool.model.show import Show, episode_slugs, load_episode
from media_tool.search.query import HAN
from media_tool.site.feed import ITUNES_NS, PODCAST_NS
from media_tool.store.state import BuildState
from media_tool.text.transcripts import as_spoken_elsewhere

COVER_MIN, COVER_MAX = 1400, 3000


@dataclass(frozen=True)
class Problem:
    """One finding: the file at fault, how bad, what is wrong, and a stable code to decide on."""

    file: str
    severity: str  # "error" | "warning"
    message: str
    code: str = "show"  # what kind of problem (see CODES); callers decide by it, never by the message

    def to_dict(self) -> dict:
        return asdict(self)


CODES = {
    "base-url": "podcast.toml base_url is not https",
    "cover": "cover art missing or not what Apple accepts",
    "categories": "no category",
    "config": "a show or episode file has a bad value",
    "unknown-key": "a key media-tool does not know (warning)",
    "duplicate-number": "two episodes share a season and number",
    "feed": "a built feed breaks Apple's or Podcasting 2.0's rules",
    "terminology": "a translation does not carry a glossary term over (warning)",
    "translation": "a machine translation left a cue out or missed a term, as its checks found (warning)",
    "transcript": "a transcript file that cannot be read (error)",
}


def cover_problems(path: Path, display: str) -> list[Problem]:
    """Apple: square, 1400 to 3000 px, RGB, JPEG or PNG whose extension matches its content."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            fmt, (w, h), mode = im.format, im.size, im.mode
    except (UnidentifiedImageError, OSError):
        return [Problem(display, "error", "not an image Pillow can read", "cover")]
    out = []
    if fmt not in ("JPEG", "PNG"):
        out.append(Problem(display, "error", f"{fmt} image: use JPEG or PNG", "cover"))
    elif path.suffix.lower() not in ({".jpg", ".jpeg"} if fmt == "JPEG" else {".png"}):
        out.append(Problem(display, "error", f"a {fmt} image named {path.suffix}: the extension must match", "cover"))
    if w != h:
        out.append(Problem(display, "error", f"{w}x{h}: cover art must be square", "cover"))
    if not COVER_MIN <= min(w, h) or max(w, h) > COVER_MAX:
        out.append(Problem(display, "error", f"{w}x{h}: cover art must be {COVER_MIN} to {COVER_MAX} px", "cover"))
    if mode not in ("RGB",):
        out.append(Problem(display, "error", f"colour mode {mode}: use RGB", "cover"))
    return out


def show_problems(show: Show) -> list[Problem]:
    out = []
    if not show.base_url.startswith("https://"):
        out.append(Problem("podcast.toml", "error", f"base_url: {show.base_url} is not https (Apple requires it)",
                           "base-url"))
    if show.cover:
        out += cover_problems(show.root / show.cover, show.cover)
    else:
        out.append(Problem("podcast.toml", "error", "cover: missing (Apple requires artwork)", "cover"))
    if not show.categories:
        out.append(Problem("podcast.toml", "error", "categories: at least one is required", "categories"))
    if not show.guid:
        kept = load_identity(show, None).guid
        out.append(Problem("podcast.toml", "warning", f"guid: not set, so the show's podcast:guid is kept only in "
                           f"feed/; add guid = \"{kept}\" so that moving base_url without feed/ keeps every "
                           "subscriber", "guid"))
    out += [_warning(w) for w in show.warnings]
    numbers: dict[tuple, str] = {}
    for slug in episode_slugs(show):
        display = f"episodes/{slug}/episode.toml"
        try:
            ep = load_episode(show, slug)
        except ConfigError as exc:
            for line in exc.lines():
                file, _, message = line.partition(": ")
                out.append(Problem(file or display, "error", message, "config"))
            continue
        out += [_warning(w) for w in ep.warnings]
        out += [Problem(file, "error", what, "placeholder") for file, what in ep.placeholder_lines]
        if ep.number is not None:
            key = (ep.season, ep.number)
            if key in numbers:
                out.append(Problem(display, "error", f"number {ep.number}"
                                   f"{f' (season {ep.season})' if ep.season else ''} is also used by {numbers[key]}",
                                   "duplicate-number"))
            else:
                numbers[key] = display
        if ep.art:
            out += cover_problems(ep.art, f"episodes/{slug}/cover.jpg")
    return out


def _warning(line: str) -> Problem:
    """A loader warning (`file: field: message`) as a Problem."""
    file, _, message = line.partition(": ")
    return Problem(file, "warning", message, "unknown-key")


def in_language(text: str, lang: str) -> bool:
    """Whether `text` reads as `lang`: Chinese needs Han characters; English fewer Han characters than
    letters (names and terms of the other language are fine). Empty text is not judged here."""
    han = len(re.findall(f"[{HAN}]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    if not han and not latin:
        return True
    return han > 0 if lang == "zh" else latin > 2 * han


def feed_problems(show: Show) -> list[Problem]:
    """Apple's required tags and the Podcasting 2.0 attribute rules, on every built feed."""
    out = []
    feeds = sorted(show.feed_dir.glob("feed*.xml"))
    if not feeds:
        return [Problem("feed/feed.xml", "error", "no feed built yet: run `media-tool build`", "feed")]
    ns = {"itunes": ITUNES_NS, "podcast": PODCAST_NS}
    for path in feeds:
        display = f"feed/{path.name}"
        try:
            channel = etree.parse(str(path)).getroot().find("channel")
        except etree.XMLSyntaxError as exc:
            out.append(Problem(display, "error", f"not well-formed XML: {exc}"))
            continue

        def need(el, xpath: str, what: str, where: str) -> None:
            if not el.xpath(xpath, namespaces=ns):
                out.append(Problem(display, "error", f"{where}: {what} is missing"))

        for xpath, what in (("title/text()", "<title>"), ("description/text()", "<description>"),
                            ("language/text()", "<language>"), ("itunes:image/@href", "<itunes:image>"),
                            ("itunes:category/@text", "<itunes:category>"),
                            ("itunes:explicit[text()='true' or text()='false']", "<itunes:explicit> true/false"),
                            ("podcast:guid/text()", "<podcast:guid>"), ("podcast:locked", "<podcast:locked>")):
            need(channel, xpath, what, "channel")
        for g in channel.xpath("podcast:guid/text()", namespaces=ns):
            try:
                uuid.UUID(g)
            except ValueError:
                out.append(Problem(display, "error", f"podcast:guid {g!r} is not a UUID"))
        for lock in channel.xpath("podcast:locked", namespaces=ns):
            if lock.text not in ("yes", "no"):
                out.append(Problem(display, "error", "podcast:locked must be yes or no"))
        guids = set()
        feed_lang = (channel.findtext("language") or "").split("-")[0].lower()
        for item in channel.findall("item"):
            where = f"item {item.findtext('title')!r}"
            for field in ("title", "description"):  # a field that fell back to the other language
                if feed_lang in ("zh", "en") and not in_language(item.findtext(field) or "", feed_lang):
                    out.append(Problem(display, "warning", f"{where}: <{field}> is not in "
                                       f"{'Chinese' if feed_lang == 'zh' else 'English'} (the other language's "
                                       "text stands in for it: write it, or let the translator make it)",
                                       "fallback"))
            for xpath, what in (("title/text()", "<title>"), ("guid/text()", "<guid>"),
                                ("enclosure/@url", "<enclosure url>"), ("enclosure/@length", "<enclosure length>"),
                                ("enclosure/@type", "<enclosure type>")):
                need(item, xpath, what, where)
            g = item.findtext("guid")
            if g in guids:
                out.append(Problem(display, "error", f"{where}: guid {g} used twice"))
            guids.add(g)
            for enc in item.findall("enclosure"):
                url, length = enc.get("url", ""), enc.get("length", "")
                if not url.startswith("https://"):
                    out.append(Problem(display, "error", f"{where}: enclosure URL is not https"))
                local = show.feed_dir / url.removeprefix(show.base_url + "/")
                if local.is_file() and str(local.stat().st_size) != length:
                    out.append(Problem(display, "error", f"{where}: enclosure length {length} but the file has "
                                                         f"{local.stat().st_size} bytes"))
            for t in item.xpath("podcast:transcript", namespaces=ns):
                if not (t.get("url") and t.get("type")):
                    out.append(Problem(display, "error", f"{where}: podcast:transcript needs url and type"))
            for c in item.xpath("podcast:chapters", namespaces=ns):
                if c.get("type") != "application/json+chapters" or not c.get("url"):
                    out.append(Problem(display, "error", f"{where}: podcast:chapters needs url and "
                                                         "type application/json+chapters"))
                out += _chapter_problems(show, display, where, c.get("url") or "",
                                         item.findtext(f"{{{ITUNES_NS}}}duration") or "")
            for p in item.xpath("podcast:person", namespaces=ns):
                if p.get("role") and (why := taxonomy.problem(p.get("role"), p.get("group") or "cast")):
                    out.append(Problem(display, "error", f"{where}: podcast:person {p.text!r}: {why}"))
            for p in item.xpath("podcast:person", namespaces=ns):
                if not (p.text or "").strip():
                    out.append(Problem(display, "error", f"{where}: podcast:person without a name"))
            desc = item.findtext("description") or ""
            if len(desc.encode()) > 4000:
                out.append(Problem(display, "error", f"{where}: description over 4000 bytes"))
    return [replace(p, code="feed") for p in out]


def _chapter_problems(show: Show, display: str, where: str, url: str, duration: str) -> list[Problem]:
    """A published chapters file: JSON chapters 1.2.0, times increasing, none past the episode's end."""
    local = show.feed_dir / url.removeprefix(show.base_url + "/")
    if not url.startswith(show.base_url + "/") or not local.is_file():
        return []
    try:
        chapters = json.loads(local.read_text(encoding="utf-8"))["chapters"]
        starts = [float(c["startTime"]) for c in chapters]
    except (ValueError, KeyError, TypeError):
        return [Problem(display, "error", f"{where}: {local.name} is not a JSON chapters file")]
    seconds = parse_timestamp(duration) if ":" in duration else float(duration or 0)
    out = []
    if starts != sorted(starts):
        out.append(Problem(display, "error", f"{where}: chapter start times in {local.name} do not increase"))
    late = [s for s in starts if seconds and s >= seconds]
    if late:
        out.append(Problem(display, "error", f"{where}: a chapter starts at {late[0]:g} s, past the episode's end "
                                             f"({seconds:g} s) in {local.name}"))
    return out


def terminology_problems(show: Show) -> list[Problem]:
    """Glossary terms a translation (a person's or a machine's) does not carry over: the zh term in a
    segment without its en term in that segment's translation, or the reverse; one line per case.
    A mixed-language episode's line that nothing translated (English left as spoken in the Chinese
    file, or the reverse) is not a translation and is not checked."""
    if not show.glossary:
        return []
    out = []
    for slug in episode_slugs(show):
        folder = show.transcripts_dir / slug
        texts = {}
        for lang in ("zh", "en"):
            path = folder / f"{slug}.{lang}.json"
            try:
                segs = json.loads(path.read_text(encoding="utf-8"))["segments"]
                texts[lang] = ["" if as_spoken_elsewhere(s, lang) else s["body"] for s in segs]
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                break
        else:
            for cue, why in show.glossary.inconsistencies(texts["zh"], texts["en"], "zh"):
                out.append(Problem(f"transcripts/{slug}/{slug}.zh-en.srt", "warning", f"cue {cue + 1}: {why}",
                                   "terminology"))
    return out


def translation_problems(show: Show) -> list[Problem]:
    """What the machine translation's own checks reported (`translationProblems` in the JSON
    transcripts: a cue left out, a term missed), and transcript files a person's edit left unreadable."""
    out = []
    for slug in episode_slugs(show):
        for path in sorted((show.transcripts_dir / slug).glob(f"{slug}.*.json")):
            rel = show.rel(path)
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                segments = doc["segments"]
                if not isinstance(segments, list):
                    raise TypeError
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                out.append(Problem(rel, "error", "not a Podcasting 2.0 JSON transcript (invalid JSON or no "
                                                 "segments): fix it or delete it to have it made again", "transcript"))
                continue
            except OSError:
                continue
            for p in doc.get("translationProblems", ()) if isinstance(doc, dict) else ():
                if isinstance(p, dict) and "cue" in p:
                    out.append(Problem(rel, "warning", f"cue {p['cue']}: machine translation: {p.get('problem', '')}",
                                       "translation"))
    return out


def speaker_problems(show: Show) -> list[Problem]:
    """Episodes whose last build heard a different number of voices than `[[people]]` names (the
    turns were split between the people named, so some lines may carry the wrong name)."""
    state = BuildState.load(show.state_dir)
    out = []
    for slug in episode_slugs(show):
        data = (state.record(slug, "speakers") or {}).get("data") or {}
        if data.get("note") and data.get("heard") is not None:
            out.append(Problem(f"episodes/{slug}/episode.toml", "warning", data["note"].split(": ", 1)[1],
                               "speakers"))
    return out


def check(show: Show) -> list[Problem]:
    """Every problem of the show and its built feeds."""
    return (show_problems(show) + feed_problems(show) + terminology_problems(show) + translation_problems(show)
            + speaker_problems(show))
