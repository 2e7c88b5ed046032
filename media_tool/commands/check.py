"""`media-tool check`: the show and the built feed against Apple's and Podcasting 2.0's rules.

The show's own rules (cover art, categories, duplicate numbers) are the model's (`model.problems`,
which the build also asks); the rules of built outputs live here, each a small function adding
`Problem`s. Errors make the command exit 1; warnings are advice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

from lxml import etree

from media_tool.model import taxonomy
from media_tool.model.problems import (  # noqa: F401 (check's rules)
    CODES,
    Problem,
    cover_problems,
    show_problems,
    warning,
)
from media_tool.model.reader import parse_timestamp
from media_tool.model.show import Show, episode_slugs
from media_tool.site.feed import ITUNES_NS, PODCAST_NS
from media_tool.store.state import BuildState
from media_tool.text.script import reads_as
from media_tool.text.transcripts import as_spoken_elsewhere


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
                if feed_lang in ("zh", "en") and not reads_as(item.findtext(field) or "", feed_lang):
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
