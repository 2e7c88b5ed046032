"""Test helpers: running real tools, and an independent loudness meter.

The meter used to check outputs is not the one that chose the gain: integrated loudness comes
from pyloudnorm (its own BS.1770 implementation, in numpy) on the decoded file, and true peak
from ffmpeg's ebur128 filter on the file as a listener's decoder sees it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pyloudnorm
import soundfile

ROOT = Path(__file__).resolve().parent.parent

SPEECH = (
    "Social protection systems help people cope with illness, unemployment and old age. "
    "Pensions, sick leave and unemployment insurance are the pillars of these systems. "
    "Practitioners in China and abroad share what worked for them, and what did not. "
    "Coverage matters most: a benefit that reaches nobody protects nobody. "
)


def sh(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stderr


def ffmpeg(*args: str) -> None:
    sh("ffmpeg", "-v", "error", "-y", *args)


def integrated_lufs(path: Path) -> float:
    """Integrated loudness by pyloudnorm on the decoded file (independent of ffmpeg's meter)."""
    wav = path.with_name(path.name + ".check.wav")
    ffmpeg("-i", str(path), "-map", "0:a:0", "-c:a", "pcm_f32le", str(wav))
    data, rate = soundfile.read(str(wav), dtype="float64")
    wav.unlink()
    return float(pyloudnorm.Meter(rate).integrated_loudness(data))


def true_peak_dbtp(path: Path) -> float:
    """True peak by ffmpeg's ebur128 (4x oversampled) on the decoded file."""
    text = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0",
                           "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
                          capture_output=True, text=True, check=True).stderr
    return float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf)", text)[1])


def probe_streams(path: Path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                          "-show_format", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def loudness_ok(path: Path, target: float) -> tuple[float, float]:
    i, tp = integrated_lufs(path), true_peak_dbtp(path)
    print(f"{path.name}: {i:.2f} LUFS, {tp:.2f} dBTP")
    assert abs(i - target) <= 0.5, f"{path.name}: integrated {i:.2f} LUFS, target {target}"
    assert tp <= -1.0, f"{path.name}: true peak {tp:.2f} dBTP"
    return i, tp
