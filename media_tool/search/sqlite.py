"""The embedded search backend: FTS5 in one SQLite file, needing no server.

Each segment is indexed in five columns (see `query`): porter-stemmed words, Han characters,
Han pairs, and language and episode tags, so filters are matched by the index itself.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .query import (
    RANK_WINDOW,
    SCHEMA_REVISION,
    Hit,
    Row,
    assemble,
    block_base,
    filters,
    free_block,
    fts5_expression,
    fts_values,
    parse,
    shortlist,
)


@contextlib.contextmanager
def _as_os_errors(path: Path) -> Iterator[None]:
    """SQLite's own words for a full or read-only disk, as the OSError every other write raises."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        for words, code in (("full", errno.ENOSPC), ("readonly", errno.EROFS), ("read-only", errno.EROFS),
                            ("disk i/o", errno.EIO), ("unable to open", errno.EACCES)):
            if words in text:
                raise OSError(code, str(exc), str(path)) from exc
        raise


class SQLiteIndex:
    """FTS5 in one SQLite file: the default backend."""

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = path
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _as_os_errors(path):
                self.db = sqlite3.connect(path, check_same_thread=False)
                self._create()

    def _create(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_REVISION):  # an older layout: rebuilt from the transcripts
            self.db.executescript("DROP TABLE IF EXISTS segments_fts; DROP TABLE IF EXISTS segments; "
                                  "DROP TABLE IF EXISTS episodes;")
        self.db.executescript(f"""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS episodes (slug TEXT PRIMARY KEY, title TEXT, date TEXT, url TEXT,
                                                 key TEXT, block INTEGER UNIQUE);
            CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, slug TEXT, lang TEXT,
                                                 start REAL, "end" REAL, text TEXT);
            CREATE INDEX IF NOT EXISTS segments_slug ON segments(slug);
            CREATE VIRTUAL TABLE IF NOT EXISTS segments_fts USING fts5(
                words, uni, bi, lang, ep, content='', tokenize='porter unicode61');
            PRAGMA user_version = {SCHEMA_REVISION};
        """)

    def keys(self) -> dict[str, str]:
        """slug -> the key its rows were indexed under."""
        return dict(self.db.execute("SELECT slug, key FROM episodes"))

    def replace_episode(self, slug: str, title: str, date: str, url: str, key: str, rows: list[Row]) -> None:
        """Swap one episode's rows for new ones, in one transaction (others untouched)."""
        if len(rows) >= 1 << 16:
            raise ValueError(f"{slug}: more than 65535 segments")
        with _as_os_errors(self.path), self.db:
            self._delete(slug)
            base = block_base(date)
            taken = {b for (b,) in self.db.execute("SELECT block FROM episodes WHERE block BETWEEN ? AND ?",
                                                   (base, base + 255))}
            block = free_block(date, taken)
            self.db.execute("INSERT INTO episodes VALUES (?, ?, ?, ?, ?, ?)", (slug, title, date, url, key, block))
            for n, r in enumerate(rows):
                rowid = (block << 16) + n  # row ids follow publication dates: newest is highest
                self.db.execute('INSERT INTO segments (id, slug, lang, start, "end", text) VALUES (?, ?, ?, ?, ?, ?)',
                                (rowid, r.slug, r.lang, r.start, r.end, r.text))
                self.db.execute("INSERT INTO segments_fts (rowid, words, uni, bi, lang, ep) VALUES (?, ?, ?, ?, ?, ?)",
                                (rowid, *fts_values(r.text, r.lang, slug)))

    def _delete(self, slug: str) -> None:
        # A contentless FTS5 table forgets a row when told the values it was indexed with.
        old = self.db.execute("SELECT id, text, lang FROM segments WHERE slug = ?", (slug,)).fetchall()
        self.db.executemany("INSERT INTO segments_fts (segments_fts, rowid, words, uni, bi, lang, ep) "
                            "VALUES ('delete', ?, ?, ?, ?, ?, ?)", [(i, *fts_values(t, lg, slug)) for i, t, lg in old])
        self.db.execute("DELETE FROM segments WHERE slug = ?", (slug,))
        self.db.execute("DELETE FROM episodes WHERE slug = ?", (slug,))

    def remove_except(self, keep: set[str]) -> list[str]:
        """Drop episodes that no longer exist."""
        gone = [s for s in self.keys() if s not in keep]
        with _as_os_errors(self.path), self.db:
            for slug in gone:
                self._delete(slug)
        return gone

    def search(self, query: str, *, lang: str | None = None, slug: str | None = None,
               limit: int = 20) -> list[Hit]:
        phrases, terms = parse(query)
        if not phrases:
            return []
        expr = fts5_expression(phrases + filters(lang, slug))
        try:
            # bm25 costs a little for every matching row; a word in a quarter of a 2000-hour
            # archive matches hundreds of thousands. Row ids follow publication dates, so the
            # newest RANK_WINDOW matches are found by walking the index backwards, and ranking
            # is done among them: exact for any query that matches fewer.
            found = self.db.execute("SELECT rowid, rank FROM segments_fts WHERE segments_fts MATCH ? "
                                    "ORDER BY rowid DESC LIMIT ?", (expr, RANK_WINDOW)).fetchall()
            best = shortlist(dict(found), limit)
            marks = ",".join("?" * len(best))
            rows = self.db.execute('SELECT s.id, s.slug, e.title, s.lang, s.start, s."end", s.text, e.url, e.date '
                                   f"FROM segments s JOIN episodes e ON e.slug = s.slug WHERE s.id IN ({marks})",
                                   list(best)).fetchall()
        except sqlite3.OperationalError:
            return []  # a query FTS5 still cannot take is simply one with no hits
        return assemble(rows, best, terms, limit)

    def count(self, slug: str | None = None) -> int:
        if slug:
            return self.db.execute("SELECT count(*) FROM segments WHERE slug = ?", (slug,)).fetchone()[0]
        return self.db.execute("SELECT count(*) FROM segments").fetchone()[0]

    def close(self) -> None:
        self.db.close()
