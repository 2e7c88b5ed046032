"""Benchmark: the video outputs against a plain x264 re-encode of the same input, in one run.

    python scripts/bench_video.py [--minutes 10] [--keep DIR]

On a synthetic talking-head video (720p25: a plain backdrop, a moving "head" in the middle,
camera grain; espeak-ng speech; 10 minutes by default) with bilingual captions every 4 s, times:
(a) `ffmpeg -c:v libx264 -preset veryfast -crf 23 -c:a copy` (the baseline), (b) the captions stage's
burned-in subtitled MP4 (`clips.burn`, verification included), (c) the tag stage's soft-subtitle re-mux
(`write_mp4`: two mov_text tracks and chapters, a stream copy) and the whole tagged copy around it,
(d) a 60-second 9:16 clip (`clips.render`, verification included). Each runs in its own process; its
peak memory is the largest resident set of that process and its children (ffmpeg).
Targets: (b) <= 1.3x (a); (c) <= 3 s; (d) <= 0.5x its duration.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZH = ["欢迎收听社会保障对话。", "今天我们讨论养老保险和病假工资。", "覆盖面越广，保障效果越好。",
      "很多国家把基础养老金和缴费型养老金结合起来。", "失业保险帮助工人渡过难关。"]
EN = ["Welcome to Social Protection Dialogues.", "Today we discuss old-age insurance and sick pay.",
      "The broader the coverage, the better the protection.",
      "Many countries combine basic and contributory pensions.", "Unemployment insurance helps workers through."]
SPEECH = "Social protection systems help people cope with illness, unemployment and old age. " * 6


def make_input(path: Path, seconds: int, tmp: Path) -> None:
    """A 720p25 talking head: a plain backdrop, a 360x360 moving pattern as the head, grain, speech."""
    voice = tmp / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(voice), SPEECH], check=True)
    graph = ("color=c=0x33485e:s=1280x720:r=25[bg];"
             "testsrc2=s=360x360:r=25[head];"
             "[bg][head]overlay=x='460+40*sin(t/3)':y='180+20*sin(t/2)',noise=alls=2:allf=t,format=yuv420p[v]")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", graph.replace("[v]", ""),
                    "-stream_loop", "-1", "-i", str(voice), "-t", str(seconds), "-map", "0:v", "-map", "1:a",
                    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-g", "50",
                    "-c:a", "aac", "-b:a", "128k", "-ar", "44100", str(path)], check=True)


def transcripts(seconds: int) -> dict:
    segs = [(t, min(t + 3.6, seconds)) for t in range(0, seconds - 1, 4)]
    return {lang: [[a, b, texts[i % len(texts)]] for i, (a, b) in enumerate(segs)] for lang, texts in
            (("zh", ZH), ("en", EN))}


def run_child(code: str, args: dict) -> dict:
    """Run `code` in a fresh Python process; its wall time and the peak memory of it and its children."""
    script = textwrap.dedent('''
        import json, resource, sys, time
        from pathlib import Path
        args = json.loads(sys.argv[1])
        from media_tool.media.ffmpeg import FFmpeg
        from media_tool.text.transcripts import Segment, Transcript
        ff = FFmpeg.discover()
        zh = Transcript("zh", tuple(Segment(*s) for s in args["text"]["zh"]))
        en = Transcript("en", tuple(Segment(*s) for s in args["text"]["en"]))
        t0 = time.perf_counter()
        extra = {}
    ''') + textwrap.dedent(code) + textwrap.dedent('''
        wall = time.perf_counter() - t0
        peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        print(json.dumps({"seconds": wall, "peak_mb": peak / 1024, **extra}))
    ''')
    out = subprocess.run([sys.executable, "-c", script, json.dumps(args)], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


PLAIN = '''
import subprocess
subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", args["input"], "-map", "0:v:0", "-map", "0:a:0",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-c:a", "copy",
                "-movflags", "+faststart", args["out"]], check=True)
'''
BURNED = '''
from media_tool import clips
from media_tool.text.layout import to_ass
clips.burn(ff, Path(args["input"]), Path(args["out"]), to_ass(zh, en, 1280, 720), seconds=args["seconds"],
           display="subtitled.mp4")
'''
SOFT = '''
import shutil
from media_tool.stages.tag import Tags, tagged_copy, write_mp4
srts = []
for lang, t in (("zh", zh), ("en", en)):
    p = Path(args["out"]).with_name(f"bench.{lang}.srt")
    from media_tool.text.formats import to_srt
    p.write_text(to_srt(t), encoding="utf-8")
    srts.append((lang, str(p)))
tags = Tags(title="Bench", show="Bench", author="Bench", number=1, date="2026-11-27", description="",
            language="zh", category="Government", feed_url="https://example.org/feed.xml", guid="bench",
            chapters=((0.0, args["seconds"] / 2, "One"), (args["seconds"] / 2, args["seconds"], "Two")),
            transcript="", cover=None, subtitles=tuple(srts))
shutil.copyfile(args["input"], args["out"])
t1 = time.perf_counter()
write_mp4(Path(args["out"]), tags, ff)
extra["remux_only"] = time.perf_counter() - t1
t2 = time.perf_counter()
tagged_copy(Path(args["input"]), Path(args["out"]).with_name("tagged.mp4"), tags, "mp4", ff, args["seconds"],
            "tagged.mp4")
extra["tagged_copy"] = time.perf_counter() - t2
'''
CLIP = '''
from media_tool import clips
start, end = args["start"], args["start"] + 60
ass = clips.captions(zh, en, start, end, clips.layout("9:16"), None)
clips.render(ff, Path(args["input"]), Path(args["out"]), start=start, end=end, aspect="9:16", video=True,
             cover=None, ass=ass, audio_kbps=128, display="clip.mp4")
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--keep", type=Path, help="keep the files in this folder")
    a = ap.parse_args()
    seconds = int(a.minutes * 60)
    tmp = Path(tempfile.mkdtemp(prefix="bench-video-"))
    try:
        src = tmp / "talking-head.mp4"
        print(f"making a {seconds} s 720p25 talking-head input ...", flush=True)
        make_input(src, seconds, tmp)
        common = {"input": str(src), "seconds": seconds, "text": transcripts(seconds)}
        ffv = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"{ffv}\ninput: {src.stat().st_size / 1e6:.0f} MB, {seconds} s")
        plain = run_child(PLAIN, {**common, "out": str(tmp / "plain.mp4")})
        burned = run_child(BURNED, {**common, "out": str(tmp / "subtitled.mp4")})
        soft = run_child(SOFT, {**common, "out": str(tmp / "soft.mp4")})
        clip = run_child(CLIP, {**common, "out": str(tmp / "clip.mp4"), "start": min(120, seconds - 61)})
        rows = [("plain x264 veryfast re-encode (baseline)", plain["seconds"], plain["peak_mb"], ""),
                ("burned-in bilingual captions", burned["seconds"], burned["peak_mb"],
                 f"{burned['seconds'] / plain['seconds']:.2f}x baseline (target <= 1.3x)"),
                ("soft subtitles: re-mux + tags", soft["remux_only"], soft["peak_mb"], "target <= 3 s"),
                ("soft subtitles: whole tagged copy", soft["tagged_copy"], soft["peak_mb"], "copy + re-mux + decode check"),
                ("60 s 9:16 clip", clip["seconds"], clip["peak_mb"],
                 f"{clip['seconds'] / 60:.2f}x its duration (target <= 0.5x)")]
        print(f"\n{'':42} {'seconds':>8} {'peak MB':>8}")
        for name, s, mb, note in rows:
            print(f"{name:42} {s:8.2f} {mb:8.0f}  {note}")
    finally:
        if a.keep:
            a.keep.mkdir(parents=True, exist_ok=True)
            for p in tmp.glob("*.mp4"):
                shutil.move(p, a.keep / p.name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
