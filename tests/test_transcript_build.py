"""Transcripts in `media-tool build`: the sample show's files, human edits, translations that fail."""

from __future__ import annotations

import io
import json

import srt
import webvtt

from helpers import build_json, cli, statuses


def test_sample_show_transcripts(built_template):
    sample_show, report = built_template
    t = sample_show / "transcripts"
    # English episode: transcribed by tiny.en; no translator configured, so Chinese is reported missing.
    en = (t / "ep-001-pensions" / "ep-001-pensions.en.txt").read_text()
    assert "pension" in en.lower() and "welcome" in en.lower()
    assert not (t / "ep-001-pensions" / "ep-001-pensions.zh.srt").exists()
    ep1 = next(e for e in report["episodes"] if e["slug"] == "ep-001-pensions")
    assert any("Chinese translation missing" in n for n in ep1["notices"])
    st = {e["slug"]: e["stages"] for e in json.loads(cli("status", "--show", str(sample_show), "--json").stdout)}
    assert st["ep-001-pensions"]["translate"]["status"] == "missing"
    # Mandarin episode: the person's transcript and translation, paired cue by cue, Chinese on top.
    d = t / "ep-002-sick-leave"
    zh = list(srt.parse((d / "ep-002-sick-leave.zh.srt").read_text()))
    assert zh[0].content.startswith("欢迎收听")
    pairs = list(srt.parse((d / "ep-002-sick-leave.zh-en.srt").read_text()))
    assert len(pairs) == 5 and all(len(p.content.split("\n")) == 2 for p in pairs)
    assert pairs[1].content.split("\n") == ["今天我们讨论病假和养老保险。", "Today we discuss sick leave and old-age insurance."]
    vtt = webvtt.from_buffer(io.StringIO((d / "ep-002-sick-leave.zh-en.vtt").read_text()))
    assert [c.text.split("\n")[0] for c in vtt] == [p.content.split("\n")[0] for p in pairs]
    assert json.loads((d / "ep-002-sick-leave.en.json").read_text())["segments"][4]["body"] == "Thank you for listening."


def test_person_edit_survives_a_new_machine_transcript(built_show):
    srt_path = built_show / "transcripts" / "ep-001-pensions" / "ep-001-pensions.en.srt"
    edited = srt_path.read_text().replace("Welcome", "WELCOME (checked by Li)")
    srt_path.write_text(edited)
    # New audio (another loudness target) means a new machine transcript.
    toml = built_show / "episodes" / "ep-001-pensions" / "episode.toml"
    toml.write_text(toml.read_text() + "\n[audio]\ntarget_lufs_mono = -20.0\n")
    code, report = build_json(built_show)
    assert code == 0 and statuses(report, ("transcribe",))["ep-001-pensions"]["transcribe"] == "done"
    assert srt_path.read_text() == edited
    assert (srt_path.parent / "ep-001-pensions.en.machine.srt").is_file()
    ep1 = next(e for e in report["episodes"] if e["slug"] == "ep-001-pensions")
    assert any("edited by a person, kept" in n for n in ep1["notices"])


def test_wrong_human_translation_fails_that_episode_only(sample_show):
    (sample_show / "transcripts" / "ep-002-sick-leave" / "human.en.txt").write_text("Only one line.\n")
    p = cli("build", "--show", str(sample_show))
    assert p.returncode == 1
    assert "failed: transcripts/ep-002-sick-leave/human.en.txt:2: 1 segments, but the transcript has 5" in p.stderr
    assert (sample_show / "feed" / "media" / "ep-001-pensions.mp3").is_file()


def test_unreachable_translation_endpoint_keeps_existing_files(built_show):
    before = {p.name: p.read_bytes() for p in (built_show / "transcripts" / "ep-001-pensions").iterdir()}
    with open(built_show / "podcast.toml", "a") as fh:
        fh.write('\n[translation]\nengine = "openai"\nurl = "http://127.0.0.1:9/v1"\nmodel = "any"\n')
    p = cli("build", "--show", str(built_show))
    assert p.returncode == 1
    # The episode keeps what it published: one line says so, and why.
    kept = [ln for ln in p.stderr.splitlines() if ln.startswith("kept:")]
    assert len(kept) == 1 and kept[0].startswith("kept: ep-001-pensions: kept the version published on")
    assert "translation endpoint http://127.0.0.1:9/v1/chat/completions unreachable" in kept[0]
    assert not [ln for ln in p.stderr.splitlines() if ln.startswith("failed:")]
    after = {p.name: p.read_bytes() for p in (built_show / "transcripts" / "ep-001-pensions").iterdir()}
    assert after == before
