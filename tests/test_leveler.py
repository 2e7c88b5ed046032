"""The speaker leveler on a two-voice interview whose guest is 12 dB quieter than the host, over a
steady noise floor: per voice, the published file is measured by pyloudnorm over the truth's spans
(not the tool's own turns or meter), and the noise in the pauses against the same file normalized
without the leveler. In `media-tool normalize` (audio and the audio of a video) and in a build,
where the turns also move onto the published timeline past an intro jingle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile
from helpers import ffmpeg, run_here, small_show

from media_tool.stages.speakers import core as speakers

FIXTURES = Path(__file__).parent / "fixtures"
RATE = 44100
GAP_DB = 12.0
pytestmark = pytest.mark.skipif(speakers.unavailable() is not None, reason=str(speakers.unavailable()))


@pytest.fixture(scope="module")
def interview(tmp_path_factory) -> dict:
    """Host (the Mandarin fixture) and guest (the English one) taking turns, the guest GAP_DB down,
    1.2 s pauses, white noise at -60 dBFS throughout; stereo 44.1 kHz. The truth: (start, end, who)."""
    d = tmp_path_factory.mktemp("interview")
    voices = []
    for name in ("mandarin", "english"):
        ffmpeg("-i", str(FIXTURES / f"{name}.opus"), "-ac", "1", "-ar", str(RATE), str(d / f"{name}.wav"))
        x = soundfile.read(str(d / f"{name}.wav"), dtype="float32")[0]
        voices.append((x[:len(x) // 2], x[len(x) // 2:]))
    pause = np.zeros(int(1.2 * RATE), np.float32)
    parts, truth, t = [pause], [], len(pause) / RATE
    for half in (0, 1):
        for who, gain in ((0, 0.0), (1, -GAP_DB)):
            x = voices[who][half] * 10 ** ((gain - 6) / 20)
            parts += [x, pause]
            truth.append((t, t + len(x) / RATE, who))
            t += (len(x) + len(pause)) / RATE
    sig = np.concatenate(parts)
    sig += np.random.default_rng(0).standard_normal(len(sig)).astype(np.float32) * 10 ** (-60 / 20)
    wav = d / "interview.wav"
    soundfile.write(str(wav), np.stack([sig, 0.95 * sig], 1), RATE)
    return {"wav": wav, "truth": truth, "dir": d}


def heard(path: Path, truth, offset: float = 0.0) -> tuple[dict[int, float], float]:
    """pyloudnorm's loudness of each voice over its truth spans, and the RMS (dBFS) of the pauses
    (0.3 s clear of speech), in the decoded file; `offset`: where the recording's 0 falls in it."""
    wav = path.with_suffix(".check.wav")
    ffmpeg("-i", str(path), "-map", "0:a:0", "-ac", "1", "-c:a", "pcm_f32le", str(wav))
    y, sr = soundfile.read(str(wav), dtype="float64")
    cut = lambda a, b: y[int((a + offset) * sr):int((b + offset) * sr)]  # noqa: E731
    meter = pyloudnorm.Meter(sr)
    voices = {who: meter.integrated_loudness(np.concatenate([cut(a, b) for a, b, w in truth if w == who]))
              for who in (0, 1)}
    pauses = np.concatenate([cut(b + 0.3, c - 0.3) for (_, b, _), (c, _, _) in zip(truth, truth[1:])])
    return voices, float(20 * np.log10(np.sqrt(np.mean(pauses ** 2))))


def test_two_voices_12_db_apart_meet_and_the_pauses_stay(interview, tmp_path):
    plain, level = tmp_path / "plain.mp3", tmp_path / "level.mp3"
    p = run_here("normalize", str(interview["wav"]), "-o", str(plain), "--json")
    assert p.returncode == 0, p.stderr
    p = run_here("normalize", str(interview["wav"]), "-o", str(level), "--speakers", "2", "--json")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    before, noise_before = heard(plain, interview["truth"])
    after, noise_after = heard(level, interview["truth"])
    print(f"voices {before} -> {after}; pauses {noise_before:.1f} -> {noise_after:.1f} dBFS")
    assert abs(before[0] - before[1]) > GAP_DB - 1  # the fixture is what it claims
    assert abs(after[0] - after[1]) <= 1.5
    assert noise_after - noise_before <= 3.0
    assert abs(report["output"]["integrated"] + 16) <= 0.5 and report["output"]["peak"] <= -1.0
    # the report's own figures, voice by voice, say the same
    voices = report["voices"]
    assert len(voices) == 2 and all(v["before_lufs"] is not None for v in voices)
    assert abs(abs(voices[0]["before_lufs"] - voices[1]["before_lufs"]) - GAP_DB) <= 1.5
    assert abs(voices[0]["after_lufs"] - voices[1]["after_lufs"]) <= 1.0


def test_the_audio_of_a_video_is_leveled_and_its_picture_copied(interview, tmp_path):
    video = tmp_path / "talk.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10", "-i", str(interview["wav"]), "-shortest",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(video))
    out = tmp_path / "out.mp4"
    p = run_here("normalize", str(video), "-o", str(out), "--speakers", "auto")  # the table, this time
    assert p.returncode == 0, p.stderr
    assert "voices leveled" in p.stdout and "Speaker 2" in p.stdout, p.stdout
    after, _ = heard(out, interview["truth"])
    assert abs(after[0] - after[1]) <= 1.5, after
    assert ffmpeg_md5(out) == ffmpeg_md5(video)


def ffmpeg_md5(path: Path) -> str:
    """The MD5 of a file's video packets as they are stored."""
    import subprocess

    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "md5", "-"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_a_build_levels_an_interview_and_its_turns_follow_the_intro(interview, tmp_path):
    """An episode naming two people, with an intro jingle before it and no translation: the voices
    meet in the published MP3, and every line's speaker is the truth's at that line's time on the
    published timeline (the recording's turns moved by the jingle)."""
    show = small_show(tmp_path / "show", [("ep-1", "zh", 1.0)])
    ep = show / "episodes" / "ep-1"
    (ep / "recording.flac").unlink()
    ffmpeg("-i", str(interview["wav"]), "-c:a", "flac", str(ep / "recording.flac"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=660:duration=2", "-af", "volume=-12dB", str(show / "intro.wav"))
    with open(show / "podcast.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[audio]\nintro = "intro.wav"\n\n[translation]\nengine = "human"\n')
    toml = (ep / "episode.toml").read_text(encoding="utf-8").replace('language = "zh"', 'language = ["zh", "en"]')
    (ep / "episode.toml").write_text(toml, encoding="utf-8")
    with open(ep / "episode.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[people]]\nname = "李华"\nrole = "host"\n\n[[people]]\nname = "Anna Smith"\n'
                 'role = "guest"\n')
    p = run_here("build", "--show", str(show), "--json")
    report = json.loads(p.stdout)
    assert p.returncode == 0 and not report["failed"], p.stderr
    loud = report["episodes"][0]["loudness"]
    offset = loud["timeline_offset"]
    assert abs(offset) > 0.3  # the jingle's 2 s first, less the silence trimmed: the timeline moved
    master = Path(loud["files"][0]["path"])
    after, _ = heard(master if master.is_absolute() else show / master, interview["truth"], offset)
    assert abs(after[0] - after[1]) <= 1.5, after
    names = {0: "李华", 1: "Anna Smith"}
    lines = json.loads((show / "transcripts" / "ep-1" / "ep-1.spoken.json").read_text(encoding="utf-8"))["segments"]
    assert lines
    for s in lines:
        mid = (s["startTime"] + s["endTime"]) / 2 - offset
        who = next((w for a, b, w in interview["truth"] if a - 0.5 <= mid <= b + 0.5), None)
        assert who is not None and s["speaker"] == names[who], s
