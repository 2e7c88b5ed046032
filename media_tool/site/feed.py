"""The podcast RSS feed as bytes, written with feedgen and its extension mechanism (pure).

RSS 2.0 + the iTunes namespace (feedgen's podcast extension) + the Podcasting 2.0 namespace
(our `PodcastIndexExtension`, registered with feedgen). Typed channel and items in, feed bytes
out: the same input gives the same bytes. The publish step (`stages.publish`) builds the items
from the episodes and puts everything the feed points at into feed/.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, replace

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import (
    FeedGenerator,  # imports lxml.etree, which feedgen.ext modules assume
)
from lxml import etree

from media_tool.model.identity import PODCAST_NS
from media_tool.text.notes import localized

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
TRANSCRIPT_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "json": "application/json",
                    "txt": "text/plain"}
LANG_CODES = {"en": "en", "zh": "zh-cn"}
MIME = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "mp4": "video/mp4", "captioned": "video/mp4"}
SITE_TYPES = {".xml": "application/rss+xml; charset=utf-8", ".vtt": "text/vtt; charset=utf-8",
              ".srt": "application/x-subrip; charset=utf-8", ".txt": "text/plain; charset=utf-8",
              ".html": "text/html; charset=utf-8", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".mp4": "video/mp4",
              ".jpg": "image/jpeg", ".png": "image/png", ".css": "text/css; charset=utf-8",
              ".js": "text/javascript; charset=utf-8"}


def content_type(rel: str) -> str:
    """The Content-Type apps and browsers expect for a file of the published site (served or uploaded);
    JSON chapters and JSON transcripts are told apart by their folder."""
    ext = rel[rel.rfind("."):].lower() if "." in rel.rsplit("/", 1)[-1] else ""
    if ext == ".json":
        return "application/json+chapters" if rel.startswith("chapters/") else "application/json; charset=utf-8"
    return SITE_TYPES.get(ext, "application/octet-stream")


TITLES = {"mp3": "MP3 audio", "m4a": "AAC audio", "mp4": "Video", "captioned": "Video with captions"}
"""(captioned: the video with bilingual captions drawn into the picture, an alternate only)"""


@dataclass(frozen=True)
class Media:
    """One published file of an episode: the enclosure or an alternate."""

    kind: str
    url: str
    length: int
    bitrate: int | None = None   # bits per second
    height: int | None = None    # video only
    width: int | None = None     # video only

    @property
    def title(self) -> str:
        """"Video 1080p" by the picture's short side, as players name sizes; a phone's upright video
        is "Video 1080p portrait", never "1920p"."""
        if not self.height:
            return TITLES[self.kind]
        lines = min(self.height, self.width or self.height)
        return f"{TITLES[self.kind]} {lines}p" + (" portrait" if self.width and self.height > self.width else "")


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
    poster: str | None = None         # a still of the video for the pages' players (not in the feed)
    chapters: str | None = None
    people: tuple[tuple[str, str, str, str | None, str | None], ...] = ()  # name, role, group, href, img
    soundbites: tuple[tuple[float, float, str], ...] = ()  # start, duration, title
    link: str | None = None           # the episode's page in this feed's edition (<item><link>)

    def to_dict(self) -> dict:
        """JSON for the build state: an item kept while its episode fails is written again as it was."""
        d = asdict(self)
        d["date"] = self.date.isoformat()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Item":
        d = dict(d)
        d["date"] = dt.datetime.fromisoformat(d["date"])
        d["media"] = tuple(Media(**m) for m in d["media"])
        d.setdefault("soundbites", [])
        for key in ("transcripts", "people", "soundbites"):
            d[key] = tuple(tuple(x) for x in d[key])
        return cls(**d)


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
    medium: str = "podcast"  # podcast:medium; "video" for the video feed
    new_feed_url: str | None = None  # itunes:new-feed-url, once the feed has moved


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
        etree.SubElement(channel, f"{{{PODCAST_NS}}}medium").text = v["medium"]
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
        for start, duration, title in it.soundbites:
            p("soundbite", startTime=f"{start:.3f}", duration=f"{duration:.3f}").text = title
        if it.season:
            p("season").text = str(it.season)
        if it.number:
            p("episode").text = str(it.number)
        for i, m in enumerate(it.media):
            title = m.title
            alt = p("alternateEnclosure", type=MIME[m.kind], length=m.length, bitrate=m.bitrate, height=m.height,
                    default="true" if i == 0 else None, title=title)
            etree.SubElement(alt, f"{{{PODCAST_NS}}}source", uri=m.url)
        if it.explicit is not None:
            etree.SubElement(entry, f"{{{ITUNES_NS}}}explicit").text = "true" if it.explicit else "false"
        return entry


def as_video(item: Item) -> Item | None:
    """The item for the video feed: the MP4 as its enclosure (apps that ignore alternateEnclosure
    then show the videocast), the audio files as alternates; None for an audio-only episode."""
    video = [m for m in item.media if m.kind == "mp4"]
    return replace(item, media=tuple(video + [m for m in item.media if m.kind != "mp4"])) if video else None


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
    if channel.new_feed_url:
        fg.podcast.itunes_new_feed_url(channel.new_feed_url)
    if channel.categories:
        fg.podcast.itunes_category([{"cat": c} for c in channel.categories])
    fg.podcastindex.set(guid=channel.guid, locked=channel.locked, owner_email=channel.owner_email,
                        explicit=channel.explicit, medium=channel.medium)
    for it in sorted(channel.items, key=lambda i: (i.date, i.slug)):
        fe = fg.add_entry(order="prepend")
        fe.title(it.title)
        fe.guid(it.guid, permalink=False)
        if it.link:
            fe.link(href=it.link)
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


def chapters_json(chapters, lang: str) -> bytes:
    """Podcasting 2.0 JSON chapters (version 1.2.0) in one language."""
    out = []
    for c in chapters:
        d = {"startTime": round(c.start, 3), "title": localized(c.title, lang)}
        if c.url:
            d["url"] = c.url
        if c.image:
            d["img"] = c.image
        out.append(d)
    return (json.dumps({"version": "1.2.0", "chapters": out}, ensure_ascii=False, indent=1) + "\n").encode()
