"""Noise reduction (DeepFilterNet3 through its C runtime): a noisy laptop-style recording comes out with
the noise between words far lower, speech as loud, in time, cleaned in chunks on every core without a
seam, and the episode still on its loudness target; a video's picture is copied bit for bit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
from helpers import ROOT, build_json, copy_show, ffmpeg, loudness_ok, run_here

from media_tool.media.ffmpeg import FFmpeg
from media_tool.stages.normalize import denoise

NEEDS_DF = pytest.mark.skipif(denoise.unavailable() is not None, reason=str(denoise.unavailable()))
FIXTURE = Path(__file__).parent / "fixtures" / "english.opus"


def noisy(tmp: Path, seconds: float | None = None) -> tuple[Path, np.ndarray]:
    """The English fixture (43.7 s, or its first `seconds`) at 48 kHz with steady white noise at about
    -33 dBFS; and the clean speech."""
    clean = tmp / "clean.wav"
    cut = ["-t", f"{seconds:g}"] if seconds else []
    ffmpeg("-i", str(FIXTURE), *cut, "-ac", "1", "-ar", "48000", "-c:a", "pcm_f32le", str(clean))
    speech = soundfile.read(str(clean), dtype="float32")[0]
    mixed = speech + 0.03 * np.random.default_rng(1).standard_normal(len(speech)).astype(np.float32)
    path = tmp / "noisy.wav"
    soundfile.write(str(path), mixed, 48000, subtype="FLOAT")
    return path, speech


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-12))


@NEEDS_DF
def test_noise_between_words_falls_and_speech_stays(tmp_path):
    src, speech = noisy(tmp_path)
    out = tmp_path / "out.wav"
    denoise.denoise_file(FFmpeg.discover(), src, out, channels=1, limit_db=30, display="noisy.wav")
    cleaned = soundfile.read(str(out), dtype="float32")[0]
    assert abs(len(cleaned) - len(speech)) <= 1  # nothing added or lost: the timeline is the recording's
    quiet = np.abs(speech) < 1e-4  # between words
    loud = np.abs(speech) > 0.05
    before, after = db(soundfile.read(str(src), dtype="float32")[0][quiet]), db(cleaned[quiet])
    assert after < before - 20, (before, after)
    assert abs(db(cleaned[loud]) - db(speech[loud])) < 2.0
    lag = np.argmax(np.correlate(cleaned[48000:48000 + 4800], speech[48000:48000 + 4800], "full")) - 4799
    assert abs(lag) <= 2  # the runtime's 1440-sample delay is taken out
    # 43.7 s on two cores is two chunks (30 s and the rest); one core cleans it in one pass. The
    # chunked result differs from the one pass by far less than the speech (the model's state at the
    # seam), and nowhere by a step.
    assert denoise.chunk_spans(len(speech), 2) == [(0, 30 * 48000), (30 * 48000, len(speech))]
    one = tmp_path / "one.wav"
    denoise.denoise_file(FFmpeg.discover(), src, one, channels=1, limit_db=30, display="noisy.wav", workers=1)
    whole = soundfile.read(str(one), dtype="float32")[0]
    assert db(cleaned - whole) < db(whole[loud]) - 25
    seam = 30 * 48000
    assert np.abs(np.diff(cleaned[seam - 480:seam + 480])).max() < 4 * np.abs(np.diff(whole[seam - 480:seam + 480])).max()
    assert not list(tmp_path.glob("*.raw"))  # the decoded audio's scratch file is gone


def test_chunk_spans():
    rate = denoise.RATE
    assert denoise.chunk_spans(0, 2) == [(0, 0)]
    assert denoise.chunk_spans(10 * rate, 2) == [(0, 10 * rate)]  # short: one chunk (30 s at least)
    spans = denoise.chunk_spans(1800 * rate, 2)  # 30 minutes: 120-second chunks
    assert len(spans) == 15 and spans[0] == (0, 120 * rate) and spans[-1][1] == 1800 * rate
    # 240.5 s on two cores: 120-second chunks, and the half-second tail joins the chunk before it
    assert denoise.chunk_spans(240 * rate + rate // 2, 2) == [(0, 120 * rate), (120 * rate, 240 * rate + rate // 2)]
    # a tail of a second or more stays its own chunk
    assert denoise.chunk_spans(241 * rate, 2)[-1] == (240 * rate, 241 * rate)


@NEEDS_DF
@pytest.mark.slow
def test_a_denoised_episode_builds_on_target(tmp_path):
    show = copy_show(ROOT, tmp_path / "show")
    shutil.rmtree(show / "episodes" / "ep-003-long-term-care")
    src, _ = noisy(tmp_path, 12)  # short: what it tests is the cleaned sound's way through the build
    ep = show / "episodes" / "ep-001-pensions"
    (ep / "recording.flac").unlink()
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "flac", str(ep / "recording.flac")], check=True)
    toml = ep / "episode.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[audio]\ndenoise = true\n", encoding="utf-8")
    video = show / "episodes" / "ep-002-sick-leave" / "episode.toml"
    video.write_text(video.read_text(encoding="utf-8") + "\n[audio]\ndenoise = true\n", encoding="utf-8")
    code, report = build_json(show)
    assert code == 0, report
    loudness_ok(show / "feed" / "media" / "ep-001-pensions.mp3", -19.0)
    assert (show / ".media-tool" / "denoised" / "ep-001-pensions.wav").is_file()
    notices = {e["slug"]: e["notices"] for e in report["episodes"]}
    assert not any("denoise" in n for n in notices["ep-001-pensions"] + notices["ep-002-sick-leave"])
    # The video: its sound cleaned, its picture the recording's, packet for packet.
    assert (show / ".media-tool" / "denoised" / "ep-002-sick-leave.wav").is_file()
    recording = show / "episodes" / "ep-002-sick-leave" / "recording.mp4"
    assert video_md5(show / "feed" / "media" / "ep-002-sick-leave.mp4") == video_md5(recording)
    loudness_ok(show / "feed" / "media" / "ep-002-sick-leave.mp4", -19.0)


def video_md5(path: Path) -> str:
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "md5", "-"],
                          capture_output=True, text=True, check=True).stdout.strip()


@NEEDS_DF
def test_normalize_denoise_on_the_command_line(tmp_path):
    import json


    src, _ = noisy(tmp_path, 12)
    out = tmp_path / "out.mp3"
    p = run_here("normalize", str(src), "-o", str(out), "--denoise", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["denoised"] is True  # the loudness report says so
    loudness_ok(out, -19.0)
    video = ROOT / "episodes" / "ep-002-sick-leave" / "recording.mp4"
    p = run_here("normalize", str(video), "-o", str(tmp_path / "v.mp4"), "--denoise", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["denoised"] is True
    assert video_md5(tmp_path / "v.mp4") == video_md5(video)
