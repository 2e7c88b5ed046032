"""`media-tool clip`: a captioned clip of a built episode, made by the clips stage's renderer from what
the build's stages recorded (the same verdicts `build` and `status` give)."""

from __future__ import annotations

from media_tool.errors import ConfigError, UsageError
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.video import missing_tools
from media_tool.model.language import other_language
from media_tool.model.show import Show, clip_length_problem, episode_slugs, load_episode
from media_tool.pipeline.build import Verdict, stage_verdict
from media_tool.pipeline.order import CLIPS, STAGES
from media_tool.stages.clips.core import file_name as clip_file_name
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.store.files import ShowLock
from media_tool.store.state import BuildState
from media_tool.text.notes import localized
from media_tool.text.transcripts import snap as snap_to

CLIP_NEEDS = ("probe", "normalize", "transcribe", "translate")
"""What a clip is made of: the normalized master and the transcripts (not the captioned or tagged files)."""


def make_clip(show: Show, ff: FFmpeg, slug: str, start: float, end: float, *, aspect: str = "9:16",
              snap: bool = False, title: str | None = None, progress=None) -> dict:
    """`media-tool clip`: a captioned clip of a built episode into feed/clips/ (times in the recording's
    timeline, as [[clips]]); returns what was made. Refuses an episode whose stages are not built."""
    if slug not in episode_slugs(show):
        raise ConfigError(f"no such episode: {slug}", f"episodes/{slug}")
    with ShowLock(show.state_dir, "clip"):
        ctx = Context(show=show, ff=ff, state=BuildState.load(show.state_dir))
        try:
            return _clip(ctx, show, slug, start, end, aspect=aspect, snap=snap, title=title, progress=progress)
        finally:
            ctx.close()


def _clip(ctx: Context, show: Show, slug: str, start: float, end: float, *, aspect: str, snap: bool,
          title: str | None, progress) -> dict:
    """`make_clip`'s work, under the show's lock."""
    ep = Episode(load_episode(show, slug))
    for stage in [s for s in STAGES if s.name in CLIP_NEEDS]:
        try:
            verdict = stage_verdict(ctx, stage, ep)
        except (OSError, KeyError):
            verdict = Verdict("new", "")
        if verdict.episode is None:
            raise ConfigError(f"{stage.name} is {verdict.status}: run media-tool build first", f"episodes/{slug}")
        ep = verdict.episode
    offset, length = ep.loudness.timeline_offset, ep.loudness.output_seconds
    a, b = start + offset, end + offset
    if b > length + 0.5:
        raise UsageError(f"--end: {end:g} s is after the episode's end ({length - offset:.1f} s in the recording)")
    b = min(b, length)
    spoken = ep.transcripts.get(ep.config.language)
    if snap and spoken:
        a, b = snap_to(spoken.segments, a, b)
    if why := clip_length_problem(b - a):
        raise UsageError(f"{why} (the episode is {length - offset:.1f} s)")
    other = localized(ep.config.title, other_language(ep.config.language))
    plan = {"start": round(a, 3), "end": round(b, 3), "aspect": aspect,
            "title": title or localized(ep.config.title, ep.config.language), "title_other": None if title else other}
    dest = show.feed_dir / "clips" / clip_file_name(slug, a, b, aspect)
    CLIPS.render(ctx, ep, plan, dest, progress or (lambda f: None))
    return {**plan, "path": show.rel(dest), "size": dest.stat().st_size,
            "captions": missing_tools(ctx.ff) is None}
