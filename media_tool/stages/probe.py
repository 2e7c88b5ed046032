"""Probe stage: what a recording holds, read by ffprobe (or `ffmpeg -i` where there is none)."""

from __future__ import annotations

from dataclasses import replace

from media_tool import __version__
from media_tool.media.info import MediaInfo
from media_tool.media.probe import probe
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode


class ProbeStage:
    """The recording's streams and duration, for the stages that decide on them."""

    name = "probe"

    def key(self, ctx: Context, ep: Episode) -> dict:
        return {"source": ctx.state.hashes.digest(ep.config.source), "tool": __version__,
                "ffmpeg": ctx.ff.version}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        info = probe(str(ep.config.source), ctx.ff)
        info = replace(info, path=ctx.show.rel(info.path))
        return replace(ep, media=info), {"media": info.to_dict()}

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        return replace(ep, media=MediaInfo.from_dict(data["media"]))
