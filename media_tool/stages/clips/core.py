"""Short shareable clips: a span of an episode as a vertical (or square, or wide) MP4 with the
bilingual captions of that span drawn in, for WeChat Channels, Bilibili and the programme's pages.

An audio episode becomes an audiogram: the cover art, the episode title and a waveform of the span
(ffmpeg `showwaves`) on a dark ground. A video episode's picture fills the frame (scaled up and
centre-cropped, as vertical clips of talking heads are). The sound is the span of the episode's
normalized master, so a clip is as loud as the episode (50 ms fades keep the cuts from clicking).
The layout (`plan`) is pure; `render` is the one ffmpeg call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from media_tool.errors import ConfigError
from media_tool.media import verify
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.video import CRF, FPS, PRESET, draw_filter
from media_tool.model.show import ASPECTS
from media_tool.store.files import atomic_output, scratch
from media_tool.text.layout import caption_size, to_ass
from media_tool.text.transcripts import Transcript, align_by_time, span

BACKGROUND = "0x14202c"
FADE_S = 0.05
MIN_SHOWN_S = 0.5
"""A sentence the cut leaves less of than this is not captioned (it would only flash)."""


@dataclass(frozen=True)
class Layout:
    """Where things go in an audiogram frame (pixels); captions sit at the bottom (see `to_ass`)."""

    width: int
    height: int
    cover_side: int
    cover_top: int
    title_top: int
    wave_top: int
    wave_height: int


def layout(aspect: str) -> Layout:
    """Cover near the top, the title under it, then the waveform, leaving the bottom to captions."""
    if aspect not in ASPECTS:
        raise ConfigError(f"aspect: expected one of {', '.join(ASPECTS)}, got {aspect!r}")
    w, h = ASPECTS[aspect]
    size = caption_size(w, h)
    side = int(min(w * 0.7, h * 0.32)) // 2 * 2  # (a vertical frame keeps its lower part for captions)
    cover_top = round(h * 0.06)
    title_top = cover_top + side + round(h * 0.03)
    wave_top = title_top + round(size * 2.9)
    return Layout(w, h, side, cover_top, title_top, wave_top, int(h * (0.14 if h > w else 0.1)) // 2 * 2)


def captions(spoken: Transcript | None, other: Transcript | None, start: float, end: float,
             lay: Layout, title: str | None, title_other: str | None = None, font: str | None = None) -> str:
    """The ASS document of a clip: the span's captions (moved to start at 0) and, for audiograms, the title
    (and under it the title in the other language)."""
    if spoken and other and len(spoken.segments) != len(other.segments):  # a translation cut elsewhere
        other = align_by_time(spoken, list(other.segments), other.language, other.origin)
    source = span(spoken, start, end, MIN_SHOWN_S) if spoken else Transcript("und", ())
    translation = span(other, start, end, MIN_SHOWN_S) if other else None
    return to_ass(source, translation, lay.width, lay.height, title=title, title_top=lay.title_top,
                  duration=end - start, title_other=title_other, **({"font": font} if font else {}))


def graph(lay: Layout, duration: float, *, video: bool, cover: bool, ass: Path | None) -> str:
    """The filter graph: [v] the picture (audiogram or filled video) with captions, [a] the faded sound."""
    w, h = lay.width, lay.height
    drawn = f",{draw_filter(ass)}" if ass else ""
    fade = f"afade=t=in:d={FADE_S},afade=t=out:st={max(0.0, duration - FADE_S):.3f}:d={FADE_S}"
    if video:
        return (f"[0:v]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1{drawn},"
                f"format=yuv420p[v];[0:a]{fade}[a]")
    parts = [f"color=c={BACKGROUND}:s={w}x{h}:r={FPS}:d={duration:.3f}[bg]"]
    last = "bg"
    if cover:
        s = lay.cover_side
        parts += [f"[1:v]scale={s}:{s}:force_original_aspect_ratio=decrease,pad={s}:{s}:(ow-iw)/2:(oh-ih)/2:"
                  f"color={BACKGROUND},setsar=1[cov]",
                  f"[bg][cov]overlay=(W-w)/2:{lay.cover_top}:eof_action=repeat[b1]"]
        last = "b1"
    parts += ["[0:a]asplit[a0][a1]",
              f"[a0]showwaves=s={w}x{lay.wave_height}:mode=cline:scale=sqrt:rate={FPS}:colors=0xE8EEF4,format=rgba[wave]",
              f"[{last}][wave]overlay=0:{lay.wave_top}:shortest=1{drawn},format=yuv420p[v]",
              f"[a1]{fade}[a]"]
    return ";".join(parts)


def render(ff: FFmpeg, master: Path, dest: Path, *, start: float, end: float, aspect: str, video: bool,
           cover: Path | None, ass: str | None, audio_kbps: int, display: str,
           progress: Callable[[float], None] | None = None) -> None:
    """Write the clip of master[start:end] to `dest` (atomically, decoded back before it is kept).
    `ass` is None where this ffmpeg cannot draw captions: the clip is made without them."""
    lay = layout(aspect)
    duration = end - start
    with scratch(dest, "ass") as sub, atomic_output(dest) as tmp:
        if ass is not None:
            sub.write_text(ass, encoding="utf-8")
        args = ["-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", str(master)]
        if cover is not None and not video:
            args += ["-f", "image2", "-loop", "1", "-framerate", str(FPS), "-i", str(cover)]
        args += ["-filter_complex", graph(lay, duration, video=video, cover=cover is not None and not video,
                                          ass=sub if ass is not None else None),
                 "-map", "[v]", "-map", "[a]", "-t", f"{duration:.3f}",
                 "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
                 "-c:a", "aac", "-b:a", f"{audio_kbps}k", "-movflags", "+faststart", "-f", "mp4", "-y", str(tmp)]
        ff.run(args, progress=(lambda s: progress(min(1.0, s / max(duration, 1e-3)))) if progress else None,
               path=display)
        verify.media_file(ff, tmp, seconds=duration, video=True, display=display)


def file_name(slug: str, start: float, end: float, aspect: str) -> str:
    """A clip's published name, from what it is: `<slug>-1m20s-2m05s-9x16.mp4`."""
    def t(x: float) -> str:
        m, s = divmod(int(round(x)), 60)
        return f"{m}m{s:02d}s"
    return f"{slug}-{t(start)}-{t(end)}-{aspect.replace(':', 'x')}.mp4"
