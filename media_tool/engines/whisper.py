"""Whisper engines behind one interface: openai-whisper (the reference) and faster-whisper.

The edge where models run. Audio reaches both engines as 16 kHz mono samples decoded by the
project's one ffmpeg runner; both get the same guards against Whisper's failure modes
(see `guard`), so they differ only in speed.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media_tool.engines.guards import RawSegment
from media_tool.engines.models import keep_loaded, offline_model_dir
from media_tool.engines.whisper_convert import convert
from media_tool.errors import ModelError
from media_tool.media.audio import SAMPLE_RATE, windows
from media_tool.model.settings import ENGINES

AudioProgressFn = Callable[[float, float], None]
"""Called with (seconds of audio done, seconds of audio in all)."""


@dataclass(frozen=True)
class Run:
    """One engine pass: the language it decoded in and its segments."""

    language: str
    segments: list[RawSegment]
    duration: float


TAIL_S, SHORTEST_S = 1, 10
"""When the encoder input is trimmed (see _trimmed_pipeline): seconds of padding kept after a
window's speech, and the shortest input. Below about 10 seconds Whisper base drifts (one short
question translated as a name repeated 30 times was seen with 2-second inputs)."""


class FasterWhisper:
    """CTranslate2 Whisper, batched over voice-active stretches: the fast path."""

    name = "faster-whisper"

    def __init__(self, model: str, *, batch_size: int = 2, compute_type: str | None = None, device: str = "auto"):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        local = Path(model) if Path(model).is_dir() else offline_model_dir(model)
        self.model_name = model
        self.device = cuda_or_cpu(device)
        # On the CPU, one single-threaded CTranslate2 worker per core, each decoding its own share of
        # the windows: small Whisper matrices gain little from threads inside one call (measured
        # here: 3.1 s against 4.7 s for 5 minutes with tiny.en on two cores). On a GPU, one pipeline
        # in float16 with larger batches.
        gpu = self.device == "cuda"
        self.workers = 1 if gpu else max(1, os.cpu_count() or 1)
        batch_size = 16 if gpu else batch_size
        try:
            self._model = WhisperModel(str(local or model), device=self.device,
                                       compute_type=compute_type or ("float16" if gpu else "int8"),
                                       cpu_threads=1 if not gpu else 4, num_workers=self.workers)
        except Exception as exc:
            raise ModelError(f"cannot load faster-whisper model {model!r}: {exc}") from exc
        trimmed = _trimmed_pipeline(BatchedInferencePipeline)
        self._pipes = [trimmed(self._model) for _ in range(self.workers)]
        self.batch_size = batch_size
        self.multilingual = bool(self._model.model.is_multilingual)

    def detect_language(self, audio: np.ndarray) -> str:
        lang, _, _ = self._model.detect_language(audio)
        return lang

    def languages_of(self, clips: list[np.ndarray], choices: tuple[str, ...]) -> list[str]:
        """Which of `choices` each stretch of speech is in (a turn: a question, an answer), the stretches
        shared among the workers. Each is encoded as long as it is (whole seconds, at least SHORTEST_S),
        not padded to Whisper's 30 seconds: on a 10-second turn the encoder does a third of the work,
        and an interview's turns are told apart no worse (tests/test_speakers.py)."""
        from concurrent.futures import ThreadPoolExecutor

        fx = self._model.feature_extractor

        def one(clip: np.ndarray) -> str:
            features = fx(clip[:fx.n_samples])[..., :fx.nb_max_frames]
            need = max(math.ceil(len(clip) / SAMPLE_RATE) + TAIL_S, SHORTEST_S) * self._model.frames_per_second
            features = features[..., :need]
            if features.shape[-1] < need:  # a clip shorter than SHORTEST_S: padded to it, as Whisper expects
                features = np.pad(features, ((0, 0), (0, need - features.shape[-1])))
            probs = dict((token[2:-2], p) for token, p in
                         self._model.model.detect_language(self._model.encode(features))[0])
            return max(choices, key=lambda c: probs.get(c, 0.0))

        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(one, clips))

    def run(self, audio: np.ndarray, *, language: str, task: str, prompt: str | None,
            speech: list[tuple[float, float]], progress: AudioProgressFn | None = None) -> Run:
        duration = len(audio) / SAMPLE_RATE
        # Windows are dealt round the workers. Decoding runs without timestamp tokens (with them,
        # a sentence that ends a 30-second window is sometimes dropped); word timestamps give the
        # sentence timings instead. The speech already found is reused (no second VAD pass);
        # greedy decoding with temperature fallback, as openai-whisper decodes by default.
        # Translation goes one speech region at a time: across a merged window Whisper base's
        # translate task tends to loop (one sentence for half a minute), and a loop costs the window.
        all_windows = list(speech) if task == "translate" else windows(speech)
        shares = [all_windows[i::self.workers] for i in range(self.workers)]
        done = [0.0]
        lock = threading.Lock()

        def decode(pipe, share):
            if not share:
                return [], None
            segments, info = pipe.transcribe(
                audio, language=language, task=task, initial_prompt=prompt, batch_size=self.batch_size,
                beam_size=1, vad_filter=False, clip_timestamps=[{"start": a, "end": b} for a, b in share],
                without_timestamps=True, word_timestamps=True, condition_on_previous_text=False,
                compression_ratio_threshold=2.4, no_speech_threshold=0.6)
            out = []
            for s in segments:
                words = [(w.start, w.end, w.word, w.probability) for w in (s.words or [])]
                pieces = split_sentences(words) if words else [(s.start, s.end, s.text, None)]
                # each piece's own confidence, from its words (the window's average hides a bad sentence)
                out += [RawSegment(a, b, text, s.avg_logprob if lp is None else lp, s.no_speech_prob)
                        for a, b, text, lp in pieces]
                if progress:
                    with lock:
                        done[0] += s.end - s.start
                        progress(min(done[0], duration), duration)
            return out, info

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.workers) as pool:
            results = list(pool.map(decode, self._pipes, shares))
        segs = sorted((seg for part, _ in results for seg in part), key=lambda x: x.start)
        info = next((i for _, i in results if i is not None), None)
        return Run(info.language if info else language, segs, duration)


def _trimmed_pipeline(base):
    """faster-whisper's batched pipeline, encoding only the frames a batch's longest window fills.

    The pipeline pads every window to Whisper's 30 seconds (3000 frames) before the encoder, whose
    self-attention grows with the square of its input: measured here (base, int8, one thread),
    20-second inputs encode at 0.62 s per 30 s of audio against 0.79 s padded. Cut to the longest
    window in the batch (whole seconds, plus TAIL_S of the padding Whisper expects after speech),
    the decoder and the word aligner also attend over fewer frames. Mandarin CER on the committed
    clips moved by one character either way; see scripts/bench_transcribe.py for English WER."""

    class Trimmed(base):
        def forward(self, features, tokenizer, chunks_metadata, options):
            per_second = self.model.frames_per_second
            need = max(max(math.ceil(m["duration"]) for m in chunks_metadata) + TAIL_S, SHORTEST_S) * per_second
            return super().forward(features[..., :min(features.shape[-1], need)], tokenizer, chunks_metadata,
                                   options)

    return Trimmed


SENTENCE_END = (".", "?", "!", "。", "？", "！", "…")


def split_sentences(words: list[tuple], max_seconds: float = 12.0,
                    gap: float = 0.8) -> list[tuple[float, float, str, float | None]]:
    """Timed words (start, end, word[, probability]) into subtitle-sized segments: at sentence ends,
    long pauses, or when too long; each with its words' mean log-probability (None without them)."""
    out, cur = [], []
    for w in words:
        start, end, word = w[:3]
        if cur and (start - cur[-1][1] > gap or end - cur[0][0] > max_seconds):
            out.append(cur)
            cur = []
        cur.append(w)
        if word.strip().endswith(SENTENCE_END):
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    joined = []
    for group in out:
        text = "".join(w[2] for w in group).strip()
        probs = [w[3] for w in group if len(w) > 3 and w[3] is not None]
        lp = sum(math.log(max(p, 1e-6)) for p in probs) / len(probs) if probs else None
        joined.append((float(group[0][0]), float(group[-1][1]), text, lp))
    return joined


_TQDM_LOCK = threading.Lock()


class OpenAIWhisper:
    """The reference implementation (PyTorch), sequential 30-second windows."""

    name = "openai-whisper"

    def __init__(self, model: str, *, cache_dir: Path):
        import whisper


        source = model
        local = Path(model) if Path(model).is_dir() else offline_model_dir(model)
        if local is not None and (local / "model.bin").is_file():
            source = str(convert(local, cache_dir))  # CTranslate2 weights: convert once, cache
        self.model_name = model
        try:
            self._model = whisper.load_model(source, device="cpu", download_root=str(cache_dir))
        except Exception as exc:
            raise ModelError(f"cannot load openai-whisper model {model!r}: {exc}") from exc
        self.multilingual = bool(self._model.is_multilingual)

    def _language_probs(self, audio: np.ndarray) -> dict[str, float]:
        import whisper

        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), self._model.dims.n_mels)
        return self._model.detect_language(mel)[1]

    def detect_language(self, audio: np.ndarray) -> str:
        probs = self._language_probs(audio)
        return max(probs, key=probs.get)

    def languages_of(self, clips: list[np.ndarray], choices: tuple[str, ...]) -> list[str]:
        """Which of `choices` each stretch of speech is in (one turn: a question, an answer)."""
        out = []
        for clip in clips:
            probs = self._language_probs(clip)
            out.append(max(choices, key=lambda c: probs.get(c, 0.0)))
        return out

    def run(self, audio: np.ndarray, *, language: str, task: str, prompt: str | None,
            speech: list[tuple[float, float]], progress: AudioProgressFn | None = None) -> Run:
        import importlib

        wt = importlib.import_module("whisper.transcribe")  # the module, not the function of that name
        duration = len(audio) / SAMPLE_RATE
        # openai-whisper reports progress only through tqdm; lend it a tqdm that calls back.
        with _TQDM_LOCK:
            real = wt.tqdm.tqdm
            wt.tqdm.tqdm = _callback_tqdm(progress, duration)
            try:
                result = self._model.transcribe(
                    audio, language=language, task=task, initial_prompt=prompt, fp16=False, verbose=False,
                    condition_on_previous_text=False, compression_ratio_threshold=2.4,
                    no_speech_threshold=0.6, logprob_threshold=-1.0)
            finally:
                wt.tqdm.tqdm = real
        segs = [RawSegment(s["start"], s["end"], s["text"], s.get("avg_logprob", 0.0), s.get("no_speech_prob", 0.0))
                for s in result["segments"]]
        return Run(result.get("language", language), segs, duration)


def _callback_tqdm(progress: AudioProgressFn | None, duration: float):
    class Bar:
        def __init__(self, total=None, **kwargs):
            self.total, self.n = total or 1, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n=1):
            self.n += n
            if progress:
                progress(min(duration, duration * self.n / self.total), duration)

    return Bar


def cuda_or_cpu(device: str) -> str:
    """`auto`: CUDA where CTranslate2 sees a GPU, else the CPU."""
    if device != "auto":
        return device
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:
        return "cpu"


def load_engine(engine: str, model: str, cache_dir: Path, device: str = "auto"):
    """An engine by name, with the model by name (downloaded as each engine does) or local path;
    faster-whisper on `device` (auto: CUDA where there is a GPU), openai-whisper on the CPU."""
    if engine == "faster-whisper":
        return keep_loaded(("faster-whisper", model, device), lambda: FasterWhisper(model, device=device))
    if engine == "openai-whisper":
        return keep_loaded(("openai-whisper", model, str(cache_dir)), lambda: OpenAIWhisper(model, cache_dir=cache_dir))
    raise ModelError(f"unknown engine {engine!r} (use {' or '.join(ENGINES)})")
