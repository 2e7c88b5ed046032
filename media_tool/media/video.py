"""Burned-in captions: libass draws an ASS script into a video's picture (x264), used by the captions
stage and by clips; `missing_tools` says why it cannot here (no libass, no CJK font).
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from media_tool.media import verify
from media_tool.media.ffmpeg import FFmpeg, filter_path
from media_tool.store.files import atomic_output, scratch
from media_tool.text.layout import CAPTION_FONT

CRF, PRESET, FPS = 23, "veryfast", 15
"""x264 as the captions stage; audiograms at 15 frames/s (a waveform needs no more; half the encoding of 30)."""

WHEEL_FONT = ("Noto Sans SC", "pylopdf_fonts_zh_cn", "NotoSansSC-Regular.otf")
"""Where no system font draws Chinese: Noto Sans SC (OFL-1.1) from the pylopdf-fonts-zh-cn wheel,
a dependency, so a pip install burns captions with no system step."""


def missing_tools(ff) -> str | None:
    """Why burned-in captions cannot be drawn here, or None (asked once per ffmpeg: keys ask it often)."""
    return _missing_tools(ff.ffmpeg, os.environ.get("FONTCONFIG_FILE"))


@functools.lru_cache(maxsize=8)
def _missing_tools(ffmpeg: str, _fontconfig: str | None) -> str | None:
    filters = subprocess.run([ffmpeg, "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    if not any(line.split()[1:2] == ["ass"] for line in filters.splitlines() if line.strip()):
        return "the ffmpeg in use has no libass (its `ass` filter): burned-in captions skipped"
    if caption_font() is None:
        return (f"no font draws Chinese: neither {CAPTION_FONT} (Debian: apt install fonts-noto-cjk) nor the "
                f"pip package pylopdf-fonts-zh-cn is installed: burned-in captions skipped")
    return None


def caption_font() -> tuple[str, Path | None] | None:
    """The font captions are drawn in: (family, a fontsdir holding it alone, or None for a system
    font fontconfig finds); None where no font here draws Chinese."""
    return _caption_font(os.environ.get("FONTCONFIG_FILE"))


@functools.lru_cache(maxsize=4)
def _caption_font(_fontconfig: str | None) -> tuple[str, Path | None] | None:
    fc = shutil.which("fc-list")
    if fc and subprocess.run([fc, f"{CAPTION_FONT}:lang=zh"], capture_output=True, text=True).stdout.strip():
        return CAPTION_FONT, None
    family, package, name = WHEEL_FONT
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    font = Path(next(iter(spec.submodule_search_locations))) / name
    if not font.is_file():
        return None
    # A folder of its own: libass loads every file in fontsdir (the wheel's folder holds a serif too).
    folder = Path(tempfile.mkdtemp(prefix="media-tool-font-"))
    atexit.register(shutil.rmtree, folder, True)
    (folder / name).symlink_to(font)
    return family, folder


def font_family() -> str:
    """The family name the ASS styles ask for (the system's where both exist)."""
    found = caption_font()
    return found[0] if found else CAPTION_FONT


def draw_filter(ass: Path) -> str:
    """The `ass` filter drawing the script at `ass`, told where the pip-installed font is if that is
    the one in use."""
    found = caption_font()
    folder = f":fontsdir={filter_path(found[1])}" if found and found[1] else ""
    return f"ass={filter_path(ass)}{folder}"

def burn(ff: FFmpeg, master: Path, dest: Path, ass: str, *, seconds: float, display: str,
         size: tuple[int, int] | None = None, progress: Callable[[float], None] | None = None) -> None:
    """The whole video with `ass` drawn into its picture (x264 as above), at `size` (the master's
    frame scaled up where it is too small for readable captions, see `captioned_frame`); the audio is
    copied, so it lasts and sounds as the master. Atomic, and decoded back before it is kept."""
    with scratch(dest, "ass") as sub, atomic_output(dest) as tmp:
        sub.write_text(ass, encoding="utf-8")
        # x264 with yuv420p needs even dimensions: an odd-sized picture (641x479) is padded by a pixel
        scale = f"scale={size[0]}:{size[1]}:flags=lanczos," if size else ""
        ff.run(["-i", str(master), "-map", "0:v:0", "-map", "0:a:0",
                "-vf", f"{scale}pad=ceil(iw/2)*2:ceil(ih/2)*2,{draw_filter(sub)}",
                "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
                "-c:a", "copy", "-movflags", "+faststart", "-f", "mp4", "-y", str(tmp)],
               progress=(lambda s: progress(min(1.0, s / max(seconds, 1e-3)))) if progress else None, path=display)
        verify.media_file(ff, tmp, seconds=seconds, video=True, display=display)


POSTER_AT, POSTER_WIDTH = 0.1, 1280
"""Where a poster frame is looked for (a tenth into the video: past a title card or a black fade-in),
and its largest width."""


def poster_frame(ff: FFmpeg, video: Path, dest: Path, *, seconds: float, display: str) -> None:
    """A JPEG still of `video` for players to show before it plays: the most typical of about two
    seconds of frames from a tenth of the way in (ffmpeg's `thumbnail` filter), upright as the video
    is shown (rotation is applied), at most POSTER_WIDTH wide. Atomic; refused if no picture came out."""
    with atomic_output(dest) as tmp:
        ff.run(["-ss", f"{max(0.0, seconds * POSTER_AT):.3f}", "-i", str(video), "-map", "0:v:0",
                "-vf", f"thumbnail=50,scale='min({POSTER_WIDTH},iw)':-2", "-frames:v", "1", "-q:v", "3",
                "-f", "mjpeg", "-y", str(tmp)], path=display)
        verify.still_image(tmp, display)
