"""The embedded search backend: FTS5 in one SQLite file, needing no server.

Each segment is indexed in the columns of `query.COLUMNS`, every token made by `query` (stems and
their pairs, Han characters, pairs and triples, and language and episode tags, so filters are
matched by the index itself); FTS5's own tokenizer only splits them at spaces.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from media_tool.errors import SearchTimeout
from media_tool.search.query import (
    COLUMNS,
    RANK_WINDOW,
    SCHEMA_REVISION,
    SELECT_HITS,
    SHORTLIST,
    Hit,
    Row,
    assemble,
    block_base,
    filters,
    free_block,
    fts5_expression,
    fts_values,
    indexed,
    parse,
    shortlist,
    since_id,
    with_translations,
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


_COLUMNS = ", ".join(COLUMNS)
_MARKS = ", ?" * len(COLUMNS)


class _Lease:
    """A reader connection held by one thread; given back for another when the thread ends (and
    its thread-local storage with it)."""

    def __init__(self, idle: list, db: sqlite3.Connection):
        self.idle, self.db = idle, db

    def __del__(self):
        self.idle.append(self.db)


class SQLiteIndex:
    """FTS5 in one SQLite file: the default backend."""

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = path
        self.rebuilt: str | None = None  # why the index was made again, for the build to say once
        self.ann_path = path.with_name(path.name + ".usearch")
        self._ann = None
        self._ann_lock = threading.Lock()
        self.readonly = readonly
        self._readers = threading.local()  # read-only: one connection per thread, so searches run side by side
        self._opened: list[sqlite3.Connection] = []
        self._idle: list[sqlite3.Connection] = []  # readers given back by finished threads
        self._exact_rows: dict[int, tuple] = {}
        self._ranked: dict[int, bool] = {}  # per connection: see `_lengths`
        if readonly:
            self._db = self._reader()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _as_os_errors(path):
                self._db = sqlite3.connect(path, check_same_thread=False)
                try:
                    self._create()
                except BaseException:  # (a full disk) nothing of a failed opening stays open
                    self._db.close()
                    raise

    def _reader(self) -> sqlite3.Connection:
        """A reader for this thread: one a finished thread gave back (`serve` starts a thread per
        connection: opening a connection, and reading the schema, per request cost more than a
        search), or a new one."""
        try:
            db = self._idle.pop()
        except IndexError:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._opened.append(db)
        self._readers.lease = _Lease(self._idle, db)
        return db

    @property
    def db(self) -> sqlite3.Connection:
        """The connection for this thread: the one writer, or (read-only) this thread's own reader."""
        if not self.readonly:
            return self._db
        lease = getattr(self._readers, "lease", None)
        return lease.db if lease is not None else self._reader()

    def _exact(self, select: str) -> tuple[list, np.ndarray]:
        """Every row with a vector and their vectors as one matrix, for exact search of a small index:
        read once per version of the data per connection, not at every query."""
        from media_tool.search.semantic import matrix_of

        db = self.db
        version = (db.execute("PRAGMA data_version").fetchone()[0], db.total_changes)
        kept = self._exact_rows.get(id(db))
        if kept is None or kept[0] != version:
            rows = db.execute(select + " WHERE length(s.vec) > 0").fetchall()
            kept = self._exact_rows[id(db)] = (version, rows, matrix_of(rows))
        return kept[1], kept[2]

    def _create(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_REVISION):  # an older layout: rebuilt from the transcripts
            self.db.executescript("DROP TABLE IF EXISTS segments_fts; DROP TABLE IF EXISTS segments; "
                                  "DROP TABLE IF EXISTS episodes; DROP TABLE IF EXISTS doclens;")
            self.ann_path.unlink(missing_ok=True)
        self.db.executescript(f"""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS episodes (slug TEXT PRIMARY KEY, title TEXT, date TEXT, url TEXT,
                                                 key TEXT, block INTEGER UNIQUE);
            CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, slug TEXT, lang TEXT,
                                                 start REAL, "end" REAL, text TEXT, kind TEXT, speaker TEXT,
                                                 via TEXT, vec BLOB);
            CREATE TABLE IF NOT EXISTS embeddings (hash TEXT PRIMARY KEY, vec BLOB);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);
            CREATE TABLE IF NOT EXISTS doclens (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS segments_slug ON segments(slug);
            CREATE VIRTUAL TABLE IF NOT EXISTS segments_fts USING fts5(
                {_COLUMNS}, content='', tokenize="unicode61 remove_diacritics 0 tokenchars '_'");
            PRAGMA user_version = {SCHEMA_REVISION};
        """)
        if not self._meta("doclens"):  # an index from before lengths were stored: measured once, from its rows
            with _as_os_errors(self.path), self.db:
                self.db.executemany("INSERT OR REPLACE INTO doclens VALUES (?, ?)", [
                    (i, indexed(t, lg, slug)[0]) for i, t, lg, slug in self.db.execute(
                        "SELECT id, text, lang, slug FROM segments")])
                self.db.execute("INSERT INTO meta VALUES ('doclens', 1) ON CONFLICT(key) DO UPDATE SET value = 1")

    def keys(self) -> dict[str, str]:
        """slug -> the key its rows were indexed under."""
        return dict(self.db.execute("SELECT slug, key FROM episodes"))

    def replace_episode(self, slug: str, title: str, date: str, url: str, key: str, rows: list[Row],
                        vectors: list[bytes] | None = None, made: dict[str, bytes] | None = None) -> None:
        """Swap one episode's rows (and their int8 vectors, if any) for new ones, in one transaction
        (others untouched); `made` are new embeddings for the cache."""
        if len(rows) >= 1 << 16:
            raise ValueError(f"{slug}: more than 65535 segments")
        vecs = vectors or [None] * len(rows)
        old = [i for (i,) in self.db.execute("SELECT id FROM segments WHERE slug = ? AND length(vec) > 0", (slug,))]
        ann = self.ann() if old or vectors else None  # in step with the rows before they change
        with _as_os_errors(self.path), self.db:
            self._delete(slug)
            base = block_base(date)
            taken = {b for (b,) in self.db.execute("SELECT block FROM episodes WHERE block BETWEEN ? AND ?",
                                                   (base, base + 255))}
            block = free_block(date, taken)
            self.db.execute("INSERT INTO episodes VALUES (?, ?, ?, ?, ?, ?)", (slug, title, date, url, key, block))
            ids = [(block << 16) + n for n in range(len(rows))]  # row ids follow publication dates
            self.db.executemany('INSERT INTO segments (id, slug, lang, start, "end", text, kind, speaker, via, vec) '
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [(i, r.slug, r.lang, r.start, r.end, r.text, r.kind, r.speaker, r.via, v)
                                 for i, r, v in zip(ids, rows, vecs)])
            made_up = [indexed(r.text, r.lang, slug) for r in rows]
            self.db.executemany(f"INSERT INTO segments_fts (rowid, {_COLUMNS}) VALUES (?{_MARKS})",
                                [(i, *values) for i, (_, values) in zip(ids, made_up)])
            self.db.executemany("INSERT OR REPLACE INTO doclens VALUES (?, ?)",
                                [(i, n) for i, (n, _) in zip(ids, made_up)])
            self.db.executemany("INSERT OR IGNORE INTO embeddings VALUES (?, ?)", list((made or {}).items()))
            if ann is not None:
                self._bump()
        if ann is not None:
            ann.replace(old, [i for i, v in zip(ids, vecs) if v is not None], [v for v in vecs if v is not None])

    def pending(self) -> list[tuple[int, str]]:
        return self.db.execute("SELECT id, text FROM segments WHERE vec IS NULL ORDER BY id").fetchall()

    def set_vectors(self, ids: list[int], vectors: list[bytes], made: dict[str, bytes]) -> None:
        ann = self.ann()  # in step with the rows before they change
        with _as_os_errors(self.path), self.db:
            self.db.executemany("UPDATE segments SET vec = ? WHERE id = ?", list(zip(vectors, ids)))
            self.db.executemany("INSERT OR IGNORE INTO embeddings VALUES (?, ?)", list(made.items()))
            self._bump()
        ann.replace([], ids, vectors)

    def cached_embeddings(self, hashes: list[str]) -> dict[str, bytes]:
        """The int8 vectors already made for these text hashes."""
        out = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i:i + 500]
            out.update(self.db.execute(f"SELECT hash, vec FROM embeddings WHERE hash IN ({','.join('?' * len(part))})",
                                       part).fetchall())
        return out

    def _meta(self, key: str) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else 0

    def _bump(self) -> None:
        """The stored vectors changed: a graph file saved before now is stale."""
        self.db.execute("INSERT INTO meta VALUES ('vectors', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1")

    def ann(self):
        """The nearest-neighbour index: its file if it was saved for the vectors stored now, else rebuilt
        from them (the file is saved once per build, by `flush`; one left stale by a crash is rebuilt)."""
        from media_tool.search.semantic import Ann

        with self._ann_lock:
            if self._ann is None:
                ann = Ann(self.ann_path, save=not self.readonly)
                current = self._meta("vectors") == self._meta("graph")
                count = self.db.execute("SELECT count(*) FROM segments WHERE length(vec) > 0").fetchone()[0]
                ann.sync(count if current else -1, lambda: tuple(map(list, zip(*self.db.execute(
                    "SELECT id, vec FROM segments WHERE length(vec) > 0")))) or ([], []))
                self._ann = ann
                self._saved()
            return self._ann

    def _saved(self) -> None:
        if not self.readonly and self._ann is not None and self._ann.clean:
            with _as_os_errors(self.path), self.db:
                self.db.execute("INSERT INTO meta VALUES ('graph', ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                                (self._meta("vectors"),) * 2)

    def flush(self) -> None:
        """Save the graph if it changed (once per build: at archive scale it is a large file)."""
        if self._ann is not None and not self._ann.clean and not self.readonly:
            with _as_os_errors(self.ann_path):
                self._ann.save()
            self._saved()

    def nearest(self, vector, *, lang: str | None = None, slug: str | None = None, since: str | None = None,
                speaker: str | None = None, limit: int = 20, min_cosine: float = 0.0, off_topic=None,
                prefer: str | None = None) -> list[Hit]:
        """Hits by meaning: the rows whose vectors are nearest `vector` (cosine at least `min_cosine`)."""
        from media_tool.search.semantic import CANDIDATES, EXACT_UP_TO, rerank

        select = SELECT_HITS.format(segments="segments", episodes="episodes").replace(" FROM", ", s.vec FROM", 1)
        if self.db.execute("SELECT count(*) FROM (SELECT 1 FROM segments LIMIT ?)",  # bounded: no full count
                           (EXACT_UP_TO + 1,)).fetchone()[0] <= EXACT_UP_TO:
            every, matrix = self._exact(select)
            first = since_id(since)
            at = [n for n, r in enumerate(every) if r[0] >= first]
            rows, matrix = [every[n] for n in at], matrix[at]
        else:
            found = [i for i, _ in self.ann().nearest(vector, max(CANDIDATES, limit * 4)) if i >= since_id(since)]
            if not found:
                return []
            rows = self.db.execute(select + f" WHERE s.id IN ({','.join('?' * len(found))})", found).fetchall()
            matrix = None
        rows, score, twins = rerank(rows, vector, min_cosine=min_cosine, lang=lang, slug=slug, speaker=speaker,
                                    off_topic=off_topic, prefer=prefer, matrix=matrix)
        return with_translations(assemble(rows, score, [], limit), rows, twins)

    def _delete(self, slug: str) -> None:
        # A contentless FTS5 table forgets a row when told the values it was indexed with.
        old = self.db.execute("SELECT id, text, lang FROM segments WHERE slug = ?", (slug,)).fetchall()
        self.db.executemany(f"INSERT INTO segments_fts (segments_fts, rowid, {_COLUMNS}) "
                            f"VALUES ('delete', ?{_MARKS})", [(i, *fts_values(t, lg, slug)) for i, t, lg in old])
        self.db.executemany("DELETE FROM doclens WHERE id = ?", [(i,) for i, _, _ in old])
        self.db.execute("DELETE FROM segments WHERE slug = ?", (slug,))
        self.db.execute("DELETE FROM episodes WHERE slug = ?", (slug,))

    def remove_except(self, keep: set[str]) -> list[str]:
        """Drop episodes that no longer exist."""
        gone = [s for s in self.keys() if s not in keep]
        old = [i for slug in gone for (i,) in self.db.execute(
            "SELECT id FROM segments WHERE slug = ? AND length(vec) > 0", (slug,))]
        ann = self.ann() if old else None
        with _as_os_errors(self.path), self.db:
            for slug in gone:
                self._delete(slug)
            if ann is not None:
                self._bump()
        if ann is not None:
            ann.replace(old, [], [])
        return gone

    def search(self, query: str, *, lang: str | None = None, slug: str | None = None, since: str | None = None,
               speaker: str | None = None, limit: int = 20, deadline: float | None = None) -> list[Hit]:
        """Hits by the words typed. Past `deadline` (a `time.monotonic()` value), SQLite is stopped
        where it is and SearchTimeout raised."""
        phrases, terms = parse(query)
        if not phrases:
            return []
        expr = fts5_expression(phrases + filters(lang, slug))
        if deadline is None:
            return self._search(expr, terms, since, speaker, limit)
        if time.monotonic() >= deadline:
            raise SearchTimeout(f"the search for {query[:40]!r} ran past its deadline before it began")
        db = self.db
        db.set_progress_handler(lambda: time.monotonic() >= deadline, 2000)  # looked at every 2000 steps
        try:
            return self._search(expr, terms, since, speaker, limit)
        except sqlite3.OperationalError as exc:  # "interrupted": the handler said stop
            raise SearchTimeout(f"the search for {query[:40]!r} ran past its deadline") from exc
        finally:
            db.set_progress_handler(None, 0)

    def _search(self, expr: str, terms: list[str], since: str | None, speaker: str | None, limit: int) -> list[Hit]:
        try:
            # A word in a quarter of a 2000-hour archive matches hundreds of thousands of rows.
            # Row ids follow publication dates, so the newest RANK_WINDOW matches are found by
            # walking the index backwards, and ranking is done among them (exact for any query
            # that matches fewer), by each row's stored length (see `query.doclen`): FTS5's own
            # bm25 would first count the matches of every phrase over the whole archive.
            after = " AND rowid >= ?" if since else ""  # only when asked: a rowid bound slows FTS5's walk
            lengths = self._lengths()
            window = (f"SELECT rowid{'' if lengths else ', rank'} FROM segments_fts WHERE segments_fts MATCH ?{after} "
                      "ORDER BY rowid DESC LIMIT ?")
            if lengths:
                window = f"SELECT w.rowid, d.n FROM ({window}) w JOIN doclens d ON d.id = w.rowid"
            args = (expr, *([since_id(since)] if since else []), RANK_WINDOW)
            if speaker is None:  # the shortlist (see `shortlist`) picked by SQLite, not sorted in Python
                best = dict(self.db.execute(f"SELECT * FROM ({window}) ORDER BY 2, 1 DESC LIMIT ?",
                                            (*args, SHORTLIST * int(limit))))
            else:  # no speaker column in the text index: checked on the rows
                found = self.db.execute(window, args).fetchall()
                marks = ",".join("?" * len(found))
                said = {i for (i,) in self.db.execute(f"SELECT id FROM segments WHERE speaker = ? AND id IN ({marks})",
                                                      [speaker, *[i for i, _ in found]])}
                best = shortlist({i: r for i, r in sorted(found, reverse=True) if i in said}, limit)
            marks = ",".join("?" * len(best))
            rows = self.db.execute(SELECT_HITS.format(segments="segments", episodes="episodes") +
                                   f" WHERE s.id IN ({marks})", list(best)).fetchall()
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc):
                raise
            return []  # a query FTS5 still cannot take is simply one with no hits
        return assemble(rows, best, terms, limit)

    def _lengths(self) -> bool:
        """Whether the window is ranked by the stored lengths: not on an index from before they were
        stored, opened read-only (FTS5's bm25 then, until the next build measures them)."""
        db = self.db
        kept = self._ranked.get(id(db))
        if kept is None:
            try:
                kept = bool(db.execute("SELECT value FROM meta WHERE key = 'doclens'").fetchone())
            except sqlite3.OperationalError:
                kept = False
            self._ranked[id(db)] = kept
        return kept

    def count(self, slug: str | None = None) -> int:
        if slug:
            return self.db.execute("SELECT count(*) FROM segments WHERE slug = ?", (slug,)).fetchone()[0]
        return self.db.execute("SELECT count(*) FROM segments").fetchone()[0]

    def close(self) -> None:
        self.flush()
        for db in [self._db, *self._opened]:
            db.close()
