"""`media-tool build` on the sample show: incremental, parallel, failure-tolerant and atomic."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import build_json, cli, ffmpeg, loudness_ok, probe_streams, statuses

import media_tool.media.ffmpeg as runner
from media_tool.errors import LockError
from media_tool.media.ffmpeg import FFmpeg
from media_tool.model.show import load_show
from media_tool.pipeline import build as pipeline
from media_tool.store.files import ShowLock


def test_sample_show_builds_then_skips(built_template, built_show):
    sample_show, report = built_template  # the session's first build, with two jobs
    assert statuses(report) == {"ep-001-pensions": {"probe": "done", "normalize": "done"},
                                "ep-002-sick-leave": {"probe": "done", "normalize": "done"},
                                "ep-003-long-term-care": {"probe": "done", "normalize": "done"}}
    media = sample_show / "feed" / "media"
    # Both sample recordings are mono: the mono target applies.
    loudness_ok(media / "ep-001-pensions.mp3", -19.0)
    loudness_ok(media / "ep-001-pensions.m4a", -19.0)
    loudness_ok(media / "ep-002-sick-leave.mp3", -19.0)
    loudness_ok(media / "ep-002-sick-leave.mp4", -19.0)
    assert {"audio", "video"} <= {s["codec_type"] for s in probe_streams(media / "ep-002-sick-leave.mp4")["streams"]}
    # The intro jingle came before the speech; the recorded figures are in the report.
    ep1 = next(e for e in report["episodes"] if e["slug"] == "ep-001-pensions")
    assert ep1["loudness"]["input"]["integrated"] < -25 and ep1["published"]["mp3"] == "feed/media/ep-001-pensions.mp3"
    assert ep1["outputs"]["mp3"] == ".media-tool/media/ep-001-pensions.mp3"  # the untagged master

    sample_show = built_show  # a copy, built again: nothing to do
    code, again = build_json(sample_show)
    assert code == 0
    all_stages = ("probe", "normalize", "speakers", "transcribe", "translate", "captions", "clips", "tag", "index")
    assert all(s == "skipped" for st in statuses(again, all_stages).values() for s in st.values())
    # Status agrees, and nothing under feed/ is half-written.
    st = json.loads(cli("status", "--show", str(sample_show), "--json").stdout)
    assert {e["slug"]: {k: v["status"] for k, v in e["stages"].items()} for e in st} == {
        slug: {stage: "built" for stage in all_stages}
        for slug in ("ep-001-pensions", "ep-002-sick-leave", "ep-003-long-term-care")}
    assert not [p for p in (sample_show / "feed").rglob("*") if ".part-" in p.name]


def test_second_build_runs_no_ffmpeg(built_show, monkeypatch):
    """Nothing changed: no media work at all (ffmpeg is never started)."""
    show = load_show(built_show)
    ff = FFmpeg.discover()

    def refuse(*a, **k):
        raise AssertionError("ffmpeg was started on an unchanged show")

    monkeypatch.setattr(runner, "_Proc", refuse)
    second = pipeline.build(show, ff)
    assert not second.failed
    assert {s.status for e in second.episodes for s in e.stages} == {"skipped"}


def test_episode_setting_change_rebuilds_only_that_episode(built_show):
    toml = built_show / "episodes" / "ep-002-sick-leave" / "episode.toml"
    toml.write_text(toml.read_text() + "\n[audio]\ntarget_lufs_mono = -20.0\n", encoding="utf-8")
    code, report = build_json(built_show)
    assert code == 0
    assert statuses(report) == {"ep-001-pensions": {"probe": "skipped", "normalize": "skipped"},
                                "ep-002-sick-leave": {"probe": "skipped", "normalize": "done"},
                                "ep-003-long-term-care": {"probe": "skipped", "normalize": "skipped"}}
    loudness_ok(built_show / "feed" / "media" / "ep-002-sick-leave.mp3", -20.0)
    # A title change is not an audio setting: nothing is re-encoded.
    toml.write_text(toml.read_text().replace("病假与养老保险", "病假"), encoding="utf-8")
    code, report = build_json(built_show)
    assert code == 0, report
    assert statuses(report)["ep-002-sick-leave"] == {"probe": "skipped", "normalize": "skipped"}


def test_deleted_output_is_rebuilt(built_show):
    published = built_show / "feed" / "media" / "ep-001-pensions.m4a"
    published.unlink()  # the publish step puts it back from the tagged copy: nothing is redone
    code, report = build_json(built_show)
    assert code == 0, report
    assert statuses(report, ("normalize", "tag"))["ep-001-pensions"] == {"normalize": "skipped", "tag": "skipped"}
    assert published.is_file()
    (built_show / ".media-tool" / "tagged" / "ep-001-pensions.m4a").unlink()  # a lost tagged copy is tagged again
    code, report = build_json(built_show)
    assert code == 0, report
    assert statuses(report, ("normalize", "tag"))["ep-001-pensions"] == {"normalize": "skipped", "tag": "done"}
    assert published.is_file()
    (built_show / ".media-tool" / "media" / "ep-001-pensions.m4a").unlink()  # a lost master is re-encoded
    code, report = build_json(built_show)
    assert code == 0, report
    assert statuses(report)["ep-001-pensions"]["normalize"] == "done"


def _add_bad_episodes(show: Path, media: dict) -> dict[str, str]:
    """Bad episodes beside the good ones; returns slug -> words the error line must hold."""
    def episode(slug: str, source: str, body: str = "") -> Path:
        d = show / "episodes" / slug
        d.mkdir()
        (d / "episode.toml").write_text(f'title = "{slug}"\ndate = 2026-01-05\nlanguage = "en"\n'
                                        f'source = "{source}"\n{body}', encoding="utf-8")
        return d

    episode("bad-zero", "zero.wav").joinpath("zero.wav").write_bytes(b"")
    episode("bad-text", "talk.mp3").joinpath("talk.mp3").write_text("not audio at all\n" * 40)
    d = episode("bad-truncated", "cut.mp3")
    ffmpeg("-i", str(media["loud.wav"]), "-c:a", "libmp3lame", "-b:a", "128k", str(d / "whole.mp3"))
    data = (d / "whole.mp3").read_bytes()
    (d / "cut.mp3").write_bytes(data[: len(data) // 2])
    (d / "whole.mp3").unlink()
    d = episode("bad-noaudio", "clip.mp4")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=2", "-c:v", "libx264",
           "-preset", "ultrafast", str(d / "clip.mp4"))
    d = episode("bad-short", "blip.wav")
    ffmpeg("-i", str(media["mono.wav"]), "-t", "0.1", str(d / "blip.wav"))
    d = show / "episodes" / "bad-toml"
    d.mkdir()
    (d / "episode.toml").write_text('title = "x"\nnumber = "three"\n', encoding="utf-8")
    return {"bad-zero": "episodes/bad-zero/zero.wav: empty file",
            "bad-text": "episodes/bad-text/talk.mp3: not a media file",
            "bad-truncated": "episodes/bad-truncated/cut.mp3: truncated",
            "bad-noaudio": "episodes/bad-noaudio/clip.mp4: no audio stream",
            "bad-short": "episodes/bad-short/blip.wav: too short",
            "bad-toml": "episodes/bad-toml/episode.toml: number: expected a positive integer"}


@pytest.mark.slow
def test_bad_episodes_fail_alone(built_show, media):
    expected = _add_bad_episodes(built_show, media)
    p = cli("build", "--show", str(built_show), "--jobs", "2")
    assert p.returncode == 1
    failed_lines = [ln for ln in p.stderr.splitlines() if ln.startswith("failed: ")]
    for slug, words in expected.items():
        assert sum(words in ln for ln in failed_lines) == 1, (slug, p.stderr)
    # The good episodes still built, and no bad episode left a file behind.
    media_dir = built_show / "feed" / "media"
    assert sorted(p.name for p in media_dir.iterdir()) == [
        "ep-001-pensions.m4a", "ep-001-pensions.mp3", "ep-002-sick-leave.mp3", "ep-002-sick-leave.mp4",
        "ep-002-sick-leave.subtitled.mp4", "ep-003-long-term-care.m4a", "ep-003-long-term-care.mp3"]
    code, report = build_json(built_show)
    assert code == 1 and report["failed"] == len(expected)
    st = json.loads(cli("status", "--show", str(built_show), "--json").stdout)
    by = {e["slug"]: e["stages"] for e in st}
    assert by["bad-zero"]["probe"]["status"] == "failed"
    assert by["ep-001-pensions"]["normalize"]["status"] == "built"
    # --debug shows the failed episode's traceback; without it, one line and no traceback.
    debug = cli("build", "--show", str(built_show), "--episode", "bad-truncated", "--debug")
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "InputMediaError" in debug.stderr and "truncated" in debug.stderr
    plain = cli("build", "--show", str(built_show), "--episode", "bad-truncated")
    assert plain.returncode == 1 and "Traceback" not in plain.stderr


@pytest.mark.slow
def test_killed_build_recovers(sample_show, media):
    # A long episode (30 s, seconds of encoding) so the kill lands mid-encode.
    for d in (sample_show / "episodes").iterdir():
        shutil.rmtree(d)
    d = sample_show / "episodes" / "long"
    d.mkdir()
    ffmpeg("-stream_loop", "8", "-i", str(media["loud.wav"]), "-t", "30", "-c:a", "flac", str(d / "long.flac"))
    (d / "episode.toml").write_text('title = "Long"\ndate = 2026-01-05\nlanguage = "en"\n', encoding="utf-8")
    toml = sample_show / "podcast.toml"  # English only: what is killed and redone is the encoding, not a translation
    toml.write_text(toml.read_text(encoding="utf-8").replace('languages = ["zh", "en"]', 'languages = ["en"]'),
                    encoding="utf-8")
    media_dir = sample_show / "feed" / "media"
    masters = sample_show / ".media-tool" / "media"  # normalize writes here; tagged copies go to feed/media
    proc = subprocess.Popen([sys.executable, "-m", "media_tool", "build", "--show", str(sample_show), "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (masters.is_dir() and any(".part-" in p.name for p in masters.iterdir())):
        time.sleep(0.02)
    assert any(".part-" in p.name for p in masters.iterdir()), "the build never started writing"
    os.killpg(proc.pid, signal.SIGKILL)  # the whole build, ffmpeg children included
    proc.wait()
    assert not (masters / "long.mp3").exists() and not media_dir.exists()  # only hidden part files existed
    code, report = build_json(sample_show)
    assert code == 0, report
    assert sorted(p.name for p in media_dir.iterdir()) == ["long.m4a", "long.mp3"]
    assert sorted(p.name for p in masters.iterdir()) == ["long.m4a", "long.mp3"]
    loudness_ok(media_dir / "long.mp3", -16.0)


def test_lock_stops_a_second_build(sample_show):
    show = load_show(sample_show)
    with ShowLock(show.state_dir):
        with pytest.raises(LockError):
            pipeline.build(show, FFmpeg.discover())
        p = cli("build", "--show", str(sample_show))
        assert p.returncode == 1 and "another build of this show is running" in p.stderr


def test_help_speaks_to_users():
    p = cli("--help")
    assert p.returncode == 0
    description = p.stdout.split("\n\n")[1]
    assert description.startswith("Turn a show folder of raw podcast and videocast recordings into a published")


def test_cli_errors_are_one_line(tmp_path, media):
    p = cli("build", "--show", str(tmp_path))
    assert p.returncode == 2 and p.stderr.strip() == "error: podcast.toml: file not found"
    p = cli("normalize", str(tmp_path / "nope.wav"), "-o", str(tmp_path / "x.mp3"))
    assert p.returncode == 1 and "nope.wav: cannot read" in p.stderr
    p = cli("normalize", str(media["mono.wav"]), "-o", str(tmp_path / "x.ogg"))
    assert p.returncode == 2 and "x.ogg: cannot tell the output format" in p.stderr
    p = cli("build", "--show", str(tmp_path), "--bogus")
    assert p.returncode == 2


def test_cli_normalize_json(tmp_path, media):
    out = tmp_path / "n.mp3"
    p = cli("normalize", str(media["quiet.wav"]), "-o", str(out), "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["target_lufs"] == -16.0 and d["input"]["integrated"] < -27
    assert abs(d["output"]["integrated"] + 16.0) <= 0.3 and d["output"]["peak"] <= -1.0
    assert d["gain_db"] > 10 and d["seconds"] > 0 and d["output"]["lra"] >= 0
    loudness_ok(out, -16.0)


@pytest.mark.slow
def test_builds_with_pip_ffmpeg_and_no_ffprobe(sample_show):
    """A machine with no system ffmpeg: the static binary in the imageio-ffmpeg wheel does it all."""
    import imageio_ffmpeg

    ff = FFmpeg(ffmpeg=imageio_ffmpeg.get_ffmpeg_exe(), ffprobe=None, version="pip")
    shutil.rmtree(sample_show / "episodes" / "ep-003-long-term-care")  # the audio and the video episode
    report = pipeline.build(load_show(sample_show), ff, jobs=2)
    assert not report.failed, [e.error for e in report.failed]
    loudness_ok(sample_show / "feed" / "media" / "ep-001-pensions.mp3", -19.0)
    loudness_ok(sample_show / "feed" / "media" / "ep-002-sick-leave.mp4", -19.0)


def test_file_names_that_look_like_options(tmp_path, media):
    """A recording named `-dash.wav` is a file, never an ffmpeg or ffprobe option."""
    shutil.copy(media["mono.wav"], tmp_path / "-dash.wav")
    p = cli("normalize", "--output=-out.mp3", "--json", "--", "-dash.wav", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "-out.mp3").is_file() and json.loads(p.stdout)["input"]["integrated"] < -10
