"""Short captioned clips: the sample show's configured video clip, audiograms made with `media-tool clip`,
cuts snapped to sentences, and the ffmpeg-without-libass path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ffmpeg, integrated_lufs
from test_captions import psnr

from media_tool.text.transcripts import Segment, snap


def streams(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width,height:format=duration",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def clip(show: Path, *args: str, ffmpeg_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = None
    if ffmpeg_dir is not None:
        env = {**os.environ, "PATH": f"{ffmpeg_dir}:{os.environ['PATH']}"}
    return subprocess.run([sys.executable, "-m", "media_tool", "clip", "--show", str(show), *args],
                          capture_output=True, text=True, env=env)


def span_lufs(master: Path, start: float, end: float, tmp: Path) -> float:
    part = tmp / "span.wav"
    ffmpeg("-ss", str(start), "-t", str(end - start), "-i", str(master), "-map", "0:a:0", "-c:a", "pcm_f32le", str(part))
    return integrated_lufs(part)


def test_configured_video_clip_is_vertical_captioned_and_as_loud_as_the_episode(built_template, built_show, tmp_path):
    show, report = built_show, built_template[1]
    ep = next(e for e in report["episodes"] if e["slug"] == "ep-002-sick-leave")
    offset = ep["loudness"]["timeline_offset"]
    made = show / "feed" / "clips" / "ep-002-sick-leave-0m01s-0m09s-9x16.mp4"  # [[clips]] 0:01-0:09 in episode.toml
    assert made.is_file(), sorted(p.name for p in (show / "feed" / "clips").iterdir())
    info = streams(made)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (1080, 1920)
    assert float(info["format"]["duration"]) == pytest.approx(8.0, abs=0.1)
    master = show / "feed" / "media" / "ep-002-sick-leave.mp4"
    assert integrated_lufs(made) == pytest.approx(span_lufs(master, 1 + offset, 9 + offset, tmp_path), abs=0.5)
    # The same span without captions (an ffmpeg without libass makes that): only the bottom differs.
    made = Path(shutil.copy(made, tmp_path / "captioned.mp4"))  # the command below writes the same name
    fake = no_libass_ffmpeg(tmp_path)
    p = clip(show, "ep-002-sick-leave", "--start", "0:01", "--end", "0:09", "--json", ffmpeg_dir=fake)
    assert p.returncode == 0, p.stderr
    plain = show / json.loads(p.stdout)["path"]
    assert json.loads(p.stdout)["captions"] is False
    top = psnr(plain, made, 2.0, "crop=iw:ih/3:0:0")
    bottom = psnr(plain, made, 2.0, "crop=iw:ih/3:0:2*ih/3")
    assert top > 30 and bottom < top - 8, (top, bottom)


def no_libass_ffmpeg(tmp: Path) -> Path:
    """A folder whose `ffmpeg` is the real one minus its `ass` filter (as the pip build may be)."""
    d = tmp / "no-libass"
    d.mkdir()
    real = shutil.which("ffmpeg")
    (d / "ffmpeg").write_text(f'#!/bin/sh\ncase " $* " in *" -filters "*) "{real}" "$@" | grep -v " ass " ;;\n'
                              f'*) exec "{real}" "$@" ;; esac\n')
    (d / "ffmpeg").chmod(0o755)
    (d / "ffprobe").symlink_to(shutil.which("ffprobe"))
    return d


def test_audiogram_clip_from_the_command_line_snaps_to_sentences(built_show, tmp_path):
    p = clip(built_show, "ep-001-pensions", "--start", "0:04", "--end", "0:12", "--aspect", "1:1", "--snap", "--json")
    assert p.returncode == 0, p.stderr
    made = json.loads(p.stdout)
    segments = json.loads((built_show / "transcripts" / "ep-001-pensions" / "ep-001-pensions.en.json")
                          .read_text(encoding="utf-8"))["segments"]
    assert made["start"] in [round(s["startTime"], 3) for s in segments]  # cut where a sentence starts
    assert made["end"] in [round(s["endTime"], 3) for s in segments]      # and where one ends
    path = built_show / made["path"]
    assert path.parent == built_show / "feed" / "clips" and made["captions"] is True
    info = streams(path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (1080, 1080)
    assert float(info["format"]["duration"]) == pytest.approx(made["end"] - made["start"], abs=0.1)
    # An audiogram: the cover stays put while the waveform under it moves with the sound.
    cover = "crop=iw/3:ih/4:iw/3:ih/10"
    wave = "crop=iw:ih/8:0:ih*0.66"
    shifted = tmp_path / "later.mp4"
    ffmpeg("-ss", "1.5", "-i", str(path), "-c", "copy", str(shifted))
    assert psnr(path, shifted, 1.0, cover) > 35
    assert psnr(path, shifted, 1.0, wave) < psnr(path, shifted, 1.0, cover) - 10


def test_a_clip_of_an_unbuilt_episode_is_refused(sample_show):
    p = clip(sample_show, "ep-001-pensions", "--start", "0:02", "--end", "0:08")
    assert p.returncode == 2 and "run media-tool build first" in p.stderr
    assert not (sample_show / "feed").exists()


def test_clip_errors_are_one_line(built_show):
    p = clip(built_show, "ep-001-pensions", "--start", "0:05", "--end", "9:00")
    assert p.returncode == 2 and "--end: 540 s is after the episode's end" in p.stderr
    p = clip(built_show, "ep-001-pensions", "--start", "0:05", "--end", "1:75")
    assert p.returncode == 2 and "--end: expected seconds, MM:SS or H:MM:SS" in p.stderr
    toml = built_show / "episodes" / "ep-002-sick-leave" / "episode.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('end = "0:09"', 'end = "4:50"'), encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "media_tool", "build", "--show", str(built_show)],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "episodes/ep-002-sick-leave/episode.toml: clips[0].end: 290 s is after the episode's end" in p.stderr
    assert (built_show / "feed" / "feed.xml").is_file()  # the other episode still built and published


def test_snap_moves_cuts_to_the_nearest_sentence_boundaries():
    segs = (Segment(0.0, 2.0, "a"), Segment(2.5, 6.0, "b"), Segment(6.2, 9.0, "c"))
    assert snap(segs, 2.2, 8.0) == (2.5, 9.0)
    assert snap(segs, 0.4, 5.0) == (0.0, 6.0)
    assert snap((), 1.0, 3.0) == (1.0, 3.0)
    assert snap(segs, 8.9, 9.5) == (6.2, 9.0)  # never an empty clip
