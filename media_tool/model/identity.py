"""Who the show is to a podcast app, kept across builds: each feed's podcast:guid, the language each
feed file carries, and where the feeds lived before.

Apps know a show by its guid and an episode by its item guid, and a subscriber by the feed file they
subscribed to. None of these may follow `base_url` or `language`: moving the site or changing the
show's language must not make every episode new or switch a subscriber's feed to another language.
So the identity is read back from what is published (feed/*.xml), else from the build state, and
only a show never built derives it (UUIDv5 of the feed URL, as the Podcasting 2.0 spec says).
`guid` in podcast.toml pins it for good.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from media_tool.model.language import NAMES, feed_languages
from media_tool.model.show import Show

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
"""The namespace the Podcasting 2.0 spec fixes for podcast:guid."""
ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Identity:
    """What stays the same from build to build: feed file -> guid, language -> feed suffix
    ("" for feed.xml), the main guid item guids hang off, and the previous base_url (a move)."""

    guid: str
    guids: dict[str, str]
    suffixes: dict[str, str]
    language: str = "en"
    moved_from: str | None = None
    notices: tuple[str, ...] = field(default_factory=tuple)

    def feed_name(self, lang: str, medium: str = "podcast") -> str:
        return feed_file(self.suffixes[lang], medium)

    def feed_guid(self, name: str) -> str:
        return self.guids[name]

    def item_guid(self, slug: str) -> str:
        return item_guid(self.guid, slug)

    def record(self, base_url: str) -> dict:
        """What the build state keeps, for when feed/ is gone."""
        return {"base_url": base_url, "language": self.language, "guids": dict(self.guids), "suffixes": dict(self.suffixes),
                "moved_from": self.moved_from}


def feed_file(suffix: str, medium: str = "podcast") -> str:
    """A feed's file name: feed.xml, feed.zh.xml, feed.video.xml, feed.video.zh.xml."""
    return f"feed{'.video' if medium == 'video' else ''}{suffix}.xml"


def podcast_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 of the feed URL without its scheme, in the namespace the spec fixes."""
    base = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, base))


def item_guid(show_guid: str, slug: str) -> str:
    """Stable forever for one episode folder, and never the same for two."""
    return str(uuid.uuid5(uuid.UUID(show_guid), slug))


def published(feed_dir: Path) -> dict[str, dict]:
    """feed file name -> {"guid", "url", "language"} of each feed in feed/ (unreadable ones skipped)."""
    out: dict[str, dict] = {}
    for path in sorted(feed_dir.glob("feed*.xml")) if feed_dir.is_dir() else ():
        try:
            channel = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).find("channel")
        except (OSError, etree.XMLSyntaxError):
            continue
        if channel is None:
            continue
        self_link = channel.find(f"{{{ATOM_NS}}}link[@rel='self']")
        out[path.name] = {"guid": (channel.findtext(f"{{{PODCAST_NS}}}guid") or "").strip(),
                          "url": self_link.get("href") if self_link is not None else None,
                          "language": (channel.findtext("language") or "").strip().lower()}
    return out


def _language(code: str) -> str | None:
    """'zh-cn' -> 'zh', 'en' -> 'en'."""
    lang = code.split("-")[0]
    return lang if lang in NAMES else None


def _is_uuid(s: object) -> bool:
    try:
        uuid.UUID(str(s))
        return True
    except ValueError:
        return False


def resolve(show: Show, feeds: dict[str, dict], recorded: dict | None) -> Identity:
    """The show's identity from what feed/ holds (`published`), else the state's record of the last
    build, else derived from base_url; with a line for each change a producer should hear of. Pure."""
    recorded = recorded if isinstance(recorded, dict) else {}
    base = show.base_url
    languages = feed_languages(show)
    main = feeds.get("feed.xml") or {}
    old_guids = {name: f["guid"] for name, f in feeds.items() if _is_uuid(f.get("guid"))}
    for name, g in (recorded.get("guids") or {}).items():
        if isinstance(name, str) and _is_uuid(g):
            old_guids.setdefault(name, g)
    # Which language feed.xml carries: what subscribers of feed.xml hear, whatever `language` says now.
    main_lang = _language(main.get("language", "")) if main else None
    rec_suffixes = recorded.get("suffixes") if isinstance(recorded.get("suffixes"), dict) else {}
    if main_lang is None:
        main_lang = next((lg for lg, s in rec_suffixes.items() if s == "" and lg in languages), None)
    if main_lang not in languages:
        main_lang = show.language
    suffixes = {lg: "" if lg == main_lang else f".{lg}" for lg in languages}
    notices = []
    if main_lang != show.language and recorded.get("language") != show.language:  # said once
        notices.append(f"podcast.toml: language is {show.language}, but feed.xml stays in {NAMES[main_lang]} and "
                       f"{'feed.' + show.language + '.xml'} in {NAMES[show.language]}, so no subscriber's feed "
                       f"changes language; the site's home page follows the new language")
    # The previous address: feed.xml's own link, else the state's.
    old_base = None
    if main.get("url") and str(main["url"]).endswith("/feed.xml"):
        old_base = str(main["url"])[: -len("/feed.xml")]
    elif isinstance(recorded.get("base_url"), str):
        old_base = recorded["base_url"]
    moved_from = recorded.get("moved_from") if isinstance(recorded.get("moved_from"), str) else None
    if old_base and old_base != base:
        moved_from = old_base
        notices.append(f"podcast.toml: base_url moved from {old_base} to {base}: every feed keeps its podcast:guid "
                       f"and its episodes' guids and says itunes:new-feed-url; keep {old_base}/feed.xml answering "
                       f"(a 301 redirect to the new address) until the apps have moved")
    if moved_from == base:
        moved_from = None
    guids: dict[str, str] = {}
    pinned = show.guid
    for lg in languages:
        for medium in ("podcast", "video"):
            name = feed_file(suffixes[lg], medium)
            if name == "feed.xml" and pinned:
                guids[name] = pinned
            elif name in old_guids:
                guids[name] = old_guids[name]
            elif pinned:
                guids[name] = str(uuid.uuid5(uuid.UUID(pinned), name))
            else:
                guids[name] = podcast_guid(f"{base}/{name}")
    return Identity(guid=guids["feed.xml"], guids=guids, suffixes=suffixes, language=show.language, moved_from=moved_from,
                    notices=tuple(notices))


def load(show: Show, recorded: dict | None) -> Identity:
    """`resolve` from the show's feed/ and the state's record."""
    return resolve(show, published(show.feed_dir), recorded)
