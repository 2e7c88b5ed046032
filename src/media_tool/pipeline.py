"""The build: every stage over every episode, incrementally, in parallel, one failure at a time.

A stage is a small object with a key (the hash of its inputs, settings and versions), a run
and a restore. `build` redoes a stage only when its key changed or its outputs went missing;
an episode's failure is recorded on that episode and the others go on.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import traceback
from pathlib import Path
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from . import __version__, jingles, normalize, search, tag, transcribe, translate
from . import transcripts as transcripts_fmt
from .errors import ConfigError, MediaToolError
from .ffmpeg import FFmpeg
from .fsutil import ShowLock, key_of, remove_stale_parts
from .probe import MediaInfo, probe
from .show import EpisodeConfig, Show, episode_slugs, load_episode
from .state import BuildState
from .transcripts import Transcript


@dataclass(frozen=True)
class Episode:
    """One episode as it flows through the stages, gaining facts at each."""

    config: EpisodeConfig
    media: MediaInfo | None = None
    loudness: normalize.Result | None = None
    outputs: dict[str, str] = field(default_factory=dict)  # kind -> path relative to the show
    transcripts: dict[str, Transcript] = field(default_factory=dict)  # language -> transcript
    published: dict[str, str] = field(default_factory=dict)  # kind -> tagged file under feed/media
    notices: tuple[str, ...] = ()  # conflicts and missing translations, for the report

    @property
    def slug(self) -> str:
        return self.config.slug


@dataclass
class Context:
    """What every stage may use: the show, the ffmpeg runner, the state, and the build's flags."""

    show: Show
    ff: FFmpeg
    state: BuildState
    force: bool = False
    _engine: object = None
    _engine_lock: threading.Lock = field(default_factory=threading.Lock)

    _index: object = None

    def index(self):
        """The show's search index, opened once per build; writes are serialised by its lock."""
        with self._engine_lock:
            if self._index is None:
                self._index = search.open_index(self.show)
            return self._index

    def engine(self):
        """The show's Whisper engine, loaded once per build (models are large)."""
        with self._engine_lock:
            if self._engine is None:
                from .whisper_engines import load_engine
                tr = self.show.transcription
                self._engine = load_engine(tr.engine, tr.model, self.show.state_dir / "models")
            return self._engine


@dataclass(frozen=True)
class Event:
    """A progress report from the core; the CLI decides how to show it."""

    slug: str
    stage: str
    kind: str  # "start" | "progress" | "done" | "skipped" | "failed"
    fraction: float = 0.0
    message: str = ""


EventFn = Callable[[Event], None]


class ProbeStage:
    name = "probe"

    def key(self, ctx: Context, ep: Episode) -> dict:
        return {"source": ctx.state.hashes.digest(ep.config.source), "tool": __version__,
                "ffmpeg": ctx.ff.version}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        info = probe(str(ep.config.source), ctx.ff)
        info = replace(info, path=ctx.show.rel(info.path))
        return replace(ep, media=info), {"media": info.to_dict()}

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        return replace(ep, media=MediaInfo.from_dict(data["media"]))


class NormalizeStage:
    name = "normalize"

    def key(self, ctx: Context, ep: Episode) -> dict:
        settings = ep.config.audio(ctx.show)
        jingle_hashes = {k: ctx.state.hashes.digest(ctx.show.root / v)
                         for k, v in (("intro", settings.intro), ("outro", settings.outro)) if v}
        return {"source": ctx.state.hashes.digest(ep.config.source), "audio": settings.to_dict(),
                "jingles": jingle_hashes, "rev": normalize.REVISION, "tool": __version__,
                "ffmpeg": ctx.ff.version}

    def targets(self, ctx: Context, ep: Episode) -> list[normalize.Target]:
        """The audio feed's MP3 first (held exactly to target), then M4A or the video MP4.

        These are untagged masters; the tag stage publishes tagged copies under feed/media."""
        media = ctx.show.state_dir / "media"
        out = [normalize.Target(media / f"{ep.slug}.mp3", "mp3")]
        if ep.media and ep.media.has_video:
            out.append(normalize.Target(media / f"{ep.slug}.mp4", "mp4"))
        elif ep.config.audio(ctx.show).m4a:
            out.append(normalize.Target(media / f"{ep.slug}.m4a", "m4a"))
        return out

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        assert ep.media is not None and ep.media.audio is not None
        settings = ep.config.audio(ctx.show)
        channels = 1 if ep.media.audio.channels == 1 else 2
        prepared = {}
        if not ep.media.has_video:
            for which in ("intro", "outro"):
                name = getattr(settings, which)
                if name:
                    prepared[which] = jingles.prepare(ctx.show.root / name, ctx.show.state_dir / "jingles",
                                                      ctx.ff, channels=channels, sample_rate=settings.sample_rate)
        info = replace(ep.media, path=str(ep.config.source))
        targets = self.targets(ctx, ep)
        result = normalize.normalize(info, targets, settings, ctx.ff, progress=progress, **prepared)
        outputs = {t.kind: ctx.show.rel(t.path) for t in targets}
        sizes = {t.kind: t.path.stat().st_size for t in targets}
        return (replace(ep, loudness=result, outputs=outputs),
                {"result": result.to_dict(), "outputs": outputs, "sizes": sizes})

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        for kind, rel in data["outputs"].items():
            p = ctx.show.root / rel
            if not p.is_file() or p.stat().st_size != data["sizes"][kind]:
                return None  # an output went missing or was changed: make it again
        return replace(ep, loudness=normalize.Result.from_dict(data["result"]), outputs=data["outputs"])


def _episode_folder(ctx: Context, ep: Episode) -> Path:
    return ctx.show.transcripts_dir / ep.slug


def _file_hash(ctx: Context, path: Path | None) -> str | None:
    return ctx.state.hashes.digest(path) if path is not None else None


def _previous(ctx: Context, slug: str, stage: str) -> dict:
    """What the stage wrote last time (even under another key): hashes that tell edits apart."""
    rec = ctx.state.record(slug, stage) or {}
    return (rec.get("data") or {}).get("written", {})


_MODEL_LOCK = threading.Lock()


class TranscribeStage:
    name = "transcribe"

    def key(self, ctx: Context, ep: Episode) -> dict:
        lang = ep.config.language
        human = transcribe.human_file(_episode_folder(ctx, ep), lang)
        tr = ctx.show.transcription
        return {"audio": ctx.state.hashes.digest(ctx.show.root / ep.outputs["mp3"]), "language": lang,
                "human": _file_hash(ctx, human), "engine": None if human else [tr.engine, tr.model],
                "rev": transcribe.REVISION, "tool": __version__}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        lang, folder = ep.config.language, _episode_folder(ctx, ep)
        human = transcribe.human_file(folder, lang)
        if human is not None:
            t = transcribe.read_human(human, lang, ctx.show.rel(human))
        else:
            engine = ctx.engine()
            with _MODEL_LOCK:  # one model, one episode at a time; normalizing goes on in parallel
                t = transcribe.transcribe(ctx.show.root / ep.outputs["mp3"], ctx.ff, engine, language=lang,
                                          progress=lambda done, total: progress(done / max(total, 1e-9))).transcript
        files = {f"{ep.slug}.{lang}.{ext}": text for ext, text in transcribe.render(t).items()}
        return _publish(ctx, ep, self.name, t, files)

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        return _restore_transcript(ctx, ep, data)


class TranslateStage:
    name = "translate"

    def key(self, ctx: Context, ep: Episode) -> dict:
        lang = ep.config.language
        other = translate.other_language(lang)
        human = transcribe.human_file(_episode_folder(ctx, ep), other)
        tl, tr = ctx.show.translation, ctx.show.transcription
        source = ep.transcripts[lang]
        return {"source": transcribe.sha(str(source.to_dict())), "human": _file_hash(ctx, human),
                "translator": [tl.engine, tl.url, tl.model], "whisper": [tr.engine, tr.model] if lang == "zh" else None,
                "wanted": other in tr.languages, "rev": transcribe.REVISION, "tool": __version__}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        lang, folder = ep.config.language, _episode_folder(ctx, ep)
        other = translate.other_language(lang)
        if other not in ctx.show.transcription.languages:
            return ep, {"written": {}, "skipped": f"{other} not in [transcription] languages"}
        source = ep.transcripts[lang]
        human = transcribe.human_file(folder, other)
        t, missing = None, ""
        if human is not None:
            t = transcribe.read_human_translation(human, source, other, ctx.show.rel(human))
        elif lang == "zh":
            engine = ctx.engine()
            if engine.multilingual:
                with _MODEL_LOCK:
                    t = transcribe.whisper_translation(ctx.show.root / ep.outputs["mp3"], ctx.ff, engine, source)
            else:
                missing = (f"English translation missing: model {engine.model_name!r} is English-only; put "
                           f"human.en.srt, .vtt or .txt in {ctx.show.rel(folder)}/ or configure a multilingual model")
        else:
            translator = translate.machine_translator(ctx.show.translation, lang, other)
            if translator is None:
                missing = (f"Chinese translation missing: no translator configured; put human.zh.srt, .vtt or "
                           f".txt in {ctx.show.rel(folder)}/ or set [translation] engine in podcast.toml")
            else:
                t = translate.translate(translator, source, other)
        if t is None:
            return replace(ep, notices=ep.notices + (f"{ctx.show.rel(folder)}: {missing}",)), \
                {"written": {}, "missing": missing}
        files = {f"{ep.slug}.{other}.{ext}": text for ext, text in transcribe.render(t).items()}
        # One bilingual file per episode, named zh-en whichever was spoken; the spoken language on top.
        files[f"{ep.slug}.zh-en.srt"] = transcripts_fmt.to_bilingual_srt(source, t)
        files[f"{ep.slug}.zh-en.vtt"] = transcripts_fmt.to_bilingual_vtt(source, t)
        return _publish(ctx, ep, self.name, t, files)

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        return _restore_transcript(ctx, ep, data)


def _publish(ctx: Context, ep: Episode, stage: str, t: Transcript, files: dict[str, str]):
    """Write a stage's transcript files (a person's edits win) and record what was written."""
    folder = _episode_folder(ctx, ep)
    written, conflicts = transcribe.write_files(folder, files, _previous(ctx, ep.slug, stage))
    notes = tuple(f"{ctx.show.rel(folder / c)}: edited by a person, kept; the new machine version is "
                  f"beside it as .machine" for c in conflicts)
    return (replace(ep, transcripts={**ep.transcripts, t.language: t}, notices=ep.notices + notes),
            {"transcript": t.to_dict(), "written": written, "conflicts": conflicts})


def _restore_transcript(ctx: Context, ep: Episode, data: dict) -> Episode | None:
    folder = _episode_folder(ctx, ep)
    if not all((folder / name).is_file() for name in data["written"]):
        return None  # a file went missing: make it again
    if data.get("missing"):
        return replace(ep, notices=ep.notices + (f"{ctx.show.rel(folder)}: {data['missing']}",))
    if "transcript" not in data:
        return ep
    t = Transcript.from_dict(data["transcript"])
    return replace(ep, transcripts={**ep.transcripts, t.language: t})


_INDEX_LOCK = threading.Lock()


class IndexStage:
    """Every published transcript segment, both languages, into the search index."""

    name = "index"

    def _sources(self, ctx: Context, ep: Episode) -> dict[str, Path]:
        """Per language, the file to index: the whole-segment JSON, unless a person corrected
        the SRT or the JSON, in which case their file (what they fixed is what staff find)."""
        folder = _episode_folder(ctx, ep)
        written = {**_previous(ctx, ep.slug, "transcribe"), **_previous(ctx, ep.slug, "translate")}
        out = {}
        for lang in ("en", "zh"):
            srt_file, json_file = (folder / f"{ep.slug}.{lang}.{ext}" for ext in ("srt", "json"))
            edited = [p for p in (srt_file, json_file)
                      if p.is_file() and written.get(p.name) not in (None, transcribe.sha(p.read_bytes()))]
            chosen = edited[0] if edited else json_file
            if chosen.is_file():
                out[lang] = chosen
        return out

    def key(self, ctx: Context, ep: Episode) -> dict:
        return {"files": {lang: [p.name, ctx.state.hashes.digest(p)] for lang, p in self._sources(ctx, ep).items()},
                "title": ep.config.title, "date": ep.config.date.isoformat(), "base": ctx.show.base_url,
                "schema": search.SCHEMA_REVISION, "backend": ctx.show.search.backend}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        rows = []
        for lang, path in self._sources(ctx, ep).items():
            text = path.read_text(encoding="utf-8")
            reader = search.rows_from_srt if path.suffix == ".srt" else search.rows_from_json
            rows += reader(ep.slug, lang, text)
        title = ep.config.title.get(ep.config.language) or next(iter(ep.config.title.values()))
        key = key_of(self.key(ctx, ep))
        with _INDEX_LOCK:
            ctx.index().replace_episode(ep.slug, title, ep.config.date.isoformat(),
                                        f"{ctx.show.base_url}/media/{ep.slug}.mp3", key, rows)
        return ep, {"rows": len(rows), "index_key": key}

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        with _INDEX_LOCK:
            ok = ctx.index().keys().get(ep.slug) == data.get("index_key")
        return ep if ok else None


class TagStage:
    """Tagged copies of the masters in feed/media: what listeners download."""

    name = "tag"

    def _tags(self, ctx: Context, ep: Episode):
        from . import feed

        show, cfg = ctx.show, ep.config
        lang = show.language
        text = feed.plain(feed.episode_notes(cfg, lang))
        spoken = ep.transcripts.get(cfg.language)
        duration = ep.loudness.output_seconds if ep.loudness else 0.0
        guid = feed.item_guid(feed.podcast_guid(f"{show.base_url}/feed.xml"), ep.slug)
        cover = None
        art = cfg.dir / "cover.jpg" if (cfg.dir / "cover.jpg").is_file() else (show.root / show.cover if show.cover else None)
        return tag.Tags(
            title=feed._text(cfg.title, lang), show=feed._text(show.title, lang), author=show.author,
            number=cfg.number, date=cfg.date.date().isoformat(), description=feed.summary(text or feed._text(cfg.title, lang)),
            language=cfg.language, category=(show.categories or ("Podcast",))[0], feed_url=f"{show.base_url}/feed.xml",
            guid=guid, chapters=tag.chapter_spans([(c.start, feed._text(c.title, lang)) for c in cfg.chapters], duration),
            transcript="\n".join(s.text for s in spoken.segments) if spoken else "",
            cover=cover), art

    def key(self, ctx: Context, ep: Episode) -> dict:
        t, art = self._tags(ctx, ep)
        d = {k: v for k, v in t.__dict__.items() if k != "cover"}
        return {"masters": {k: ctx.state.hashes.digest(ctx.show.root / v) for k, v in ep.outputs.items()},
                "tags": d, "cover": _file_hash(ctx, art), "rev": tag.REVISION, "tool": __version__}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        t, art = self._tags(ctx, ep)
        if art is not None:
            t = replace(t, cover=tag.cover_jpeg(art))
        published, sizes = {}, {}
        for kind, rel in ep.outputs.items():
            master = ctx.show.root / rel
            dest = ctx.show.feed_dir / "media" / master.name
            sizes[kind] = tag.publish_copy(master, dest, t, kind, ctx.ff)
            published[kind] = ctx.show.rel(dest)
        return replace(ep, published=published), {"published": published, "sizes": sizes}

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        for kind, rel in data["published"].items():
            p = ctx.show.root / rel
            if not p.is_file() or p.stat().st_size != data["sizes"][kind]:
                return None
        return replace(ep, published=data["published"])


STAGES = (ProbeStage(), NormalizeStage(), TranscribeStage(), TranslateStage(), TagStage(), IndexStage())


@dataclass
class StageReport:
    stage: str
    status: str  # "done" | "skipped" | "failed" | "not run"
    reason: str = ""
    seconds: float = 0.0


@dataclass
class EpisodeReport:
    slug: str
    stages: list[StageReport] = field(default_factory=list)
    episode: Episode | None = None
    error: str = ""
    traceback: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)

    def to_dict(self) -> dict:
        d = {"slug": self.slug, "failed": self.failed, "error": self.error,
             "stages": {s.stage: {"status": s.status, "reason": s.reason, "seconds": round(s.seconds, 2)}
                        for s in self.stages}}
        if self.episode and self.episode.loudness:
            d["loudness"] = self.episode.loudness.to_dict()
        if self.episode:
            d["outputs"] = self.episode.outputs
            d["published"] = self.episode.published
            d["notices"] = list(self.episode.notices)
        return d


@dataclass
class BuildReport:
    episodes: list[EpisodeReport]
    warnings: list[str]
    seconds: float
    feeds: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # show-level failures (the feed)

    @property
    def failed(self) -> list[EpisodeReport]:
        return [e for e in self.episodes if e.failed]

    def to_dict(self) -> dict:
        return {"episodes": [e.to_dict() for e in self.episodes], "warnings": self.warnings,
                "failed": len(self.failed), "seconds": round(self.seconds, 2), "feeds": self.feeds,
                "errors": self.errors}


def build(show: Show, ff: FFmpeg, *, only: list[str] | None = None, jobs: int = 1,
          force: bool = False, on_event: EventFn | None = None) -> BuildReport:
    """Run every stage over the chosen episodes; never raises for one episode's failure."""
    started = time.monotonic()
    emit = on_event or (lambda e: None)
    with ShowLock(show.state_dir):
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
        chosen = only or slugs
        ctx = Context(show=show, ff=ff, state=state, force=force)
        warnings = list(show.warnings)

        def one(slug: str) -> EpisodeReport:
            report = _build_episode(ctx, slug, emit, warnings)
            state.save()
            return report

        with ThreadPoolExecutor(max(1, jobs)) as pool:
            reports = list(pool.map(one, chosen))
        feeds: list[str] = []
        show_errors: list[str] = []
        if not only:  # the index and the feed cover every episode: only a build of all rewrites them
            ctx.index().remove_except(set(slugs))  # deleted episodes leave the index
            feeds, show_errors = _publish_show(show, reports, warnings, force)
        state.save()
    return BuildReport(reports, warnings, time.monotonic() - started, feeds, show_errors)


def _publish_show(show: Show, reports: list[EpisodeReport], warnings: list[str],
                  force: bool) -> tuple[list[str], list[str]]:
    """Write the feed(s); say what `check` would call an error in the show (bad cover art,
    duplicate numbers), so a producer hears of it without running check."""
    from . import feed
    from .check import show_problems

    for p in show_problems(show):
        # Episode config errors were already reported as failed episodes, base_url by publish.
        config_error = p.file.endswith("episode.toml") and "is also used by" not in p.message
        if p.severity == "error" and not config_error and "base_url" not in p.message:
            warnings.append(f"{p.file}: {p.message}")
    built = [r.episode for r in reports if r.episode is not None and not r.failed]
    try:
        feeds, held = feed.publish(show, built, now=dt.datetime.now(dt.timezone.utc), force=force)
    except MediaToolError as exc:
        return [], [exc.one_line()]
    warnings.extend(held)
    return [show.rel(f) for f in feeds], []


def _build_episode(ctx: Context, slug: str, emit: EventFn, warnings: list[str]) -> EpisodeReport:
    report = EpisodeReport(slug)
    try:
        config = load_episode(ctx.show, slug)
    except ConfigError as exc:
        report.error = exc.one_line()
        report.stages = [StageReport("config", "failed", report.error)]
        emit(Event(slug, "config", "failed", message=report.error))
        return report
    warnings.extend(config.warnings)
    ep = Episode(config)
    for i, stage in enumerate(STAGES):
        t0 = time.monotonic()
        try:
            key = key_of(stage.key(ctx, ep))
            rec = ctx.state.record(slug, stage.name)
            restored = None
            if not ctx.force and rec and rec.get("key") == key and rec.get("status") == "done":
                restored = stage.restore(ctx, ep, rec["data"])
            if restored is not None:
                ep = restored
                report.stages.append(StageReport(stage.name, "skipped", "up to date"))
                emit(Event(slug, stage.name, "skipped"))
                continue
            emit(Event(slug, stage.name, "start"))
            ep, data = stage.run(ctx, ep, lambda f, s=stage.name: emit(Event(slug, s, "progress", f)))
            ctx.state.put(slug, stage.name, {"key": key, "status": "done", "data": data,
                                             "finished": time.time()})
            report.stages.append(StageReport(stage.name, "done", seconds=time.monotonic() - t0))
            emit(Event(slug, stage.name, "done"))
        except Exception as exc:  # one episode's failure must not stop the others
            if isinstance(exc, MediaToolError):
                if exc.path is None:
                    exc.path = ctx.show.rel(config.source)
                else:
                    exc.path = ctx.show.rel(exc.path)
                report.error = exc.one_line()
            else:
                report.error = f"{ctx.show.rel(config.source)}: internal error in {stage.name}: {exc!r}"
                report.traceback = traceback.format_exc()
            ctx.state.put(slug, stage.name, {"key": locals().get("key"), "status": "failed",
                                             "error": report.error, "finished": time.time()})
            report.stages.append(StageReport(stage.name, "failed", report.error, time.monotonic() - t0))
            report.stages += [StageReport(s.name, "not run", f"{stage.name} failed") for s in STAGES[i + 1:]]
            emit(Event(slug, stage.name, "failed", message=report.error))
            break
    report.episode = ep
    return report


@dataclass
class StageStatus:
    stage: str
    status: str  # "built" | "stale" | "failed" | "new"
    detail: str = ""


def status(show: Show, ff: FFmpeg) -> list[tuple[str, list[StageStatus], str]]:
    """For each episode: each stage built, stale, failed or new, without doing any work."""
    state = BuildState.load(show.state_dir)
    ctx = Context(show=show, ff=ff, state=state)
    rows = []
    for slug in episode_slugs(show):
        try:
            ep = Episode(load_episode(show, slug))
        except ConfigError as exc:
            rows.append((slug, [StageStatus("config", "failed", exc.one_line())], ""))
            continue
        stages, title = [], ep.config.title.get("", "") or next(iter(ep.config.title.values()), "")
        for stage in STAGES:
            rec = state.record(slug, stage.name)
            try:
                key = key_of(stage.key(ctx, ep))
            except (OSError, KeyError):
                stages.append(StageStatus(stage.name, "stale" if rec else "new", "waits for earlier stages"))
                continue
            if rec is None:
                stages.append(StageStatus(stage.name, "new"))
            elif rec.get("key") != key:
                stages.append(StageStatus(stage.name, "stale", "inputs or settings changed"))
            elif rec.get("status") == "failed":
                stages.append(StageStatus(stage.name, "failed", rec.get("error", "")))
            else:
                restored = stage.restore(ctx, ep, rec["data"])
                if restored is None:
                    stages.append(StageStatus(stage.name, "stale", "output missing or changed"))
                else:
                    ep = restored
                    missing = (rec.get("data") or {}).get("missing")
                    stages.append(StageStatus(stage.name, "missing", missing) if missing
                                  else StageStatus(stage.name, "built"))
        rows.append((slug, stages, title))
    return rows
