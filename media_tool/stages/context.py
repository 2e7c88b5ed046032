"""The `Context` every stage may use: the show, the ffmpeg runner, the build state and flags, and the
two shared resources (the Whisper model and the search index), each opened once and behind its lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from media_tool.engines.whisper import load_engine
from media_tool.media.ffmpeg import FFmpeg
from media_tool.model.show import Show
from media_tool.search import Index, open_index
from media_tool.store.state import BuildState


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
