"""Captions stage: a video episode with its bilingual captions drawn into the picture.

`feed/media/<slug>.subtitled.mp4` is for where the audience watches with captions in the picture
(WeChat Channels, Bilibili, the programme's pages): the spoken language on top, the translation
under it, in the lower third, drawn by libass in Noto Sans CJK SC (Debian's fonts-noto-cjk: one
family for Chinese and Latin). The picture is re-encoded with x264 `-preset veryfast -crf 23`
(visually transparent for talking heads at a fraction of the source's bit rate); the normalized
AAC is copied, so the file lasts and sounds as the published MP4. Where the ffmpeg in use has no
libass, or no font can draw Chinese, the build says so in one line and makes everything else.
"""

from __future__ import annotations

from dataclasses import replace

from media_tool import __version__
from media_tool.errors import MediaToolError
from media_tool.media.video import CRF, burn, font_family, missing_tools
from media_tool.model.language import other_language
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.store.files import key_of
from media_tool.text.layout import captioned_frame, to_ass

REVISION = 2  # 2: drawn at least 360 rows tall, captions inside the safe area


class CaptionStage:
    """The subtitled MP4 of a video episode; nothing for an audio-only one."""

    name = "captions"

    def _ass(self, ep: Episode) -> str | None:
        if "mp4" not in ep.outputs or not ep.media or not ep.media.video:
            return None
        spoken = ep.transcripts.get(ep.config.language)
        if spoken is None or not spoken.segments:
            return None
        other = ep.transcripts.get(other_language(ep.config.language))
        width, height = captioned_frame(ep.media.video.width, ep.media.video.height)
        return to_ass(spoken, other, width, height, font=font_family())

    def key(self, ctx: Context, ep: Episode) -> dict:
        ass = self._ass(ep)
        return {"master": ctx.state.hashes.digest(ctx.show.root / ep.outputs["mp4"]) if ass else None,
                "ass": key_of({"ass": ass}), "rev": REVISION, "crf": CRF, "tool": __version__,
                "ffmpeg": ctx.ff.version, "can_draw": missing_tools(ctx.ff) is None if ass else None}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        ass = self._ass(ep)
        if ass is None:
            return ep, {}
        why = missing_tools(ctx.ff)
        if why:
            note = f"episodes/{ep.slug}: {why}"
            return replace(ep, notices=ep.notices + (note,)), {"missing": why}
        master = ctx.show.root / ep.outputs["mp4"]
        dest = master.with_name(f"{ep.slug}.subtitled.mp4")
        try:
            v = ep.media.video
            size = captioned_frame(v.width, v.height)
            burn(ctx.ff, master, dest, ass, seconds=ep.loudness.output_seconds, display=ctx.show.rel(dest),
                 size=size if size != (v.width, v.height) else None, progress=progress)
        except MediaToolError as exc:  # an optional copy: its failure never keeps the episode from the feed
            why = f"the captioned copy could not be made ({exc.one_line()}); the episode is published without it"
            return replace(ep, notices=ep.notices + (f"episodes/{ep.slug}: {why}",)), {"missing": why}
        rel = ctx.show.rel(dest)
        return replace(ep, captioned=rel), {"captioned": rel, "size": dest.stat().st_size}

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        if data.get("missing"):
            return replace(ep, notices=ep.notices + (f"episodes/{ep.slug}: {data['missing']}",))
        rel = data.get("captioned")
        if rel is None:
            return ep
        p = ctx.show.root / rel
        if not p.is_file() or p.stat().st_size != data["size"]:
            return None
        return replace(ep, captioned=rel)
