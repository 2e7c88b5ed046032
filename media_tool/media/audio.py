"""Speech audio for the models: 16 kHz mono samples decoded by the one ffmpeg runner, where speech
is (Silero voice activity detection), and windows of it. The one sample rate of every model here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media_tool.media.ffmpeg import FFmpeg

SAMPLE_RATE = 16000

def decode_audio(path: Path, ff: FFmpeg) -> np.ndarray:
    """16 kHz mono float samples, decoded by the project's ffmpeg runner."""
    res = ff.run(["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le",
                  "pipe:1"], capture_stdout=True, path=str(path))
    return np.frombuffer(res.stdout, dtype=np.float32).copy()  # writable, as torch wants

@dataclass(frozen=True, eq=False)
class Speech:
    """A recording as every model here hears it: 16 kHz mono samples and where someone speaks, decoded
    and searched once (`listen`) and handed to diarization, transcription and translation alike."""

    samples: np.ndarray
    regions: tuple[tuple[float, float], ...]

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    def clip(self, a: float, b: float) -> np.ndarray:
        """The samples from `a` to `b` seconds."""
        return self.samples[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)]

    def only(self, spans: list[tuple[float, float]]) -> np.ndarray:
        """The samples, silent outside `spans` (see `only`)."""
        return only(self.samples, spans)


def listen(path: Path, ff: FFmpeg) -> Speech:
    """A recording decoded (`decode_audio`) and its speech found (`speech_regions`): once per recording."""
    samples = decode_audio(path, ff)
    return Speech(samples, tuple(speech_regions(samples)))


WINDOW_S = 20.0
"""Longest window of speech given to Whisper in one piece (it hears at most 30 seconds). Shorter
windows encode faster once the encoder input is trimmed (see _trimmed_pipeline); 20 seconds kept
accuracy where 15 did not (5 minutes of English with faster-whisper base: WER 8.7 % at 29 s,
9.2 % at 20 s, 11.2 % at 15 s; wall 9.9, 8.5 and 6.9 s)."""

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
