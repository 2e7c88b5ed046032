"""Clips stage: each `[[clips]]` of an episode rendered as a captioned short MP4 (see `clips.core`).

The clip's times are the recording's (as chapters'), moved into the published file's timeline.
A clip past the end of the episode is the episode.toml's error, as a chapter there is. Where this
ffmpeg cannot draw captions the clips are made without them, and the build says so in one line.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from media_tool import __version__
from media_tool.errors import ConfigError
from media_tool.media.video import font_family, missing_tools
from media_tool.model.language import other_language
from media_tool.stages.clips import core as clips
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.store.files import key_of
from media_tool.text.notes import localized

REVISION = 1


class ClipStage:
    """feed/clips/<slug>-<start>-<end>-<aspect>.mp4 for each configured clip (built under .media-tool/)."""

    name = "clips"

    def _plan(self, ctx: Context, ep: Episode, strict: bool = True) -> list[dict]:
        """What each clip is made of, in the published timeline; raises for a clip past the end
        (unless not `strict`: a key only describes)."""
        if not ep.config.clips or ep.loudness is None:
            return []
        offset, length = ep.loudness.timeline_offset, ep.loudness.output_seconds
        out = []
        for n, c in enumerate(ep.config.clips, 1):
            start, end = c.start + offset, c.end + offset
            if strict and end > length + 0.5:
                raise ConfigError(f"clips[{n - 1}].end: {c.end:g} s is after the episode's end "
                                  f"({length - offset:.1f} s in the recording)", f"episodes/{ep.slug}/episode.toml")
            lang = ep.config.language
            out.append({"start": round(start, 3), "end": round(min(end, length), 3), "aspect": c.aspect,
                        "title": localized(c.title, lang), "title_other": localized(c.title, other_language(lang))})
        return out

    def _sources(self, ctx: Context, ep: Episode) -> tuple[Path, bool, Path | None]:
        video = "mp4" in ep.outputs and bool(ep.media and ep.media.video)
        master = ctx.show.root / ep.outputs["mp4" if video else "mp3"]
        art = ep.config.art or (ctx.show.root / ctx.show.cover if ctx.show.cover else None)
        return master, video, None if video else art

    def key(self, ctx: Context, ep: Episode) -> dict:
        plan = self._plan(ctx, ep, strict=False)
        if not plan:
            return {"clips": []}
        master, video, art = self._sources(ctx, ep)
        lang = ep.config.language
        texts = {lg: [(s.start, s.end, s.text) for s in t.segments] for lg, t in ep.transcripts.items()
                 if lg in (lang, other_language(lang))}
        return {"clips": plan, "master": ctx.state.hashes.digest(master), "video": video,
                "art": ctx.state.hashes.digest(art) if art else None, "text": key_of(texts), "rev": REVISION,
                "tool": __version__, "ffmpeg": ctx.ff.version, "can_draw": missing_tools(ctx.ff) is None, "font": font_family(), "layout": 2}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        plan = self._plan(ctx, ep)
        if not plan:
            return replace(ep, clips=()), {"clips": []}
        why = missing_tools(ctx.ff)
        made = []
        for k, c in enumerate(plan):
            dest = ctx.show.state_dir / "clips" / clips.file_name(ep.slug, c["start"], c["end"], c["aspect"])
            self.render(ctx, ep, c, dest, lambda f, k=k: progress((k + f) / len(plan)))
            made.append({"path": ctx.show.rel(dest), "size": dest.stat().st_size})
        data = {"clips": made}
        notices = ep.notices
        if why:
            data["note"] = f"episodes/{ep.slug}: {why.replace('burned-in captions', 'clip captions')}"
            notices += (data["note"],)
        return replace(ep, clips=tuple(m["path"] for m in made), notices=notices), data

    def render(self, ctx: Context, ep: Episode, c: dict, dest: Path, progress) -> None:
        """One clip ({start, end, aspect, title} in the published timeline) of a built episode to `dest`."""
        master, video, art = self._sources(ctx, ep)
        lang = ep.config.language
        spoken, other = ep.transcripts.get(lang), ep.transcripts.get(other_language(lang))
        ass = None if missing_tools(ctx.ff) else clips.captions(spoken, other, c["start"], c["end"],
                                                                clips.layout(c["aspect"]),
                                                                None if video else c["title"],
                                                                None if video else c.get("title_other"),
                                                                font=font_family())
        clips.render(ctx.ff, master, dest, start=c["start"], end=c["end"], aspect=c["aspect"], video=video,
                     cover=art, ass=ass, audio_kbps=ep.config.audio(ctx.show).aac_kbps(ep.loudness.channels),
                     display=ctx.show.rel(dest), progress=progress)

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        for m in data.get("clips", []):
            p = ctx.show.root / m["path"]
            if not p.is_file() or p.stat().st_size != m["size"]:
                return None
        notices = ep.notices + ((data["note"],) if data.get("note") else ())
        return replace(ep, clips=tuple(m["path"] for m in data.get("clips", [])), notices=notices)
