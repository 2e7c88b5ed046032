"""The values that flow through the build: an `Episode` gaining facts stage by stage, the
`Context` every stage may use, and the progress `Event`s the CLI renders.

Data flows one way: show folder -> stages -> Episode -> publish. A stage reads only what
earlier stages put on the Episode (never another stage's build records or private helpers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .ffmpeg import FFmpeg
from .loudness import LoudnessReport
from .media import MediaInfo
from .search import Index, open_index
from .show import EpisodeConfig, Show
from .state import BuildState
from .transcripts import Transcript
from .whisper_engines import load_engine


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
    notices: tuple[str, ...] = ()                    # conflicts and missing translations, for the report

    @property
    def slug(self) -> str:
        return self.config.slug


@dataclass
class Context:
    """What every stage may use: the show, the ffmpeg runner, the state, the build's flags, and
    the two shared resources (the Whisper model and the search index), each behind its lock."""

    show: Show
    ff: FFmpeg
    state: BuildState
    force: bool = False
    model_lock: threading.Lock = field(default_factory=threading.Lock)
    """One model runs one episode at a time (it uses every core); normalizing goes on in parallel."""
    index_lock: threading.Lock = field(default_factory=threading.Lock)
    """Index writes are serialised (one SQLite writer, one PostgreSQL connection)."""
    _open_lock: threading.Lock = field(default_factory=threading.Lock)
    _engine: object = None
    _index: object = None

    def engine(self):
        """The show's Whisper engine, loaded once per build (models are large)."""
        with self._open_lock:
            if self._engine is None:
                tr = self.show.transcription
                self._engine = load_engine(tr.engine, tr.model, self.show.state_dir / "models")
            return self._engine

    def flush(self) -> None:
        """Save what the index keeps in memory (its nearest-neighbour graph), if it was opened."""
        with self._open_lock:
            if self._index is not None:
                self._index.flush()

    def index(self) -> Index:
        """The show's search index, opened once per build."""
        with self._open_lock:
            if self._index is None:
                self._index = open_index(self.show)
            return self._index


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
