"""Probing real files, and rejecting each kind of bad input with one line naming the file."""

from __future__ import annotations

import pytest
from helpers import ffmpeg

from media_tool.errors import InputMediaError
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.info import parse_ffmpeg_banner
from media_tool.media.probe import probe
from media_tool.model.settings import AudioSettings
from media_tool.stages.normalize.core import Target, normalize


@pytest.fixture(scope="module")
def ff() -> FFmpeg:
    return FFmpeg.discover()


def test_probe_audio_and_video(media, ff):
    a = probe(str(media["stereo48k.flac"]), ff)
    assert (a.audio.channels, a.audio.sample_rate, a.audio.codec) == (2, 48000, "flac")
    assert a.video is None and a.duration > 20
    v = probe(str(media["video.mp4"]), ff)
    assert v.video.codec == "h264" and (v.video.width, v.video.height) == (320, 180)
    assert v.audio.codec == "aac" and v.has_video


def test_banner_fallback_agrees_with_ffprobe(media, ff):
    """Machines with only the pip-bundled ffmpeg have no ffprobe: `ffmpeg -i` must give the same facts."""
    bare = FFmpeg(ffmpeg=ff.ffmpeg, ffprobe=None, version=ff.version)
    for name in ("video.mp4", "mono.wav", "speech.mp3"):
        a, b = probe(str(media[name]), ff), probe(str(media[name]), bare)
        assert (a.audio.channels, a.audio.sample_rate, a.audio.codec) == \
               (b.audio.channels, b.audio.sample_rate, b.audio.codec)
        assert (a.video is None) == (b.video is None)
        assert abs(a.duration - b.duration) < 0.05


def test_banner_parser_on_fixed_text():
    text = ("Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':\n  Duration: 00:01:02.50, start: 0.000000\n"
            "  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 1280x720, 30 fps\n"
            "  Stream #0:1[0x2](eng): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, 5.1, fltp, 384 kb/s\n")
    info = parse_ffmpeg_banner("x.mp4", 10, text)
    assert info.duration == 62.5 and info.video.width == 1280 and info.audio.channels == 6
    assert info.audio.index == 1 and info.audio.sample_rate == 48000


def _bad(tmp_path, media):
    """Each bad input and the words its one-line error must contain."""
    zero = tmp_path / "zero.wav"
    zero.write_bytes(b"")
    text = tmp_path / "notes.mp3"
    text.write_text("this is not audio\n" * 50)
    truncated = tmp_path / "truncated.mp3"
    whole = tmp_path / "whole.mp3"
    ffmpeg("-i", str(media["loud.wav"]), "-c:a", "libmp3lame", "-b:a", "128k", str(whole))
    data = whole.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    silent_video = tmp_path / "noaudio.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=3", "-c:v", "libx264",
           "-preset", "ultrafast", str(silent_video))
    short = tmp_path / "short.wav"
    ffmpeg("-i", str(media["mono.wav"]), "-t", "0.1", str(short))
    return [(zero, "empty file"), (text, "not a media file"), (truncated, "truncated"),
            (silent_video, "no audio stream"), (short, "too short: 0.10 s")]


def test_bad_inputs_rejected_with_one_line(tmp_path, media, ff):
    out_dir = tmp_path / "out"
    for path, words in _bad(tmp_path, media):
        out = out_dir / f"{path.stem}.mp3"
        with pytest.raises(InputMediaError) as exc:
            normalize(probe(str(path), ff), [Target(out, "mp3")], AudioSettings(), ff)
        line = exc.value.one_line()
        assert line.startswith(str(path) + ": ") and words in line, line
        assert "\n" not in line
        assert not out.exists()
    # Nothing half-written was left behind.
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


@pytest.mark.parametrize("turn", ["90", "-90", "180"])
def test_a_rotated_phone_video_is_measured_upright(tmp_path, ff, turn):
    """A phone stores its portrait video as 320x240 turned 90 degrees; players (and ffmpeg's
    decoder) show it 240 wide and 320 high, so that is its size, and its label names the short side."""
    import subprocess

    from media_tool.site.feed import Media

    plain, turned = tmp_path / "plain.mp4", tmp_path / "turned.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-f", "lavfi", "-i", "sine=f=440", "-t", "1",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(plain))
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", f"rotate={turn}", str(turned))
    upright = (240, 320) if turn != "180" else (320, 240)
    v = probe(str(turned), ff).video
    assert (v.width, v.height) == upright
    banner = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(turned)], capture_output=True, text=True).stderr
    b = parse_ffmpeg_banner(str(turned), 1, banner).video
    assert (b.width, b.height) == upright
    assert Media("mp4", "u", 1, None, v.height, v.width).title == ("Video 240p portrait" if turn != "180"
                                                                   else "Video 240p")
