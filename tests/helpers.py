"""Test helpers: running real tools, and an independent loudness meter.

The meter used to check outputs is not the one that chose the gain: integrated loudness comes
from pyloudnorm (its own BS.1770 implementation, in numpy) on the decoded file, and true peak
from ffmpeg's ebur128 filter on the file as a listener's decoder sees it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
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
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # never beside the file: it may be the shared built template
        wav = Path(tmp) / "check.wav"
        ffmpeg("-i", str(path), "-map", "0:a:0", "-c:a", "pcm_f32le", str(wav))
        data, rate = soundfile.read(str(wav), dtype="float64")
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


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`media-tool ARGS` as a user runs it, in a child process."""
    return subprocess.run([sys.executable, "-m", "media_tool", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def build_json(show: Path, *extra: str) -> tuple[int, dict]:
    """`media-tool build --json`: its exit code and its report."""
    p = cli("build", "--show", str(show), "--json", *extra)
    assert p.stdout, p.stderr
    return p.returncode, json.loads(p.stdout)


def statuses(report: dict, stages=("probe", "normalize")) -> dict[str, dict[str, str]]:
    """slug -> stage -> done/skipped/failed, for the stages asked about."""
    return {e["slug"]: {k: v["status"] for k, v in e["stages"].items() if k in stages}
            for e in report["episodes"]}


def copy_show(src: Path, dest: Path) -> Path:
    """The sample show's inputs (or a whole built show, state and all) copied to `dest`. The
    repository itself is never copied whole, whatever it holds (a virtualenv, the quick start's build
    state): only the inputs of its show, as in a fresh clone."""
    if src.resolve() != ROOT.resolve() and (src / ".media-tool").is_dir():
        shutil.copytree(src, dest, symlinks=True)
        return dest
    dest.mkdir()
    for name in ("podcast.toml", "cover.jpg", "glossary.csv"):
        if (src / name).is_file():
            shutil.copy(src / name, dest / name)
    for name in ("episodes", "jingles", "transcripts"):
        shutil.copytree(src / name, dest / name)
    for built in (dest / "transcripts").rglob("*"):  # only what a person supplied, as in a fresh clone
        if built.is_file() and not built.name.startswith("human."):
            built.unlink()
    return dest
