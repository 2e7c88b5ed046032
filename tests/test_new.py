"""The producer's day: `media-tool new` starts an episode that builds as it is, and a broken file
shows every problem at once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib

from helpers import ROOT, build_json, ffmpeg, run_here


def test_new_episode_builds_with_no_edits(built_show, tmp_path):
    recording = tmp_path / "english.opus"  # its first 12 s: the whole episode is transcribed and translated
    ffmpeg("-i", str(ROOT / "tests" / "fixtures" / "english.opus"), "-t", "12", "-c", "copy", str(recording))
    p = run_here("new", "ep-004-unemployment", "--show", str(built_show), "--title", "Unemployment insurance",
            "--title-zh", "失业保险", "--recording", str(recording), "--json")
    assert p.returncode == 0, p.stderr
    made = json.loads(p.stdout)["files"]
    folder = "episodes/ep-004-unemployment"
    assert made == [f"{folder}/episode.toml", f"{folder}/notes.md", f"{folder}/notes.zh.md", f"{folder}/recording.opus"]
    toml = tomllib.loads((built_show / folder / "episode.toml").read_text(encoding="utf-8"))
    assert toml["number"] == 4 and toml["title"] == {"en": "Unemployment insurance", "zh": "失业保险"}
    assert "# type = \"full\"" in (built_show / folder / "episode.toml").read_text(encoding="utf-8")
    code, report = build_json(built_show)
    assert code == 0, report
    xml = (built_show / "feed" / "feed.xml").read_text(encoding="utf-8")
    assert xml.count("<item>") == 4 and "Unemployment insurance" in xml
    # `new`'s placeholder notes are never published, and check names each file that holds them.
    zh_xml = (built_show / "feed" / "feed.zh.xml").read_text(encoding="utf-8")
    page = (built_show / "feed" / "episodes" / "ep-004-unemployment" / "index.html").read_text(encoding="utf-8")
    for text in ("Show notes in Markdown", "中文节目介绍"):
        assert text not in xml and text not in zh_xml and text not in page, text
    assert [w for w in report["warnings"] if f"{folder}/notes.md: still holds the placeholder" in w]
    checked = run_here("check", "--show", str(built_show))
    assert checked.returncode == 1
    for name in ("notes.md", "notes.zh.md"):
        assert f"{folder}/{name}" in checked.stdout + checked.stderr, checked.stdout
    # No person's translation: the offline translator makes the Chinese, in build and status alike.
    ep3 = next(e for e in report["episodes"] if e["slug"] == "ep-004-unemployment")
    assert ep3["stages"]["translate"]["status"] == "done"
    st = {e["slug"]: e for e in json.loads(run_here("status", "--show", str(built_show), "--json").stdout)}
    assert st["ep-004-unemployment"]["stages"]["translate"]["status"] == "built"
    folder = built_show / "transcripts" / "ep-004-unemployment"
    zh = json.loads((folder / "ep-004-unemployment.zh.json").read_text())["segments"]
    en = json.loads((folder / "ep-004-unemployment.en.json").read_text())["segments"]
    assert len(zh) == len(en) > 0
    for z in zh:  # Chinese, made by the local model from what was said in English, and labelled so
        assert re.search("[\u4e00-\u9fff]", z["body"]) and z["translatedBy"].startswith("local:"), z
        assert z["spokenLanguage"] == "en", z
    assert "机器翻译" in page
    # At 80 columns the tables keep every slug whole.
    for command in ("build", "status"):
        p = subprocess.run([sys.executable, "-m", "media_tool", command, "--show", str(built_show)],
                           capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"})
        assert "ep-004-unemployment" in p.stdout and "ep-002-sick-leave" in p.stdout, p.stdout
        assert max(len(line) for line in p.stdout.splitlines()) <= 80
    again = run_here("new", "ep-004-unemployment", "--show", str(built_show))  # never overwrites
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = run_here("new", "Episode_3", "--show", str(built_show))
    assert bad.returncode == 2 and "lower-case letters, digits and '-'" in bad.stderr


def test_every_problem_of_a_file_at_once(built_show):
    toml = built_show / "episodes" / "ep-001-pensions" / "episode.toml"
    text = toml.read_text(encoding="utf-8").replace("number = 1", 'number = "one"').replace('type = "full"', 'type = "movie"')
    toml.write_text('explicit = "no"\n' + text, encoding="utf-8")
    p = run_here("build", "--show", str(built_show))
    assert p.returncode == 1
    fields = re.findall(r"episodes/ep-001-pensions/episode\.toml: (\w+):", p.stderr)
    assert sorted(fields) == ["explicit", "number", "type"], p.stderr  # all three, each once
    show = built_show / "podcast.toml"
    show.write_text(show.read_text(encoding="utf-8").replace('language = "en"', 'language = "fr"')
                    .replace("explicit = false", "explicit = 2"), encoding="utf-8")
    p = run_here("build", "--show", str(built_show))
    assert p.returncode == 2
    assert "podcast.toml: language:" in p.stderr and "podcast.toml: explicit:" in p.stderr
