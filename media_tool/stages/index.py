"""Index stage: every published transcript segment of an episode, both languages, into the search index."""

from __future__ import annotations

from pathlib import Path

from .. import notes
from ..episode import Context, Episode
from ..errors import ConfigError
from ..fsutil import key_of
from ..search import SCHEMA_REVISION, rows_from_json, rows_from_srt
from ..transcripts import TranscriptFormatError, file_name


class IndexStage:
    """Re-indexes an episode only when what staff would find in it changed."""

    name = "index"

    def _sources(self, ctx: Context, ep: Episode) -> dict[str, Path]:
        """Per language, the file to index: the whole-segment JSON, unless a person corrected
        the SRT or the JSON, in which case their file (what they fixed is what staff find)."""
        out = {}
        for lang in ("en", "zh"):
            names = [file_name(ep.slug, lang, ext) for ext in ("srt", "json")]
            edited = [n for n in names if n in ep.edited and n in ep.transcript_files]
            chosen = edited[0] if edited else names[1]
            if chosen in ep.transcript_files:
                out[lang] = ctx.show.root / ep.transcript_files[chosen]
        return out

    def key(self, ctx: Context, ep: Episode) -> dict:
        return {"files": {lang: [p.name, ctx.state.hashes.digest(p)] for lang, p in self._sources(ctx, ep).items()},
                "title": ep.config.title, "date": ep.config.date.isoformat(), "base": ctx.show.base_url,
                "schema": SCHEMA_REVISION, "backend": ctx.show.search.backend}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        rows = []
        for lang, path in self._sources(ctx, ep).items():
            display = ctx.show.rel(path)
            try:
                text = path.read_text(encoding="utf-8-sig")
                reader = rows_from_srt if path.suffix == ".srt" else rows_from_json
                rows += reader(ep.slug, lang, text)
            except UnicodeDecodeError as exc:
                raise ConfigError("not UTF-8 text", display) from exc
            except TranscriptFormatError as exc:  # a person's edit that broke the file
                raise ConfigError(f"{exc} (fix the file, or delete it to get the machine version back)",
                                  f"{display}:{exc.line}" if exc.line else display) from exc
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ConfigError(f"not a Podcasting 2.0 JSON transcript ({exc}); fix the file, or delete it "
                                  "to get the machine version back", display) from exc
        title = notes.localized(ep.config.title, ep.config.language)
        key = key_of(self.key(ctx, ep))
        with ctx.index_lock:
            ctx.index().replace_episode(ep.slug, title, ep.config.date.isoformat(),
                                        f"{ctx.show.base_url}/media/{ep.slug}.mp3", key, rows)
        return ep, {"rows": len(rows), "index_key": key}

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        with ctx.index_lock:
            ok = ctx.index().keys().get(ep.slug) == data.get("index_key")
        return ep if ok else None
