"""The published feed, read by three independent parsers: podcastparser (gPodder), feedparser,
and podcast-partytime (Podcasting 2.0, run with node)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import podcastparser
import pytest
from helpers import build_json

JS = Path(__file__).parent / "js"
HAS_PARTYTIME = shutil.which("node") and (JS / "node_modules" / "podcast-partytime").is_dir()


@pytest.fixture()
def built(built_template, built_show):
    assert built_template[1]["feeds"] == ["feed/feed.xml", "feed/feed.video.xml", "feed/feed.zh.xml",
                                          "feed/feed.video.zh.xml"]
    return built_show


def partytime(path: Path) -> dict:
    out = subprocess.run(["node", str(JS / "partytime.mjs"), str(path)], capture_output=True, text=True,
                         check=True, timeout=60).stdout.splitlines()
    return json.loads(out[out.index("PARTYTIME-RESULT") + 1])


def test_feedparser_and_podcastparser(built):
    feed_dir = built / "feed"
    for name, lang in (("feed.xml", "en"), ("feed.zh.xml", "zh-cn")):
        parsed = feedparser.parse(str(feed_dir / name))
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.feed.language == lang and len(parsed.entries) == 3
        with open(feed_dir / name, "rb") as fh:
            pod = podcastparser.parse(f"https://podcast.example.org/{name}", fh)
        assert len(pod["episodes"]) == 3
        for ep in pod["episodes"]:
            (enc,) = ep["enclosures"]
            local = feed_dir / "media" / enc["url"].rsplit("/", 1)[1]
            assert enc["file_size"] == local.stat().st_size and enc["mime_type"] == "audio/mpeg"
            assert ep["total_time"] > 15 and ep["guid"]
    zh = feedparser.parse(str(feed_dir / "feed.zh.xml"))
    assert zh.feed.title == "社会保障对话" and {e.title for e in zh.entries} == {"人人享有养老金", "病假与养老保险",
                                                                            "长期护理保险：与国际专家对话"}


@pytest.mark.skipif(not HAS_PARTYTIME, reason="needs node and tests/js/node_modules (scripts/test.sh runs npm install)")
def test_partytime_sees_the_podcasting_2_0_tags(built):
    d = partytime(built / "feed" / "feed.xml")
    assert d["locked"] is True and d["guid"] and d["medium"] == "podcast"
    by = {i["title"]: i for i in d["items"]}
    video = by["Sick leave and old-age insurance"]
    langs = {t["language"] for t in video["podcastTranscripts"]}
    assert langs == {"en", "zh-cn"}
    assert any(t.get("rel") == "captions" for t in video["podcastTranscripts"])
    assert video["podcastChapters"]["url"].endswith("/chapters/ep-002-sick-leave.json")
    assert video["podcastPeople"][0]["name"] == "李华"
    assert {e["type"] for e in video["alternativeEnclosures"]} == {"audio/mpeg", "video/mp4"}
    audio = by["Pensions for everyone"]
    assert {t["language"] for t in audio["podcastTranscripts"]} == {"en", "zh-cn"}  # a person's translation
    # Every URL the feed gives for a transcript or chapters exists under feed/.
    for t in video["podcastTranscripts"]:
        assert (built / "feed" / t["url"].split("podcast.example.org/", 1)[1]).is_file()
    chapters = json.loads((built / "feed" / "chapters" / "ep-002-sick-leave.json").read_text())
    assert chapters["version"] == "1.2.0" and chapters["chapters"][0]["title"] == "Welcome"


def test_unchanged_show_gives_a_byte_identical_feed(built):
    before = {p.name: p.read_bytes() for p in (built / "feed").glob("feed*.xml")}
    assert build_json(built)[0] == 0
    assert {p.name: p.read_bytes() for p in (built / "feed").glob("feed*.xml")} == before


def test_unsafe_notes_and_odd_titles_never_break_the_feed(built_show):
    ep = built_show / "episodes" / "ep-001-pensions"
    (ep / "notes.md").write_text('Hello <script>alert(1)</script> <img src=x onerror="alert(2)">\n\n'
                                 "[click](javascript:alert(3)) and [ok](https://example.org)\n", encoding="utf-8")
    (ep / "notes.zh.md").write_text('你好 <script>alert(1)</script> <img src=x onerror="alert(2)">\n\n'  # a person's
                                    "[点击](javascript:alert(3)) 和 [好](https://example.org)\n", encoding="utf-8")
    toml = ep / "episode.toml"
    toml.write_text(toml.read_text().replace('en = "Pensions for everyone"', 'en = "Pensions <for> & everyone 👵"'),
                    encoding="utf-8")
    assert build_json(built_show)[0] == 0
    parsed = feedparser.parse(str(built_show / "feed" / "feed.xml"))
    assert parsed.bozo == 0
    entry = next(e for e in parsed.entries if "everyone" in e.title)
    assert entry.title == "Pensions <for> & everyone 👵"
    html = entry.content[0].value
    assert "<script" not in html
    assert "onerror" not in html and "<img" not in html
    assert 'href="javascript' not in html  # the text stays, inert; it is never a link
    assert 'href="https://example.org"' in html
    zh = feedparser.parse(str(built_show / "feed" / "feed.zh.xml"))  # the Chinese notes, as safe
    html = next(e for e in zh.entries if e.title == "人人享有养老金").content[0].value
    assert "<script" not in html and "onerror" not in html and "<img" not in html
    assert 'href="javascript' not in html and 'href="https://example.org"' in html and "点击" in html


def test_future_episode_is_held_back(built_show):
    for gone in ("episodes", "transcripts"):  # two episodes: --force redoes every stage of each
        shutil.rmtree(built_show / gone / "ep-003-long-term-care")
    toml = built_show / "episodes" / "ep-002-sick-leave" / "episode.toml"
    toml.write_text(toml.read_text().replace("2026-11-16T09:00:00Z", "2099-01-01T09:00:00Z"), encoding="utf-8")
    code, report = build_json(built_show)
    assert code == 0 and any("held back" in w for w in report["scheduled"])
    assert len(feedparser.parse(str(built_show / "feed" / "feed.xml")).entries) == 1
    code, report = build_json(built_show, "--force", "--jobs", "2")  # on both cores
    assert code == 0, report
    assert len(feedparser.parse(str(built_show / "feed" / "feed.xml")).entries) == 2
    # What --force published early is not withdrawn by the next plain build (listeners may have it).
    code, report = build_json(built_show)
    assert code == 0 and [n for n in report["scheduled"] if "published early" in n], report
    assert len(feedparser.parse(str(built_show / "feed" / "feed.xml")).entries) == 2


def test_video_feed_encloses_the_mp4(built):
    """Apps that ignore podcast:alternateEnclosure see the videocast in the video feed."""
    for name in ("feed.video.xml", "feed.video.zh.xml"):
        path = built / "feed" / name
        parsed = feedparser.parse(str(path))
        assert parsed.bozo == 0 and len(parsed.entries) == 1
        with open(path, "rb") as fh:
            pod = podcastparser.parse(f"https://podcast.example.org/{name}", fh)
        episode = pod["episodes"][0]
        assert episode["enclosures"][0]["mime_type"] == "video/mp4"
        assert episode["enclosures"][0]["url"].endswith("/media/ep-002-sick-leave.mp4")
    assert '<podcast:medium>video</podcast:medium>' in (built / "feed" / "feed.video.xml").read_text(encoding="utf-8")
    main = feedparser.parse(str(built / "feed" / "feed.xml"))  # the audio feed still encloses the MP3
    assert {e.enclosures[0].type for e in main.entries} == {"audio/mpeg"}
    p = subprocess.run([sys.executable, "-m", "media_tool", "check", "--show", str(built)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout


@pytest.mark.skipif(not HAS_PARTYTIME, reason="needs node and tests/js's podcast-partytime (scripts/test.sh installs it)")
def test_clips_are_soundbites_in_the_published_timeline(built, built_template):
    toml = built / "episodes" / "ep-001-pensions" / "episode.toml"
    with open(toml, "a", encoding="utf-8") as fh:
        fh.write('\n[[clips]]\nstart = "0:06"\nend = "0:16"\ntitle = { en = "Two kinds of pension", zh = "两种养老金" }\n')
    code, report = build_json(built)
    assert code == 0, report
    offset = next(e for e in report["episodes"] if e["slug"] == "ep-001-pensions")["loudness"]["timeline_offset"]
    feed = partytime(built / "feed" / "feed.xml")
    item = next(i for i in feed["items"] if i["title"] == "Pensions for everyone")
    assert item["podcastSoundbites"] == [{"startTime": pytest.approx(6.0 + offset, abs=1e-3), "duration": 10.0,
                                          "title": "Two kinds of pension"}]
    zh = (built / "feed" / "feed.zh.xml").read_text(encoding="utf-8")
    assert ">两种养老金</podcast:soundbite>" in zh
    bad = toml.read_text(encoding="utf-8").replace('end = "0:16"', 'end = "0:06.5"')
    toml.write_text(bad, encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "media_tool", "build", "--show", str(built)], capture_output=True, text=True)
    assert p.returncode == 1 and "clips[0].end: a clip lasts 1 to 300 s, this one 0.5 s" in p.stderr
