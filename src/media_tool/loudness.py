"""Loudness: parsing ffmpeg's EBU R128 meter and choosing the gain that meets a target.

The pure part (parsers, trim and gain planning) is separate from the one measuring edge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from .errors import InputMediaError, ToolError
from .ffmpeg import FFmpeg, ProgressFn

SILENT_LUFS = -70.0
"""EBU R128's absolute gate: a programme at or below it has nothing to normalize."""


@dataclass(frozen=True)
class Loudness:
    """One EBU R128 reading: integrated loudness, loudness range, and a peak."""

    integrated: float
    lra: float
    peak: float
    peak_kind: str  # "sample" (dBFS) or "true" (dBTP)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Scan:
    """What one measuring pass over a recording found."""

    loudness: Loudness
    silences: list[tuple[float, float | None]]
    decoded_seconds: float
    decode_errors: int


def ebur128_filter(peak: str = "sample") -> str:
    """The meter as a passthrough filter; framelog=verbose keeps per-frame lines out of stderr."""
    return f"ebur128=framelog=verbose:peak={peak}"


_NUM = r"(-?(?:\d+(?:\.\d+)?|inf))"


def parse_ebur128(lines: Sequence[str]) -> Loudness:
    """Read the last EBU R128 summary ffmpeg printed."""
    start = max((i for i, ln in enumerate(lines) if "Summary:" in ln), default=-1)
    if start < 0:
        raise ValueError("no EBU R128 summary in ffmpeg output")
    text = "\n".join(lines[start:])
    i = re.search(r"I:\s+" + _NUM + " LUFS", text)
    lra = re.search(r"LRA:\s+" + _NUM + " LU", text)
    peak = re.search(r"(True|Sample) peak:\s+Peak:\s+" + _NUM + " dB", text)
    if not i:
        raise ValueError("EBU R128 summary without integrated loudness")
    return Loudness(integrated=_f(i[1]), lra=_f(lra[1]) if lra else 0.0,
                    peak=_f(peak[2]) if peak else float("nan"),
                    peak_kind=("true" if peak and peak[1] == "True" else "sample"))


def parse_silences(lines: Sequence[str]) -> list[tuple[float, float | None]]:
    """Silent spans from silencedetect; an open end means silence ran to the end of the file."""
    spans: list[tuple[float, float | None]] = []
    for ln in lines:
        m = re.search(r"silence_start: " + _NUM, ln)
        if m:
            spans.append((max(0.0, _f(m[1])), None))
            continue
        m = re.search(r"silence_end: " + _NUM, ln)
        if m and spans and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], _f(m[1]))
    return spans


def plan_trim(silences: Sequence[tuple[float, float | None]], duration: float,
              pad: float = 0.25) -> tuple[float, float]:
    """Start and end that cut leading and trailing silence, keeping `pad` seconds of air."""
    start, end = 0.0, duration
    if silences and silences[0][0] <= 0.05 and silences[0][1] is not None:
        start = max(0.0, silences[0][1] - pad)
    if silences and (silences[-1][1] is None or silences[-1][1] >= duration - 0.05):
        if silences[-1][0] > start:
            end = min(duration, silences[-1][0] + pad)
    if end - start < 1.0:  # nearly all silence: trimming would leave nothing worth keeping
        return 0.0, duration
    return start, end


def solve_gain(points: Sequence[tuple[float, float]], target: float, max_gain: float) -> float:
    """Gain (dB) whose limited output reaches `target`, from measured (gain, loudness) points.

    The limiter makes loudness a concave, rising function of gain; a secant through the
    two nearest points is accurate to a few hundredths of an LU near the answer.
    """
    pts = sorted(points)
    if len(pts) == 1:
        g, lo = pts[0]
        return min(max_gain, g + (target - lo))
    (g0, l0), (g1, l1) = sorted(pts, key=lambda p: abs(p[1] - target))[:2]
    if g1 == g0:
        return min(max_gain, g0 + (target - l0))
    slope = (l1 - l0) / (g1 - g0)
    if slope <= 0.05:  # the limiter has flattened the curve: more gain only crushes peaks
        return min(max_gain, max(g0, g1))
    return min(max_gain, g0 + (target - l0) / slope)


def decode_error_count(lines: Sequence[str]) -> int:
    """Lines where a decoder reported damaged data."""
    marks = ("Error while decoding", "Invalid data found", "Header missing", "corrupt",
             "Error submitting packet", "invalid frame", "Packet corrupt")
    return sum(1 for ln in lines if any(m in ln for m in marks))


def scan(path: str, ff: FFmpeg, *, stream_index: int, sample_rate: int, channels: int,
         silence_db: float | None = None, progress: ProgressFn | None = None) -> Scan:
    """One decoding pass: loudness, sample peak, silent spans and how much actually decoded."""
    decoded = [0.0]

    def seen(seconds: float) -> None:
        decoded[0] = max(decoded[0], seconds)
        if progress:
            progress(seconds)

    chain = [f"aresample={sample_rate}", f"aformat=channel_layouts={_layout(channels)}",
             ebur128_filter("sample")]
    if silence_db is not None:
        chain.append(f"silencedetect=n={silence_db}dB:d=0.3")
    try:
        result = ff.run(["-i", path, "-map", f"0:{stream_index}", "-af", ",".join(chain),
                         "-f", "null", "-"], progress=seen, path=path)
    except ToolError as exc:
        raise InputMediaError(f"cannot decode audio: {exc.message}", path) from exc
    loud = parse_ebur128(result.stderr_lines)
    return Scan(loudness=loud, silences=parse_silences(result.stderr_lines),
                decoded_seconds=decoded[0], decode_errors=decode_error_count(result.stderr_lines))


def _layout(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"


def _f(text: str) -> float:
    return float(text)
