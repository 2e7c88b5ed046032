"""Feed stage: the podcast RSS feed(s), written with feedgen and its extension mechanism.

RSS 2.0 + the iTunes namespace (feedgen's podcast extension) + the Podcasting 2.0 namespace
(our `PodcastIndexExtension`, registered with feedgen). The pure part turns typed episodes
into feed bytes; `publish` copies what the feed points at into feed/ and writes only what changed,
so two builds of an unchanged show give a byte-identical feed.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from feedgen.feed import FeedGenerator  # imports lxml.etree, which feedgen.ext modules assume
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from .errors import PublishError
from .fsutil import write_bytes

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
DESCRIPTION_LIMIT = 4000  # bytes: Apple truncates longer item descriptions
TRANSCRIPT_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "json": "application/json",
                    "txt": "text/plain"}
LANG_CODES = {"en": "en", "zh": "zh-cn"}
MIME = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "mp4": "video/mp4"}


@dataclass(frozen=True)
class Media:
    kind: str
    url: str
    length: int


@dataclass(frozen=True)
class Item:
    """One episode as the feed needs it (already resolved to one language)."""

    slug: str
    guid: str
    title: str
    date: dt.datetime
    duration: int
    media: tuple[Media, ...]          # the first is the enclosure
    summary: str                      # plain text, <= 4000 bytes
    html: str                         # full notes, sanitized
    number: int | None = None
    season: int | None = None
    episode_type: str = "full"
    explicit: bool | None = None
    image: str | None = None
    transcripts: tuple[tuple[str, str, str], ...] = ()  # (url, type, language)
    chapters: str | None = None
    people: tuple[tuple[str, str, str, str | None, str | None], ...] = ()  # name, role, group, href, img


@dataclass(frozen=True)
class Channel:
    title: str
    description: str
    link: str
    feed_url: str
    language: str
    author: str
    owner_name: str
    owner_email: str
    image: str | None
    categories: tuple[str, ...]
    explicit: bool
    locked: bool
    guid: str
    items: tuple[Item, ...] = field(default_factory=tuple)


def podcast_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 of the feed URL without its scheme, in the namespace the spec fixes."""
    base = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), base))


def item_guid(show_guid: str, slug: str) -> str:
    """Stable forever for one episode folder, and never the same for two."""
    return str(uuid.uuid5(uuid.UUID(show_guid), slug))


class PodcastIndexExtension(BaseExtension):
    """Channel-level Podcasting 2.0 tags (and iTunes tags feedgen spells wrong)."""

    def __init__(self):
        self.values: dict = {}

    def set(self, **values) -> None:
        self.values.update(values)

    def extend_ns(self):
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss):
        channel = rss[0]
        v = self.values
        etree.SubElement(channel, f"{{{PODCAST_NS}}}guid").text = v["guid"]
        locked = etree.SubElement(channel, f"{{{PODCAST_NS}}}locked", owner=v["owner_email"])
        locked.text = "yes" if v["locked"] else "no"
        etree.SubElement(channel, f"{{{PODCAST_NS}}}medium").text = "podcast"
        # Apple wants true/false; feedgen only writes yes/no/clean.
        etree.SubElement(channel, f"{{{ITUNES_NS}}}explicit").text = "true" if v["explicit"] else "false"
        return rss


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item-level Podcasting 2.0 tags."""

    def __init__(self):
        self.item: Item | None = None

    def set(self, item: Item) -> None:
        self.item = item

    def extend_rss(self, entry):
        it = self.item
        if it is None:
            return entry
        p = lambda tag, **attrs: etree.SubElement(entry, f"{{{PODCAST_NS}}}{tag}",  # noqa: E731
                                                  **{k: str(v) for k, v in attrs.items() if v is not None})
        for url, mime, lang in it.transcripts:
            rel = "captions" if mime in ("application/x-subrip", "text/vtt") else None
            p("transcript", url=url, type=mime, language=LANG_CODES.get(lang, lang), rel=rel)
        if it.chapters:
            p("chapters", url=it.chapters, type="application/json+chapters")
        for name, role, group, href, img in it.people:
            p("person", role=role, group=group, href=href, img=img).text = name
        if it.season:
            p("season").text = str(it.season)
        if it.number:
            p("episode").text = str(it.number)
        for i, m in enumerate(it.media):
            alt = p("alternateEnclosure", type=MIME[m.kind], length=m.length,
                    default="true" if i == 0 else None, title="Audio" if m.kind != "mp4" else "Video")
            etree.SubElement(alt, f"{{{PODCAST_NS}}}source", uri=m.url)
        if it.explicit is not None:
            etree.SubElement(entry, f"{{{ITUNES_NS}}}explicit").text = "true" if it.explicit else "false"
        return entry


def render(channel: Channel) -> bytes:
    """The RSS document for one language's feed (pure: same input, same bytes)."""
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False)
    fg.title(channel.title)
    fg.description(channel.description)
    fg.link(href=channel.feed_url, rel="self")
    fg.link(href=channel.link, rel="alternate")  # feedgen's RSS <link> is the last one given
    fg.language(channel.language)
    fg.generator("media-tool")
    newest = max((i.date for i in channel.items), default=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
    fg.lastBuildDate(newest)  # the newest episode, not the clock: unchanged shows give unchanged feeds
    fg.pubDate(newest)
    fg.podcast.itunes_author(channel.author)
    fg.podcast.itunes_owner(name=channel.owner_name, email=channel.owner_email)
    fg.podcast.itunes_type("episodic")
    fg.podcast.itunes_summary(channel.description)
    if channel.image:
        fg.image(url=channel.image, title=channel.title, link=channel.link)
        fg.podcast.itunes_image(channel.image)
    if channel.categories:
        fg.podcast.itunes_category([{"cat": c} for c in channel.categories])
    fg.podcastindex.set(guid=channel.guid, locked=channel.locked, owner_email=channel.owner_email,
                        explicit=channel.explicit)
    for it in sorted(channel.items, key=lambda i: (i.date, i.slug)):
        fe = fg.add_entry(order="prepend")
        fe.title(it.title)
        fe.guid(it.guid, permalink=False)
        fe.pubDate(it.date)
        fe.description(it.summary)
        fe.content(it.html, type="CDATA")
        enclosure = it.media[0]
        fe.enclosure(enclosure.url, str(enclosure.length), MIME[enclosure.kind])
        fe.podcast.itunes_duration(it.duration)
        if it.number:
            fe.podcast.itunes_episode(it.number)
        if it.season:
            fe.podcast.itunes_season(it.season)
        fe.podcast.itunes_episode_type(it.episode_type)
        if it.image:
            fe.podcast.itunes_image(it.image)
        fe.podcastindex.set(it)
    return fg.rss_str(pretty=True)


# -- show notes ---------------------------------------------------------------------------------
ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "code", "pre",
                "h2", "h3", "h4"}


def notes_html(markdown: str) -> str:
    """CommonMark to HTML, then an allow-list: no script, no event handlers, no javascript: links."""
    import nh3
    from markdown_it import MarkdownIt

    raw = MarkdownIt("commonmark").render(markdown)
    return nh3.clean(raw, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener nofollow").strip()


def episode_notes(config, lang: str) -> str:
    """An episode's notes in `lang` (notes.<lang>.md, else notes.md), rendered and sanitized."""
    path = config.dir / f"notes.{lang}.md"
    if not path.is_file():
        path = config.dir / "notes.md"
    return notes_html(path.read_text(encoding="utf-8")) if path.is_file() else ""


def summary(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """Plain text within `limit` UTF-8 bytes, cut at a sentence end or else a word boundary."""
    text = " ".join(text.split())
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: limit - 3].decode("utf-8", "ignore")
    for marks in (".!?。！？", " "):
        at = max(cut.rfind(m) for m in marks)
        if at > len(cut) // 2:
            return cut[: at + 1].rstrip() + ("" if marks != " " else "…")
    return cut + "…"


def plain(html: str) -> str:
    from lxml import html as lh

    return lh.fromstring(f"<div>{html}</div>").text_content() if html else ""


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomic write, skipped when the bytes are already there (keeps rebuilds byte-identical)."""
    if path.is_file() and path.read_bytes() == data:
        return False
    write_bytes(path, data)
    return True


def copy_if_changed(src: Path, dst: Path) -> bool:
    if dst.is_file() and dst.stat().st_size == src.stat().st_size and dst.read_bytes() == src.read_bytes():
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.part-copy")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)
    return True


def chapters_json(chapters, lang: str) -> bytes:
    """Podcasting 2.0 JSON chapters (version 1.2.0) in one language."""
    out = []
    for c in chapters:
        d = {"startTime": round(c.start, 3), "title": c.title.get(lang) or c.title.get("") or next(iter(c.title.values()))}
        if c.url:
            d["url"] = c.url
        if c.image:
            d["img"] = c.image
        out.append(d)
    return (json.dumps({"version": "1.2.0", "chapters": out}, ensure_ascii=False, indent=1) + "\n").encode()


# -- the edge: putting everything the feed points at into feed/ -----------------------------------
def _text(d: dict[str, str], lang: str) -> str:
    return d.get(lang) or d.get("") or next(iter(d.values()), "")


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _extras(config, lang: str, transcripts: list[tuple[str, str, str]]) -> str:
    """Chapters, people and transcript links appended to the notes (all text escaped)."""
    import html

    parts = []
    if config.chapters:
        rows = "".join(f"<li>{_clock(c.start)} {html.escape(_text(c.title, lang))}</li>" for c in config.chapters)
        parts.append(f"<h3>{'章节' if lang == 'zh' else 'Chapters'}</h3><ul>{rows}</ul>")
    if config.people:
        rows = "".join(f"<li>{html.escape(p.name)} ({html.escape(p.role)})</li>" for p in config.people)
        parts.append(f"<h3>{'嘉宾与主持' if lang == 'zh' else 'People'}</h3><ul>{rows}</ul>")
    if transcripts:
        names = {"en": "English", "zh": "中文"}
        rows = "".join(f'<li><a href="{html.escape(u)}">{names.get(lg, lg)} ({u.rsplit(".", 1)[-1].upper()})</a></li>'
                       for u, _, lg in transcripts)
        parts.append(f"<h3>{'文字稿' if lang == 'zh' else 'Transcripts'}</h3><ul>{rows}</ul>")
    return "".join(parts)


def publish(show, episodes: list, *, now: dt.datetime, force: bool = False) -> tuple[list[Path], list[str]]:
    """Write feed/feed.xml (and feed.<lang>.xml for a bilingual show) and what they point at.

    Returns the feed files and notices (episodes held back until their date)."""
    root, base = show.feed_dir, show.base_url
    if not base.startswith("https://"):
        raise PublishError(f"base_url: {base} is not https; Apple Podcasts and most apps refuse such feeds, "
                           "so none was written", "podcast.toml")
    notices: list[str] = []
    image = None
    if show.cover:
        cover = show.root / show.cover
        copy_if_changed(cover, root / f"cover{cover.suffix.lower()}")
        image = f"{base}/cover{cover.suffix.lower()}"
    languages = [show.language] + [lg for lg in ("en", "zh") if lg != show.language and lg in show.title]
    guid = podcast_guid(f"{base}/feed.xml")
    per_lang: dict[str, list[Item]] = {lg: [] for lg in languages}
    for ep in sorted(episodes, key=lambda e: e.slug):
        cfg = ep.config
        if "mp3" not in ep.published or ep.loudness is None:
            continue
        if cfg.date > now and not force:
            notices.append(f"episodes/{ep.slug}: dated {cfg.date.date()}, held back from the feed until then "
                           f"(--force publishes it now)")
            continue
        media = []
        for kind in ("mp3", "mp4", "m4a"):
            if kind in ep.published:
                path = show.root / ep.published[kind]
                media.append(Media(kind, f"{base}/media/{path.name}", path.stat().st_size))
        ep_image = None
        if (cfg.dir / "cover.jpg").is_file():  # episode art, under a stable name
            copy_if_changed(cfg.dir / "cover.jpg", root / "art" / f"{ep.slug}.jpg")
            ep_image = f"{base}/art/{ep.slug}.jpg"
        folder = show.transcripts_dir / ep.slug
        transcripts = []
        for lg in ("en", "zh"):
            for ext, mime in TRANSCRIPT_TYPES.items():
                src = folder / f"{ep.slug}.{lg}.{ext}"
                if src.is_file():
                    copy_if_changed(src, root / "transcripts" / ep.slug / src.name)
                    transcripts.append((f"{base}/transcripts/{ep.slug}/{src.name}", mime, lg))
        for ext in ("srt", "vtt"):
            src = folder / f"{ep.slug}.zh-en.{ext}"
            if src.is_file():
                copy_if_changed(src, root / "transcripts" / ep.slug / src.name)
        for lg in languages:
            chapters_url = None
            if cfg.chapters:
                name = f"{ep.slug}.json" if lg == show.language else f"{ep.slug}.{lg}.json"
                write_if_changed(root / "chapters" / name, chapters_json(cfg.chapters, lg))
                chapters_url = f"{base}/chapters/{name}"
            notes = episode_notes(cfg, lg)
            html_all = notes + _extras(cfg, lg, transcripts)
            per_lang[lg].append(Item(
                slug=ep.slug, guid=item_guid(guid, ep.slug), title=_text(cfg.title, lg), date=cfg.date,
                duration=int(round(ep.loudness.output_seconds)), media=tuple(media),
                summary=summary(plain(notes) or _text(cfg.title, lg)), html=html_all, number=cfg.number,
                season=cfg.season, episode_type=cfg.episode_type, explicit=cfg.explicit, image=ep_image,
                transcripts=tuple(transcripts), chapters=chapters_url,
                people=tuple((p.name, p.role, p.group, p.href, p.img) for p in cfg.people)))
    written = []
    for lg in languages:
        name = "feed.xml" if lg == show.language else f"feed.{lg}.xml"
        channel = Channel(title=_text(show.title, lg), description=_text(show.description, lg), link=base,
                          feed_url=f"{base}/{name}", language=LANG_CODES.get(lg, lg), author=show.author,
                          owner_name=show.owner_name, owner_email=show.owner_email, image=image,
                          categories=show.categories, explicit=show.explicit, locked=show.locked, guid=guid,
                          items=tuple(per_lang[lg]))
        write_if_changed(root / name, render(channel))
        written.append(root / name)
    return written, notices
