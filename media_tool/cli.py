"""The command line: parses arguments, calls the core, renders progress and tables with rich.

Every MediaToolError becomes one readable line and an exit code (0 ok, 1 failed, 2 usage or
config); a traceback is shown only with --debug.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import re
import sys
import time
import webbrowser
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from media_tool import __version__
from media_tool.cluster.pool import address as cluster_address
from media_tool.commands import upload
from media_tool.commands.check import check
from media_tool.commands.new import create as new_episode
from media_tool.commands.serve import server, site_facts, site_titles
from media_tool.errors import DISK_ERRNOS, MediaToolError, UsageError, disk_error
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.video import missing_tools
from media_tool.model import glossary as glossary_csv
from media_tool.model.glossary import Glossary
from media_tool.model.language import LANGUAGES, editions
from media_tool.model.reader import parse_timestamp
from media_tool.model.settings import ENGINES, AudioSettings, TranscriptionSettings

TR_DEFAULTS = TranscriptionSettings()
from media_tool.commands import review
from media_tool.model.show import ASPECTS, load_show
from media_tool.pipeline import build as builder
from media_tool.pipeline import single
from media_tool.pipeline.clip import make_clip
from media_tool.search import open_index
from media_tool.search import search as search_index
from media_tool.text import notes

HELP = ("Turn a show folder of raw podcast and videocast recordings into a published, bilingual "
        "(Chinese/English) podcast: loudness-correct MP3/M4A/MP4, transcripts, tags, feeds and search.")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="media-tool", description=HELP)
    p.add_argument("--version", action="version", version=f"media-tool {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", parents=[common], help="run the pipeline over the show, incrementally")
    b.add_argument("--show", default=".", help="show folder (default: current directory)")
    b.add_argument("--episode", action="append", metavar="SLUG", help="build only this episode (repeatable)")
    b.add_argument("--jobs", type=int, default=None,
                   help="episodes built at once (default: half the cores, each already uses two processes; "
                        "with --ray, as many as the cluster has model workers)")
    b.add_argument("--ray", metavar="ADDRESS", help="run the model stages on a Ray cluster: HOST:PORT of its head, "
                   "local (one started in this process) or off (default: $MEDIA_TOOL_RAY_ADDRESS, then "
                   "[cluster] address); needs pip install -e \".[ray]\"")
    b.add_argument("--force", action="store_true", help="redo every stage even if up to date")
    b.add_argument("--json", action="store_true", help="machine-readable report on stdout")

    n = sub.add_parser("normalize", parents=[common], help="normalize one audio or video file")
    n.add_argument("input")
    n.add_argument("-o", "--output", action="append", required=True,
                   help="output file: .mp3, .m4a or .mp4 (repeatable; the first is held to target)")
    n.add_argument("--target", type=float, help="integrated loudness in LUFS (default -16 stereo, -19 mono)")
    n.add_argument("--true-peak", type=float, default=-1.0, help="true-peak ceiling in dBTP (default -1)")
    n.add_argument("--trim-silence", action="store_true", help="cut leading and trailing silence")
    n.add_argument("--denoise", action="store_true",
                   help="reduce noise first (DeepFilterNet3; a video's picture is copied as it is)")
    n.add_argument("--speakers", metavar="N|auto",
                   help="level the voices first: find N speakers (auto: as many as are heard) and bring each to "
                   "one level, pauses left as they are")
    n.add_argument("--json", action="store_true")

    t = sub.add_parser("transcribe", parents=[common], help="transcripts of one file")
    t.add_argument("input")
    t.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the transcript files")
    t.add_argument("--language", default="auto", choices=["auto", "en", "zh", "mixed"],
                   help="language spoken (auto: detected, and a second language noticed turn by turn makes it "
                        "mixed; mixed: decided turn by turn, Mandarin and English)")
    t.add_argument("--languages", default=",".join(TR_DEFAULTS.languages),
                   help="languages wanted (the other one is translated)")
    t.add_argument("--engine", default=TR_DEFAULTS.engine, choices=ENGINES)
    t.add_argument("--model", default=TR_DEFAULTS.model, help="model: base (multilingual, offline; the default), tiny.en "
                   "(English only, offline), another name (downloaded as the engine does) or a local path")
    t.add_argument("--glossary", metavar="FILE.csv", help="zh,en term pairs: recognition hints and corrections")
    t.add_argument("--speakers", metavar="N|auto", help="name each line's speaker (Speaker 1, 2, ...): N voices, "
                   "or auto to estimate how many")
    t.add_argument("--translator", default="local", choices=["local", "whisper", "none"],
                   help="the other language: local (the offline model, both ways; the default), whisper "
                        "(Whisper's translate task, Mandarin to English only) or none")
    t.add_argument("--title", default="", help="what the recording is about (an episode's title): read by "
                   "the translator as context, never translated")
    t.add_argument("--json", action="store_true")

    q = sub.add_parser("search", parents=[common], help="search what was said, in Chinese or English")
    q.add_argument("query")
    q.add_argument("--show", default=".")
    q.add_argument("--lang", choices=["zh", "en"])
    q.add_argument("--episode", metavar="SLUG")
    q.add_argument("--since", metavar="YYYY-MM-DD", help="only episodes published on or after this date")
    q.add_argument("--speaker", metavar="NAME", help="only what this person said (where speakers are known)")
    q.add_argument("--words-only", action="store_true", help="the words typed and their glossary terms, not meaning")
    q.add_argument("--limit", type=int, default=20)
    q.add_argument("--json", action="store_true")

    v = sub.add_parser("serve", parents=[common], help="serve the site in feed/ and its search page (read-only)")
    v.add_argument("--show", default=".")
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--open", action="store_true", help="open the site in the default browser")

    c = sub.add_parser("check", parents=[common], help="validate the show and the built feed")
    c.add_argument("--show", default=".")
    c.add_argument("--json", action="store_true")

    w = sub.add_parser("new", parents=[common], help="start an episode folder that build publishes as it is")
    w.add_argument("slug", help="the episode's folder name: lower-case letters, digits and '-'")
    w.add_argument("--show", default=".")
    w.add_argument("--title", help="the title (English, or the only one)")
    w.add_argument("--title-zh", help="the Chinese title")
    w.add_argument("--language", default="en", choices=["en", "zh"], help="the language spoken")
    w.add_argument("--recording", metavar="PATH", help="copy this recording into the folder")
    w.add_argument("--link", action="store_true", help="hard-link the recording instead of copying it")
    w.add_argument("--date", type=dt.date.fromisoformat, help="publication date, YYYY-MM-DD (default: today)")
    w.add_argument("--json", action="store_true")

    u = sub.add_parser("publish", parents=[common], help="upload the built site (feed/) to hosting, feeds last")
    u.add_argument("--show", default=".")
    u.add_argument("--to", help="folder, sftp://user@host[:port]/path, user@host:path or s3://bucket/prefix "
                                "(default: [publish] to in podcast.toml)")
    u.add_argument("--dry-run", action="store_true", help="print the plan; touch nothing")
    u.add_argument("--delete", action="store_true", help="remove files no longer published (after the feeds)")
    u.add_argument("--json", action="store_true")

    k = sub.add_parser("clip", parents=[common], help="a captioned short clip of a built episode (feed/clips/)")
    k.add_argument("slug", help="the episode")
    k.add_argument("--show", default=".")
    k.add_argument("--start", required=True, help="seconds, MM:SS or H:MM:SS, in the recording's timeline")
    k.add_argument("--end", required=True, help="seconds, MM:SS or H:MM:SS, in the recording's timeline")
    k.add_argument("--aspect", default="9:16", choices=list(ASPECTS), help="1080x1920, 1080x1080 or 1920x1080")
    k.add_argument("--snap", action="store_true", help="move the cuts to the nearest sentence boundaries")
    k.add_argument("--title", help="drawn on an audiogram (default: the episode's title)")
    k.add_argument("--json", action="store_true")

    s = sub.add_parser("status", parents=[common], help="what is built, stale, failed")
    s.add_argument("--show", default=".")
    s.add_argument("--json", action="store_true")

    r = sub.add_parser("review", parents=[common], help="the lines a person should check, lowest score first")
    r.add_argument("--show", default=".")
    r.add_argument("--episode", action="append", metavar="SLUG", help="only this episode (repeatable)")
    r.add_argument("--limit", type=int, default=0, help="at most N lines (default: all)")
    r.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"build": cmd_build, "normalize": cmd_normalize, "status": cmd_status,
                "transcribe": cmd_transcribe, "search": cmd_search, "serve": cmd_serve, "check": cmd_check, "new": cmd_new,
                "publish": cmd_publish, "clip": cmd_clip, "review": cmd_review}[args.command](args)
    except BrokenPipeError:  # `media-tool search ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (MediaToolError, OSError) as exc:
        if isinstance(exc, OSError):
            if exc.errno not in DISK_ERRNOS:
                raise
            exc = disk_error(exc)
        if args.debug:
            err.print_exception()
        for line in exc.lines():
            err.print(f"[red]error:[/red] {escape(line)}", soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


def cmd_build(args) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    show = load_show(Path(args.show))
    ff = FFmpeg.discover()
    with _EventRenderer(enabled=not args.json) as render:
        report = builder.build(show, ff, only=args.episode, jobs=args.jobs, force=args.force,
                                on_event=render, cluster=cluster_address(args.ray, show.cluster.address),
                                on_wait=_waiting("the build"))
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        for w in report.warnings:
            err.print(f"[yellow]warning:[/yellow] {escape(w)}", soft_wrap=True)
        out.print(_build_table(report))
        for e in report.episodes:
            for notice in (e.episode.notices if e.episode else ()):
                err.print(f"[yellow]note:[/yellow] {escape(notice)}", soft_wrap=True)
        kept = {line.split(": ", 1)[0] for line in report.kept}
        for e in report.failed:
            # A kept episode's line says what stays published and its first problem; the rest follow.
            for line in (e.problems or [e.error])[1 if e.slug in kept else 0:]:
                err.print(f"[red]failed:[/red] {escape(line)}", soft_wrap=True)
            if args.debug:
                if e.traceback:
                    err.print(escape(e.traceback), soft_wrap=True)
                if e.stderr_tail:
                    err.print(f"ffmpeg said:\n{escape(e.stderr_tail)}", soft_wrap=True)
        for line in report.errors:
            err.print(f"[red]failed:[/red] {escape(line)}", soft_wrap=True)
        for line in report.kept:
            err.print(f"[yellow]kept:[/yellow] {escape(line)}", soft_wrap=True)
        for line in report.scheduled:
            err.print(f"[cyan]scheduled:[/cyan] {escape(line)}", soft_wrap=True)
        if report.meaning:
            err.print(f"[cyan]search:[/cyan] {report.meaning['embedded']} line(s) embedded for search by meaning "
                      f"after the feeds were written ({report.meaning['seconds']:.0f} s)", soft_wrap=True)
        done = sum(1 for e in report.episodes for s in e.stages if s.status == "done")
        out.print(f"{len(report.episodes)} episode(s), {done} stage run(s), "
                  f"{len(report.failed)} failed, {report.seconds:.1f} s")
    return 1 if report.failed or report.errors else 0


MARKS = {"done": ("✓", "green"), "skipped": ("·", "dim"), "failed": ("✗", "red"), "not run": ("-", "yellow"),
         "built": ("✓", "green"), "stale": ("~", "yellow"), "new": ("+", "cyan"), "missing": ("?", "magenta")}
"""One mark per stage, so a table of every stage fits 80 columns with the slugs whole."""


def _marks(stages, names: list[str]) -> str:
    by = {s.stage: s for s in stages}
    out = []
    for name in names:
        s = by.get(name) or by.get("config")
        mark, colour = MARKS.get(s.status, ("?", "white")) if s else (" ", "white")
        out.append(f"[{colour}]{mark}[/]")
    return " ".join(out)


def _legend(statuses: list[str]) -> str:
    return (f"stages, in order: {' '.join(builder.STAGE_NAMES)}\n"
            + "  ".join(f"{MARKS[s][0]} {s}" for s in statuses))


def _build_table(report: builder.BuildReport) -> Table:
    t = Table(title="build", caption=_legend(["done", "skipped", "missing", "failed", "not run"]))
    t.add_column("episode", no_wrap=True, min_width=max((len(e.slug) for e in report.episodes), default=7))
    t.add_column("stages", no_wrap=True)
    for col in ("LUFS in→out", "gain", "dBTP", "voices dB"):
        t.add_column(col, no_wrap=True, justify="right")
    for e in report.episodes:
        lo = e.episode.loudness if e.episode else None
        gap = lo.voice_gap() if lo else None
        cells = ([f"{lo.input.integrated:.1f}→{lo.output.integrated:.1f}", f"{lo.gain_db:+.1f}", f"{lo.output.peak:.1f}",
                  f"{gap[0]:.1f}→{gap[1]:.1f}" if gap else ""] if lo else ["", "", "", ""])
        t.add_row(escape(e.slug), _marks(e.stages, list(builder.STAGE_NAMES)), *cells)
    return t


class _EventRenderer:
    """Renders pipeline events as one rich progress bar per episode (on stderr)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                                 console=err, transient=False)
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.progress.stop()

    def __call__(self, e: builder.Event) -> None:
        if not self.enabled:
            return
        if e.slug not in self.tasks:
            self.tasks[e.slug] = self.progress.add_task(e.slug, total=1.0)
        task = self.tasks[e.slug]
        label = f"{e.slug} · {e.stage}"
        if e.kind == "progress":
            self.progress.update(task, description=label, completed=e.fraction)
        elif e.kind == "start":
            self.progress.update(task, description=label, completed=0)
        elif e.kind == "failed":
            self.progress.update(task, description=f"[red]{label} failed[/red]")
        elif e.kind in ("done", "skipped"):
            self.progress.update(task, description=f"{label} {e.kind}", completed=1.0)


def cmd_normalize(args) -> int:
    ff = FFmpeg.discover()
    settings = AudioSettings(true_peak=args.true_peak, trim_silence=args.trim_silence, denoise=args.denoise)
    if args.target is not None:  # the target given is the target, stereo or mono
        settings = replace(settings, target_lufs=args.target, target_lufs_mono=args.target)
    t0 = time.monotonic()
    outputs = [Path(o) for o in args.output]
    if args.json:
        result = single.normalize_file(ff, Path(args.input), outputs, settings, speakers_wanted=args.speakers)
    else:
        with Progress(TextColumn("normalize"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), console=err) as prog:
            task = prog.add_task("normalize", total=1.0)
            result = single.normalize_file(ff, Path(args.input), outputs, settings, speakers_wanted=args.speakers,
                                           progress=lambda f: prog.update(task, completed=f))
    seconds = time.monotonic() - t0
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
        return 0
    t = Table(title=Path(args.input).name)
    for col in ("", "integrated", "LRA", "peak"):
        t.add_column(col)
    t.add_row("input", f"{result.input.integrated:.1f} LUFS", f"{result.input.lra:.1f} LU",
              f"{result.input.peak:.1f} dBFS (sample)")
    for f in result.files:
        t.add_row(f.path, f"{f.integrated:.1f} LUFS", f"{f.lra:.1f} LU", f"{f.true_peak:.1f} dBTP")
    out.print(t)
    if result.voices:
        out.print(voices_table(result.voices))
    out.print(f"gain {result.gain_db:+.2f} dB (codec {result.codec_delta_lu:+.2f} LU), "
              f"target {result.target_lufs:g} LUFS, {seconds:.1f} s" + (", noise reduced" if result.denoised else ""))
    return 0


def voices_table(voices) -> Table:
    """The speaker leveler's work: each voice's speech loudness before and after, and its gain."""
    t = Table(title="voices leveled (speech loudness, mono)")
    for col in ("voice", "speech", "before", "gain", "after"):
        t.add_column(col)
    for v in voices:
        t.add_row(escape(v.name), f"{v.seconds:.0f} s", "-" if v.before_lufs is None else f"{v.before_lufs:.1f} LUFS",
                  f"{v.gain_db:+.1f} dB", "-" if v.after_lufs is None else f"{v.after_lufs:.1f} LUFS")
    return t


def cmd_review(args) -> int:
    show = load_show(Path(args.show))
    lines = review.queue(show, args.episode)
    lines = lines[:args.limit] if args.limit > 0 else lines
    if args.json:
        print(json.dumps([x.to_dict() for x in lines], ensure_ascii=False, indent=1))
        return 0
    t = Table(title=f"{len(lines)} lines to check · 待审校", caption="fix them on the review page: media-tool serve, "
              "then /_review (or in transcripts/<episode>/human.<lang>.srt)")
    for col in ("score", "episode", "at", "lang", "line", "source", "why"):
        t.add_column(col, overflow="fold")
    for x in lines:
        t.add_row(f"{x.score:.2f}", escape(x.episode), f"{notes.clock(x.start)}–{notes.clock(x.end)}", x.language,
                  escape(x.text), escape(x.source), escape(x.reason))
    out.print(t)
    return 0


def cmd_status(args) -> int:
    show = load_show(Path(args.show))
    rows = builder.status(show, FFmpeg.discover())
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=1))
    else:
        t = Table(title=notes.localized(show.title, show.language),
                  caption=_legend(["built", "stale", "new", "failed", "missing"]))
        t.add_column("episode", no_wrap=True, min_width=max((len(r.slug) for r in rows), default=7))
        t.add_column("stages", no_wrap=True)
        t.add_column("title", overflow="ellipsis", no_wrap=True)
        for r in rows:
            t.add_row(escape(r.slug), _marks(r.stages, list(builder.STAGE_NAMES)), escape(r.title))
        out.print(t)
        for r in rows:
            for s in r.stages:
                if s.status == "failed":
                    err.print(f"[red]failed:[/red] {escape(s.detail)}", soft_wrap=True)
                elif s.status == "missing":
                    err.print(f"[magenta]missing:[/magenta] {r.slug}: {escape(s.detail)}", soft_wrap=True)
            if r.scheduled:
                err.print(f"[cyan]scheduled:[/cyan] {r.slug}: published on {r.scheduled}", soft_wrap=True)
            if r.kept:
                err.print(f"[yellow]kept:[/yellow] {r.slug}: the version published on {r.kept} stays in the feeds",
                          soft_wrap=True)
    failed = any(s.status == "failed" for r in rows for s in r.stages)
    return 1 if failed else 0


def cmd_transcribe(args) -> int:
    wanted = tuple(x.strip() for x in args.languages.split(",") if x.strip())
    if not set(wanted) <= set(LANGUAGES):
        raise UsageError(f"--languages: expected en and/or zh, got {args.languages!r}")
    src, out_dir = Path(args.input), Path(args.output)
    terms = glossary_csv.load(Path(args.glossary)) if args.glossary else Glossary()
    kwargs = {"language": args.language, "wanted": wanted, "engine": args.engine, "model": args.model,
              "glossary": terms, "speakers_wanted": args.speakers, "whisper_task": args.translator == "whisper",
              "title": args.title,
              "translator_for": single.local_translators() if args.translator == "local" else None}
    if args.json or args.language == "mixed":
        made = single.transcribe_file(FFmpeg.discover(), src, out_dir, **kwargs)
    else:
        with Progress(TextColumn("transcribe"), BarColumn(), TextColumn("{task.fields[rtf]}"),
                      TimeElapsedColumn(), console=err) as prog:
            task = prog.add_task("transcribe", total=1.0, rtf="")
            t0 = time.monotonic()

            def moved(done: float, total: float) -> None:
                rate = (time.monotonic() - t0) / done if done else 0.0
                prog.update(task, completed=done / max(total, 1e-9),
                            rtf=f"{done:.0f}/{total:.0f} s audio, {rate:.2f}x realtime")

            made = single.transcribe_file(FFmpeg.discover(), src, out_dir, progress=moved, **kwargs)
    outcome, engine = made.outcome, made.engine
    result = {"input": str(src), "model": f"{engine.name}:{engine.model_name}", "language": outcome.language,
              "detected": outcome.detected, "corrections": list(outcome.transcript.corrections),
              "segments": len(outcome.transcript.segments), "files": made.files, "kept_edited": made.kept_edited,
              "missing": made.missing, "translation_problems": made.problems,
              "translator": "local:" + single.LOCAL_NAME if args.translator == "local" else args.translator,
              "seconds": round(outcome.seconds, 2),
              "audio_seconds": round(outcome.audio_seconds, 2), "realtime_factor": round(outcome.realtime_factor, 3)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        for f in made.files:
            out.print(f)
        for lang, why in made.missing.items():
            err.print(f"[magenta]missing {lang}:[/magenta] {escape(why)}", soft_wrap=True)
        for c in outcome.transcript.corrections:
            out.print(f"glossary: segment {c['segment'] + 1}: {escape(c['before'])} → {escape(c['after'])}")
        out.print(f"{result['model']}: {outcome.language}{' (detected)' if outcome.detected else ''}, {result['segments']} segments, "
                  f"{outcome.seconds:.1f} s for {outcome.audio_seconds:.0f} s of audio "
                  f"(realtime factor {outcome.realtime_factor:.2f})")
    return 0


def cmd_search(args) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    show = load_show(Path(args.show))
    index = open_index(show, readonly=True)
    since = None
    if args.since:
        try:
            since = dt.date.fromisoformat(args.since).isoformat()
        except ValueError:
            raise UsageError(f"--since: expected a date YYYY-MM-DD, got {args.since!r}") from None
    hits, notices = search_index(index, args.query, glossary=show.glossary, lang=args.lang, slug=args.episode, since=since,
                                 speaker=args.speaker, limit=args.limit, meaning=not args.words_only,
                                 editions=editions(show), titles=site_titles(site_facts(show.feed_dir)))
    for line in notices:
        err.print(f"[yellow]note:[/yellow] {escape(line)}", soft_wrap=True)
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return 0
    out.print(f"{len(hits)} hit(s) for {args.query!r}", highlight=False, soft_wrap=True)
    for n, h in enumerate(hits, 1):
        out.print(*hit_lines(n, h, out.width), sep="\n", highlight=False, soft_wrap=True)
    return 0


def hit_lines(n: int, h, width: int) -> list[Text]:
    """One hit in lines that fit `width` columns: number, episode slug, time, speaker and what was said
    on the first; the same moment in the other language; how it was found and the episode's title;
    the link on a line of its own, whole, so a terminal can open it."""
    where = notes.clock(h.start) if h.kind in ("segment", "chapter") else h.kind
    first = Text(f"{n:>2} ")
    first.append(h.slug, style="cyan")
    first.append(f" {where} ")
    if h.speaker:
        first.append(f"{h.speaker}: ", style="green")
    first.append_text(_marked(" ".join(h.snippet.split())))
    lines = [first]
    if h.translation:
        lines.append(Text(f"   ({' '.join(h.translation.split())})", style="dim"))
    how = Text(f"   found by {', '.join(h.matched)}", style="dim")
    if h.translated:  # the words found are a translation of what was said
        how.append(" · human translation" if h.translated == "human" else " · machine translation", style="magenta")
    how.append(f" · {h.title}", style="dim")
    lines.append(how)
    for line in lines:
        line.truncate(max(20, width), overflow="ellipsis")
    return [*lines, Text(f"   {h.url}")]


def _marked(snippet: str):
    """A search snippet's <mark>ed terms as rich bold text."""
    text, inside = Text(), False
    for part in re.split(r"(</?mark>)", snippet):
        if part in ("<mark>", "</mark>"):
            inside = part == "<mark>"
        elif part:
            text.append(html.unescape(part), style="bold yellow" if inside else None)
    return text


def cmd_serve(args) -> int:
    show = load_show(Path(args.show))
    srv = server(show.feed_dir, open_index(show, readonly=True), args.host, args.port,
                 glossary=show.glossary, editions=editions(show), show=show)
    host, port = srv.server_address[:2]
    out.print(f"serving the site in {show.rel(show.feed_dir)}/ at http://{host}:{port}/, the search page at "
              f"http://{host}:{port}/_search and the review page at http://{host}:{port}/_review (Ctrl-C stops)")
    if args.open:
        webbrowser.open(f"http://{host}:{port}/")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


def cmd_new(args) -> int:
    show = load_show(Path(args.show))
    made = new_episode(show, args.slug, title=args.title, title_zh=args.title_zh, language=args.language,
                       recording=Path(args.recording) if args.recording else None, date=args.date, link=args.link)
    files = [show.rel(p) for p in made]
    if args.json:
        print(json.dumps({"slug": args.slug, "files": files}, ensure_ascii=False, indent=1))
    else:
        for f in files:
            out.print(f"created {escape(f)}")
        out.print(f"edit {escape(files[0])}, then run media-tool build")
    return 0


def _waiting(what: str):
    """What a command says when another of the show's commands holds its lock and it waits its turn."""
    def say(holder: str) -> None:
        err.print(f"[cyan]waiting:[/cyan] {escape(holder.split()[0] if holder.split() else 'another command')} of "
                  f"this show is running ({escape(holder)}); {what} starts when it ends", soft_wrap=True)
    return say


def cmd_publish(args) -> int:
    show = load_show(Path(args.show))
    to = args.to or show.publish.to
    if not to:
        raise UsageError("where to? give --to, or [publish] to = \"...\" in podcast.toml")
    kwargs = {"dry_run": args.dry_run, "delete": args.delete, "endpoint_url": show.publish.endpoint_url,
              "key_file": show.publish.key_file, "on_wait": _waiting("the upload")}
    if args.json:
        result = upload.publish(show.root, show.state_dir, to, **kwargs)
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return 0
    with Progress(TextColumn("publish {task.fields[file]}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as prog:
        task = prog.add_task("publish", total=None, file="")
        result = upload.publish(show.root, show.state_dir, to, progress=lambda rel, done, total: prog.update(
            task, completed=done, total=total, file=rel), **kwargs)
    for line in result.notes:
        err.print(f"[yellow]note:[/yellow] {escape(line)}", soft_wrap=True)
    if result.cleaned:
        err.print(f"[yellow]note:[/yellow] removed {len(result.cleaned)} file(s) an interrupted publish left on "
                  f"{escape(to)}", soft_wrap=True)
    verb = "would send" if result.dry_run else "sent"
    for rel in result.sent:
        out.print(f"{verb} {escape(rel)}", soft_wrap=True)
    for rel in result.deleted:
        out.print(f"{'would delete' if result.dry_run else 'deleted'} {escape(rel)}", soft_wrap=True)
    if not result.sent and not result.deleted:
        out.print(f"{escape(to)} is up to date: nothing to send ({result.unchanged} file(s) unchanged)", soft_wrap=True)
    else:
        out.print(f"{len(result.sent)} file(s), {result.bytes / 1e6:.1f} MB {verb}, {len(result.deleted)} deleted, "
                  f"{result.unchanged} unchanged", soft_wrap=True)
    return 0


def cmd_clip(args) -> int:
    start, end = parse_timestamp(args.start), parse_timestamp(args.end)
    for name, v, raw in (("--start", start, args.start), ("--end", end, args.end)):
        if v is None:
            raise UsageError(f"{name}: expected seconds, MM:SS or H:MM:SS, got {raw!r}")
    show, ff = load_show(Path(args.show)), FFmpeg.discover()
    if args.json:
        made = make_clip(show, ff, args.slug, start, end, aspect=args.aspect, snap=args.snap, title=args.title)
        print(json.dumps(made, ensure_ascii=False, indent=1))
        return 0
    with Progress(TextColumn("clip"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                  console=err, transient=True) as prog:
        task = prog.add_task("clip", total=1.0)
        made = make_clip(show, ff, args.slug, start, end, aspect=args.aspect, snap=args.snap,
                                 title=args.title, progress=lambda f: prog.update(task, completed=f))
    out.print(f"wrote {escape(made['path'])}: {made['end'] - made['start']:.1f} s, {args.aspect}"
              + ("" if made["captions"] else f" [yellow](no captions: {escape(missing_tools(ff) or '')})[/]"),
              soft_wrap=True)
    return 0


def cmd_check(args) -> int:
    problems = check(load_show(Path(args.show)))
    if args.json:
        print(json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=1))
    else:
        for p in problems:
            colour = "red" if p.severity == "error" else "yellow"
            out.print(f"[{colour}]{p.severity}[/]: {escape(p.file)}: {escape(p.message)}", soft_wrap=True)
        errors = sum(p.severity == "error" for p in problems)
        out.print(f"{errors} error(s), {len(problems) - errors} warning(s)")
    return 1 if any(p.severity == "error" for p in problems) else 0
