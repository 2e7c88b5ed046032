"""Burned-in bilingual captions: the subtitled MP4 of a video episode, drawn by libass."""

from __future__ import annotations

import subprocess
from pathlib import Path

from helpers import psnr

from media_tool.media.ffmpeg import FFmpeg, filter_path
from media_tool.media.video import missing_tools
from media_tool.text.layout import to_ass
from media_tool.text.transcripts import Segment, Transcript


def audio_md5(path: Path) -> str:
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-c", "copy", "-f", "md5", "-"],
                          capture_output=True, text=True, check=True).stdout


def test_captions_are_drawn_in_the_lower_part_only(built_show):
    media = built_show / "feed" / "media"
    plain, captioned = media / "ep-002-sick-leave.mp4", media / "ep-002-sick-leave.subtitled.mp4"
    assert captioned.is_file()
    assert audio_md5(captioned) == audio_md5(plain)  # the normalized AAC, copied: same loudness, same length
    durations = [float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                       str(p)], capture_output=True, text=True, check=True).stdout) for p in (plain, captioned)]
    assert abs(durations[0] - durations[1]) < 0.1
    sizes = [tuple(map(int, subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                            "stream=width,height", "-of", "csv=p=0", str(p)], capture_output=True,
                                           text=True, check=True).stdout.strip().split(","))) for p in (plain, captioned)]
    # a small master is drawn at least 360 rows tall, so its captions can be large enough to read
    assert min(sizes[1]) >= 360 and sizes[1][0] / sizes[1][1] == sizes[0][0] / sizes[0][1], sizes
    at, w, h = 2.0, *sizes[0]  # the first cue is on screen; both compared at the master's size
    top = psnr(plain, captioned, at, f"scale={w}:{h},crop=iw:ih/3:0:0")
    bottom = psnr(plain, captioned, at, f"scale={w}:{h},crop=iw:ih/3:0:2*ih/3")
    assert top > 30 and bottom < top - 8, (top, bottom)  # the top third is the picture; the captions are below


def test_ass_is_bilingual_two_lines_each_and_sized_to_the_frame():
    zh = Transcript("zh", (Segment(0, 4, "欢迎收听社会保障对话，" * 6), Segment(4, 6, "谢谢收听。")))
    en = Transcript("en", (Segment(0, 4, "Welcome to Social Protection Dialogues. " * 4), Segment(4, 6, "Thanks.")))
    ass = to_ass(zh, en, 1280, 720)
    assert "PlayResX: 1280" in ass and "Style: Spoken,Noto Sans CJK SC,40," in ass
    events = [line for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert len(events) > 2  # the long segment is split over several cues
    for e in events:
        top, _, under = e.split(",,", 2)[-1].partition(r"{\rTranslation}")
        assert top.count(r"\N") <= 2 and under.count(r"\N") <= 1  # at most two lines of each language
    assert events[-1].endswith(r"谢谢收听。\N{\rTranslation}Thanks.")


def test_no_libass_is_one_line_and_filter_paths_are_escaped(tmp_path):
    fake = tmp_path / "ffmpeg"  # a stand-in for an ffmpeg built without libass (named as such)
    fake.write_text("#!/bin/sh\necho ' ... null V->V Pass the source unchanged.'\n")
    fake.chmod(0o755)
    why = missing_tools(FFmpeg(ffmpeg=str(fake), ffprobe=None, version="fake"))
    assert why == "the ffmpeg in use has no libass (its `ass` filter): burned-in captions skipped"
    assert filter_path(Path("/a:b/it's [x].ass")) == r"/a\:b/it\'s \[x\].ass"
