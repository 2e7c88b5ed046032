"""Search over every transcript segment, in Chinese and English: one `Index` protocol, two backends.

`query` is the pure part both backends share (tokens, Han grams, phrases, highlight, ranking,
fusion); `sqlite` (the default, a file in .media-tool/) and `postgres` (a shared server) import it
and `semantic` (embeddings, the nearest-neighbour index), and give the same hits in the same order.
`hybrid.search` is what people use: words, glossary and meaning in one ranked list.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Protocol

from media_tool.errors import ConfigError, UsageError
from media_tool.search import hybrid, semantic
from media_tool.search.hybrid import search
from media_tool.search.postgres import PostgresIndex
from media_tool.search.query import (
    SCHEMA_REVISION,
    Hit,
    Row,
    rows_from_json,
    rows_from_srt,
)
from media_tool.search.sqlite import SQLiteIndex

__all__ = ["Index", "open_index", "search", "hybrid", "semantic", "Hit", "Row", "SCHEMA_REVISION", "rows_from_json",
           "rows_from_srt"]


class Index(Protocol):
    """What the index stage, `search` and `serve` need of a backend."""

    def keys(self) -> dict[str, str]:
        """slug -> the key its rows were indexed under."""

    def replace_episode(self, slug: str, title: str, date: str, url: str, key: str, rows: list[Row],
                        vectors: list[bytes] | None = None, made: dict[str, bytes] | None = None) -> None:
        """Swap one episode's rows (and their int8 vectors) for new ones, in one transaction; `made`
        are new {text hash: vector} for the embedding cache."""

    def cached_embeddings(self, hashes: list[str]) -> dict[str, bytes]:
        """The vectors already made for these text hashes."""

    def pending(self) -> list[tuple[int, str]]:
        """(row id, text) of the rows not embedded yet (an episode indexed past its embedding budget)."""
        ...

    def set_vectors(self, ids: list[int], vectors: list[bytes], made: dict[str, bytes]) -> None:
        """Give those rows their int8 vectors (and the nearest-neighbour index with them)."""
        ...

    def remove_except(self, keep: set[str]) -> list[str]:
        """Drop episodes that no longer exist; returns their slugs."""

    def search(self, query: str, *, lang: str | None = None, slug: str | None = None, since: str | None = None,
               speaker: str | None = None, limit: int = 20, deadline: float | None = None) -> list[Hit]:
        """Ranked hits for the words a person typed (see `hybrid.search` for the whole search);
        SearchTimeout once past `deadline` (a `time.monotonic()` value)."""

    def nearest(self, vector, *, lang: str | None = None, slug: str | None = None, since: str | None = None,
                speaker: str | None = None, limit: int = 20, min_cosine: float = 0.0, off_topic=None,
                prefer: str | None = None) -> list[Hit]:
        """Hits by meaning: rows whose vectors are nearest `vector`."""

    def count(self, slug: str | None = None) -> int:
        """Indexed segments, of one episode or all."""

    def flush(self) -> None:
        """Save what is kept in memory between changes (once per build)."""

    def close(self) -> None:
        """Release the connection."""


def open_index(show, *, readonly: bool = False) -> Index:
    """The show's index on the backend podcast.toml names ([search] backend)."""
    if show.search.backend == "postgres":
        dsn = os.environ.get(show.search.dsn_env)
        if not dsn:
            raise ConfigError(f"search: backend = \"postgres\" needs the connection string in ${show.search.dsn_env}",
                              "podcast.toml")
        try:
            return PostgresIndex(dsn, readonly=readonly)
        except Exception as exc:  # psycopg's errors: the server is down, refused, unknown database
            raise ConfigError(f"search: cannot reach PostgreSQL: {str(exc).splitlines()[0]}", "podcast.toml") from exc
    path = show.state_dir / "search.sqlite3"
    if readonly and not path.is_file():
        raise UsageError("no search index yet: run `media-tool build` first", str(path))
    try:
        index = SQLiteIndex(path, readonly=readonly)
        index.db.execute("SELECT count(*) FROM episodes").fetchone()  # a damaged file fails here at the latest
        return index
    except sqlite3.DatabaseError as exc:
        if readonly:
            raise UsageError(f"the search index is damaged ({exc}): run `media-tool build`, which rebuilds it "
                             "from the transcripts", show.rel(path)) from exc
    # The index is derived data: a damaged one is made again from the transcripts, with one line.
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
              path.with_name(path.name + ".usearch")):
        p.unlink(missing_ok=True)
    index = SQLiteIndex(path)
    index.rebuilt = f"{show.rel(path)}: the search index was damaged; rebuilt from the transcripts"
    return index
