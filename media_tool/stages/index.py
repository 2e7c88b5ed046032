"""Index stage: every published transcript segment of an episode, both languages, into the search index."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from pathlib import Path

from media_tool.errors import ConfigError, MediaToolError
from media_tool.model.language import LANGUAGES
from media_tool.search import (
    SCHEMA_REVISION,
    Row,
    rows_from_json,
    rows_from_srt,
    semantic,
)
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.store.files import key_of
from media_tool.text import notes
from media_tool.text.script import written_in
from media_tool.text.transcripts import TranscriptFormatError, file_name


class IndexStage:
    """Re-indexes an episode only when what staff would find in it changed."""

    name = "index"

    def _sources(self, ctx: Context, ep: Episode) -> dict[str, Path]:
        """Per language, the file to index: the whole-segment JSON, unless a person corrected
        the SRT or the JSON, in which case their file (what they fixed is what staff find)."""
        out = {}
        for lang in LANGUAGES:
            names = [file_name(ep.slug, lang, ext) for ext in ("srt", "json")]
            edited = [n for n in names if n in ep.edited and n in ep.transcript_files]
            chosen = edited[0] if edited else names[1]
            if chosen in ep.transcript_files:
                out[lang] = ctx.show.root / ep.transcript_files[chosen]
        return out

    def key(self, ctx: Context, ep: Episode) -> dict:
        return {"files": {lang: [p.name, ctx.state.hashes.digest(p)] for lang, p in self._sources(ctx, ep).items()},
                "title": ep.config.title, "date": ep.config.date.isoformat(), "base": ctx.show.base_url,
                "about": [(r.lang, r.kind, r.start, r.text) for r in about(ep)],
                "meaning": None if semantic.unavailable() else semantic.MODEL,
                "schema": SCHEMA_REVISION, "backend": ctx.show.search.backend}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        rows = []
        for lang, path in self._sources(ctx, ep).items():
            display = ctx.show.rel(path)
            try:
                text = path.read_text(encoding="utf-8-sig")
                reader = rows_from_srt if path.suffix == ".srt" else rows_from_json
                found = reader(ep.slug, lang, text)
                made = ep.transcripts.get(lang)
                if not ep.config.mixed and lang != ep.config.language and made is not None:
                    # the other language's file is a translation throughout (a mixed one marks each line)
                    via = "human" if made.origin == "human" else made.origin.removeprefix("translation:")
                    found = [replace(r, via=r.via or via) for r in found]
                rows += found
            except UnicodeDecodeError as exc:
                raise ConfigError("not UTF-8 text", display) from exc
            except TranscriptFormatError as exc:  # a person's edit that broke the file
                raise ConfigError(f"{exc} (fix the file, or delete it to get the machine version back)",
                                  f"{display}:{exc.line}" if exc.line else display) from exc
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ConfigError(f"not a Podcasting 2.0 JSON transcript ({exc}); fix the file, or delete it "
                                  "to get the machine version back", display) from exc
        said = len(rows)  # then the titles, notes and chapters: embedded whatever the budget
        rows += about(ep)
        title = notes.localized(ep.config.title, ep.config.language)
        key = key_of(self.key(ctx, ep))
        with ctx.index_lock:
            index = ctx.index()
            vectors, made, why = None, {}, semantic.unavailable()
            if why is None:  # each distinct text embedded once, ever (cached by its hash)
                anchors = list(semantic.ANCHORS)  # for search's threshold: cached here once, not at each search
                made = _embedded(ctx, index, anchors)[1]
                texts = [r.text for r in rows]
                tail, made_tail = _embedded(ctx, index, texts[said:])
                head, made_head = _embedded(ctx, index, texts[:said], until=time.monotonic() + semantic.EMBED_BUDGET_S)
                vectors, made = head + tail, {**made, **made_head, **made_tail}
            index.replace_episode(ep.slug, title, ep.config.date.isoformat(),
                                  f"{ctx.show.base_url}/media/{ep.slug}.mp3", key, rows, vectors, made)
            if getattr(index, "rebuilt", None):  # said once per build
                ep = replace(ep, notices=ep.notices + (index.rebuilt,))
                index.rebuilt = None
        data = {"rows": len(rows), "index_key": key, "embedded": sum(1 for v in made.values() if v),
                "pending": sum(v is None for v in vectors) if vectors else 0}
        if why:
            data["note"] = f"episodes/{ep.slug}: {why}"
            ep = replace(ep, notices=ep.notices + (data["note"],))
        return ep, data

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        with ctx.index_lock:
            try:
                ok = ctx.index().keys().get(ep.slug) == data.get("index_key")
            except (sqlite3.DatabaseError, MediaToolError):  # damaged or unreachable: indexed again
                return None
        if not ok:
            return None
        return replace(ep, notices=ep.notices + (data["note"],)) if data.get("note") else ep


def _embedded(ctx: Context, index, texts: list[str], until: float | None = None):
    """`semantic.embeddings` of texts, with what the index already made for them."""
    return semantic.embeddings(texts, index.cached_embeddings([semantic.text_hash(t) for t in texts]), ctx.embed,
                               until=until)


def finish_meaning(ctx: Context, progress=None) -> int:
    """Embed the rows an index stage left without vectors (a very long transcript, past
    `semantic.EMBED_BUDGET_S`), batch by batch, once the feeds are out: publication never waits for
    search by meaning. A build stopped meanwhile leaves them for the next. Returns how many."""
    if semantic.unavailable() or ctx.readonly:
        return 0
    with ctx.index_lock:
        index = ctx.index()
        todo = index.pending()
        for k in range(0, len(todo), semantic.EMBED_BATCH):
            part = todo[k:k + semantic.EMBED_BATCH]
            texts = [t for _, t in part]
            vectors, made = _embedded(ctx, index, texts)
            index.set_vectors([i for i, _ in part], vectors, made)
            if progress:
                progress(min(1.0, (k + len(part)) / len(todo)))
    return len(todo)


def about(ep: Episode) -> list[Row]:
    """What staff also search besides what was said: the titles, notes, people and chapter titles
    in each language (a hit on them leads to the episode's page, or the chapter's moment)."""
    cfg, offset = ep.config, ep.loudness.timeline_offset if ep.loudness else 0.0
    out = []
    for lang in LANGUAGES:
        if cfg.title.get(lang) or (lang == cfg.language and cfg.title):
            out.append(Row(ep.slug, lang, 0.0, 0.0, notes.localized(cfg.title, lang), kind="title"))
        html = notes.episode_notes(cfg.notes, lang) if (lang in cfg.notes or (
            lang == cfg.language and "" in cfg.notes)) else ""
        for para in notes.paragraphs(html):
            if not notes.machine_label(para):
                row = Row(ep.slug, written_in(para, lang) or lang, 0.0, 0.0, para, kind="notes")
                if row not in out:  # a paragraph of bilingual notes is indexed once, in its own language
                    out.append(row)
        for c in notes.published_chapters(cfg.chapters, offset):
            if c.title.get(lang) or (lang == cfg.language and c.title):
                out.append(Row(ep.slug, lang, c.start, c.start, notes.localized(c.title, lang), kind="chapter"))
    people = "; ".join(f"{p.name} ({p.role})" for p in cfg.people)
    if people:
        out.append(Row(ep.slug, cfg.language, 0.0, 0.0, people, kind="people"))
    return out
