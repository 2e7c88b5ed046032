"""Normalize stage: loudness-correct untagged masters of an episode (the feed's MP3, and the M4A or
the video's MP4), from the core in `normalize.core`.
"""

from __future__ import annotations

from dataclasses import replace

from media_tool import __version__
from media_tool.media.loudness import LoudnessReport
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.stages.normalize import jingles, leveler
from media_tool.stages.normalize.core import (
    DENOISE_REVISION,
    REVISION,
    Target,
    normalize_recording,
)


class NormalizeStage:
    """Loudness-correct untagged masters: the feed's MP3, and the M4A or the video's MP4."""

    name = "normalize"

    def key(self, ctx: Context, ep: Episode) -> dict:
        settings = ep.config.audio(ctx.show)
        jingle_hashes = {k: ctx.state.hashes.digest(ctx.show.root / v)
                         for k, v in (("intro", settings.intro), ("outro", settings.outro)) if v}
        return {"source": ctx.state.hashes.digest(ep.config.source), "audio": settings.to_dict(),
                "jingles": jingle_hashes, "rev": REVISION, "tool": __version__, "ffmpeg": ctx.ff.version,
                "denoise": DENOISE_REVISION if settings.denoise else None,
                "level": {"rev": leveler.REVISION, "turns": [list(t) for t in ep.turns]} if self.leveling(ctx, ep) else None}

    @staticmethod
    def leveling(ctx: Context, ep: Episode) -> bool:
        """The speaker leveler runs where two voices or more were found (`[audio] level_speakers`)."""
        return ep.config.audio(ctx.show).level_speakers and len({who for _, _, who in ep.turns}) >= 2

    @staticmethod
    def moved(ep: Episode, offset: float) -> tuple[tuple[float, float, str], ...]:
        """The speaker turns, found in the recording, on the published file's timeline (`offset`: the
        intro's length less the silence trimmed), as chapters move."""
        out = []
        for a, b, who in ep.turns:
            a, b = max(0.0, a + offset), b + offset
            if b > a:
                out.append((round(a, 3), round(b, 3), who))
        return tuple(out)

    def targets(self, ctx: Context, ep: Episode) -> list[Target]:
        """The audio feed's MP3 first (held exactly to target), then M4A or the video MP4.

        These are untagged masters; the tag stage publishes tagged copies under feed/media."""
        media = ctx.show.state_dir / "media"
        out = [Target(media / f"{ep.slug}.mp3", "mp3")]
        if ep.media and ep.media.has_video:
            out.append(Target(media / f"{ep.slug}.mp4", "mp4"))
        elif ep.config.audio(ctx.show).m4a:
            out.append(Target(media / f"{ep.slug}.m4a", "m4a"))
        return out

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        assert ep.media is not None and ep.media.audio is not None
        settings = ep.config.audio(ctx.show)
        channels = 1 if ep.media.audio.channels == 1 else 2
        prepared = {}
        if not ep.media.has_video:
            for which in ("intro", "outro"):
                name = getattr(settings, which)
                if name:
                    prepared[which] = jingles.prepare(ctx.show.root / name, ctx.show.state_dir / "jingles",
                                                      ctx.ff, channels=channels, sample_rate=settings.sample_rate)
        info = replace(ep.media, path=str(ep.config.source))
        targets = self.targets(ctx, ep)
        levels = None
        if self.leveling(ctx, ep):
            heard = ctx.speech(ctx.show.rel(ep.config.source))  # as the speakers stage heard it
            levels = leveler.plan(heard.samples, heard.regions, ep.turns)
        result, why = normalize_recording(ctx.ff, info, targets, settings, progress=progress,
                                          denoise_to=ctx.show.state_dir / "denoised" / f"{ep.slug}.wav",
                                          display=ctx.show.rel(ep.config.source),
                                          denoise_channel=ctx.denoise_channel() if settings.denoise else None,
                                          levels=levels, **prepared)
        notices = tuple(f"episodes/{ep.slug}: {w}" for w in why)
        outputs = {t.kind: ctx.show.rel(t.path) for t in targets}
        sizes = {t.kind: t.path.stat().st_size for t in targets}
        return (replace(ep, loudness=result, outputs=outputs, notices=ep.notices + notices,
                        turns=self.moved(ep, result.timeline_offset)),
                {"result": result.to_dict(), "outputs": outputs, "sizes": sizes, "notices": list(notices)})

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        for kind, rel in data["outputs"].items():
            p = ctx.show.root / rel
            if not p.is_file() or p.stat().st_size != data["sizes"][kind]:
                return None  # an output went missing or was changed: make it again
        result = LoudnessReport.from_dict(data["result"])
        return replace(ep, loudness=result, outputs=data["outputs"], turns=self.moved(ep, result.timeline_offset),
                       notices=ep.notices + tuple(data.get("notices", ())))
