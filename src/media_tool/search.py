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

import html
import re
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

SCHEMA_REVISION = 1
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


def parse_query(query: str) -> tuple[str | None, list[str]]:
    """An FTS5 expression for what a person typed, and the plain terms to highlight.

    Quoted stretches are phrases; everything else is words (all must match). Han text becomes
    pair phrases; other text becomes quoted words. Returns (None, []) when nothing searchable is left.
    """
    parts, terms = [], []
    pieces = re.findall(r'"([^"]*)"|(\S+)', query)
    for phrase, word in pieces:
        text = phrase if phrase else word
        for han in _HAN_RUN.findall(text):
            terms.append(han)
            if len(han) == 1:
                parts.append(f"uni : {_quote(han)}")
            else:
                parts.append("bi : " + _quote(" ".join(han[i:i + 2] for i in range(len(han) - 1))))
        rest = _HAN_RUN.sub(" ", text)
        words = _WORD.findall(rest)
        if not words:
            continue
        terms += words
        if phrase:
            parts.append("words : " + _quote(" ".join(words)))
        else:
            parts += [f"words : {_quote(w)}" for w in words]
    return (" AND ".join(parts) if parts else None), terms


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


def media_url(base_url: str, slug: str, start: float) -> str:
    """The published MP3 with a media fragment, so players start at the moment."""
    return f"{base_url}/media/{slug}.mp3#t={start:.1f}"


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
        self.db.executescript(f"""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS episodes (slug TEXT PRIMARY KEY, title TEXT, date TEXT, url TEXT,
                                                 key TEXT);
            CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, slug TEXT, lang TEXT,
                                                 start REAL, "end" REAL, text TEXT);
            CREATE INDEX IF NOT EXISTS segments_slug ON segments(slug);
            CREATE VIRTUAL TABLE IF NOT EXISTS segments_fts USING fts5(
                words, uni, bi, content='', tokenize='porter unicode61');
            PRAGMA user_version = {SCHEMA_REVISION};
        """)

    def keys(self) -> dict[str, str]:
        """slug -> the key its rows were indexed under."""
        return dict(self.db.execute("SELECT slug, key FROM episodes"))

    def replace_episode(self, slug: str, title: str, date: str, url: str, key: str, rows: list[Row]) -> None:
        """Swap one episode's rows for new ones, in one transaction (others untouched)."""
        with self.db:
            self._delete(slug)
            self.db.execute("INSERT INTO episodes VALUES (?, ?, ?, ?, ?)", (slug, title, date, url, key))
            for r in rows:
                cur = self.db.execute('INSERT INTO segments (slug, lang, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                                      (r.slug, r.lang, r.start, r.end, r.text))
                uni, bi = grams(r.text)
                self.db.execute("INSERT INTO segments_fts (rowid, words, uni, bi) VALUES (?, ?, ?, ?)",
                                (cur.lastrowid, r.text, uni, bi))

    def _delete(self, slug: str) -> None:
        # A contentless FTS5 table forgets a row when told the values it was indexed with.
        old = self.db.execute("SELECT id, text FROM segments WHERE slug = ?", (slug,)).fetchall()
        self.db.executemany("INSERT INTO segments_fts (segments_fts, rowid, words, uni, bi) "
                            "VALUES ('delete', ?, ?, ?, ?)", [(i, t, *grams(t)) for i, t in old])
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
        expr, terms = parse_query(query)
        if expr is None:
            return []
        sql = ('SELECT s.slug, e.title, s.lang, s.start, s."end", s.text, e.url FROM segments_fts f '
               "JOIN segments s ON s.id = f.rowid JOIN episodes e ON e.slug = s.slug "
               "WHERE segments_fts MATCH ?")
        args: list = [expr]
        if lang:
            sql += " AND s.lang = ?"
            args.append(lang)
        if slug:
            sql += " AND s.slug = ?"
            args.append(slug)
        sql += " ORDER BY bm25(segments_fts), e.date DESC, s.start LIMIT ?"
        args.append(int(limit))
        try:
            rows = self.db.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []  # a query FTS5 still cannot take is simply one with no hits
        return [Hit(slug, title, lang_, start, end, text, highlight(text, terms), f"{url}#t={start:.1f}")
                for slug, title, lang_, start, end, text, url in rows]

    def count(self, slug: str | None = None) -> int:
        if slug:
            return self.db.execute("SELECT count(*) FROM segments WHERE slug = ?", (slug,)).fetchone()[0]
        return self.db.execute("SELECT count(*) FROM segments").fetchone()[0]

    def close(self) -> None:
        self.db.close()


def rows_from_srt(slug: str, lang: str, text: str) -> list[Row]:
    """Index rows from a published SRT, so a person's corrections are what staff find."""
    import srt

    from .transcripts import one_line

    return [Row(slug, lang, c.start.total_seconds(), c.end.total_seconds(), one_line(c.content))
            for c in srt.parse(text) if c.content.strip()]
