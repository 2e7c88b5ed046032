"""The `Context` every stage may use: the show, the ffmpeg runner, the build state and flags, and the
shared resources (the Whisper model, the translation model and its cache, the search index), each
opened once and behind its lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from media_tool.engines import llm
from media_tool.engines.models import user_cache
from media_tool.engines.translation import Cache, user_translations
from media_tool.engines.translators import LocalTranslator, machine_translator
from media_tool.engines.whisper import load_engine
from media_tool.media.audio import Speech, listen
from media_tool.media.ffmpeg import FFmpeg
from media_tool.model.identity import Identity
from media_tool.model.identity import load as load_identity
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
    readonly: bool = False
    """`status`: look, never write (a damaged index is reported, not rebuilt)."""
    model_lock: threading.Lock = field(default_factory=threading.Lock)
    """One model runs one episode at a time (it uses every core); normalizing goes on in parallel."""
    index_lock: threading.Lock = field(default_factory=threading.Lock)
    """Index writes are serialised (one SQLite writer, one PostgreSQL connection)."""
    cluster: object = None
    """A `cluster.pool.Cluster` when the models run on Ray workers (`build --ray`): `engine`, `translator`,
    `voices`, `embed` and `denoise_channel` then hand their work to it; None: everything runs here."""
    _open_lock: threading.Lock = field(default_factory=threading.Lock)
    _engine: object = None
    _index: object = None
    _local: object = None
    _cache: object = None
    _identity: object = None
    _heard: dict = field(default_factory=dict)
    _heard_lock: threading.Lock = field(default_factory=threading.Lock)

    SPEECH_KEPT = 2
    """Recordings kept decoded at once (an hour is 230 MB): the episodes in flight on this machine."""

    def speech(self, rel: str) -> Speech:
        """A show file as the models hear it (`media.audio.listen`), decoded and searched once per build
        and shared by the speakers, transcribe and translate stages (kept while its file is unchanged)."""
        path = self.show.root / rel
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._heard_lock:
            if key not in self._heard:
                self._heard[key] = listen(path, self.ff)
                while len(self._heard) > self.SPEECH_KEPT:
                    self._heard.pop(next(iter(self._heard)))
            else:  # the latest used stays longest
                self._heard[key] = self._heard.pop(key)
            return self._heard[key]

    def identity(self) -> Identity:
        """The show's guids and feed names as published before (model/identity), read once per build."""
        with self._open_lock:
            if self._identity is None:
                self._identity = load_identity(self.show, self.state.show)
            return self._identity

    def engine(self):
        """The show's Whisper engine, loaded once per build (models are large)."""
        with self._open_lock:
            if self._engine is None:
                tr = self.show.transcription
                self._engine = (self.cluster.whisper(tr.engine, tr.model, tr.device) if self.cluster else
                                load_engine(tr.engine, tr.model, self.show.state_dir / "models", device=tr.device))
            return self._engine

    def translator(self, source: str, target: str, progress=None):
        """The show's machine translator from `source` to `target` (None: people only). The local
        model is assembled and converted on first use (into the user's model cache, once per machine)
        and loaded once per build."""
        tl = self.show.translation
        if tl.engine != "local":
            return machine_translator(tl, source, target, self.show.glossary)
        if self.cluster:
            return self.cluster.translator(tl.device)
        with self._open_lock:
            if self._local is None:
                self._local = llm.LazyModel(lambda: llm.load(llm.model_dir(
                    user_cache(), (lambda what, f: progress(f)) if progress else None), device=tl.device))
            return LocalTranslator(self._local)

    def voices(self):
        """The voice encoder: `diarize` and `voiceprint` (`stages.speakers.core`, or a cluster's worker)."""
        if self.cluster:
            return self.cluster.voices()
        from media_tool.stages.speakers import core

        return core

    def embed(self, texts: list[str]):
        """Unit vectors of passages for meaning search, zeros for those that mean nothing
        (`semantic.passage_vectors`), here or on a cluster's worker."""
        if self.cluster:
            return self.cluster.embed(texts)
        from media_tool.search.semantic import passage_vectors

        return passage_vectors(texts)

    def similarity(self):
        """Cross-lingual similarity of a line and its translation (`semantic.similarity`), or None where
        the embedding model cannot load. On a cluster, the workers' model."""
        if self.cluster:
            return self.cluster.similarity
        from media_tool.search.semantic import similarity_or_none

        return similarity_or_none()

    def denoise_channel(self):
        """The function that reduces one channel's noise (DeepFilterNet here, or on a cluster's worker)."""
        if self.cluster:
            return self.cluster.denoise_channel
        from media_tool.stages.normalize.denoise import denoise_channel

        return denoise_channel

    def translations(self) -> Cache:
        """Translations already made, by what they depend on: one file in the user's model cache,
        shared by every show on the machine (the same sentence, terms and model give the same answer)."""
        with self._open_lock:
            if self._cache is None:
                self._cache = user_translations()
            return self._cache

    def flush(self) -> None:
        """Save what the index keeps in memory (its nearest-neighbour graph), if it was opened."""
        with self._open_lock:
            if self._index is not None:
                self._index.flush()

    def close(self) -> None:
        """Let go of what the build opened (the search index's connection), so nothing of the show stays
        open after it: a long-lived process (serve, a test run) builds again, or the folder is unmounted."""
        with self._open_lock:
            if self._index is not None:
                self._index.close()
                self._index = None
            self._heard.clear()

    def index(self) -> Index:
        """The show's search index, opened once per build."""
        with self._open_lock:
            if self._index is None:
                self._index = open_index(self.show, readonly=self.readonly)
            return self._index
