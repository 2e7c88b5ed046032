"""Loudness normalization on real files, checked by a meter independent of the one that set the gain."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import integrated_lufs, loudness_ok, probe_streams, sh, true_peak_dbtp
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.probe import probe
from media_tool.model.settings import AudioSettings
from media_tool.stages.normalize.core import (
    Plan,
    Target,
    normalize,
    producer_args,
    tee_escape,
)


@pytest.fixture(scope="module")
def ff() -> FFmpeg:
    return FFmpeg.discover()


CASES = [
    ("quiet.wav", -16.0),       # about -30 LUFS in: +14 dB of gain, limiter engaged
    ("loud.wav", -16.0),        # peaks at -0.1 dBFS: limiter must hold true peak
    ("hot.wav", -16.0),         # -11 LUFS in: gain is a cut
    ("mono.wav", -19.0),        # mono target
    ("stereo48k.flac", -16.0),  # 48 kHz in, 44.1 kHz out
    ("speech.mp3", -16.0),      # lossy in
]


@pytest.mark.parametrize("name,target", CASES)
def test_mp3_meets_loudness_and_true_peak(media, ff, tmp_path, name, target):
    out = tmp_path / "out.mp3"
    result = normalize(probe(str(media[name]), ff), [Target(out, "mp3")], AudioSettings(), ff)
    i, tp = loudness_ok(out, target)
    # What the tool recorded agrees with the independent meter.
    assert abs(result.output.integrated - i) <= 0.2
    assert result.output.peak <= -1.0
    assert result.target_lufs == target


def test_input_loudness_is_recorded(media, ff, tmp_path):
    result = normalize(probe(str(media["quiet.wav"]), ff), [Target(tmp_path / "q.mp3", "mp3")],
                       AudioSettings(), ff)
    assert abs(result.input.integrated - integrated_lufs(media["quiet.wav"])) <= 0.3
    assert result.input.integrated < -27
    assert result.gain_db > 10


def test_mp3_is_cbr_44k1_id3v23(media, ff, tmp_path):
    out = tmp_path / "cbr.mp3"
    normalize(probe(str(media["stereo48k.flac"]), ff), [Target(out, "mp3")], AudioSettings(), ff)
    mp3 = MP3(out)
    assert mp3.info.sample_rate == 44100
    assert mp3.info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
    assert mp3.info.bitrate == 128000
    assert ID3(out).version[:2] == (2, 3)
    # CBR: every 128 kb/s frame at 44.1 kHz is 417 bytes, or 418 with the padding slot.
    sizes = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "packet=size",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True, check=True).stdout
    assert set(int(s.strip(",")) for s in sizes.split()) <= {417, 418}


def test_mono_gets_64k(media, ff, tmp_path):
    out = tmp_path / "mono.mp3"
    normalize(probe(str(media["mono.wav"]), ff), [Target(out, "mp3")], AudioSettings(), ff)
    info = MP3(out).info
    assert info.channels == 1 and info.bitrate == 64000


def test_m4a_alongside_mp3_both_on_target(media, ff, tmp_path):
    mp3, m4a = tmp_path / "a.mp3", tmp_path / "a.m4a"
    normalize(probe(str(media["loud.wav"]), ff), [Target(mp3, "mp3"), Target(m4a, "m4a")],
              AudioSettings(), ff)
    loudness_ok(mp3, -16.0)
    loudness_ok(m4a, -16.0)
    assert probe_streams(m4a)["streams"][0]["codec_name"] == "aac"


def _video_md5(path) -> str:
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy",
                           "-f", "md5", "-"], capture_output=True, text=True, check=True).stdout.strip()


def test_video_stream_copied_bit_exact_and_audio_normalized(media, ff, tmp_path):
    mp4, mp3 = tmp_path / "v.mp4", tmp_path / "v.mp3"
    normalize(probe(str(media["video.mp4"]), ff), [Target(mp3, "mp3"), Target(mp4, "mp4")],
              AudioSettings(), ff)
    assert _video_md5(mp4) == _video_md5(media["video.mp4"])
    streams = {s["codec_type"]: s for s in probe_streams(mp4)["streams"]}
    assert streams["audio"]["codec_name"] == "aac"
    loudness_ok(mp4, -16.0)
    loudness_ok(mp3, -16.0)
    # +faststart: the moov atom comes before the media data.
    head = mp4.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))
    # Same timeline: the audio is as long as the source's.
    src = float(probe_streams(media["video.mp4"])["format"]["duration"])
    assert abs(float(probe_streams(mp4)["format"]["duration"]) - src) < 0.15


def test_trim_and_intro_jingle(media, ff, tmp_path):
    from media_tool.stages.normalize import jingles

    padded = tmp_path / "padded.wav"
    sh("ffmpeg", "-v", "error", "-i", str(media["loud.wav"]), "-af", "adelay=4000|4000,apad=pad_dur=5,volume=-6dB",
       str(padded))
    chime = tmp_path / "chime.wav"
    sh("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=660:d=1.5", "-af", "apad=pad_dur=1", str(chime))
    intro = jingles.prepare(chime, tmp_path / "cache", ff, channels=2, sample_rate=44100)
    out = tmp_path / "trimmed.mp3"
    info = probe(str(padded), ff)
    result = normalize(info, [Target(out, "mp3")], AudioSettings(), ff, intro=intro, trim=True)
    assert result.trimmed is not None and 3.5 <= result.trimmed[0] <= 4.0
    speech = info.duration - 9.0
    # Output = jingle (about 1.5 s, its padding cut by pydub) + speech + 2 x 0.25 s of air.
    assert speech + 1.5 < result.output_seconds < speech + 2.6
    loudness_ok(out, -16.0)


def test_custom_target_and_true_peak(media, ff, tmp_path):
    out = tmp_path / "t.mp3"
    normalize(probe(str(media["loud.wav"]), ff), [Target(out, "mp3")],
              AudioSettings(target_lufs=-18.0, target_lufs_mono=-18.0, true_peak=-2.0), ff)
    assert abs(integrated_lufs(out) - (-18.0)) <= 0.5
    assert true_peak_dbtp(out) <= -2.0


def test_tee_escape_and_graph_are_plain_values():
    assert tee_escape("a|b[c]:d") == "a\\|b\\[c\\]\\:d"
    plan = Plan(stream_index=1, channels=1, sample_rate=44100, gain_db=3.0, ceiling_db=-2.0,
                trim=(1.0, 9.0))
    args = producer_args(Path("in.wav"), plan, ["pipe:5", "pipe:6"])
    graph = args[args.index("-filter_complex") + 1]
    assert "[0:1]" in graph and "atrim=end_sample=352800" in graph and "asplit=2[o0][o1]" in graph
    assert args[:2] == ["-ss", "1.000000"] and args.count("f32le") == 2 and "pipe:6" in args


def test_output_path_with_odd_characters(media, ff, tmp_path):
    odd = tmp_path / "odd [name]: a|b.mp3"
    normalize(probe(str(media["mono.wav"]), ff), [Target(odd, "mp3")], AudioSettings(), ff)
    assert odd.is_file() and MP3(odd).info.length > 10


def _decode(path: Path):
    import numpy as np
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


@pytest.mark.slow
def test_long_mp3_is_split_across_cores_and_joins_seamlessly(media, ff, tmp_path, monkeypatch):
    """A 3-minute programme is encoded as chunks in parallel; the joined file must match one encode."""
    import numpy as np

    from media_tool.stages.normalize import core as norm

    long = tmp_path / "long.wav"
    sh("ffmpeg", "-v", "error", "-stream_loop", "4", "-i", str(media["loud.wav"]), "-t", "180", str(long))
    info = probe(str(long), ff)
    split, single = tmp_path / "split.mp3", tmp_path / "single.mp3"
    calls = []
    real = norm._encode_mp3_split
    monkeypatch.setattr(norm, "_encode_mp3_split", lambda *a: calls.append(real(*a)) or calls[-1])
    normalize(info, [Target(split, "mp3")], AudioSettings(trim_silence=False), ff)
    assert calls and calls[-1] is not None, "the 3-minute MP3 was not split"
    monkeypatch.setattr(norm, "_encode_mp3_split", lambda *a: None)
    normalize(info, [Target(single, "mp3")], AudioSettings(trim_silence=False), ff)
    loudness_ok(split, -16.0)
    a, b = _decode(split), _decode(single)
    assert len(a) == len(b)  # same frame count: nothing lost or doubled at the join
    # Same audio: the difference is codec noise, far below the signal, everywhere (joins included);
    # a join off by a single sample would show as about 14 dB.
    for lo in range(0, len(a) - 44100, 44100):
        sig = float(np.mean(b[lo:lo + 44100] ** 2)) + 1e-12
        noise = float(np.mean((a[lo:lo + 44100] - b[lo:lo + 44100]) ** 2)) + 1e-12
        assert 10 * np.log10(sig / noise) > 25, f"second {lo // 44100}: split and single encodes differ"
    assert MP3(split).info.bitrate == 128000 and ID3(split).version[:2] == (2, 3)
