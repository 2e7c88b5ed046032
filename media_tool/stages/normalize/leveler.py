"""Speaker leveler: every voice at one level before the programme's loudness is set.

Programme-wide loudness keeps a quiet guest 12 dB under the host. The speakers stage already knows
who spoke when; here each voice's loudness is measured over its own speech (K-weighted, gated as in
BS.1770, on the 16 kHz analysis the models hear), and each voice gets the gain that brings it to
the level of all the speech together (see `plan`), applied only where it speaks (Silero's speech
regions inside its turns) with 50 ms ramps. Pauses and the background between turns keep 0 dB, so
they are not raised; the loudness and true-peak stage follows as before.

The gains go to ffmpeg as an envelope at 1 kHz (43 MB for three hours) multiplied into the recording
(`amultiply`); the envelope is scaled so its largest value is 1, so the leveled file never peaks
above the recording and the loudness stage's gain absorbs the scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media_tool.media.audio import decode_audio
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.info import MediaInfo
from media_tool.media.loudness import VoiceLevel
from media_tool.store.files import atomic_output, scratch

REVISION = 1
"""Bump when the leveled audio changes for the same turns (part of the normalize stage's key)."""
RAMP_S = 0.05
"""A gain change takes this long (centred on a speech region's edge, which Silero pads by 200 ms)."""
MAX_GAIN_DB = 20.0
"""No voice is raised or lowered by more than this (a voice 30 dB down is a fault to hear of)."""
MIN_VOICE_S = 2.0
"""A voice heard for less than this is too little to measure: it keeps 0 dB."""
ENVELOPE_RATE = 1000
ANALYSIS_RATE = 16000
Turn = tuple[float, float, str]


# -- pure: K-weighted, gated loudness of stretches of a signal -------------------------------------
def k_weighted(x: np.ndarray, rate: int = ANALYSIS_RATE) -> np.ndarray:
    """BS.1770's K-weighting (the high shelf, then the high pass) at any sample rate, with
    libebur128's formulas for the coefficients."""
    from scipy.signal import lfilter

    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh, a0 = 10 ** (gain / 20), 1 + k / q + k * k
    vb = vh ** 0.4996667741545416
    shelf_b = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    shelf_a = [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    hp_a = [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    x = np.asarray(x, dtype=np.float32)  # float32 throughout: three hours at 16 kHz is 0.7 GB a copy
    return lfilter(np.float32([1.0, -2.0, 1.0]), np.float32(hp_a), lfilter(np.float32(shelf_b), np.float32(shelf_a), x))


def block_powers(weighted: np.ndarray, spans, rate: int = ANALYSIS_RATE) -> np.ndarray:
    """Mean squares of 400 ms blocks every 100 ms inside each (start, end) span (a span shorter than
    a block is one block)."""
    size, step, out = int(0.4 * rate), int(0.1 * rate), []
    for a, b in spans:
        i, j = max(0, int(a * rate)), min(len(weighted), int(b * rate))
        if j - i <= 0:
            continue
        x = weighted[i:j].astype(np.float64)
        sq = np.concatenate([[0.0], np.cumsum(x * x)])
        if j - i < size:
            out.append(sq[-1] / (j - i))
            continue
        starts = np.arange(0, j - i - size + 1, step)
        out.extend((sq[starts + size] - sq[starts]) / size)
    return np.asarray(out, dtype=np.float64)


def gated_lufs(powers: np.ndarray) -> float | None:
    """Integrated loudness of blocks (absolute gate -70 LUFS, relative gate 10 LU under the mean);
    None when nothing passes."""
    lufs = lambda p: -0.691 + 10 * np.log10(p)  # noqa: E731
    kept = powers[powers > 10 ** ((-70 + 0.691) / 10)]
    if not len(kept):
        return None
    kept = kept[lufs(kept) > lufs(kept.mean()) - 10]
    return float(lufs(kept.mean())) if len(kept) else None


def voice_spans(turns: tuple[Turn, ...], regions) -> dict[str, list[tuple[float, float]]]:
    """Where each voice speaks: its turns cut to the speech regions (a region no turn covers goes to
    the turn nearest it: a short "yes" is the voice it answers after)."""
    out: dict[str, list[tuple[float, float]]] = {}
    if not turns:
        return out
    for a, b in regions:
        inside = [(max(a, s), min(b, e), who) for s, e, who in turns if s < b and e > a]
        if not inside:
            s, e, who = min(turns, key=lambda t: min(abs(t[0] - b), abs(t[1] - a)))
            inside = [(a, b, who)]
        for s, e, who in inside:
            out.setdefault(who, []).append((s, e))
    return out


@dataclass(frozen=True)
class Levels:
    """What the leveler decided: each voice's measure and gain, and where each gain applies."""

    voices: tuple[VoiceLevel, ...]
    spans: dict[str, list[tuple[float, float]]]

    def gain(self, name: str) -> float:
        return next((v.gain_db for v in self.voices if v.name == name), 0.0)


def plan(samples: np.ndarray, regions, turns: tuple[Turn, ...], rate: int = ANALYSIS_RATE) -> Levels:
    """Each voice's loudness over its speech, and the gain that brings it to the loudness of all the
    speech together, gated as the loudness stage gates it (pure). That level is what the loudness
    stage measures before the leveler as after it, so its gain, and with it the noise in the pauses
    (which the leveler leaves at 0 dB), stays where it was: a quiet guest is raised to the host, and
    voices a few dB apart meet between them."""
    spans = voice_spans(turns, regions)
    weighted = k_weighted(samples, rate)
    measured, blocks = {}, []
    for who, sp in spans.items():
        seconds = sum(b - a for a, b in sp)
        powers = block_powers(weighted, sp, rate)
        lufs = gated_lufs(powers) if seconds >= MIN_VOICE_S else None
        measured[who] = (lufs, seconds)
        if lufs is not None:
            blocks.append(powers)
    together = gated_lufs(np.concatenate(blocks)) if blocks else None
    voices = tuple(VoiceLevel(who, round(s, 1), None if lufs is None else round(lufs, 2),
                              0.0 if lufs is None or together is None else
                              round(max(-MAX_GAIN_DB, min(MAX_GAIN_DB, together - lufs)), 2))
                   for who, (lufs, s) in measured.items())
    return Levels(voices, spans)


def envelope(levels: Levels, seconds: float, rate: int = ENVELOPE_RATE) -> tuple[np.ndarray, float]:
    """The linear gain at `rate` over `seconds` (and a second more), scaled so its peak is 1, and
    that scale in dB (pure)."""
    n = int(math.ceil((seconds + 1) * rate))
    db = np.zeros(n, np.float64)
    for who, sp in levels.spans.items():
        g = levels.gain(who)
        for a, b in sp:
            db[max(0, int(round(a * rate))):max(0, int(round(b * rate)))] = g
    width = max(1, int(RAMP_S * rate))
    db = np.convolve(np.pad(db, (width // 2, width - 1 - width // 2), mode="edge"), np.ones(width) / width, "valid")
    scale = -float(db.max()) if len(db) else 0.0
    return (10 ** ((db + scale) / 20)).astype(np.float32), scale


# -- the edge: the leveled recording, and what a listener hears of each voice ----------------------
def level_file(ff: FFmpeg, info: MediaInfo, levels: Levels, dest: Path, *, channels: int, sample_rate: int,
               display: str) -> None:
    """`info`'s first audio stream with `levels` applied, as a float WAV at `dest` (atomically)."""
    assert info.audio is not None
    env, _ = envelope(levels, info.duration or 0.0)
    layout = "mono" if channels == 1 else "stereo"
    spread = "" if channels == 1 else ",pan=stereo|c0=c0|c1=c0"
    graph = (f"[0:{info.audio.index}]aresample={sample_rate},aformat=sample_fmts=flt:channel_layouts={layout}[a];"
             f"[1:0]aresample={sample_rate},aformat=sample_fmts=flt:channel_layouts=mono{spread}[e];"
             "[a][e]amultiply[out]")
    with scratch(dest, "envelope") as raw, atomic_output(dest) as tmp:
        raw.write_bytes(np.ascontiguousarray(env, dtype="<f4").tobytes())
        ff.run(["-i", str(info.path), "-f", "f32le", "-ar", str(ENVELOPE_RATE), "-ac", "1", "-i", str(raw),
                "-filter_complex", graph, "-map", "[out]", "-c:a", "pcm_f32le", "-f", "wav", "-y", str(tmp)],
               path=display)


def heard_after(ff: FFmpeg, path: Path, levels: Levels, offset: float) -> tuple[VoiceLevel, ...]:
    """Each voice's loudness in the published file (`offset`: where the recording's time 0 falls in
    it), measured as `plan` measured the recording."""
    weighted = k_weighted(decode_audio(path, ff))
    out = []
    for v in levels.voices:
        sp = [(a + offset, b + offset) for a, b in levels.spans.get(v.name, [])]
        after = gated_lufs(block_powers(weighted, sp)) if v.before_lufs is not None else None
        out.append(VoiceLevel(v.name, v.seconds, v.before_lufs, v.gain_db, None if after is None else round(after, 2)))
    return tuple(out)
