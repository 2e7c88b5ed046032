"""A cluster worker: one process that keeps its models loaded (Whisper, the translation model, the
voice encoder, the embedding engine, the noise reducer), each on first use, and answers the driver's
calls with values. Plain Python: `cluster.pool` makes it a Ray actor (tests call it in-process too).

Long calls are generators: they yield ("progress", ...) now and then, and end with ("result", value)
or ("error", exception) for an error the build reports in one line (a `MediaToolError`).
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from media_tool import __version__
from media_tool.errors import MediaToolError

PROGRESS_EVERY_S = 0.5
"""The least time between two progress messages of one call (each is an object in Ray's store)."""


def streamed(work: Callable[[Callable], object]) -> Iterator[tuple]:
    """Run `work(progress)` on a thread and yield its progress calls as they come, then its result:
    the engines report progress from their own threads, which a generator cannot yield from."""
    events: queue.Queue = queue.Queue()
    last = [0.0]

    def progress(*args) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            events.put(("progress", *args))

    def target() -> None:
        try:
            events.put(("result", work(progress)))
        except MediaToolError as exc:  # said in one line by the driver, as in a local build
            events.put(("error", exc))
        except BaseException as exc:  # noqa: BLE001 - anything else travels back as it is
            events.put(("raise", exc))

    threading.Thread(target=target, daemon=True).start()
    while True:
        event = events.get()
        if event[0] == "raise":
            raise event[1]
        yield event
        if event[0] in ("result", "error"):
            return


def _node_address() -> str:
    try:
        import ray

        return ray.util.get_node_ip_address()
    except Exception:  # in-process (tests), or not inside Ray
        return socket.gethostname()


class ModelWorker:
    """The models of one worker process, loaded once each and kept."""

    def __init__(self) -> None:
        self._engines: dict[tuple[str, str, str], object] = {}
        self._translators: dict[str, object] = {}
        self._lock = threading.Lock()

    def hello(self) -> dict:
        """Who answers: the code's version (a worker must run the driver's), where, on what."""
        try:
            import ctranslate2

            gpus = ctranslate2.get_cuda_device_count()
        except Exception:
            gpus = 0
        return {"version": __version__, "node": _node_address(), "pid": os.getpid(), "cpus": os.cpu_count(),
                "device": "cuda" if gpus else "cpu"}

    def where(self) -> str:
        return f"ray:{_node_address()}"

    # -- Whisper -------------------------------------------------------------------------------------
    def _engine(self, spec: tuple[str, str, str]):
        from media_tool.engines.models import user_cache
        from media_tool.engines.whisper import load_engine

        with self._lock:
            if spec not in self._engines:
                engine, model, device = spec
                self._engines[spec] = load_engine(engine, model, user_cache() / "whisper", device=device)
            return self._engines[spec]

    def whisper_info(self, spec: tuple[str, str, str]) -> dict:
        e = self._engine(spec)
        return {"name": e.name, "model_name": e.model_name, "multilingual": e.multilingual}

    def detect_language(self, spec, audio: np.ndarray) -> str:
        return self._engine(spec).detect_language(audio)

    def languages_of(self, spec, clips: list[np.ndarray], choices: tuple[str, ...]) -> list[str]:
        return self._engine(spec).languages_of(clips, choices)

    def whisper_run(self, spec, audio: np.ndarray, options: dict) -> Iterator[tuple]:
        yield from streamed(lambda progress: self._engine(spec).run(audio, progress=progress, **options))

    # -- the translation model -----------------------------------------------------------------------
    def _translator(self, device: str):
        from media_tool.engines import llm
        from media_tool.engines.models import user_cache
        from media_tool.engines.translators import LocalTranslator

        with self._lock:
            if device not in self._translators:
                self._translators[device] = LocalTranslator(llm.LazyModel(
                    lambda: llm.load(llm.model_dir(user_cache()), device=device)))
            return self._translators[device]

    def translate(self, device: str, requests: list) -> Iterator[tuple]:
        yield from streamed(lambda progress: self._translator(device).translate_requests(requests, progress=progress))

    def fluency(self, device: str, texts: list[str]) -> list[float]:
        return self._translator(device).model.fluency(texts)

    def candidates(self, device: str, requests: list, beams: int) -> Iterator[tuple]:
        yield from streamed(lambda progress: self._translator(device).candidates_for(requests, beams, progress=progress))

    # -- voices, meaning, noise ----------------------------------------------------------------------
    def diarize(self, audio: np.ndarray, speech: list, speakers: int | None):
        from media_tool.stages.speakers import core

        return core.diarize(audio, speech, speakers)

    def voiceprint(self, audio: np.ndarray, speech: list):
        from media_tool.stages.speakers import core

        return core.voiceprint(audio, speech)

    def embed(self, texts: list[str]) -> np.ndarray:
        from media_tool.search import semantic

        return semantic.passage_vectors(texts)

    def similarity(self, pairs: list) -> list[float]:
        from media_tool.search import semantic

        return semantic.similarity(pairs)

    def denoise(self, samples: np.ndarray, limit_db: float) -> np.ndarray:
        from media_tool.stages.normalize import denoise

        return denoise.denoise_channel(samples, limit_db)
