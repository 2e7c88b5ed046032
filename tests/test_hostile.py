"""Hostile and careless input against a show that is already published.

Each fault is applied, one at a time, to a copy of the built sample show, then the show is built
again. Whatever the fault: no traceback, one line naming the culprit, the documented exit code,
every item of every feed unchanged byte for byte (a failing episode keeps the version it
published), no half-written `.part` file, and no state entry that claims a broken file is built.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from helpers import build_json, ffmpeg, run_here
from lxml import etree

EP1, EP2 = "ep-001-pensions", "ep-002-sick-leave"


def feed_items(show: Path) -> dict[str, list[bytes]]:
    """Every feed's items, each serialised, in feed order."""
    out = {}
    for path in sorted((show / "feed").glob("feed*.xml")):
        channel = etree.parse(str(path)).getroot().find("channel")
        out[path.name] = [etree.tostring(item) for item in channel.findall("item")]
    return out


PUBLISHED = {"feed.xml": 3, "feed.zh.xml": 3, "feed.video.xml": 1, "feed.video.zh.xml": 1}
"""Items per feed of the built sample show: both episodes, and the video episode in the video feeds."""


def counts(items: dict[str, list[bytes]]) -> dict[str, int]:
    return {name: len(v) for name, v in items.items()}


def part_files(show: Path) -> list[Path]:
    return [p for p in show.rglob("*") if ".part-" in p.name]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def new_episode(show: Path, slug: str, recording: str = "recording.flac", body: str = "") -> Path:
    d = show / "episodes" / slug
    d.mkdir()
    (d / "episode.toml").write_text(f'title = "New"\ndate = 2026-01-05\nlanguage = "en"\nsource = "{recording}"\n'
                                    f"{body}", encoding="utf-8")
    return d


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims to be width x height (a decompression bomb's header), with valid CRCs."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# -- the faults: (what they do to the show, the exit code, words the culprit's line holds) -----------
def srt_typo(show, media):  # a person's edit of the published SRT breaks a timing line
    edit(show / "transcripts" / EP1 / f"{EP1}.en.srt", "-->", "->")


def latin1_notes(show, media):
    (show / "episodes" / EP1 / "notes.md").write_bytes("Pensión para todos.\n".encode("latin-1"))


def short_translation(show, media):  # a plain-text translation must have one line per segment
    (show / "transcripts" / EP1 / "human.zh.srt").unlink()
    (show / "transcripts" / EP1 / "human.zh.txt").write_text("只有一行。\n", encoding="utf-8")


def control_title(show, media):
    edit(show / "episodes" / EP1 / "episode.toml", 'en = "Pensions for everyone"', r'en = "Pensions\u001b[31m"')


def js_chapter(show, media):
    with open(show / "episodes" / EP1 / "episode.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[chapters]]\nstart = "0:10"\ntitle = "x"\nurl = "JaVaScRiPt:alert(1)"\n')


def file_chapter_image(show, media):
    with open(show / "episodes" / EP1 / "episode.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[chapters]]\nstart = "0:10"\ntitle = "x"\nimage = "file:///etc/passwd"\n')


def chapter_past_end(show, media):
    with open(show / "episodes" / EP1 / "episode.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[chapters]]\nstart = "59:00"\ntitle = { en = "Late", zh = "晚" }\n')


def chapter_typo(show, media):
    edit(show / "episodes" / EP1 / "episode.toml", 'start = "0:06"', 'start = "1:76"')


def ancient_date(show, media):
    edit(show / "episodes" / EP2 / "episode.toml", "date = 2026-11-16T09:00:00Z", "date = 0001-01-01")


def odd_role(show, media):
    edit(show / "episodes" / EP1 / "episode.toml", 'role = "host"', 'role = "hostess"')


def colliding_slug(show, media):
    shutil.copytree(show / "episodes" / EP1, show / "episodes" / f"{EP1}.zh")


def linked_recording(show, media):
    d = new_episode(show, "ep-003-linked")
    (d / "recording.flac").symlink_to(media["stereo48k.flac"])  # outside the show


def playlist_recording(show, media):
    d = new_episode(show, "ep-003-playlist", "recording.mp3")
    (d / "recording.mp3").write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{media['loud.wav']}\n"
                                     "#EXT-X-ENDLIST\n", encoding="utf-8")


def linked_episode_art(show, media):
    (show / "episodes" / EP1 / "cover.jpg").symlink_to(show.parent.parent / "secret.jpg")
    shutil.copy(show / "cover.jpg", show.parent.parent / "secret.jpg")


def linked_notes(show, media):
    (show / "episodes" / EP1 / "notes.md").unlink()
    (show / "episodes" / EP1 / "notes.md").symlink_to("/etc/passwd")


def linked_episode_folder(show, media):  # a whole episode folder that lives elsewhere
    elsewhere = show.parent.parent / "elsewhere-episode"
    shutil.copytree(show / "episodes" / EP1, elsewhere)
    (show / "episodes" / "ep-003-elsewhere").symlink_to(elsewhere)


def linked_transcripts_folder(show, media):  # a person's translation read from outside the show
    elsewhere = show.parent.parent / "elsewhere-transcripts"
    shutil.move(show / "transcripts" / EP1, elsewhere)
    (show / "transcripts" / EP1).symlink_to(elsewhere)


def cover_outside(show, media):
    edit(show / "podcast.toml", 'cover = "cover.jpg"', 'cover = "/etc/passwd"')


def cover_not_image(show, media):
    (show / "cover.jpg").write_text("not a picture\n", encoding="utf-8")


def cover_bomb(show, media):
    (show / "big.png").write_bytes(png_header(20000, 20000))
    edit(show / "podcast.toml", 'cover = "cover.jpg"', 'cover = "big.png"')


def cover_too_big(show, media):
    (show / "big.png").write_bytes(png_header(10000, 10000))
    edit(show / "podcast.toml", 'cover = "cover.jpg"', 'cover = "big.png"')


def http_base_url(show, media):
    edit(show / "podcast.toml", "https://podcast.example.org", "http://podcast.example.org")


def http_translator(show, media):
    with open(show / "podcast.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[translation]\nengine = "openai"\nurl = "http://api.example.com/v1"\nmodel = "m"\n')


def jingle_outside(show, media):
    edit(show / "podcast.toml", 'intro = "jingles/intro.flac"', f'intro = "{media["loud.wav"]}"')


FAULTS = [
    (srt_typo, 1, [f"transcripts/{EP1}/{EP1}.en.srt:", "not valid SRT", f"kept: {EP1}: kept the version published on"]),
    (latin1_notes, 1, [f"episodes/{EP1}/notes.md: not UTF-8 text", f"kept: {EP1}"]),
    (short_translation, 1, [f"transcripts/{EP1}/human.zh.txt", "1 segments", f"kept: {EP1}"]),
    (control_title, 1, [f"episodes/{EP1}/episode.toml: title: control character U+001B", f"kept: {EP1}"]),
    (js_chapter, 1, ["chapters[2].url: expected an https:// URL", f"kept: {EP1}"]),
    (file_chapter_image, 1, ["chapters[2].image: expected an https:// URL", f"kept: {EP1}"]),
    (chapter_past_end, 1, ["chapters[2].start: 59:", "past its end", f"kept: {EP1}"]),
    (chapter_typo, 1, ['chapters[1].start: expected seconds, MM:SS or H:MM:SS', f"kept: {EP1}"]),
    (ancient_date, 1, ["date: expected a date from 1970 on, got 0001-01-01", f"kept: {EP2}"]),
    (odd_role, 1, ["people[0].role: role 'hostess' is not a Podcast Taxonomy role", f"kept: {EP1}"]),
    (colliding_slug, 1, [f"episodes/{EP1}.zh: folder name must be lower-case letters, digits and '-'"]),
    (linked_recording, 1, ["source: recording.flac is a link to a file outside the episode folder"]),
    (playlist_recording, 1, ["episodes/ep-003-playlist/recording.mp3: not a media file"]),
    (linked_episode_art, 1, [f"episodes/{EP1}/cover.jpg: a link to a file outside the show folder"]),
    (linked_notes, 1, [f"episodes/{EP1}/notes.md: not a file inside the show folder"]),
    (linked_episode_folder, 1, ["episodes/ep-003-elsewhere: a link to a folder outside the show folder"]),
    (linked_transcripts_folder, 1, [f"transcripts/{EP1}: a link to a folder outside the show folder",
                                    f"kept: {EP1}"]),
    (cover_outside, 2, ["podcast.toml: cover: /etc/passwd is outside the show folder"]),
    (cover_not_image, 2, ["podcast.toml: cover: cover.jpg: not an image"]),
    (cover_bomb, 2, ["podcast.toml: cover: big.png: image too large to read safely"]),
    (cover_too_big, 2, ["podcast.toml: cover: big.png: 10000x10000 px is too large to read safely"]),
    (http_base_url, 1, ["podcast.toml: base_url: http://podcast.example.org is not https"]),
    (http_translator, 2, ["translation.url: http:// would send the API key in clear text"]),
    (jingle_outside, 2, ["audio.intro:", "is outside the show folder"]),
]


@pytest.mark.parametrize("fault,code,words", FAULTS, ids=[f.__name__ for f, _, _ in FAULTS])
def test_fault_never_touches_what_is_published(built_show, media, fault, code, words):
    before = feed_items(built_show)
    assert counts(before) == PUBLISHED
    fault(built_show, media)
    p = run_here("build", "--show", str(built_show))
    assert p.returncode == code, p.stderr
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    for w in words:
        assert w in p.stderr, (w, p.stderr)
    culprit = [ln for ln in p.stderr.splitlines() if words[0] in ln]
    assert len(culprit) == 1, p.stderr  # one line names it, once
    assert feed_items(built_show) == before  # every item of every feed, byte for byte
    assert not part_files(built_show)
    state = json.loads((built_show / ".media-tool" / "state.json").read_text())
    for slug, stages in state["episodes"].items():
        for name, rec in stages.items():
            if rec["status"] == "done":  # whatever is recorded as built is really there and whole
                for rel in (rec["data"].get("outputs") or {}).values():
                    assert (built_show / rel).is_file(), (slug, name, rel)


def test_kept_episode_comes_back_when_fixed(built_show):
    toml = built_show / "episodes" / EP1 / "episode.toml"
    good = toml.read_text(encoding="utf-8")
    control_title(built_show, None)
    code, report = build_json(built_show)
    assert code == 1 and report["kept"][0].startswith(f"{EP1}: kept the version published on ")
    st = {e["slug"]: e for e in json.loads(run_here("status", "--show", str(built_show), "--json").stdout)}
    assert st[EP1]["kept"] and st[EP1]["stages"]["config"]["status"] == "failed"
    toml.write_text(good.replace("Pensions for everyone", "Pensions for all"), encoding="utf-8")
    code, report = build_json(built_show)
    assert code == 0 and report["kept"] == []
    titles = [i.findtext("title") for i in etree.parse(str(built_show / "feed" / "feed.xml")).getroot().iter("item")]
    assert "Pensions for all" in titles and len(titles) == 3


def test_new_episode_that_fails_is_not_published_and_others_are(built_show, media):
    d = new_episode(built_show, "ep-003-new")
    ffmpeg("-i", str(media["mono.wav"]), "-t", "3", str(d / "recording.flac"))
    (d / "notes.md").write_bytes(b"\xff\xfe broken")
    code, report = build_json(built_show)
    assert code == 1 and report["kept"] == [] and report["failed"] == 1
    assert counts(feed_items(built_show)) == PUBLISHED


def test_control_characters_in_notes_are_removed_with_a_warning(built_show):
    (built_show / "episodes" / EP1 / "notes.md").write_text("Bell \u0007 and NUL \u0000 here.\n", encoding="utf-8")
    (built_show / "episodes" / EP1 / "notes.zh.md").write_text("铃声 \u0007 和空字符 \u0000。\n", encoding="utf-8")
    p = run_here("build", "--show", str(built_show))
    assert p.returncode == 0, p.stderr
    for name in ("notes.md", "notes.zh.md"):
        assert f"episodes/{EP1}/{name}: control character U+0007 (and any others) removed" in p.stderr
    xml = (built_show / "feed" / "feed.xml").read_text(encoding="utf-8")
    assert "Bell  and NUL  here." in xml and "\u0007" not in xml
    xml = (built_show / "feed" / "feed.zh.xml").read_text(encoding="utf-8")
    assert "铃声  和空字符 。" in xml and "\u0007" not in xml and "\u0000" not in xml


def test_markup_in_a_key_name_is_printed_as_text(built_show):
    toml = built_show / "podcast.toml"
    toml.write_text('"[/red]" = 1\n' + toml.read_text(encoding="utf-8"), encoding="utf-8")
    p = run_here("build", "--show", str(built_show))
    assert p.returncode == 0 and 'podcast.toml: [/red]: unknown key (ignored)' in p.stderr, p.stderr


def test_mp3_with_a_corrupt_picture_builds(built_show, media):
    """An attached picture that does not decode is not the programme: the audio is what is published."""
    from mutagen.id3 import APIC, ID3

    d = new_episode(built_show, "ep-003-pic", "talk.mp3")
    ffmpeg("-i", str(media["speech.mp3"]), "-t", "6", "-c", "copy", str(d / "talk.mp3"))  # short: it is all heard
    tags = ID3()
    tags.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=png_header(64, 64)[:40] + b"garbage" * 20))
    tags.save(str(d / "talk.mp3"), v2_version=3)
    code, report = build_json(built_show)
    assert code == 0, report
    assert counts(feed_items(built_show)) == {**PUBLISHED, "feed.xml": 4, "feed.zh.xml": 4}


def _mount(kind: str, where: Path, *options: str) -> bool:
    try:
        subprocess.run(["mount", *options, where.as_posix()] if kind == "bind" else
                       ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", where.as_posix()],
                       check=True, capture_output=True)
        return True
    except (OSError, subprocess.CalledProcessError):
        return False


def test_full_disk_records_nothing_and_recovers(sample_show):
    shutil.rmtree(sample_show / "episodes" / "ep-003-long-term-care")  # the audio and the video episode
    state = sample_show / ".media-tool"
    state.mkdir()
    if os.geteuid() != 0 or not _mount("tmpfs", state, "size=256k"):
        pytest.skip("needs root to mount a small tmpfs (the tests run as root in CI)")
    try:
        p = run_here("build", "--show", str(sample_show))
        assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
        assert "cannot write: no space left on the device" in p.stderr and "MB free" in p.stderr, p.stderr
        assert not part_files(sample_show)
        data = json.loads((state / "state.json").read_text()) if (state / "state.json").is_file() else {}
        for slug, stages in data.get("episodes", {}).items():
            assert stages.get("normalize", {}).get("status") != "done", slug  # no truncated master recorded
        assert not (sample_show / "feed" / "feed.xml").exists() or feed_items(sample_show) == {}
        kept = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}
    finally:
        subprocess.run(["umount", "-l", state.as_posix()], check=True)
    for name, data in kept.items():  # space comes back: the next build finishes the job
        (state / name).write_bytes(data)
    code, report = build_json(sample_show, "--jobs", "2")  # the whole show again: both cores
    assert code == 0, report
    assert counts(feed_items(sample_show)) == {**PUBLISHED, "feed.xml": 2, "feed.zh.xml": 2}


def test_read_only_feed_is_one_line(built_show):
    feed = built_show / "feed"
    if os.geteuid() != 0 or not _mount("bind", feed, "--bind", feed.as_posix()):
        pytest.skip("needs root to bind-mount the feed read-only")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", feed.as_posix()], check=True)
        edit(built_show / "episodes" / EP1 / "episode.toml", "Pensions for everyone", "Pensions for all")
        p = run_here("build", "--show", str(built_show))
        assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
        assert "cannot write: read-only file system" in p.stderr, p.stderr
    finally:
        subprocess.run(["umount", feed.as_posix()], check=True)
    assert not part_files(built_show)


def test_full_feed_disk_touches_nothing(built_show):
    feed = built_show / "feed"
    used = sum(p.stat().st_size for p in feed.rglob("*") if p.is_file())
    saved = built_show.parent / "feed-copy"
    shutil.copytree(feed, saved)
    shutil.rmtree(feed)
    feed.mkdir()
    if os.geteuid() != 0 or not _mount("tmpfs", feed, f"size={used + 200_000}"):
        pytest.skip("needs root to mount a small tmpfs (the tests run as root in CI)")
    try:
        shutil.copytree(saved, feed, dirs_exist_ok=True)
        before = feed_items(built_show)
        edit(built_show / "episodes" / EP1 / "episode.toml", "Pensions for everyone", "Pensions for all")
        p = run_here("build", "--show", str(built_show))
        assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
        assert "feed: cannot write: no space left on the device" in p.stderr and "needed" in p.stderr, p.stderr
        assert feed_items(built_show) == before and not part_files(built_show)
    finally:
        subprocess.run(["umount", feed.as_posix()], check=True)
