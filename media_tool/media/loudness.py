"""Loudness: parsing ffmpeg's EBU R128 meter and choosing the gain that meets a target.

The pure part (parsers, trim and gain planning) is separate from the one measuring edge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from media_tool.errors import InputMediaError, ToolError
from media_tool.media.ffmpeg import FFmpeg, SecondsDoneFn

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


@dataclass(frozen=True)
class FileLoudness:
    """One written file, measured by decoding what its encoder produced."""

    path: str
    kind: str
    integrated: float
    lra: float
    true_peak: float


@dataclass(frozen=True)
class VoiceLevel:
    """One voice as the speaker leveler found and left it: speech loudness (K-weighted and gated, on
    the mono 16 kHz analysis, so voices compare with each other) before and after, and its gain."""

    name: str
    seconds: float
    before_lufs: float | None
    gain_db: float
    after_lufs: float | None = None


@dataclass(frozen=True)
class LoudnessReport:
    """What normalizing measured and did; recorded per episode and printed by `normalize --json`."""

    input: Loudness
    output: Loudness
    target_lufs: float
    true_peak_limit: float
    gain_db: float
    codec_delta_lu: float
    channels: int
    input_seconds: float
    output_seconds: float
    trimmed: tuple[float, float] | None
    encodes: int
    seconds: float
    files: list[FileLoudness] = field(default_factory=list)
    timeline_offset: float = 0.0
    """Seconds to add to a time in the recording to find it in the published file (the intro
    jingle's length, less the silence trimmed from the start): how chapters move."""
    denoised: bool = False  # the recording's noise was reduced first (DeepFilterNet3)
    voices: tuple[VoiceLevel, ...] = ()  # the speaker leveler's work, voice by voice (none: not leveled)

    def voice_gap(self) -> tuple[float, float] | None:
        """How far apart the loudest and quietest leveled voice were before and after (dB)."""
        both = [(v.before_lufs, v.after_lufs) for v in self.voices if v.before_lufs is not None and v.after_lufs is not None]
        if len(both) < 2:
            return None
        return (max(b for b, _ in both) - min(b for b, _ in both), max(a for _, a in both) - min(a for _, a in both))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["trimmed"] = list(self.trimmed) if self.trimmed else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "LoudnessReport":
        d = dict(d)
        d["input"], d["output"] = Loudness(**d["input"]), Loudness(**d["output"])
        d["trimmed"] = tuple(d["trimmed"]) if d.get("trimmed") else None
        d["files"] = [FileLoudness(**f) for f in d.get("files", [])]
        d["voices"] = tuple(VoiceLevel(**v) for v in d.get("voices", ()))
        return cls(**d)


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
         silence_db: float | None = None, progress: SecondsDoneFn | None = None,
         duration: float = 0.0, parts: int = 1) -> Scan:
    """Decode once: loudness, sample peak, silent spans and how much actually decoded.

    A long recording is scanned as `parts` stretches at once (one per core); their 100 ms
    meter readings are pooled into one gated integrated loudness, as a single pass would.
    """
    parts = max(1, min(parts, int(duration // 300)))  # under 5 minutes a stretch: not worth it
    bounds = [duration * k / parts for k in range(parts)] + [None]
    done = [0.0] * parts

    def one(k: int):
        def seen(seconds: float) -> None:
            done[k] = max(done[k], seconds)
            if progress:
                progress(sum(done))

        start, end = bounds[k], bounds[k + 1]
        window = (["-ss", f"{start:.6f}"] if start else []) + (["-t", f"{end - start:.6f}"] if end else [])
        chain = [f"aresample={sample_rate}", f"aformat=channel_layouts={_layout(channels)}",
                 ebur128_frames_filter("sample") if parts > 1 else ebur128_filter("sample")]
        if silence_db is not None:
            chain.append(f"silencedetect=n={silence_db}dB:d=0.3")
        try:
            return ff.run([*window, "-i", path, "-map", f"0:{stream_index}", "-af", ",".join(chain),
                           "-f", "null", "-"], progress=seen, path=path).stderr_lines
        except ToolError as exc:
            raise InputMediaError(f"cannot decode audio: {exc.message}", path) from exc

    if parts == 1:
        lines = one(0)
        return Scan(loudness=parse_ebur128(lines), silences=parse_silences(lines), decoded_seconds=done[0],
                    decode_errors=decode_error_count(lines))
    with ThreadPoolExecutor(parts) as pool:
        outputs = list(pool.map(one, range(parts)))
    momentary, short, silences, errors, peak = [], [], [], 0, float("-inf")
    for k, lines in enumerate(outputs):
        mo, sh = parse_frame_log(lines)
        momentary += mo
        short += sh
        offset = bounds[k] or 0.0
        silences += [(a + offset, None if b is None else b + offset) for a, b in parse_silences(lines)]
        errors += decode_error_count(lines)
        peak = max(peak, parse_ebur128(lines).peak)
    loud = Loudness(integrated=round(integrated_from_blocks(momentary), 2),
                    lra=round(lra_from_short_term(short), 1), peak=peak, peak_kind="sample")
    return Scan(loudness=loud, silences=silences, decoded_seconds=sum(done), decode_errors=errors)


def _layout(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"


def _f(text: str) -> float:
    return float(text)


_FRAME_LINE = re.compile(r"t:\s*([\d.]+)\s+TARGET:.*?M:\s*" + _NUM + r"\s+S:\s*" + _NUM)


def parse_frame_log(lines: Sequence[str]) -> tuple[list[float], list[float]]:
    """Momentary (400 ms) and short-term (3 s) loudness every 100 ms, from `framelog=info`.

    Values from before a window is first full are left out, as BS.1770 and EBU 3342 do.
    """
    momentary, short = [], []
    for ln in lines:
        m = _FRAME_LINE.search(ln)
        if not m:
            continue
        t = float(m[1])
        if t >= 0.4 - 1e-6:
            momentary.append(_f(m[2]))
        if t >= 3.0 - 1e-6:
            short.append(_f(m[3]))
    return momentary, short


def _power_mean_db(values: Sequence[float]) -> float:
    return 10 * math.log10(sum(10 ** (v / 10) for v in values) / len(values))


def integrated_from_blocks(momentary: Sequence[float]) -> float:
    """BS.1770-4 gated integrated loudness from 400 ms block loudnesses (75 % overlap)."""
    above = [v for v in momentary if v > SILENT_LUFS]
    if not above:
        return SILENT_LUFS
    relative = _power_mean_db(above) - 10.0
    gated = [v for v in above if v > relative]
    return _power_mean_db(gated) if gated else SILENT_LUFS


def lra_from_short_term(short: Sequence[float]) -> float:
    """EBU Tech 3342 loudness range from short-term loudness values."""
    above = sorted(v for v in short if v > SILENT_LUFS)
    if not above:
        return 0.0
    relative = _power_mean_db(above) - 20.0
    gated = [v for v in above if v > relative]
    if len(gated) < 2:
        return 0.0

    def pct(p: float) -> float:
        return gated[min(len(gated) - 1, int(round(p * (len(gated) - 1))))]

    return pct(0.95) - pct(0.10)


def ebur128_frames_filter(peak: str = "true") -> str:
    """The meter with a line per 100 ms, for results that must be combined across chunks."""
    return f"ebur128=framelog=info:peak={peak}"


def meter_graph(sample_rate: int, frames: bool = False) -> str:
    """Loudness and true peak of a decoded stream, as one ffmpeg filter graph.

    True peak is the sample peak after 4x oversampling with a 12-tap-per-phase interpolator,
    the structure BS.1770-4 Annex 2 describes; it costs a third of ebur128's own true-peak
    mode, which matters because every published file is metered as it is encoded.
    """
    meter = ebur128_frames_filter("none") if frames else ebur128_filter("none")
    return (f"[0:a]asplit=2[m][p];[m]{meter},anullsink;"
            f"[p]aresample={4 * sample_rate}:filter_size=12:phase_shift=2,volumedetect")


def parse_true_peak(lines: Sequence[str]) -> float:
    """The oversampled peak (dBTP) that `meter_graph` printed."""
    found = [ln for ln in lines if "max_volume:" in ln]
    if not found:
        raise ValueError("no max_volume in ffmpeg output")
    return _f(re.search(r"max_volume:\s*" + _NUM, found[-1])[1])
