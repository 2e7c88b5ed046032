"""The values that flow through the build: an `Episode` gaining facts stage by stage, and the
progress `Event`s the CLI renders.

Data flows one way: show folder -> stages -> Episode -> site. A stage reads only what
earlier stages put on the Episode (never another stage's build records or private helpers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from media_tool.media.info import MediaInfo
from media_tool.media.loudness import LoudnessReport
from media_tool.model.show import EpisodeConfig
from media_tool.text.transcripts import Transcript


@dataclass(frozen=True)
class Episode:
    """One episode as it flows through the stages, gaining facts at each."""

    config: EpisodeConfig
    media: MediaInfo | None = None                   # probe
    loudness: LoudnessReport | None = None           # normalize
    turns: tuple[tuple[float, float, str], ...] = ()  # speakers: (start, end, name) in the published timeline
    outputs: dict[str, str] = field(default_factory=dict)  # normalize: kind -> untagged master (show-relative)
    transcripts: dict[str, Transcript] = field(default_factory=dict)  # transcribe/translate: language -> text
    transcript_files: dict[str, str] = field(default_factory=dict)  # file name -> show-relative path
    edited: frozenset[str] = frozenset()             # transcript file names a person changed (their version wins)
    captioned: str | None = None                             # captions: the subtitled MP4 (show-relative)
    clips: tuple[str, ...] = ()                              # clips: the rendered [[clips]] (show-relative)
    tagged: dict[str, str] = field(default_factory=dict)     # tag: kind -> tagged file (.media-tool/tagged/)
    sizes: dict[str, int] = field(default_factory=dict)      # tag: kind -> bytes of the tagged file
    poster: str | None = None                                # tag: a still of the video for players (show-relative)
    notices: tuple[str, ...] = ()                    # conflicts and missing translations, for the report

    @property
    def slug(self) -> str:
        return self.config.slug


@dataclass(frozen=True)
class Event:
    """A progress report from the core; the CLI decides how to show it."""

    slug: str
    stage: str
    kind: str  # "start" | "progress" | "done" | "skipped" | "failed"
    fraction: float = 0.0
    message: str = ""


EventFn = Callable[[Event], None]
StageProgress = Callable[[float], None]
"""What a stage calls with its fraction done (0..1)."""
