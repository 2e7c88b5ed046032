"""Tag stage: the published files, tagged for every player (mutagen; ffmpeg for MP4 chapters).

Normalize writes untagged masters under .media-tool/media/; this stage copies each into
feed/media/ and tags the copy, so re-tagging (a new title, a chapter) never re-encodes audio and
the masters that transcripts were made from never change.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from media_tool import __version__
from media_tool.errors import ConfigError
from media_tool.media import verify
from media_tool.media.video import poster_frame
from media_tool.model.language import first
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.store.files import atomic_output, scratch
from media_tool.text import notes
from media_tool.text.formats import named
from media_tool.text.transcripts import file_name

REVISION = 4
COVER_MAX_PX = 1400
COVER_MAX_BYTES = 500_000
ISO_639_2 = {"en": "eng", "zh": "zho"}


@dataclass(frozen=True)
class Tags:
    """Everything written into a file's tags (a pure value, built from the show and episode)."""

    title: str
    show: str
    author: str
    number: int | None
    date: str            # YYYY-MM-DD
    description: str
    language: str        # en | zh
    category: str
    feed_url: str
    guid: str
    chapters: tuple[tuple[float, float, str], ...]  # start, end, title
    transcript: str
    cover: bytes | None  # JPEG, already resized
    subtitles: tuple[tuple[str, str], ...] = ()  # (language, SRT file) for the video's soft subtitles


def cover_jpeg(path: Path) -> bytes:
    """Cover art for embedding: at most 1400 px and 500 KB, RGB JPEG."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((COVER_MAX_PX, COVER_MAX_PX))
        for quality in (90, 80, 70, 60, 50, 40):
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=quality, optimize=True)
            if buf.tell() <= COVER_MAX_BYTES:
                return buf.getvalue()
        im.thumbnail((COVER_MAX_PX // 2, COVER_MAX_PX // 2))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=60)
        return buf.getvalue()


def chapter_spans(starts: list[tuple[float, str]], duration: float) -> tuple[tuple[float, float, str], ...]:
    """(start, end, title) for each chapter: each ends where the next begins, the last at the end."""
    out = []
    for i, (start, title) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else duration
        if start < duration:
            out.append((start, max(start, min(end, duration)), title))
    return tuple(out)


def write_id3(path: Path, t: Tags) -> None:
    """ID3v2.3 with the podcast frames, CHAP/CTOC chapters, the transcript as USLT, cover as APIC."""
    from mutagen.id3 import (
        APIC,
        CHAP,
        COMM,
        CTOC,
        ID3,
        PCST,
        TALB,
        TCAT,
        TCON,
        TDES,
        TDRC,
        TGID,
        TIT2,
        TLAN,
        TPE1,
        TRCK,
        USLT,
        WFED,
        CTOCFlags,
    )

    tags = ID3()
    lang = ISO_639_2.get(t.language, "eng")
    tags.add(TIT2(encoding=1, text=t.title))
    tags.add(TALB(encoding=1, text=t.show))
    tags.add(TPE1(encoding=1, text=t.author))
    if t.number:
        tags.add(TRCK(encoding=1, text=str(t.number)))
    tags.add(TDRC(encoding=1, text=t.date))
    tags.add(TCON(encoding=1, text="Podcast"))
    tags.add(TLAN(encoding=1, text=lang))
    tags.add(COMM(encoding=1, lang=lang, desc="", text=t.description))
    tags.add(PCST(value=1))
    tags.add(TCAT(encoding=1, text=t.category))
    tags.add(TDES(encoding=1, text=t.description))
    tags.add(WFED(url=t.feed_url))
    tags.add(TGID(encoding=1, text=t.guid))
    if t.transcript:
        tags.add(USLT(encoding=1, lang=lang, desc="transcript", text=t.transcript))
    if t.cover:
        tags.add(APIC(encoding=1, mime="image/jpeg", type=3, desc="Cover", data=t.cover))
    ids = [f"chp{i}" for i in range(len(t.chapters))]
    for cid, (start, end, title) in zip(ids, t.chapters):
        tags.add(CHAP(element_id=cid, start_time=int(start * 1000), end_time=int(end * 1000),
                      sub_frames=[TIT2(encoding=1, text=title)]))
    if ids:
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                      sub_frames=[TIT2(encoding=1, text="Chapters")]))
    tags.save(str(path), v2_version=3)


def ffmetadata(chapters: tuple[tuple[float, float, str], ...]) -> str:
    """An ffmpeg metadata file holding chapters (how MP4 chapters are written)."""
    def esc(s: str) -> str:
        return "".join("\\" + c if c in "=;#\\\n" else c for c in s)

    lines = [";FFMETADATA1"]
    for start, end, title in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={int(start * 1000)}", f"END={int(end * 1000)}",
                  f"title={esc(title)}"]
    return "\n".join(lines) + "\n"


SUBTITLE_NAMES = {"zh": "中文", "en": "English"}


def remux_args(path: Path, meta: Path, t: Tags, out: Path) -> list[str]:
    """One stream copy (video and audio bit-exact) adding chapters and a mov_text subtitle track per
    language (ISO 639-2 tag, a title, the spoken language the default track)."""
    args = ["-i", str(path), "-f", "ffmetadata", "-i", str(meta)]
    for _, srt in t.subtitles:
        args += ["-f", "srt", "-i", srt]
    args += ["-map", "0:v?", "-map", "0:a", "-map_chapters", "1"]
    for n in range(len(t.subtitles)):
        args += ["-map", f"{n + 2}:s"]
    args += ["-c", "copy", "-c:s", "mov_text"]
    for n, (lang, _) in enumerate(t.subtitles):
        args += [f"-metadata:s:s:{n}", f"language={ISO_639_2.get(lang, 'und')}",
                 f"-metadata:s:s:{n}", f"title={SUBTITLE_NAMES.get(lang, lang)}",
                 f"-metadata:s:s:{n}", f"handler_name={SUBTITLE_NAMES.get(lang, lang)}",  # MP4 keeps the name here
                 f"-disposition:s:{n}", "default" if lang == t.language else "0"]
    return [*args, "-movflags", "+faststart", "-f", "mp4", "-y", str(out)]


def write_mp4(path: Path, t: Tags, ff) -> None:
    """MP4/M4A: chapters by an ffmpeg stream copy (video untouched), then iTunes atoms with mutagen."""
    from mutagen.mp4 import MP4, MP4Cover

    if t.chapters or t.subtitles:
        with scratch(path, "chapters") as meta, scratch(path, "withchapters") as tmp:
            meta.write_text(ffmetadata(t.chapters), encoding="utf-8")
            ff.run(remux_args(path, meta, t, tmp), path=str(path))
            shutil.move(tmp, path)
    f = MP4(str(path))
    f["\xa9nam"] = [t.title]
    f["\xa9alb"] = [t.show]
    f["\xa9ART"] = [t.author]
    f["\xa9day"] = [t.date]
    f["\xa9gen"] = ["Podcast"]
    f["desc"] = [t.description[:255]]
    f["ldes"] = [t.description]
    if t.number:
        f["trkn"] = [(t.number, 0)]
    f["pcst"] = True
    f["catg"] = [t.category]
    f["purl"] = [t.feed_url]
    f["egid"] = [t.guid]
    if t.transcript:
        f["\xa9lyr"] = [t.transcript]
    if t.cover:
        f["covr"] = [MP4Cover(t.cover, imageformat=MP4Cover.FORMAT_JPEG)]
    f.save()


def tagged_copy(master: Path, dest: Path, t: Tags, kind: str, ff, seconds: float, display: str) -> int:
    """Copy a master, tag the copy, check it decodes whole, move it into place; returns its size."""
    with atomic_output(dest) as tmp:
        shutil.copyfile(master, tmp)
        if kind == "mp3":
            write_id3(tmp, t)
        else:
            write_mp4(tmp, t if kind == "mp4" else replace(t, subtitles=()), ff)
        verify.media_file(ff, tmp, seconds=seconds, video=kind == "mp4", display=display)
        size = tmp.stat().st_size
    return size


class TagStage:
    """Tagged copies of the masters, what listeners download: made in .media-tool/tagged/ and put
    into feed/media/ by the publish step, only when the whole episode built."""

    name = "tag"

    def _tags(self, ctx: Context, ep: Episode) -> tuple[Tags, Path | None]:
        """The tags (cover not yet read) and the cover art file: the episode's, else the show's."""
        show, cfg = ctx.show, ep.config
        lang = show.language
        title = notes.localized(cfg.title, lang)
        text = notes.plain(notes.episode_notes(cfg.notes, lang))
        spoken = ep.transcripts.get(cfg.language)
        duration = ep.loudness.output_seconds if ep.loudness else 0.0
        guid = ctx.identity().item_guid(ep.slug)
        chapters = notes.published_chapters(cfg.chapters, ep.loudness.timeline_offset if ep.loudness else 0.0)
        late = [i for i, c in enumerate(chapters) if c.start >= duration]
        if late:
            raise ConfigError(f"chapters[{late[0]}].start: {notes.clock(chapters[late[0]].start)} in the published "
                              f"episode is past its end ({notes.clock(duration)})", f"episodes/{ep.slug}/episode.toml")
        art = cfg.art or (show.root / show.cover if show.cover else None)
        return Tags(
            title=title, show=notes.localized(show.title, lang), author=show.author,
            number=cfg.number, date=cfg.date.date().isoformat(), description=notes.summary(text or title),
            language=cfg.language, category=(show.categories or ("Podcast",))[0], feed_url=f"{show.base_url}/feed.xml",
            guid=guid, chapters=chapter_spans([(c.start, notes.localized(c.title, lang)) for c in chapters], duration),
            transcript="\n".join(named(spoken.segments, show.transcription.speaker_names)) if spoken else "",
            cover=None, subtitles=self._subtitles(ctx, ep)), art

    @staticmethod
    def _subtitles(ctx: Context, ep: Episode) -> tuple[tuple[str, str], ...]:
        """The video's subtitle tracks: each language's SRT, the spoken language first."""
        if "mp4" not in ep.outputs:
            return ()
        langs = list(first(ep.config.language))
        return tuple((lg, str(ctx.show.root / ep.transcript_files[name])) for lg in langs
                     if (name := file_name(ep.slug, lg, "srt")) in ep.transcript_files)

    def key(self, ctx: Context, ep: Episode) -> dict:
        t, art = self._tags(ctx, ep)
        d = {k: v for k, v in t.__dict__.items() if k not in ("cover", "subtitles")}
        d["subtitles"] = {lang: ctx.state.hashes.digest(Path(srt)) for lang, srt in t.subtitles}
        return {"masters": {k: ctx.state.hashes.digest(ctx.show.root / v) for k, v in ep.outputs.items()},
                "tags": d, "cover": ctx.state.hashes.digest(art) if art else None, "rev": REVISION,
                "tool": __version__}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        t, art = self._tags(ctx, ep)
        if art is not None:
            t = replace(t, cover=cover_jpeg(art))
        tagged, sizes = {}, {}
        for kind, rel in ep.outputs.items():
            master = ctx.show.root / rel
            dest = ctx.show.state_dir / "tagged" / master.name
            sizes[kind] = tagged_copy(master, dest, t, kind, ctx.ff, ep.loudness.output_seconds, ctx.show.rel(dest))
            tagged[kind] = ctx.show.rel(dest)
        data: dict = {"tagged": tagged, "sizes": sizes}
        if "mp4" in ep.outputs:  # what players show before the video plays
            poster = ctx.show.state_dir / "tagged" / f"{ep.slug}.poster.jpg"
            poster_frame(ctx.ff, ctx.show.root / ep.outputs["mp4"], poster, seconds=ep.loudness.output_seconds,
                         display=ctx.show.rel(poster))
            data.update(poster=ctx.show.rel(poster), poster_size=poster.stat().st_size)
        return replace(ep, tagged=tagged, sizes=sizes, poster=data.get("poster")), data

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        for kind, rel in data.get("tagged", {}).items():
            p = ctx.show.root / rel
            if not p.is_file() or p.stat().st_size != data["sizes"][kind]:
                return None
        if "tagged" not in data:
            return None  # recorded by an older media-tool that tagged in place: tag again
        poster = data.get("poster")
        if poster and not ((ctx.show.root / poster).is_file()
                           and (ctx.show.root / poster).stat().st_size == data.get("poster_size")):
            return None
        return replace(ep, tagged=data["tagged"], sizes=data["sizes"], poster=poster)
