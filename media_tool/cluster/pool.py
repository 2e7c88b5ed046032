"""The driver's side of a cluster build: the Ray connection, one model worker (an actor) per GPU or per
CPU node, and stand-ins for the models that send each call to a free worker.

The driver keeps the show folder, the state, the lock and every write; only the models' work leaves
it, as values (16 kHz samples, requests, texts) through Ray's object store, so workers need no shared
disk. Ray is imported here alone, and only when a build asks for a cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from media_tool import __version__
from media_tool.engines import llm
from media_tool.engines.translators import PROMPT_REVISION
from media_tool.errors import ClusterError, UsageError

ENV = "MEDIA_TOOL_RAY_ADDRESS"
RESTARTS, RETRIES = 3, 3
"""A worker process that dies is started again (its models reloaded) up to RESTARTS times, and the call
it was running is retried up to RETRIES times; past that the driver tries another worker."""


def address(flag: str | None, setting: str | None) -> str | None:
    """Which cluster a build uses: `--ray`, else $MEDIA_TOOL_RAY_ADDRESS, else [cluster] address;
    "off" (or "none") in any of them builds on this machine alone (pure)."""
    for value in (flag, os.environ.get(ENV), setting):
        if value is None or not value.strip():
            continue
        value = value.strip()
        return None if value.lower() in ("off", "none") else value
    return None


def check_address(value: str) -> str:
    """`local` (an in-process cluster) or HOST:PORT of a running head (or ray://HOST:PORT)."""
    if value == "local":
        return value
    host, _, port = value.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--ray: expected HOST:PORT of a running Ray head, or local; got {value!r}")
    return value


def reachable(addr: str, timeout_s: float = 5.0) -> None:
    """Fail in one line when nothing listens at the head's address: Ray itself would retry for minutes."""
    host, _, port = addr.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ClusterError(f"--ray {addr}: no Ray head answers there ({exc.strerror or exc}); start one with "
                           f"`ray start --head --port {port}`, or build without --ray") from exc


def _token_if_there() -> None:
    """Send Ray's token where there is one (~/.ray/auth_token, $RAY_AUTH_TOKEN, $RAY_AUTH_TOKEN_PATH)
    and RAY_AUTH_MODE is unset, as `ray start --head` itself enables token auth when a token file
    exists: a head started on this machine after `--ray local` (which writes one) wants it. A head
    without token auth accepts a client that sends one."""
    if os.environ.get("RAY_AUTH_MODE"):
        return
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.expanduser("~/.ray/auth_token")
    if os.environ.get("RAY_AUTH_TOKEN") or os.path.isfile(path):
        os.environ["RAY_AUTH_MODE"] = "token"


def _errors_to_stderr() -> None:
    """Ray prints the cluster's error messages ("A worker died ...") to the driver's stdout, which is
    `build --json`'s report: send them to stderr, where the build's other messages go."""
    import ray._private.worker as rw

    shown = getattr(rw, "print_to_stdstream", None)
    if shown is None or getattr(shown, "media_tool", False):
        return

    def to_stderr(data, ignore_prefix: bool):
        shown({**data, "is_err": True}, ignore_prefix)

    to_stderr.media_tool = True
    rw.print_to_stdstream = to_stderr


@dataclass(frozen=True)
class Slot:
    """One worker to start: on which node, with how many CPUs and GPUs."""

    node: str
    cpus: float
    gpus: int


def plan(nodes: list[dict], workers: int | None = None) -> list[Slot]:
    """The workers for a cluster (pure, from `ray.nodes()`): one per GPU, else one per node with every
    CPU it has (the models use every core themselves); `workers` caps or spreads the count."""
    slots = []
    for n in nodes:
        res = n.get("Resources") or {}
        if not n.get("Alive", True) or res.get("CPU", 0) < 1 and not res.get("GPU"):
            continue
        gpus, cpus = int(res.get("GPU", 0)), float(res.get("CPU", 0))
        if gpus:
            slots += [Slot(n["NodeID"], max(0.0, min(1.0, cpus / gpus)), 1) for _ in range(gpus)]
        else:
            slots.append(Slot(n["NodeID"], cpus, 0))
    if workers and slots:
        if workers < len(slots):
            slots = slots[:workers]
        else:  # more workers than nodes: the CPU nodes' cores are shared between them
            base, out = list(slots), []
            for i in range(workers):
                s = base[i % len(base)]
                share = sum(1 for j in range(workers) if base[j % len(base)].node == s.node)
                out.append(s if s.gpus else Slot(s.node, max(1.0, s.cpus // share), 0))
            slots = out
    return slots


class Cluster:
    """A Ray cluster as the build sees it: connected once (`connect`), its workers started on first use,
    each call sent to a free one. Which workers ran a stage is collected per thread (`track`)."""

    def __init__(self, addr: str, workers: int | None = None):
        self.address = check_address(addr)
        self.wanted = workers
        self.slots: list[Slot] = []
        self._free: queue.Queue = queue.Queue()
        self._started = False
        self._lock = threading.Lock()
        self._seen = threading.local()
        self._info: dict = {}

    # -- connection and workers ----------------------------------------------------------------------
    def connect(self) -> int:
        """Join the cluster (or start one in this process, for `local`); returns how many workers it
        will have. Models are not loaded yet: a rebuild with nothing to do costs only this."""
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if self.address != "local":
            reachable(self.address)
            _token_if_there()  # before Ray is imported: it reads its settings then
        try:
            import ray
        except ImportError as exc:
            raise ClusterError('--ray needs Ray: pip install -e ".[ray]"') from exc
        logging.getLogger("ray").setLevel(logging.ERROR)
        try:
            if not ray.is_initialized():
                if self.address == "local":  # a new one, never a stale head recorded under /tmp/ray
                    ray.init(address="local", include_dashboard=False, log_to_driver=False, configure_logging=False)
                else:
                    ray.init(address=self.address, log_to_driver=False, configure_logging=False)
        except Exception as exc:  # ConnectionError, a timeout, a version mismatch, a token refused
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "auth" in str(exc).lower():
                why += ("; the cluster wants its token: put it in ~/.ray/auth_token or $RAY_AUTH_TOKEN "
                        "and set RAY_AUTH_MODE=token")
            raise ClusterError(f"--ray {self.address}: cannot join the cluster ({why})") from exc
        _errors_to_stderr()
        self.slots = plan(ray.nodes(), self.wanted)
        if not self.slots:
            raise ClusterError(f"--ray {self.address}: the cluster has no node with a CPU or a GPU")
        return len(self.slots)

    def _start(self) -> None:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from media_tool.cluster.worker import ModelWorker

        with self._lock:
            if self._started:
                return
            actor = ray.remote(max_restarts=RESTARTS, max_task_retries=RETRIES)(ModelWorker)
            handles = [actor.options(num_cpus=s.cpus, num_gpus=s.gpus,
                                     scheduling_strategy=NodeAffinitySchedulingStrategy(s.node, soft=True)).remote()
                       for s in self.slots]
            for h, info in zip(handles, ray.get([h.hello.remote() for h in handles])):
                if info["version"] != __version__:
                    raise ClusterError(f"--ray {self.address}: a worker on {info['node']} runs media-tool "
                                       f"{info['version']}, this machine {__version__}: install the same on every node")
                self._info[h] = info
                self._free.put(h)
            self._started = True

    def summary(self) -> dict:
        """For the build's report: where, how many workers, and whether any was needed."""
        return {"address": self.address, "workers": len(self.slots), "started": self._started}

    def close(self) -> None:
        """Leave the cluster (the workers of this build end with it)."""
        try:
            import ray

            if ray.is_initialized():
                ray.shutdown()
        except ImportError:
            pass

    # -- calls -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def track(self):
        """Collect, on this thread, where the calls made inside the block ran."""
        self._seen.places = seen = []
        try:
            yield seen
        finally:
            self._seen.places = None

    def call(self, method: str, *args, progress: Callable | None = None, stream: bool = False):
        """`method` of a free worker on `args`; a streamed call's progress goes to `progress`. A worker
        that cannot be brought back (its node gone) is dropped and the call tried on another."""
        from ray.exceptions import ActorDiedError, ActorUnavailableError

        self._start()
        while True:
            if not self.slots:
                raise ClusterError(f"--ray {self.address}: every worker has died")
            h = self._free.get()
            try:
                value = self._on(h, method, args, progress, stream)
            except (ActorDiedError, ActorUnavailableError):
                with self._lock:
                    self.slots = self.slots[:-1]
                continue
            self._free.put(h)
            places = getattr(self._seen, "places", None)
            if places is not None:
                info = self._info[h]
                places.append(f"ray:{info['node']} ({info['device']})")
            return value

    @staticmethod
    def _on(h, method: str, args: tuple, progress, stream: bool):
        import ray

        fn = getattr(h, method)
        if not stream:
            return ray.get(fn.remote(*args))
        result = None
        for ref in fn.options(num_returns="streaming").remote(*args):
            event = ray.get(ref)
            if event[0] == "progress":
                if progress:
                    progress(*event[1:])
            elif event[0] == "error":
                raise event[1]
            else:
                result = event[1]
        return result

    # -- the models, as the stages use them ------------------------------------------------------
    def whisper(self, engine: str, model: str, device: str = "auto") -> RemoteWhisper:
        return RemoteWhisper(self, (engine, model, device))

    def translator(self, device: str) -> RemoteTranslator:
        return RemoteTranslator(self, device)

    def voices(self) -> RemoteVoices:
        return RemoteVoices(self)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.call("embed", texts) if texts else np.zeros((0, 384), np.float32)

    def similarity(self, pairs: list[tuple[str, str]]) -> list[float]:
        return self.call("similarity", list(pairs)) if pairs else []

    def denoise_channel(self, samples: np.ndarray, limit_db: float, progress=None) -> np.ndarray:
        return self.call("denoise", samples, limit_db)


class RemoteWhisper:
    """A Whisper engine (`engines.whisper`'s interface) whose every call runs on a worker."""

    def __init__(self, cluster: Cluster, spec: tuple[str, str, str]):
        self.cluster, self.spec = cluster, spec
        self.name, self.model_name = spec[0], spec[1]
        self._multilingual: bool | None = None

    @property
    def multilingual(self) -> bool:
        if self._multilingual is None:
            self._multilingual = bool(self.cluster.call("whisper_info", self.spec)["multilingual"])
        return self._multilingual

    def detect_language(self, audio: np.ndarray) -> str:
        return self.cluster.call("detect_language", self.spec, audio)

    def languages_of(self, clips: list[np.ndarray], choices: tuple[str, ...]) -> list[str]:
        return self.cluster.call("languages_of", self.spec, clips, choices)

    def run(self, audio: np.ndarray, *, language: str, task: str, prompt: str | None,
            speech: list[tuple[float, float]], progress=None):
        options = {"language": language, "task": task, "prompt": prompt, "speech": list(speech)}
        return self.cluster.call("whisper_run", self.spec, audio, options, progress=progress, stream=True)


class RemoteTranslator:
    """The local translation model (`engines.translators.LocalTranslator`'s interface) on a worker: the
    whole list of requests goes in one call, so its batches are the ones a local build makes."""

    name = "local"
    revision = PROMPT_REVISION
    model_name = llm.NAME

    def __init__(self, cluster: Cluster, device: str):
        self.cluster, self.device = cluster, device
        self.model = _RemoteJudge(cluster, device)

    def translate_requests(self, requests, progress=None) -> list[str]:
        return self.cluster.call("translate", self.device, list(requests), progress=progress, stream=True)

    def candidates_for(self, requests, beams: int, progress=None) -> list[list[str]]:
        return self.cluster.call("candidates", self.device, list(requests), beams, progress=progress, stream=True)

    def translate(self, texts: list[str]) -> list[str]:
        raise NotImplementedError("the local translator takes requests (engines.translation)")


class _RemoteJudge:
    """The worker's local model as the judge of Mandarin put right by sound (`LocalModel.fluency`)."""

    def __init__(self, cluster: Cluster, device: str):
        self.cluster, self.device = cluster, device

    def fluency(self, texts: list[str]) -> list[float]:
        return self.cluster.call("fluency", self.device, list(texts)) if texts else []


class RemoteVoices:
    """The voice encoder (`stages.speakers.core`'s diarize and voiceprint) on a worker."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster

    def diarize(self, audio: np.ndarray, speech: list, speakers: int | None):
        return self.cluster.call("diarize", audio, list(speech), speakers)

    def voiceprint(self, audio: np.ndarray, speech: list):
        return self.cluster.call("voiceprint", audio, list(speech))
