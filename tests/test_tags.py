"""Tags in the published files, read back with mutagen and with ffprobe."""

from __future__ import annotations

import io
import json
import subprocess

from helpers import build_json
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from PIL import Image


def ffprobe_chapters(path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["chapters"]


def test_mp3_id3v23_frames_chapters_cover_and_transcript(built_template, built_show):
    mp3 = built_show / "feed" / "media" / "ep-001-pensions.mp3"
    # Chapters are written in the recording's timeline and published in the file's: after the intro
    # jingle, less the silence trimmed from the start (the chapter at 0:00 stays at 0:00).
    loud = next(e for e in built_template[1]["episodes"] if e["slug"] == "ep-001-pensions")["loudness"]
    intro = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                  str(built_show / "jingles" / "intro.flac")], capture_output=True, text=True,
                                 check=True).stdout)
    assert loud["trimmed"] and abs(loud["timeline_offset"] - (intro - loud["trimmed"][0])) < 0.5
    second = round((6.0 + loud["timeline_offset"]) * 1000)
    tags = ID3(mp3)
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == "Pensions for everyone" and str(tags["TALB"]) == "Social Protection Dialogues"
    assert str(tags["TPE1"]) == "Social Protection Outreach Programme" and str(tags["TRCK"]) == "1"
    assert str(tags["TCON"]) == "Podcast" and str(tags["TLAN"]) == "eng"
    assert tags["PCST"].value == 1 and tags["WFED"].url == "https://podcast.example.org/feed.xml"
    assert str(tags["TCAT"]) == "Government" and str(tags["TGID"]) and "pension" in str(tags["TDES"]).lower()
    uslt = tags.getall("USLT")[0].text
    assert "pensions" in uslt.lower() and "\n" in uslt
    apic = tags.getall("APIC")[0]
    with Image.open(io.BytesIO(apic.data)) as im:
        assert max(im.size) <= 1400 and len(apic.data) <= 500_000 and im.format == "JPEG"
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [(c.start_time, str(c.sub_frames["TIT2"])) for c in chaps] == [(0, "Welcome"), (second, "Basic and contributory pensions")]
    assert tags.getall("CTOC")[0].child_element_ids == [c.element_id for c in chaps]
    seen = ffprobe_chapters(mp3)
    assert [c["tags"]["title"] for c in seen] == ["Welcome", "Basic and contributory pensions"]
    assert float(seen[1]["start_time"]) == second / 1000
    # The master the transcript was made from is untouched by tagging.
    master = ID3(built_show / ".media-tool" / "media" / "ep-001-pensions.mp3")
    assert not master.getall("CHAP") and not master.getall("APIC")


def test_mp4_and_m4a_atoms_and_chapters(built_show):
    m4a = built_show / "feed" / "media" / "ep-001-pensions.m4a"
    f = MP4(m4a)
    assert f["\xa9nam"] == ["Pensions for everyone"] and f["pcst"] is True and f["purl"] == ["https://podcast.example.org/feed.xml"]
    assert f["trkn"] == [(1, 0)] and f["covr"] and f["egid"]
    assert [c["tags"]["title"] for c in ffprobe_chapters(m4a)] == ["Welcome", "Basic and contributory pensions"]
    mp4 = built_show / "feed" / "media" / "ep-002-sick-leave.mp4"
    assert MP4(mp4)["\xa9nam"] == ["Sick leave and old-age insurance"]
    assert [c["tags"]["title"] for c in ffprobe_chapters(mp4)] == ["Welcome"]
    assert md5(mp4) == md5(built_show / "episodes" / "ep-002-sick-leave" / "recording.mp4")  # video still bit-exact


def test_retitle_retags_without_reencoding(built_show):
    toml = built_show / "episodes" / "ep-001-pensions" / "episode.toml"
    toml.write_text(toml.read_text().replace('en = "Pensions for everyone"', 'en = "Pensions for all"'), encoding="utf-8")
    code, report = build_json(built_show)
    assert code == 0, report
    st = {e["slug"]: {k: v["status"] for k, v in e["stages"].items()} for e in report["episodes"]}
    assert st["ep-001-pensions"]["normalize"] == "skipped" and st["ep-001-pensions"]["tag"] == "done"
    assert str(ID3(built_show / "feed" / "media" / "ep-001-pensions.mp3")["TIT2"]) == "Pensions for all"


def md5(path) -> str:
    """MD5 of a file's first video stream, packet for packet (bit-exact means the same)."""
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "md5", "-"],
                          capture_output=True, text=True, check=True).stdout


def _subtitle_streams(path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "s", "-show_entries",
                          "stream=codec_name:stream_tags=language,handler_name:stream_disposition=default",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["streams"]


def test_video_gets_soft_subtitles_that_follow_the_transcripts(built_show):
    mp4 = built_show / "feed" / "media" / "ep-002-sick-leave.mp4"
    subs = _subtitle_streams(mp4)
    assert [(s["codec_name"], s["tags"]["language"], s["tags"]["handler_name"], s["disposition"]["default"])
            for s in subs] == [("mov_text", "zho", "中文", 1), ("mov_text", "eng", "English", 0)]  # spoken first
    assert md5(mp4) == md5(built_show / "episodes" / "ep-002-sick-leave" / "recording.mp4")  # video still bit-exact
    assert _subtitle_streams(built_show / "feed" / "media" / "ep-001-pensions.m4a") == []  # audio gains nothing
    srt = built_show / "transcripts" / "ep-002-sick-leave" / "ep-002-sick-leave.zh.srt"
    srt.write_text(srt.read_text(encoding="utf-8").replace("谢谢收听。", "谢谢大家收听。"), encoding="utf-8")
    code, report = build_json(built_show)
    assert code == 0, report
    st = {e["slug"]: {k: v["status"] for k, v in e["stages"].items()} for e in report["episodes"]}
    assert st["ep-002-sick-leave"]["normalize"] == "skipped" and st["ep-002-sick-leave"]["tag"] == "done"  # a re-mux
    text = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp4), "-map", "0:s:0", "-f", "srt", "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "谢谢大家收听。" in text
