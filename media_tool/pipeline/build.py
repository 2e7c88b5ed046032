"""The build: every stage over every episode, incrementally, in parallel, one failure at a time;
then the show-level publish step. Also `status`, which asks the same question without working.

A stage's output is up to date when its key (the hash of its inputs, settings and versions)
matches the one recorded and `restore` finds its outputs; `stage_verdict` answers that for
both `build` and `status`, so they never disagree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from media_tool.errors import (
    DISK_ERRNOS,
    ConfigError,
    MediaToolError,
    disk_error,
)
from media_tool.media.ffmpeg import FFmpeg
from media_tool.model.problems import show_problems
from media_tool.model.show import Show, episode_slugs, load_episode
from media_tool.pipeline.order import SITE, STAGES
from media_tool.stages.base import Stage
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode, Event, EventFn
from media_tool.stages.index import finish_meaning
from media_tool.store.files import ShowLock, key_of, remove_stale_parts
from media_tool.store.state import BuildState
from media_tool.text.notes import localized

DEFAULT_JOBS = max(1, (os.cpu_count() or 2) // 2)
"""Episodes built at once on one machine: each already uses two processes."""
STAGE_NAMES = tuple(s.name for s in STAGES)
"""The per-episode stages' names, in order (the columns of the build and status tables)."""


@dataclass(frozen=True)
class Verdict:
    """Whether a stage's recorded output can be reused, and the Episode restored from it if so."""

    status: str  # "built" | "new" | "stale" | "failed" | "missing"
    key: str
    episode: Episode | None = None
    detail: str = ""


def stage_verdict(ctx: Context, stage: Stage, ep: Episode) -> Verdict:
    """Is `stage` up to date for `ep`? The one answer `build` and `status` share."""
    key = key_of(stage.key(ctx, ep))
    rec = ctx.state.record(ep.slug, stage.name)
    if rec is None:
        return Verdict("new", key)
    if rec.get("key") != key:
        return Verdict("stale", key, detail="inputs or settings changed")
    if rec.get("status") == "failed":
        return Verdict("failed", key, detail=rec.get("error", ""))
    restored = stage.restore(ctx, ep, rec["data"])
    if restored is None:
        return Verdict("stale", key, detail="output missing or changed")
    missing = (rec.get("data") or {}).get("missing")
    return Verdict("missing" if missing else "built", key, restored, missing or "")


@dataclass
class StageReport:
    stage: str
    status: str  # "done" | "skipped" | "missing" (done, but a translation could not be made) | "failed" | "not run"
    reason: str = ""
    seconds: float = 0.0
    where: str = ""  # where its work ran: "here", or the cluster workers' addresses ("" when not run)


@dataclass
class EpisodeReport:
    slug: str
    stages: list[StageReport] = field(default_factory=list)
    episode: Episode | None = None
    error: str = ""
    traceback: str = ""
    stderr_tail: str = ""
    problems: list[str] = field(default_factory=list)  # every line of a bad episode.toml

    @property
    def failed(self) -> bool:
        return bool(self.error)

    def to_dict(self) -> dict:
        d = {"slug": self.slug, "failed": self.failed, "error": self.error, "problems": self.problems,
             "stages": {s.stage: {"status": s.status, "reason": s.reason, "seconds": round(s.seconds, 2),
                                     "where": s.where} for s in self.stages}}
        if self.episode and self.episode.loudness:
            d["loudness"] = self.episode.loudness.to_dict()
        if self.episode:
            d["outputs"] = self.episode.outputs
            d["published"] = {} if self.failed else {k: f"feed/media/{Path(p).name}"
                                                      for k, p in self.episode.tagged.items()}
            d["notices"] = list(self.episode.notices)
        return d


@dataclass
class BuildReport:
    episodes: list[EpisodeReport]
    warnings: list[str]
    seconds: float
    feeds: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # show-level failures (the feed)
    kept: list[str] = field(default_factory=list)    # failed episodes still published as they were
    scheduled: list[str] = field(default_factory=list)  # built, held back until their date
    cluster: dict | None = None  # with --ray: its address, how many model workers, whether any was started
    meaning: dict | None = None  # rows embedded for search after the feeds: {"embedded", "seconds"}

    @property
    def failed(self) -> list[EpisodeReport]:
        return [e for e in self.episodes if e.failed]

    def to_dict(self) -> dict:
        return {"episodes": [e.to_dict() for e in self.episodes], "warnings": self.warnings,
                "failed": len(self.failed), "seconds": round(self.seconds, 2), "feeds": self.feeds,
                "errors": self.errors, "kept": self.kept, "scheduled": self.scheduled, "cluster": self.cluster,
                "meaning": self.meaning}


def build(show: Show, ff: FFmpeg, *, only: list[str] | None = None, jobs: int | None = 1,
          force: bool = False, on_event: EventFn | None = None, cluster: str | None = None,
          on_wait=None) -> BuildReport:
    """Run every stage over the chosen episodes; never raises for one episode's failure. With `cluster`
    (a Ray address, see `cluster.pool`) the model stages' work runs on its workers and `jobs` None
    means as many episodes at once as it has workers (and at least the local default). An upload of the
    show going on now is waited for (`on_wait(holder)` says so); another build is refused."""
    started = time.monotonic()
    emit = on_event or (lambda e: None)
    remote = None
    if cluster:
        from media_tool.cluster.pool import Cluster

        remote = Cluster(cluster, show.cluster.workers)
    with ShowLock(show.state_dir, on_wait=on_wait), contextlib.ExitStack() as stack:
        if remote is not None:
            workers = remote.connect()
            stack.callback(remote.close)
            if jobs is None:  # --jobs N bounds the episodes in flight; unset, one per worker
                jobs = max(DEFAULT_JOBS, workers)
        jobs = jobs or DEFAULT_JOBS
        state = BuildState.load(show.state_dir)
        for folder in (show.feed_dir, show.state_dir):
            remove_stale_parts(folder)
        slugs = episode_slugs(show)
        if only:
            missing = [s for s in only if s not in slugs]
            if missing:
                raise ConfigError(f"no such episode: {missing[0]}", f"episodes/{missing[0]}")
        else:
            state.forget(set(slugs))
        ctx = Context(show=show, ff=ff, state=state, force=force, cluster=remote)
        stack.callback(ctx.close)
        if remote is not None:  # the workers take one call each at a time: episodes need not queue here
            ctx.model_lock = contextlib.nullcontext()
        warnings = list(show.warnings)
        identity = ctx.identity()
        if not only:
            warnings += identity.notices

        def one(slug: str) -> EpisodeReport:
            report = _build_episode(ctx, slug, emit, warnings)
            state.save()
            return report

        with ThreadPoolExecutor(max(1, jobs)) as pool:
            reports = list(pool.map(one, only or slugs))
        report = BuildReport(reports, warnings, 0.0)
        if remote is not None:
            report.cluster = remote.summary()
        if not only:  # the index and the feed cover every episode: only a build of all rewrites them
            ctx.index().remove_except(set(slugs))  # deleted episodes leave the index
            warnings += _show_warnings(show)
            built = [r.episode for r in reports if r.episode is not None and not r.failed]
            failed = {r.slug: r.error for r in reports if r.failed}
            try:
                done = SITE.run(show, built, now=dt.datetime.now(dt.timezone.utc), force=force, failed=failed,
                                   kept=state.published, identity=identity)
                state.published = done.records
                state.show = identity.record(show.base_url)
                report.feeds = [show.rel(f) for f in done.feeds]
                report.kept, report.scheduled = done.kept, done.notices
            except (MediaToolError, OSError) as exc:
                report.errors.append(_show_error(exc))
        try:  # what a very long transcript's index stage left to embed, now the feeds are out
            started_meaning = time.monotonic()
            n = finish_meaning(ctx, lambda f: emit(Event("search", "meaning", "progress", f)))
            if n:
                report.meaning = {"embedded": n, "seconds": round(time.monotonic() - started_meaning, 2)}
                emit(Event("search", "meaning", "done", 1.0))
        except (MediaToolError, OSError) as exc:
            report.errors.append(_show_error(exc))
        try:
            ctx.flush()  # the search graph, once per build
        except OSError as exc:
            if exc.errno not in DISK_ERRNOS:
                raise
            report.errors.append(disk_error(exc).one_line())
        state.save()
    report.seconds = time.monotonic() - started
    return report


def _show_error(exc: Exception) -> str:
    """A show-level step's failure as the report's one line: ours, or a full disk; anything else
    is a bug and raised again."""
    if isinstance(exc, OSError) and exc.errno not in DISK_ERRNOS:
        raise exc
    return exc.one_line() if isinstance(exc, MediaToolError) else disk_error(exc).one_line()


def _show_warnings(show: Show) -> list[str]:
    """What `check` would call an error in the show (bad cover art, duplicate numbers), so a
    producer hears of it without running check. Episode config errors were already reported
    as failed episodes, and base_url by the publish step."""
    return [f"{p.file}: {p.message}" for p in show_problems(show)
            if p.severity == "error" and p.code not in ("config", "base-url")]


def _build_episode(ctx: Context, slug: str, emit: EventFn, warnings: list[str]) -> EpisodeReport:
    report = EpisodeReport(slug)
    try:
        config = load_episode(ctx.show, slug)
    except ConfigError as exc:
        report.error = exc.one_line()
        report.problems = exc.lines()
        report.stages = [StageReport("config", "failed", report.error)]
        emit(Event(slug, "config", "failed", message=report.error))
        return report
    warnings.extend(config.warnings)
    warnings.extend(f"{file}: {what}" for file, what in config.placeholder_lines)
    ep = Episode(config)
    for i, stage in enumerate(STAGES):
        t0 = time.monotonic()
        key = None
        try:
            verdict = stage_verdict(ctx, stage, ep)
            key = verdict.key
            if not ctx.force and verdict.episode is not None:
                ep = verdict.episode
                # A translation that could not be made is "missing" here as in `status`, built or not.
                report.stages.append(StageReport(stage.name, "missing", verdict.detail) if verdict.status == "missing"
                                     else StageReport(stage.name, "skipped", "up to date"))
                emit(Event(slug, stage.name, "skipped"))
                continue
            emit(Event(slug, stage.name, "start"))
            with ctx.cluster.track() if ctx.cluster else contextlib.nullcontext([]) as places:
                ep, data = stage.run(ctx, ep, lambda f, s=stage.name: emit(Event(slug, s, "progress", f)))
            ctx.state.put(slug, stage.name, {"key": key, "status": "done", "data": data, "finished": time.time()})
            ctx.state.save()  # each finished stage is kept at once: a killed build redoes only what was unfinished
            missing = data.get("missing")
            report.stages.append(StageReport(stage.name, "missing" if missing else "done", missing or "",
                                             time.monotonic() - t0, ", ".join(sorted(set(places))) or "here"))
            emit(Event(slug, stage.name, "done"))
        except Exception as exc:  # one episode's failure must not stop the others
            report.traceback = traceback.format_exc()
            if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
                exc = disk_error(exc)
            if isinstance(exc, MediaToolError):
                exc.path = ctx.show.rel(config.source if exc.path is None else exc.path)
                report.error = exc.one_line()
                report.stderr_tail = getattr(exc, "stderr_tail", "")
            else:
                report.error = f"{ctx.show.rel(config.source)}: internal error in {stage.name}: {exc!r}"
            # The failed record keeps what the stage last wrote: the hashes that tell a person's edit from
            # the machine's file must survive a failure, or a corrected file would never be published.
            before = ctx.state.record(slug, stage.name) or {}
            ctx.state.put(slug, stage.name, {"key": key, "status": "failed", "error": report.error,
                                             "data": before.get("data") or {}, "finished": time.time()})
            report.stages.append(StageReport(stage.name, "failed", report.error, time.monotonic() - t0))
            report.stages += [StageReport(s.name, "not run", f"{stage.name} failed") for s in STAGES[i + 1:]]
            emit(Event(slug, stage.name, "failed", message=report.error))
            break
    report.episode = ep
    return report


@dataclass
class StageStatus:
    stage: str
    status: str  # "built" | "stale" | "failed" | "new" | "missing"
    detail: str = ""


@dataclass
class EpisodeStatus:
    slug: str
    title: str
    stages: list[StageStatus]
    scheduled: str | None = None  # the date a built episode waits for before it is published
    kept: str | None = None       # the date of the version still published while this one fails

    def to_dict(self) -> dict:
        return {"slug": self.slug, "title": self.title, "scheduled": self.scheduled, "kept": self.kept,
                "stages": {s.stage: {"status": s.status, "detail": s.detail} for s in self.stages}}


def status(show: Show, ff: FFmpeg) -> list[EpisodeStatus]:
    """For each episode: each stage built, stale, failed, missing or new, without doing any work."""
    ctx = Context(show=show, ff=ff, state=BuildState.load(show.state_dir), readonly=True)
    try:
        return _status(ctx, show)
    finally:
        ctx.close()


def _status(ctx: Context, show: Show) -> list[EpisodeStatus]:
    now = dt.datetime.now(dt.timezone.utc)
    rows = []
    for slug in episode_slugs(show):
        kept = (ctx.state.published.get(slug) or {}).get("date")
        try:
            ep = Episode(load_episode(show, slug))
        except ConfigError as exc:
            rows.append(EpisodeStatus(slug, "", [StageStatus("config", "failed", exc.one_line())], kept=kept))
            continue
        scheduled = ep.config.date.date().isoformat() if ep.config.date > now else None
        stages, title = [], localized(ep.config.title, show.language)
        waiting = False  # once a stage is not up to date, the later ones cannot be judged: they wait for it
        for stage in STAGES:
            verdict = None
            if not waiting:
                try:
                    verdict = stage_verdict(ctx, stage, ep)
                except (OSError, KeyError, AttributeError, TypeError, MediaToolError):
                    verdict = None  # an earlier stage's output is not there to key on
            if verdict is None:
                recorded = ctx.state.record(slug, stage.name) is not None
                stages.append(StageStatus(stage.name, "stale" if recorded else "new", "waits for earlier stages"))
                waiting = True
                continue
            stages.append(StageStatus(stage.name, verdict.status, verdict.detail))
            if verdict.episode is not None:
                ep = verdict.episode
            elif verdict.status != "failed":
                waiting = True
        failing = any(s.status == "failed" for s in stages)
        rows.append(EpisodeStatus(slug, title, stages, scheduled, kept if failing else None))
    return rows
