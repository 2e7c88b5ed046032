"""`media-tool check`: Apple's and Podcasting 2.0's rules on the show and the built feed."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from helpers import run_here


def problems(show) -> tuple[int, list[dict]]:
    p = run_here("check", "--show", str(show), "--json")
    return p.returncode, json.loads(p.stdout)


def test_sample_show_passes(built_show):
    assert problems(built_show) == (0, [])


@pytest.mark.slow
def test_bad_cover_duplicate_numbers_and_http(built_show):
    sample_show = built_show
    shutil.rmtree(built_show / "feed")  # as before a first publish: the build must not write one now
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=500x300", "-frames:v", "1",
                    str(sample_show / "cover.jpg")], check=True)
    toml = sample_show / "episodes" / "ep-002-sick-leave" / "episode.toml"
    toml.write_text(toml.read_text().replace("number = 2", "number = 1"), encoding="utf-8")
    pt = sample_show / "podcast.toml"
    pt.write_text(pt.read_text().replace("https://podcast.example.org", "http://podcast.example.org"))
    code, found = problems(sample_show)
    assert code == 1
    lines = {f"{p['file']}: {p['message']}" for p in found if p["severity"] == "error"}
    assert "cover.jpg: 500x300: cover art must be square" in lines
    assert "cover.jpg: 500x300: cover art must be 1400 to 3000 px" in lines
    assert ("episodes/ep-002-sick-leave/episode.toml: number 1 (season 1) is also used by "
            "episodes/ep-001-pensions/episode.toml") in lines
    assert any(line.startswith("podcast.toml: base_url: http://podcast.example.org is not https") for line in lines)
    # The build makes the media, says what is wrong, and refuses to write a feed apps would reject.
    p = run_here("build", "--show", str(sample_show))
    assert p.returncode == 1 and "failed: podcast.toml: base_url: http://podcast.example.org is not https" in p.stderr
    assert "warning: cover.jpg: 500x300: cover art must be square" in p.stderr
    assert "number 1 (season 1) is also used by episodes/ep-001-pensions/episode.toml" in p.stderr
    assert not (sample_show / "feed" / "feed.xml").exists()


def test_tampered_feed_is_caught(built_show):
    feed = built_show / "feed" / "feed.xml"
    text = feed.read_text(encoding="utf-8")
    size = (built_show / "feed" / "media" / "ep-001-pensions.mp3").stat().st_size
    feed.write_text(text.replace(f'length="{size}"', 'length="1"', 1).replace("<podcast:locked", "<podcast:lockd")
                    .replace("</podcast:locked>", "</podcast:lockd>").replace('role="host"', 'role="hostess"', 1),
                    encoding="utf-8")
    chapters = built_show / "feed" / "chapters" / "ep-001-pensions.json"
    data = json.loads(chapters.read_text(encoding="utf-8"))
    data["chapters"].append({"startTime": 9999, "title": "Never"})
    chapters.write_text(json.dumps(data), encoding="utf-8")
    code, found = problems(built_show)
    assert code == 1
    messages = [p["message"] for p in found]
    assert any("enclosure length 1 but the file has" in m for m in messages)
    assert "channel: <podcast:locked> is missing" in messages
    assert any("a chapter starts at 9999 s, past the episode's end" in m for m in messages)
    assert any("role 'hostess' is not a Podcast Taxonomy role" in m for m in messages)


def test_description_is_cut_within_apples_limit():
    from media_tool.text.notes import summary

    text = ("Pensions protect people in old age. " * 200).strip()
    cut = summary(text)
    assert len(cut.encode()) <= 4000 and cut.endswith(".") and cut.startswith("Pensions protect")
    zh = "养老保险帮助老年人维持基本生活" * 200
    cut = summary(zh)
    assert len(cut.encode()) <= 4000 and cut.endswith("…")
    assert summary("short & sweet") == "short & sweet"
