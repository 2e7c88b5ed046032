"""Search over every transcript segment, in Chinese and English (the index stage and its queries).

Chinese has no spaces, and SQLite's tokenizers either treat a run of Han characters as one
token (unicode61) or need three characters (trigram). So each segment is indexed three ways in
one FTS5 table: `words` (porter-stemmed words, for English in any segment), `uni` (each Han
character) and `bi` (each pair of neighbouring Han characters, in order). A Chinese query of
two or more characters becomes the phrase of its character pairs, which matches exactly where
the characters stand together; one character matches `uni`. Every piece of a query is quoted,
so whatever a person types (quotes, *, -, NEAR(, brackets) is searched as text, never as syntax.
"""

from __future__ import annotations

import hashlib
import html
import re
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

SCHEMA_REVISION = 3
RANK_WINDOW = 2000
"""A query matching more segments than this is ranked among the newest this many matches."""
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{HAN}]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Row:
    """One indexed segment."""

    slug: str
    lang: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Hit:
    slug: str
    title: str
    lang: str
    start: float
    end: float
    text: str
    snippet: str
    url: str

    def to_dict(self) -> dict:
        return asdict(self)


# -- pure: what gets indexed and what gets asked ------------------------------------------------
def grams(text: str) -> tuple[str, str]:
    """(characters, neighbouring pairs) of every Han run, space separated, in order."""
    uni, bi = [], []
    for run in _HAN_RUN.findall(text):
        uni += list(run)
        bi += [run[i:i + 2] for i in range(len(run) - 1)]
    return " ".join(uni), " ".join(bi)


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


@dataclass(frozen=True)
class Phrase:
    """Tokens that must stand together, in one indexed column."""

    column: str  # words | uni | bi | lang | ep
    text: str    # as typed (words) or as indexed (Han grams, tags)


def parse(query: str) -> tuple[list[Phrase], list[str]]:
    """The phrases all of which a hit must hold, and the plain terms to highlight.

    Quoted stretches are phrases; everything else is words (all must match). Han text becomes
    the phrase of its character pairs (or the character, alone); other text becomes words.
    Whatever a person types is only ever text in a phrase, never query syntax.
    """
    phrases, terms = [], []
    for phrase, word in re.findall(r'"([^"]*)"|(\S+)', query):
        text = phrase if phrase else word
        for han in _HAN_RUN.findall(text):
            terms.append(han)
            if len(han) == 1:
                phrases.append(Phrase("uni", han))
            else:
                phrases.append(Phrase("bi", " ".join(han[i:i + 2] for i in range(len(han) - 1))))
        words = _WORD.findall(_HAN_RUN.sub(" ", text))
        terms += words
        if words and phrase:
            phrases.append(Phrase("words", " ".join(words)))
        elif words:
            phrases += [Phrase("words", w) for w in words]
    return phrases, terms


def fts5_expression(phrases: list[Phrase]) -> str:
    return " AND ".join(f"{p.column} : {_quote(p.text)}" for p in phrases)


def parse_query(query: str) -> tuple[str | None, list[str]]:
    """The FTS5 expression for what a person typed (None if nothing searchable), and its terms."""
    phrases, terms = parse(query)
    return (fts5_expression(phrases) if phrases else None), terms


def filters(lang: str | None, slug: str | None) -> list[Phrase]:
    """Language and episode are indexed as tokens too, so the index filters while it matches."""
    out = []
    if lang:
        out.append(Phrase("lang", _lang_token(lang)))
    if slug:
        out.append(Phrase("ep", _slug_token(slug)))
    return out


def highlight(text: str, terms: list[str], mark: tuple[str, str] = ("<mark>", "</mark>")) -> str:
    """`text`, HTML-escaped, with each term (and English word forms sharing its stem) marked."""
    if not terms:
        return html.escape(text)
    alts = []
    for t in sorted(set(terms), key=len, reverse=True):
        if _HAN_RUN.fullmatch(t):
            alts.append(re.escape(t))
        elif len(t) > 4:  # "pensions" should light up "pension" too: match the shared beginning
            alts.append(r"\b" + re.escape(t[: max(4, len(t) - 3)]) + r"\w*")
        else:
            alts.append(r"\b" + re.escape(t) + r"\b")
    pattern = re.compile("|".join(alts), re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out += [html.escape(text[last:m.start()]), mark[0], html.escape(m.group()), mark[1]]
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def block_base(date: str) -> int:
    """The first row-id block for an episode of this date: 256 episodes per second of dates."""
    import datetime as dt

    try:
        seconds = int(dt.datetime.fromisoformat(date).timestamp())
    except ValueError:
        seconds = 0
    return max(0, seconds) << 8


def shortlist(scores: dict[int, float], limit: int) -> dict[int, float]:
    """The best-scoring row ids (lower bm25 is better), with spares for the newer-first tie-break."""
    return dict(sorted(scores.items(), key=lambda kv: kv[1])[: int(limit) * 5])


def assemble(rows: list, score: dict, terms: list[str], limit: int) -> list[Hit]:
    """Hits from (id, slug, title, lang, start, end, text, url, date) rows and their scores.

    Stable sorts, least important key first: relevance, then newer episodes, then time."""
    rows = sorted(rows, key=lambda r: r[4])
    rows.sort(key=lambda r: r[8], reverse=True)
    rows.sort(key=lambda r: score[r[0]])
    return [Hit(slug, title, lang, start, end, text, highlight(text, terms), f"{url}#t={start:.1f}")
            for _, slug, title, lang, start, end, text, url, _ in rows[: int(limit)]]


def _lang_token(lang: str) -> str:
    return "l" + "".join(c for c in lang if c.isalnum())


def _slug_token(slug: str) -> str:
    return "e" + hashlib.sha1(slug.encode()).hexdigest()[:16]


def _fts_values(text: str, lang: str, slug: str) -> tuple[str, str, str, str, str]:
    """The five FTS5 columns of one segment (also needed, identical, to delete it)."""
    return (text, *grams(text), _lang_token(lang), _slug_token(slug))


# -- the embedded backend --------------------------------------------------------------------
class SQLiteIndex:
    """FTS5 in one SQLite file: the default, needing no server."""

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = path
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
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
        with self.db:
            self._delete(slug)
            block = self._free_block(date)
            self.db.execute("INSERT INTO episodes VALUES (?, ?, ?, ?, ?, ?)", (slug, title, date, url, key, block))
            for n, r in enumerate(rows):
                rowid = (block << 16) + n  # row ids follow publication dates: newest is highest
                self.db.execute('INSERT INTO segments (id, slug, lang, start, "end", text) VALUES (?, ?, ?, ?, ?, ?)',
                                (rowid, r.slug, r.lang, r.start, r.end, r.text))
                self.db.execute("INSERT INTO segments_fts (rowid, words, uni, bi, lang, ep) VALUES (?, ?, ?, ?, ?, ?)",
                                (rowid, *_fts_values(r.text, r.lang, slug)))

    def _free_block(self, date: str) -> int:
        base = block_base(date)
        taken = {b for (b,) in self.db.execute("SELECT block FROM episodes WHERE block BETWEEN ? AND ?",
                                               (base, base + 255))}
        return next(b for b in range(base, base + 256) if b not in taken)

    def _delete(self, slug: str) -> None:
        # A contentless FTS5 table forgets a row when told the values it was indexed with.
        old = self.db.execute("SELECT id, text, lang FROM segments WHERE slug = ?", (slug,)).fetchall()
        self.db.executemany("INSERT INTO segments_fts (segments_fts, rowid, words, uni, bi, lang, ep) "
                            "VALUES ('delete', ?, ?, ?, ?, ?, ?)", [(i, *_fts_values(t, lg, slug)) for i, t, lg in old])
        self.db.execute("DELETE FROM segments WHERE slug = ?", (slug,))
        self.db.execute("DELETE FROM episodes WHERE slug = ?", (slug,))

    def remove_except(self, keep: set[str]) -> list[str]:
        """Drop episodes that no longer exist."""
        gone = [s for s in self.keys() if s not in keep]
        with self.db:
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


def rows_from_json(slug: str, lang: str, text: str) -> list[Row]:
    """Index rows from a Podcasting 2.0 JSON transcript: whole segments, so phrases stay whole."""
    import json

    return [Row(slug, lang, float(s["startTime"]), float(s["endTime"]), " ".join(str(s["body"]).split()))
            for s in json.loads(text).get("segments", []) if str(s.get("body", "")).strip()]


def rows_from_srt(slug: str, lang: str, text: str) -> list[Row]:
    """Index rows from a published SRT, so a person's corrections are what staff find."""
    import srt

    from .transcripts import one_line

    return [Row(slug, lang, c.start.total_seconds(), c.end.total_seconds(), one_line(c.content))
            for c in srt.parse(text) if c.content.strip()]


def open_index(show, *, readonly: bool = False):
    """The show's index on the backend podcast.toml names ([search] backend)."""
    import os

    from .errors import ConfigError

    if show.search.backend == "postgres":
        dsn = os.environ.get(show.search.dsn_env)
        if not dsn:
            raise ConfigError(f"search: backend = \"postgres\" needs the connection string in ${show.search.dsn_env}",
                              "podcast.toml")
        from .search_pg import PostgresIndex

        try:
            return PostgresIndex(dsn, readonly=readonly)
        except Exception as exc:  # psycopg's errors: the server is down, refused, unknown database
            raise ConfigError(f"search: cannot reach PostgreSQL: {str(exc).splitlines()[0]}", "podcast.toml") from exc
    path = show.state_dir / "search.sqlite3"
    if readonly and not path.is_file():
        from .errors import UsageError
        raise UsageError("no search index yet: run `media-tool build` first", str(path))
    return SQLiteIndex(path, readonly=readonly)
