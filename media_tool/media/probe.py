"""What a recording holds, read by ffprobe (or `ffmpeg -i` where there is none): streams and duration,
and whether it is usable at all.
"""

from __future__ import annotations

import json
import os

from media_tool.errors import InputMediaError, ToolError
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.info import (
    MediaInfo,
    check_usable,
    parse_ffmpeg_banner,
    parse_ffprobe,
    reason,
)


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
