"""Probe stage: what a recording holds, read by ffprobe (or `ffmpeg -i` where there is none)."""

from __future__ import annotations

import json
import os
from dataclasses import replace

from .. import __version__
from ..episode import Context, Episode
from ..errors import InputMediaError, ToolError
from ..ffmpeg import FFmpeg
from ..media import MediaInfo, check_usable, parse_ffmpeg_banner, parse_ffprobe, reason

__all__ = ["ProbeStage", "probe", "parse_ffmpeg_banner"]


def probe(path: str, ff: FFmpeg) -> MediaInfo:
    """Probe one file and check it is usable; raise InputMediaError naming it if not."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise InputMediaError(f"cannot read: {exc.strerror}", path) from exc
    if size == 0:
        raise InputMediaError("empty file (0 bytes)", path)
    if ff.ffprobe:
        try:
            data = json.loads(ff.probe(path).stdout or b"{}")
        except ToolError as exc:
            raise InputMediaError(f"not a media file ffmpeg can read ({reason(exc.stderr_tail)})", path) from exc
        info = parse_ffprobe(path, size, data)
    else:
        code, result = ff.run_tolerant(["-i", path])
        text = "\n".join(result.stderr_lines)
        if "Input #0" not in text:
            raise InputMediaError(f"not a media file ffmpeg can read ({reason(text)})", path)
        info = parse_ffmpeg_banner(path, size, text)
    check_usable(info)
    return info


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
