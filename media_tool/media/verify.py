"""Every media output is checked before it is moved into place and recorded: it decodes end to end,
lasts as long as it should, and holds the streams it should. A truncated file (a full disk, a killed
encoder) is refused here, so the build never records or publishes one."""

from __future__ import annotations

from pathlib import Path

from media_tool.errors import InputMediaError, MediaToolError, free_space
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.loudness import decode_error_count

TOLERANCE_S = 0.1
"""How far the decoded duration may stray from the planned one: a few codec frames of priming
and padding (AAC frames are 23 ms, MP3 frames 26 ms)."""


def media_file(ff: FFmpeg, path: Path, *, seconds: float, video: bool, display: str) -> None:
    """Decode the audio of `path` to the end (and read every video packet); raise if it is damaged,
    short or missing a stream. `display` names the file in the message."""
    decoded = [0.0]

    def seen(s: float) -> None:
        decoded[0] = max(decoded[0], s)

    try:
        res = ff.run(["-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "null", "-"], progress=seen, path=display)
        if video:  # every video packet read (not decoded: it is a copy of the recording's)
            ff.run(["-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"], path=display)
    except MediaToolError as exc:
        raise InputMediaError(f"the written file is damaged ({exc.message}); nothing was published",
                              display) from exc
    if decode_error_count(res.stderr_lines):
        raise InputMediaError("the written file does not decode cleanly; nothing was published", display)
    if abs(decoded[0] - seconds) > TOLERANCE_S:
        raise InputMediaError(f"the written file lasts {decoded[0]:.2f} s, {seconds:.2f} s were expected "
                              f"(truncated: {free_space(path) or 'unknown'} free on its disk?); nothing was published", display)


def still_image(path: Path, display: str) -> None:
    """A written JPEG must be whole: its start and end markers, and more than a header between."""
    data = path.read_bytes() if path.is_file() else b""
    if len(data) < 200 or not data.startswith(b"\xff\xd8") or not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise InputMediaError(f"the written image is damaged ({len(data)} bytes; "
                              f"{free_space(path) or 'unknown'} free on its disk?); nothing was published", display)
