"""What feed/ will hold, collected as values (the Pelican way: gather, then one writer writes).

After every episode's stages, `collect` builds one feed per language (and a video feed where there
is video), the site's pages, chapters, and the list of files to put in place, for the episodes whose
every stage succeeded. An episode that fails keeps the version it last published: its feed items
come from the records of the last build. Nothing here writes; `write` does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

from media_tool.errors import PublishError
from media_tool.model.identity import Identity, resolve
from media_tool.model.language import (
    LANGUAGES,
    edition_prefix,
    feed_languages,
    other_language,
)
from media_tool.model.show import Show
from media_tool.site import pages as site
from media_tool.site.feed import (
    LANG_CODES,
    TRANSCRIPT_TYPES,
    Channel,
    Item,
    Media,
    as_video,
    chapters_json,
    render,
)
from media_tool.stages.episode import Episode
from media_tool.text import notes
from media_tool.text.transcripts import file_name


@dataclass
class SitePlan:
    """feed/ as values: files to link or copy in (source, path under feed/), files to write (path ->
    bytes), the feeds (name -> bytes, written last), and what the build keeps and reports."""

    media: list[tuple[Path, str]] = field(default_factory=list)   # hard-linked where it can be (large)
    copies: list[tuple[Path, str]] = field(default_factory=list)  # cover, art, transcripts
    files: dict[str, bytes] = field(default_factory=dict)         # chapters
    pages: dict[str, bytes] = field(default_factory=dict)         # the site's pages and assets
    feeds: dict[str, bytes] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # held back until their date
    kept: list[str] = field(default_factory=list)     # failed episodes whose last good version stays
    records: dict[str, dict] = field(default_factory=dict)  # slug -> {"date", "items": {lang: item}}


def absolute(base: str, link: str | None) -> str | None:
    """A show-relative link (already checked safe) as a URL under the site; URLs stay as they are."""
    if link is None or "://" in link:
        return link
    return f"{base}/{link}"


def collect(show: Show, episodes: list[Episode], *, now: dt.datetime, force: bool = False,
            failed: dict[str, str] | None = None, kept: dict[str, dict] | None = None,
            identity: Identity | None = None) -> SitePlan:
    """Everything feed/ will hold, as values: the `episodes` that built, and for the slugs in `failed`
    (slug -> why) what `kept` (the records of the last build) says they published; feed names and
    guids from `identity` (what was published before; derived when None). Pure: reads and writes
    no file but the site's templates."""
    base = show.base_url
    if not base.startswith("https://"):
        raise PublishError(f"base_url: {base} is not https; Apple Podcasts and most apps refuse such feeds, "
                           "so none was written", "podcast.toml")
    failed, kept = failed or {}, kept or {}
    out = SitePlan()
    image = None
    if show.cover:
        cover = show.root / show.cover
        out.copies.append((cover, f"cover{cover.suffix.lower()}"))
        image = f"{base}/cover{cover.suffix.lower()}"
    languages = feed_languages(show)
    ident = identity or resolve(show, {}, None)
    per_lang: dict[str, list[Item]] = {lg: [] for lg in languages}
    pages: list[site.SiteEpisode] = []
    for ep in sorted(episodes, key=lambda e: e.slug):
        if "mp3" not in ep.tagged or ep.loudness is None:
            continue
        # Held back until its date, unless `--force` published it early: what went out early stays out.
        early = ep.config.date > now
        if early and not force and (kept.get(ep.slug) or {}).get("early"):
            out.notices.append(f"episodes/{ep.slug}: dated {ep.config.date.date()}, published early with --force: "
                               "it stays in the feed (listeners may have it)")
        elif early and not force:
            out.notices.append(f"episodes/{ep.slug}: scheduled for {ep.config.date.date()}, held back from the "
                               f"feed until then (--force publishes it now)")
            continue
        items = _episode(show, ep, languages, ident, out)
        pages.append(_page(ep, items))
        previous = kept.get(ep.slug, {})
        record_items = {lg: it.to_dict() for lg, it in items.items()}
        date = previous.get("date") if previous.get("items") == record_items else now.date().isoformat()
        out.records[ep.slug] = {"date": date, "items": record_items, **({"early": True} if early else {})}
        for lg in languages:
            per_lang[lg].append(items[lg])
    for slug, why in sorted(failed.items()):
        record = kept.get(slug)
        if not record or not record.get("items"):
            continue  # never published: nothing to keep
        out.records[slug] = record
        out.kept.append(f"{slug}: kept the version published on {record['date']}; fix: {why}")
        for lg in languages:
            item = record["items"].get(lg)
            if item:
                per_lang[lg].append(Item.from_dict(item))
    feeds: list[tuple[str, str]] = []
    for lg in languages:
        videos = tuple(v for v in map(as_video, per_lang[lg]) if v is not None)
        # The audio feed, and (where there is video) a video feed whose enclosures are the MP4s.
        for name, items, medium in ((ident.feed_name(lg), tuple(per_lang[lg]), "podcast"),
                                    (ident.feed_name(lg, "video"), videos, "video")):
            if medium == "video" and not items:
                continue
            feed_url = f"{base}/{name}"
            title = notes.localized(show.title, lg) + (VIDEO_SUFFIX[lg == "zh"] if medium == "video" else "")
            channel = Channel(title=title, description=notes.localized(show.description, lg),
                              link=f"{base}/{edition_prefix(show, lg)}", feed_url=feed_url, language=LANG_CODES.get(lg, lg),
                              author=notes.localized(show.authors, lg) or show.author, owner_name=show.owner_name, owner_email=show.owner_email,
                              image=image, categories=show.categories, explicit=show.explicit, locked=show.locked,
                              guid=ident.feed_guid(name), items=items, medium=medium,
                              new_feed_url=feed_url if ident.moved_from else None)
            out.feeds[name] = render(channel)
            feeds.append((name, site.feed_label(medium, lg), lg))
    out.pages.update(site.render(show, pages, per_lang, feeds))
    return out


VIDEO_SUFFIX = (" (video)", "（视频）")
"""The video feed's title after the show's, in English and in Chinese."""


def _page(ep: Episode, items: dict[str, Item]) -> site.SiteEpisode:
    """What the episode's page shows beyond its feed items: both transcripts, chapters, clips."""
    offset = ep.loudness.timeline_offset
    spans = [(round(max(0.0, c.start + offset), 3), round(c.end + offset, 3)) for c in ep.config.clips]
    spoken, other = ep.config.language, other_language(ep.config.language)
    # notes.md is in whichever language has no notes.<lang>.md (the spoken one first); each shown once
    shared = spoken if spoken not in ep.config.notes else other
    texts = [(lg, ep.config.notes[lg] if lg in ep.config.notes else ep.config.notes.get("", ""))
             for lg in (spoken, other) if lg in ep.config.notes or (lg == shared and "" in ep.config.notes)]
    return site.SiteEpisode(items=items, spoken=spoken, transcripts=dict(ep.transcripts),
                            notes=tuple((lg, notes.notes_html(md)) for lg, md in texts),
                            chapters=notes.published_chapters(ep.config.chapters, offset),
                            clips=tuple((Path(rel).name, a, b) for rel, (a, b) in zip(ep.clips, spans)),
                            subtitled=Path(ep.captioned).name if ep.captioned else None,
                            machine=frozenset(ep.config.machine))

def _episode(show: Show, ep: Episode, languages: list[str], ident: Identity, out: SitePlan) -> dict[str, Item]:
    """One built episode's files for feed/ (into `out`) and its item in each language."""
    base, cfg = show.base_url, ep.config
    audio = cfg.audio(show)
    channels = ep.loudness.channels
    media = []
    for kind in ("mp3", "mp4", "m4a"):
        if kind not in ep.tagged:
            continue
        name = Path(ep.tagged[kind]).name
        out.media.append((show.root / ep.tagged[kind], f"media/{name}"))
        video = ep.media.video if kind == "mp4" and ep.media else None
        kbps = audio.mp3_kbps(channels) if kind == "mp3" else audio.aac_kbps(channels)
        bitrate = (int(ep.sizes[kind] * 8 / max(ep.loudness.output_seconds, 1e-3)) if video
                   else kbps * 1000)
        media.append(Media(kind, f"{base}/media/{name}", ep.sizes[kind], bitrate,
                           video.height if video and video.height else None,
                           video.width if video and video.width else None))
    if ep.captioned:  # the video with its captions drawn in, for where people watch: an alternate in the feeds
        name = Path(ep.captioned).name
        out.media.append((show.root / ep.captioned, f"media/{name}"))
        mp4 = next((m for m in media if m.kind == "mp4"), None)
        size = (show.root / ep.captioned).stat().st_size
        media.append(Media("captioned", f"{base}/media/{name}", size,
                           int(size * 8 / max(ep.loudness.output_seconds, 1e-3)),
                           mp4.height if mp4 else None, mp4.width if mp4 else None))
    for rel in ep.clips:  # short captioned clips to share
        out.media.append((show.root / rel, f"clips/{Path(rel).name}"))
    ep_image = None
    if cfg.art:  # episode art, under a stable name
        out.copies.append((cfg.art, f"art/{ep.slug}.jpg"))
        ep_image = f"{base}/art/{ep.slug}.jpg"
    poster = None
    if ep.poster:  # a frame of the video, for players before it plays
        out.copies.append((show.root / ep.poster, f"art/{ep.slug}.poster.jpg"))
        poster = f"{base}/art/{ep.slug}.poster.jpg"
    transcripts = _transcripts(show, ep, out)
    offset = ep.loudness.timeline_offset  # the recording's times, moved into the published file's
    chapters = notes.published_chapters(cfg.chapters, offset)
    chapters = tuple(replace(c, url=absolute(base, c.url), image=absolute(base, c.image)) for c in chapters)
    items = {}
    for lg in languages:
        chapters_url = None
        if chapters:
            name = f"{ep.slug}.json" if lg == show.language else f"{ep.slug}.{lg}.json"
            out.files[f"chapters/{name}"] = chapters_json(chapters, lg)
            chapters_url = f"{base}/chapters/{name}"
        page = f"{base}/{edition_prefix(show, lg)}episodes/{ep.slug}/"
        html = notes.lead_with(notes.episode_notes(cfg.notes, lg), lg)
        title = notes.localized(cfg.title, lg)
        listed = sorted(transcripts, key=lambda t: t[2] != lg)  # the feed's language first
        items[lg] = Item(
            slug=ep.slug, guid=ident.item_guid(ep.slug), title=title, date=cfg.date,
            duration=int(ep.loudness.output_seconds), media=tuple(media),
            summary=notes.summary(notes.plain(html) or title),
            html=notes.within(html + notes.extras_html(chapters, cfg.people, lg, listed), notes.CONTENT_LIMIT,
                              page, lg), link=page, number=cfg.number,
            season=cfg.season, episode_type=cfg.episode_type, explicit=cfg.explicit, image=ep_image, poster=poster,
            transcripts=tuple(listed),
            chapters=chapters_url,
            people=tuple((p.name, p.role, p.group, absolute(base, p.href), absolute(base, p.img))
                         for p in cfg.people),
            soundbites=tuple((round(max(0.0, c.start + offset), 3), round(c.end - c.start, 3),
                              notes.localized(c.title, lg)) for c in cfg.clips
                             if c.start + offset < ep.loudness.output_seconds))
    return items

def _transcripts(show: Show, ep: Episode, out_plan: SitePlan) -> list[tuple[str, str, str]]:
    """The episode's transcript files for feed/transcripts/<slug>/; (url, type, language) of each
    per-language file, in a fixed order (the bilingual pair files are copied but not listed). A
    language with no words (silence, music) gets no transcript: apps would show an empty one."""
    out = []
    names = [(file_name(ep.slug, lg, ext), mime, lg) for lg in LANGUAGES for ext, mime in TRANSCRIPT_TYPES.items()]
    names += [(file_name(ep.slug, "zh-en", ext), None, None) for ext in ("srt", "vtt")]
    said = {lg for lg, t in ep.transcripts.items() if any(s.text.strip() for s in t.segments)}
    for name, mime, lg in names:
        if name in ep.transcript_files and (lg in said if lg else bool(said)):  # nothing said: no empty files listed
            out_plan.copies.append((show.root / ep.transcript_files[name], f"transcripts/{ep.slug}/{name}"))
            if mime:
                out.append((f"{show.base_url}/transcripts/{ep.slug}/{name}", mime, lg))
    return out
