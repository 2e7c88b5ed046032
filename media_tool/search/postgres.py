"""The search index on a PostgreSQL server, for an archive shared by many staff.

Same rows, same matching and the same ranking as the embedded SQLite index: each segment's
tokens are the ones `query.columns` makes for SQLite (stems and their pairs, Han characters,
pairs and triples, language and episode tags), kept as arrays under GIN indexes; a
phrase is an ordered run within one array; hits are ranked by the same stored length
(`query.doclen`) over the same newest-matches window. So staff get the same hits from either.
"""

from __future__ import annotations

import threading
import time

from media_tool.errors import SearchTimeout
from media_tool.search.query import (
    COLUMNS,
    RANK_WINDOW,
    SCHEMA_REVISION,
    SELECT_HITS,
    Hit,
    Phrase,
    Row,
    assemble,
    block_base,
    columns,
    doclen,
    filters,
    free_block,
    parse,
    shortlist,
    since_id,
    with_translations,
)


def _array(column: str) -> str:
    """The token array of one of COLUMNS (`lang` is the text's language there)."""
    return "lang_t" if column == "lang" else column


def phrase_tokens(p: Phrase) -> list[str]:
    return p.text.split()


class PostgresIndex:
    """Tables mt_episodes and mt_segments (token arrays under GIN) on one server."""

    def __init__(self, dsn: str, *, readonly: bool = False):
        import psycopg

        self.db = psycopg.connect(dsn, autocommit=True)
        self._lock = threading.Lock()
        self._ann = None
        if readonly:
            self.db.execute("SET default_transaction_read_only = on")
        else:
            self._create()

    def _create(self) -> None:
        with self.db.transaction():
            revision = None
            if self.db.execute("SELECT to_regclass('mt_meta')").fetchone()[0]:
                revision = (self.db.execute("SELECT revision FROM mt_meta").fetchone() or (None,))[0]
            elif self.db.execute("SELECT to_regclass('mt_segments')").fetchone()[0]:
                revision = 3  # the layout before mt_meta
            old = revision is not None and revision != SCHEMA_REVISION
            if old:  # an older layout: rebuilt from the transcripts
                self.db.execute("DROP TABLE IF EXISTS mt_segments, mt_episodes, mt_stats, mt_embeddings, mt_meta")
            self.db.execute("""
                CREATE TABLE IF NOT EXISTS mt_episodes (slug text PRIMARY KEY, title text, date text, url text,
                                                        key text, block bigint UNIQUE);
                CREATE TABLE IF NOT EXISTS mt_segments (id bigint PRIMARY KEY, slug text NOT NULL, lang text,
                    start double precision, "end" double precision, text text, words text[], pairs text[], uni text[],
                    bi text[], tri text[], lang_t text[], ep text[], doclen integer, kind text, speaker text, via text, vec bytea);
                CREATE TABLE IF NOT EXISTS mt_embeddings (hash text PRIMARY KEY, vec bytea);
                CREATE TABLE IF NOT EXISTS mt_meta (one integer PRIMARY KEY CHECK (one = 1), revision integer);
                CREATE INDEX IF NOT EXISTS mt_segments_slug ON mt_segments (slug);
                CREATE INDEX IF NOT EXISTS mt_words ON mt_segments USING gin (words);
                CREATE INDEX IF NOT EXISTS mt_pairs ON mt_segments USING gin (pairs);
                CREATE INDEX IF NOT EXISTS mt_uni ON mt_segments USING gin (uni);
                CREATE INDEX IF NOT EXISTS mt_bi ON mt_segments USING gin (bi);
                CREATE INDEX IF NOT EXISTS mt_tri ON mt_segments USING gin (tri);
                CREATE INDEX IF NOT EXISTS mt_lang ON mt_segments USING gin (lang_t);
                CREATE INDEX IF NOT EXISTS mt_ep ON mt_segments USING gin (ep);
            """)
            self.db.execute("INSERT INTO mt_meta VALUES (1, %s) ON CONFLICT (one) DO UPDATE SET revision = %s",
                            (SCHEMA_REVISION, SCHEMA_REVISION))

    def keys(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT slug, key FROM mt_episodes").fetchall())

    def replace_episode(self, slug: str, title: str, date: str, url: str, key: str, rows: list[Row],
                        vectors: list[bytes] | None = None, made: dict[str, bytes] | None = None) -> None:
        if len(rows) >= 1 << 16:
            raise ValueError(f"{slug}: more than 65535 segments")
        vecs = vectors or [None] * len(rows)
        with self._lock:
            old = [i for (i,) in self.db.execute("SELECT id FROM mt_segments WHERE slug = %s AND length(vec) > 0",
                                                 (slug,))]
            with self.db.transaction():
                self._delete(slug)
                base = block_base(date)
                taken = {b for (b,) in self.db.execute(
                    "SELECT block FROM mt_episodes WHERE block BETWEEN %s AND %s", (base, base + 255))}
                block = free_block(date, taken)
                self.db.execute("INSERT INTO mt_episodes VALUES (%s, %s, %s, %s, %s, %s)",
                                (slug, title, date, url, key, block))
                data, ids = [], []
                for n, (r, v) in enumerate(zip(rows, vecs)):
                    c = columns(r.text, r.lang, slug)
                    size = doclen(c)
                    ids.append((block << 16) + n)
                    data.append((ids[-1], slug, r.lang, r.start, r.end, r.text, *c.values(), size, r.kind,
                                 r.speaker, r.via, v))
                with self.db.cursor() as cur:
                    cur.executemany(f"INSERT INTO mt_segments VALUES ({', '.join(['%s'] * (11 + len(COLUMNS)))})",
                                    data)
                    cur.executemany("INSERT INTO mt_embeddings VALUES (%s, %s) ON CONFLICT DO NOTHING",
                                    list((made or {}).items()))
            if self._ann is not None:  # this process's nearest-neighbour index follows
                self._ann.replace(old, [i for i, v in zip(ids, vecs) if v is not None],
                                  [v for v in vecs if v is not None])

    def pending(self) -> list[tuple[int, str]]:
        with self._lock:
            return self.db.execute("SELECT id, text FROM mt_segments WHERE vec IS NULL ORDER BY id").fetchall()

    def set_vectors(self, ids: list[int], vectors: list[bytes], made: dict[str, bytes]) -> None:
        with self._lock:
            with self.db.transaction(), self.db.cursor() as cur:
                cur.executemany("UPDATE mt_segments SET vec = %s WHERE id = %s", list(zip(vectors, ids)))
                cur.executemany("INSERT INTO mt_embeddings VALUES (%s, %s) ON CONFLICT DO NOTHING", list(made.items()))
            if self._ann is not None:  # this process's nearest-neighbour index follows
                self._ann.replace([], ids, vectors)

    def cached_embeddings(self, hashes: list[str]) -> dict[str, bytes]:
        with self._lock:
            return {h: bytes(v) for h, v in self.db.execute(
                "SELECT hash, vec FROM mt_embeddings WHERE hash = ANY(%s)", (hashes,)).fetchall()}

    def _ann_index(self):
        """The nearest-neighbour index of the server's vectors, built in this process on first use
        (PostgreSQL here has no pgvector: the vectors live in the server, the graph in memory)."""
        from media_tool.search.semantic import Ann

        if self._ann is None:
            ann = Ann(None)
            count = self.db.execute("SELECT count(*) FROM mt_segments WHERE length(vec) > 0").fetchone()[0]
            ann.sync(count, lambda: tuple(map(list, zip(*[(i, bytes(v)) for i, v in self.db.execute(
                "SELECT id, vec FROM mt_segments WHERE length(vec) > 0")]))) or ([], []))
            self._ann = ann
        return self._ann

    def nearest(self, vector, *, lang: str | None = None, slug: str | None = None, since: str | None = None,
                speaker: str | None = None, limit: int = 20, min_cosine: float = 0.0, off_topic=None,
                prefer: str | None = None) -> list[Hit]:
        from media_tool.search.semantic import CANDIDATES, EXACT_UP_TO, rerank

        select = SELECT_HITS.format(segments="mt_segments", episodes="mt_episodes").replace(" FROM", ", s.vec FROM", 1)
        with self._lock:
            if self.db.execute("SELECT count(*) FROM (SELECT 1 FROM mt_segments LIMIT %s) AS few",
                               (EXACT_UP_TO + 1,)).fetchone()[0] <= EXACT_UP_TO:
                rows = self.db.execute(select + " WHERE length(s.vec) > 0 AND s.id >= %s",
                                       (since_id(since),)).fetchall()
            else:
                found = [i for i, _ in self._ann_index().nearest(vector, max(CANDIDATES, limit * 4))
                         if i >= since_id(since)]
                if not found:
                    return []
                rows = self.db.execute(select + " WHERE s.id = ANY(%s)", (found,)).fetchall()
        rows, score, twins = rerank(rows, vector, min_cosine=min_cosine, lang=lang, slug=slug, speaker=speaker,
                                    off_topic=off_topic, prefer=prefer)
        return with_translations(assemble(rows, score, [], limit), rows, twins)

    def _delete(self, slug: str) -> None:
        self.db.execute("DELETE FROM mt_segments WHERE slug = %s", (slug,))
        self.db.execute("DELETE FROM mt_episodes WHERE slug = %s", (slug,))

    def remove_except(self, keep: set[str]) -> list[str]:
        gone = [s for s in self.keys() if s not in keep]
        with self._lock:
            old = [i for (i,) in self.db.execute("SELECT id FROM mt_segments WHERE slug = ANY(%s) AND length(vec) > 0",
                                                 (gone,))]
            with self.db.transaction():
                for slug in gone:
                    self._delete(slug)
            if self._ann is not None and old:
                self._ann.replace(old, [], [])
        return gone

    @staticmethod
    def _where(phrases: list[Phrase]) -> tuple[str, list]:
        """SQL that holds exactly where every phrase stands, in order, in its column."""
        sql, args = [], []
        for p in phrases:
            col = _array(p.column)
            toks = phrase_tokens(p)
            sql.append(f"{col} @> %s::text[]")
            args.append(toks)
            if len(toks) > 1:  # tokens hold no spaces or %, and _ only escaped: a padded LIKE finds the run
                sql.append(f"(' ' || array_to_string({col}, ' ') || ' ') LIKE %s ESCAPE '!'")
                args.append("% " + " ".join(t.replace("!", "!!").replace("_", "!_") for t in toks) + " %")
        return " AND ".join(sql) or "true", args

    def search(self, query: str, *, lang: str | None = None, slug: str | None = None, since: str | None = None,
               speaker: str | None = None, limit: int = 20, deadline: float | None = None) -> list[Hit]:
        """Hits by the words typed; past `deadline` (a `time.monotonic()` value) the server cancels
        the statement (statement_timeout) and SearchTimeout is raised."""
        import psycopg

        phrases, terms = parse(query)
        if not phrases:
            return []
        with self._lock:
            if deadline is None:
                return self._search(phrases, terms, lang, slug, since, speaker, limit)
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                raise SearchTimeout(f"the search for {query[:40]!r} ran past its deadline before it began")
            try:
                with self.db.transaction():
                    self.db.execute(f"SET LOCAL statement_timeout = {left_ms}")
                    return self._search(phrases, terms, lang, slug, since, speaker, limit)
            except psycopg.errors.QueryCanceled as exc:
                raise SearchTimeout(f"the search for {query[:40]!r} ran past its deadline") from exc

    def _search(self, phrases, terms, lang, slug, since, speaker, limit) -> list[Hit]:
        every = phrases + filters(lang, slug)
        where, args = self._where(every)
        where += " AND id >= %s" + (" AND speaker = %s" if speaker is not None else "")
        args += [since_id(since)] + ([speaker] if speaker is not None else [])
        found = self.db.execute(f"SELECT id, doclen FROM mt_segments WHERE {where} ORDER BY id DESC LIMIT %s",
                                (*args, RANK_WINDOW)).fetchall()
        if not found:
            return []
        score = dict(found)  # newest first: ties go to the newer row
        best = shortlist(score, limit)
        rows = self.db.execute(SELECT_HITS.format(segments="mt_segments", episodes="mt_episodes") +
                               " WHERE s.id = ANY(%s)", (list(best),)).fetchall()
        return assemble(rows, best, terms, limit)

    def count(self, slug: str | None = None) -> int:
        if slug:
            return self.db.execute("SELECT count(*) FROM mt_segments WHERE slug = %s", (slug,)).fetchone()[0]
        return self.db.execute("SELECT count(*) FROM mt_segments").fetchone()[0]

    def flush(self) -> None:
        """Nothing to save: the graph lives in this process's memory, the vectors in the server."""

    def close(self) -> None:
        self.db.close()
