"""The show-level publish step: after every episode's stages, the feeds and what they point at.

Builds one feed per language from the Episodes the stages filled in (published media and
their sizes, transcript files, chapters, notes), copies the cover, episode art and transcripts
into feed/, and writes only what changed, so an unchanged show gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .. import notes
from ..episode import Episode
from ..errors import PublishError
from ..feed import LANG_CODES, TRANSCRIPT_TYPES, Channel, Item, Media, chapters_json, render
from ..fsutil import copy_if_changed, write_if_changed
from ..show import Show
from ..transcripts import file_name


class PublishStep:
    """feed/feed.xml (the show's language) and feed.<lang>.xml for each other language of the show."""

    name = "publish"

    def run(self, show: Show, episodes: list[Episode], *, now: dt.datetime,
            force: bool = False) -> tuple[list[Path], list[str]]:
        """Write the feeds and what they point at; returns the feed files and notices
        (episodes held back until their date)."""
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
        guid = notes.podcast_guid(f"{base}/feed.xml")
        per_lang: dict[str, list[Item]] = {lg: [] for lg in languages}
        for ep in sorted(episodes, key=lambda e: e.slug):
            cfg = ep.config
            if "mp3" not in ep.published or ep.loudness is None:
                continue
            if cfg.date > now and not force:
                notices.append(f"episodes/{ep.slug}: dated {cfg.date.date()}, held back from the feed until then "
                               f"(--force publishes it now)")
                continue
            media = tuple(Media(kind, f"{base}/media/{Path(ep.published[kind]).name}", ep.sizes[kind])
                          for kind in ("mp3", "mp4", "m4a") if kind in ep.published)
            ep_image = None
            if (cfg.dir / "cover.jpg").is_file():  # episode art, under a stable name
                copy_if_changed(cfg.dir / "cover.jpg", root / "art" / f"{ep.slug}.jpg")
                ep_image = f"{base}/art/{ep.slug}.jpg"
            transcripts = self._transcripts(show, ep)
            for lg in languages:
                chapters_url = None
                if cfg.chapters:
                    name = f"{ep.slug}.json" if lg == show.language else f"{ep.slug}.{lg}.json"
                    write_if_changed(root / "chapters" / name, chapters_json(cfg.chapters, lg))
                    chapters_url = f"{base}/chapters/{name}"
                html = notes.episode_notes(cfg.dir, lg)
                title = notes.localized(cfg.title, lg)
                per_lang[lg].append(Item(
                    slug=ep.slug, guid=notes.item_guid(guid, ep.slug), title=title, date=cfg.date,
                    duration=int(round(ep.loudness.output_seconds)), media=media,
                    summary=notes.summary(notes.plain(html) or title),
                    html=html + notes.extras_html(cfg, lg, transcripts), number=cfg.number,
                    season=cfg.season, episode_type=cfg.episode_type, explicit=cfg.explicit, image=ep_image,
                    transcripts=tuple(transcripts), chapters=chapters_url,
                    people=tuple((p.name, p.role, p.group, p.href, p.img) for p in cfg.people)))
        written = []
        for lg in languages:
            name = "feed.xml" if lg == show.language else f"feed.{lg}.xml"
            channel = Channel(title=notes.localized(show.title, lg), description=notes.localized(show.description, lg),
                              link=base, feed_url=f"{base}/{name}", language=LANG_CODES.get(lg, lg),
                              author=show.author, owner_name=show.owner_name, owner_email=show.owner_email,
                              image=image, categories=show.categories, explicit=show.explicit, locked=show.locked,
                              guid=guid, items=tuple(per_lang[lg]))
            write_if_changed(root / name, render(channel))
            written.append(root / name)
        return written, notices

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
