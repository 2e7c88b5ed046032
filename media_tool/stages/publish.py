"""The show-level publish step: after every episode's stages, the feeds and what they point at.

Only this step writes feed/, and only for episodes whose every stage succeeded: it puts their
tagged media, transcripts, chapters and art in place and builds one feed per language from the
Episodes the stages filled in. An episode that fails keeps the version it last published (its
feed items are kept in the build state, its files in feed/ are left alone); a new episode that
fails is simply not published yet. Only what changed is written, so an unchanged show gives
byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import notes, site
from ..episode import Episode
from ..errors import PublishError, disk_error
from ..feed import LANG_CODES, TRANSCRIPT_TYPES, Channel, Item, Media, as_video, chapters_json, render
from ..fsutil import atomic_output, copy_if_changed, write_if_changed
from ..show import Show
from ..transcripts import file_name, other_language


@dataclass
class Published:
    """What the step wrote and decided: feed files, notices, and the per-episode records to keep."""

    feeds: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # held back until their date
    kept: list[str] = field(default_factory=list)     # failed episodes whose last good version stays
    records: dict[str, dict] = field(default_factory=dict)  # slug -> {"date", "items": {lang: item}}


def link_if_changed(src: Path, dst: Path) -> bool:
    """Put `src` at `dst` as a hard link (no second copy of large media), else a copy; atomic."""
    if dst.exists() and os.path.samefile(src, dst):
        return False
    with atomic_output(dst) as tmp:
        try:
            os.link(src, tmp)
        except OSError:  # another file system, or links not allowed: copy instead
            copy_if_changed(src, tmp)
    return True


def absolute(base: str, link: str | None) -> str | None:
    """A show-relative link (already checked safe) as a URL under the site; URLs stay as they are."""
    if link is None or "://" in link:
        return link
    return f"{base}/{link}"


def _room_for(show: Show, episodes: list[Episode]) -> None:
    """Refuse before writing anything when the media to copy into feed/ would not fit: half a set of
    files swapped in place would not match the feed that is still live."""
    root = show.feed_dir
    root.mkdir(parents=True, exist_ok=True)
    needed = 0
    for ep in episodes:
        files = [(rel, "media") for rel in ep.tagged.values()] + [(rel, "clips") for rel in ep.clips]
        if ep.captioned:
            files.append((ep.captioned, "media"))
        for rel, folder in files:
            src, dst = show.root / rel, root / folder / Path(rel).name
            if dst.exists() and os.path.samefile(src, dst):
                continue
            if os.stat(src).st_dev != os.stat(root).st_dev:  # a copy, not a link: it takes room
                needed += os.stat(src).st_size
    if needed:
        free = shutil.disk_usage(root).free
        if free < needed + (1 << 20):
            raise disk_error(OSError(errno.ENOSPC, "no space"), show.rel(root), needed)


class PublishStep:
    """feed/feed.xml (the show's language) and feed.<lang>.xml for each other language of the show."""

    name = "publish"

    def run(self, show: Show, episodes: list[Episode], *, now: dt.datetime, force: bool = False,
            failed: dict[str, str] | None = None, kept: dict[str, dict] | None = None) -> Published:
        """Publish the `episodes` that built; for the slugs in `failed` (slug -> why), keep what
        `kept` (the records this step returned last time) says they published."""
        root, base = show.feed_dir, show.base_url
        if not base.startswith("https://"):
            raise PublishError(f"base_url: {base} is not https; Apple Podcasts and most apps refuse such feeds, "
                               "so none was written", "podcast.toml")
        failed, kept = failed or {}, kept or {}
        _room_for(show, episodes)
        out = Published()
        image = None
        if show.cover:
            cover = show.root / show.cover
            copy_if_changed(cover, root / f"cover{cover.suffix.lower()}")
            image = f"{base}/cover{cover.suffix.lower()}"
        languages = [show.language] + [lg for lg in ("en", "zh") if lg != show.language and lg in show.title]
        main_guid = notes.podcast_guid(f"{base}/feed.xml")  # item guids hang off the main feed's, forever
        per_lang: dict[str, list[Item]] = {lg: [] for lg in languages}
        pages: list[site.SiteEpisode] = []
        for ep in sorted(episodes, key=lambda e: e.slug):
            if "mp3" not in ep.tagged or ep.loudness is None:
                continue
            if ep.config.date > now and not force:
                out.notices.append(f"episodes/{ep.slug}: scheduled for {ep.config.date.date()}, held back from the "
                                   f"feed until then (--force publishes it now)")
                continue
            items = self._episode(show, ep, languages, main_guid)
            pages.append(self._page(ep, items))
            previous = kept.get(ep.slug, {})
            record_items = {lg: it.to_dict() for lg, it in items.items()}
            date = previous.get("date") if previous.get("items") == record_items else now.date().isoformat()
            out.records[ep.slug] = {"date": date, "items": record_items}
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
            suffix = "" if lg == show.language else f".{lg}"
            videos = tuple(v for v in map(as_video, per_lang[lg]) if v is not None)
            # The audio feed, and (where there is video) a video feed whose enclosures are the MP4s.
            for name, items, medium in ((f"feed{suffix}.xml", tuple(per_lang[lg]), "podcast"),
                                        (f"feed.video{suffix}.xml", videos, "video")):
                if medium == "video" and not items:
                    continue
                feed_url = f"{base}/{name}"
                title = notes.localized(show.title, lg) + (" (video)" if medium == "video" else "")
                channel = Channel(title=title, description=notes.localized(show.description, lg),
                                  link=base, feed_url=feed_url, language=LANG_CODES.get(lg, lg),
                                  author=show.author, owner_name=show.owner_name, owner_email=show.owner_email,
                                  image=image, categories=show.categories, explicit=show.explicit, locked=show.locked,
                                  guid=notes.podcast_guid(feed_url), items=items, medium=medium)
                write_if_changed(root / name, render(channel))
                out.feeds.append(root / name)
                feeds.append((name, site.feed_label(medium, lg)))
        other = next((lg for lg in languages if lg != show.language), None)
        listed_other = {it.slug: it for it in per_lang[other]} if other else {}
        for rel, data in site.render(show, pages, per_lang[show.language], listed_other, feeds).items():
            write_if_changed(root / rel, data)
        return out

    @staticmethod
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
                                subtitled=Path(ep.captioned).name if ep.captioned else None)

    def _episode(self, show: Show, ep: Episode, languages: list[str], main_guid: str) -> dict[str, Item]:
        """Put one built episode's files into feed/ and make its item in each language."""
        root, base, cfg = show.feed_dir, show.base_url, ep.config
        audio = cfg.audio(show)
        channels = ep.loudness.channels
        media = []
        for kind in ("mp3", "mp4", "m4a"):
            if kind not in ep.tagged:
                continue
            name = Path(ep.tagged[kind]).name
            link_if_changed(show.root / ep.tagged[kind], root / "media" / name)
            video = ep.media.video if kind == "mp4" and ep.media else None
            kbps = audio.mp3_kbps(channels) if kind == "mp3" else audio.aac_kbps(channels)
            bitrate = (int(ep.sizes[kind] * 8 / max(ep.loudness.output_seconds, 1e-3)) if video
                       else kbps * 1000)
            media.append(Media(kind, f"{base}/media/{name}", ep.sizes[kind], bitrate,
                               video.height if video and video.height else None))
        if ep.captioned:  # the video with its captions drawn in, for where people watch
            link_if_changed(show.root / ep.captioned, root / "media" / Path(ep.captioned).name)
        for rel in ep.clips:  # short captioned clips to share
            link_if_changed(show.root / rel, root / "clips" / Path(rel).name)
        ep_image = None
        if cfg.art:  # episode art, under a stable name
            copy_if_changed(cfg.art, root / "art" / f"{ep.slug}.jpg")
            ep_image = f"{base}/art/{ep.slug}.jpg"
        transcripts = self._transcripts(show, ep)
        offset = ep.loudness.timeline_offset  # the recording's times, moved into the published file's
        chapters = notes.published_chapters(cfg.chapters, offset)
        chapters = tuple(replace(c, url=absolute(base, c.url), image=absolute(base, c.image)) for c in chapters)
        items = {}
        for lg in languages:
            chapters_url = None
            if chapters:
                name = f"{ep.slug}.json" if lg == show.language else f"{ep.slug}.{lg}.json"
                write_if_changed(root / "chapters" / name, chapters_json(chapters, lg))
                chapters_url = f"{base}/chapters/{name}"
            html = notes.episode_notes(cfg.notes, lg)
            title = notes.localized(cfg.title, lg)
            items[lg] = Item(
                slug=ep.slug, guid=notes.item_guid(main_guid, ep.slug), title=title, date=cfg.date,
                duration=int(round(ep.loudness.output_seconds)), media=tuple(media),
                summary=notes.summary(notes.plain(html) or title),
                html=html + notes.extras_html(chapters, cfg.people, lg, transcripts), number=cfg.number,
                season=cfg.season, episode_type=cfg.episode_type, explicit=cfg.explicit, image=ep_image,
                transcripts=tuple(transcripts), chapters=chapters_url,
                people=tuple((p.name, p.role, p.group, absolute(base, p.href), absolute(base, p.img))
                             for p in cfg.people),
                soundbites=tuple((round(max(0.0, c.start + offset), 3), round(c.end - c.start, 3),
                                  notes.localized(c.title, lg)) for c in cfg.clips
                                 if c.start + offset < ep.loudness.output_seconds))
        return items

    @staticmethod
    def _transcripts(show: Show, ep: Episode) -> list[tuple[str, str, str]]:
        """Copy the episode's transcript files into feed/transcripts/<slug>/; (url, type, language) of each
        per-language file, in a fixed order (the bilingual pair files are copied but not listed)."""
        out = []
        names = [(file_name(ep.slug, lg, ext), mime, lg) for lg in ("en", "zh") for ext, mime in TRANSCRIPT_TYPES.items()]
        names += [(file_name(ep.slug, "zh-en", ext), None, None) for ext in ("srt", "vtt")]
        for name, mime, lg in names:
            if name in ep.transcript_files:
                copy_if_changed(show.root / ep.transcript_files[name], show.feed_dir / "transcripts" / ep.slug / name)
                if mime:
                    out.append((f"{show.base_url}/transcripts/{ep.slug}/{name}", mime, lg))
        return out
