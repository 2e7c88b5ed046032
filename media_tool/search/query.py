"""Search, the pure part: what gets indexed, what a query means, how hits are ranked and shown.

Chinese has no spaces, and SQLite's tokenizers either treat a run of Han characters as one
token (unicode61) or need three characters (trigram). So each segment is indexed in several
columns of one FTS5 table, every token made here (the same for both backends): `words`
(case-folded, porter-stemmed words), `pairs` (each two neighbouring stems, joined by `_`), `uni`
(each Han character), `bi` (each two neighbouring Han characters) and `tri` (each three). A
quoted phrase of words is the phrase of its stem pairs; a Chinese query is its pair (two
characters), its triple (three) or the phrase of its triples (more): rare tokens, so a phrase
costs what a rare word costs rather than a walk of two common words' positions through the
whole archive. Every piece of a query is quoted, so whatever a person types (quotes, *, -,
NEAR(, brackets) is searched as text, never as syntax.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import json
import re
import unicodedata
from dataclasses import dataclass, replace

from media_tool.text.formats import read_srt
from media_tool.text.script import HAN_RUN
from media_tool.text.transcripts import as_spoken_elsewhere

SCHEMA_REVISION = 7  # 7: Han characters of the CJK extensions B-G indexed as Han (text.script)
RANK_WINDOW = 2000
"""A query matching more segments than this is ranked among the newest this many matches."""
WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Row:
    """One indexed text: a transcript segment, or an episode's title, notes, people or a chapter title."""

    slug: str
    lang: str
    start: float
    end: float
    text: str
    kind: str = "segment"  # segment | title | notes | people | chapter
    speaker: str | None = None
    via: str | None = None  # a translation: by what (e.g. local:qwen..., human); None: the words as said


KINDS = ("segment", "title", "notes", "people", "chapter")


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
    kind: str = "segment"
    speaker: str | None = None
    matched: tuple[str, ...] = ("words",)  # how it was found: words, glossary, meaning
    score: float = 0.0                     # the fused rank score (higher is better)
    translation: str | None = None         # the same moment in the other language (a meaning hit)
    media_url: str | None = None           # the audio at that moment (`url` is the episode's page)
    translated: str | None = None          # the text is a translation of what was said, by this (machine: local:..)

    def to_dict(self) -> dict:
        return dict(self.__dict__)  # its fields are flat: what asdict gives, without its deep copy


# -- pure: what gets indexed and what gets asked ------------------------------------------------
COLUMNS = ("words", "pairs", "uni", "bi", "tri", "lang", "ep")
"""The indexed columns of every row, in order (both backends)."""


@functools.lru_cache(maxsize=1 << 17)
def _stem(word: str) -> str:
    import snowballstemmer

    return snowballstemmer.stemmer("porter").stemWord(word)


@functools.lru_cache(maxsize=1)
def _combining() -> dict[int, None]:
    """Every combining mark, for str.translate to drop (one C pass, not a Python loop per character)."""
    return dict.fromkeys(cp for cp in range(0x110000) if unicodedata.combining(chr(cp)))


def fold(text: str) -> str:
    """Case and diacritics folded: NFKD, combining marks dropped, lower case (ASCII needs only the last)."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).translate(_combining()).lower()


def stem_runs(text: str) -> list[list[str]]:
    """The words of `text` as indexed, in the stretches between Han runs (those are indexed as
    characters, pairs and triples): letters and digits, case and diacritics folded, porter-stemmed,
    so "Pensions" finds "pension" (the stemmer knows English: other words are kept as they are)."""
    return [[_stem(w) if w.isascii() else w for w in WORD.findall(part)] for part in HAN_RUN.split(fold(text))]


def pairs(runs: list[list[str]]) -> list[str]:
    """Each two neighbouring stems of one stretch (see `stem_runs`) as one token (`_` is never inside a word)."""
    return [f"{a}_{b}" for stems in runs for a, b in zip(stems, stems[1:])]


def grams(text: str) -> tuple[list[str], list[str], list[str]]:
    """(characters, neighbouring pairs, neighbouring triples) of every Han run, in order."""
    uni, bi, tri = [], [], []
    for run in HAN_RUN.findall(text):
        uni += list(run)
        bi += [run[i:i + 2] for i in range(len(run) - 1)]
        tri += [run[i:i + 3] for i in range(len(run) - 2)]
    return uni, bi, tri


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


@dataclass(frozen=True)
class Phrase:
    """Tokens that must stand together, in one indexed column."""

    column: str  # one of COLUMNS
    text: str    # its tokens as indexed, space separated


def _han(run: str) -> Phrase:
    if len(run) <= 3:
        return Phrase(("uni", "bi", "tri")[len(run) - 1], run)
    return Phrase("tri", " ".join(grams(run)[2]))


def parse(query: str) -> tuple[list[Phrase], list[str]]:
    """The phrases all of which a hit must hold, and the plain terms to highlight.

    Quoted stretches are phrases; everything else is words (all must match). Han text becomes
    its character, pair or triple (or the phrase of its triples); a quoted run of words, the phrase
    of its stem pairs. Whatever a person types is only ever text in a phrase, never query syntax.
    """
    phrases, terms = [], []
    for phrase, word in re.findall(r'"([^"]*)"|(\S+)', query):
        text = phrase if phrase else word
        for han in HAN_RUN.findall(text):
            terms.append(han)
            phrases.append(_han(han))
        terms += WORD.findall(HAN_RUN.sub(" ", text))
        for run in stem_runs(text):
            if phrase and len(run) > 1:
                phrases.append(Phrase("pairs", " ".join(pairs([run]))))
            else:
                phrases += [Phrase("words", w) for w in run]
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
        out.append(Phrase("lang", lang_token(lang)))
    if slug:
        out.append(Phrase("ep", slug_token(slug)))
    return out


def highlight(text: str, terms: list[str], mark: tuple[str, str] = ("<mark>", "</mark>")) -> str:
    """`text`, HTML-escaped, with each term (and English word forms sharing its stem) marked."""
    if not terms:
        return html.escape(text)
    alts = []
    for t in sorted(set(terms), key=len, reverse=True):
        if HAN_RUN.fullmatch(t):
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
    try:
        seconds = int(dt.datetime.fromisoformat(date).timestamp())
    except ValueError:
        seconds = 0
    return max(0, seconds) << 8


def free_block(date: str, taken: set[int]) -> int:
    """The row-id block for a new episode of this date: the first of its 256 not yet taken.

    Row ids are (block << 16) + segment number, so ids follow publication dates (newest highest)."""
    base = block_base(date)
    return next(b for b in range(base, base + 256) if b not in taken)


SHORTLIST = 5
"""Rows kept per hit asked for, best-scoring first: spares for the newer-first tie-break."""


def doclen(cols: dict[str, list[str]]) -> int:
    """A row's length as ranked: its tokens in every column (see `columns`).

    Every hit holds every phrase of the query, and a transcript line rarely says a word twice, so
    bm25 with each phrase counted once (binary term frequency, as search engines do for short
    fields) orders hits by this length alone: the shorter line that holds the words is more about
    them. That needs no pass over the whole archive for document frequencies nor a term count per
    row, only this number, stored with the row."""
    return sum(len(v) for v in cols.values())


def shortlist(scores: dict[int, float], limit: int) -> dict[int, float]:
    """The best-scoring row ids (lower is better; `scores` newest first, which breaks ties)."""
    return dict(sorted(scores.items(), key=lambda kv: kv[1])[: int(limit) * SHORTLIST])


SELECT_HITS = ('SELECT s.id, s.slug, e.title, s.lang, s.start, s."end", s.text, e.url, e.date, s.kind, s.speaker, '
               "s.via FROM {segments} s JOIN {episodes} e ON e.slug = s.slug")
"""The columns `assemble` takes, in its order (both backends)."""


def assemble(rows: list, score: dict, terms: list[str], limit: int) -> list[Hit]:
    """Hits from (id, slug, title, lang, start, end, text, url, date, kind, speaker, via) rows and their
    scores (lower is better). Stable sorts, least important key first: relevance, then newer
    episodes, then time (then language, kind and text, so every backend breaks ties alike). A
    transcript line links to the audio at its moment; a title, notes or people row to the
    episode's page (a chapter: at its start)."""
    rows = sorted(rows, key=lambda r: (r[4], r[3], r[9] or "", r[6]))
    rows.sort(key=lambda r: r[8], reverse=True)
    rows.sort(key=lambda r: score[r[0]])
    return [Hit(slug, title, lang, start, end, text, highlight(text, terms), hit_url(url, slug, kind, start),
                kind=kind or "segment", speaker=speaker, translated=via)
            for _, slug, title, lang, start, end, text, url, _, kind, speaker, via in rows[: int(limit)]]


def on_pages(hits: list[Hit], asked: str, editions: dict[str, str], titles: dict[str, dict[str, str]]) -> list[Hit]:
    """Hits that open the episode's page at their moment, in the edition of the language asked
    (`editions`: language -> prefix under the site), the title in that language where the site has
    it (`titles`: slug -> language -> title); the media address kept as `media_url`."""
    prefix = editions.get(asked, "")
    out = []
    for h in hits:
        base = h.url.rsplit("/media/", 1)[0] if "/media/" in h.url else h.url.rsplit("/episodes/", 1)[0]
        at = f"#t={h.start:.1f}" if h.kind in ("segment", "chapter") else ""
        media = h.url if "/media/" in h.url else None
        out.append(replace(h, url=f"{base}/{prefix}episodes/{h.slug}/{at}", media_url=media,
                           title=(titles.get(h.slug) or {}).get(asked) or h.title))
    return out


def with_translations(hits: list[Hit], rows: list, twins: dict[int, str]) -> list[Hit]:
    """Meaning hits with the other language's line of the same moment (see `semantic.rerank`)."""
    text = {(r[1], r[3], r[9] or "segment", round(r[4], 3)): twins[r[0]] for r in rows if r[0] in twins}
    return [replace(h, translation=text.get((h.slug, h.lang, h.kind, round(h.start, 3)))) for h in hits]


def hit_url(media_url: str, slug: str, kind: str | None, start: float) -> str:
    if kind in (None, "segment"):
        return f"{media_url}#t={start:.1f}"
    page = media_url.rsplit("/media/", 1)[0] + f"/episodes/{slug}/"
    return page + (f"#t={start:.1f}" if kind == "chapter" else "")


def since_id(since: str | None) -> int:
    """The lowest row id of episodes published on or after `since` (ids follow dates: see `free_block`)."""
    return block_base(since) << 16 if since else 0


def fuse(lists: dict[str, list[Hit]], limit: int, k: int = 60) -> list[Hit]:
    """Reciprocal rank fusion of ranked hit lists ({how matched: hits}): a hit's score is the sum of
    1/(k + rank) over the lists that hold it, so agreement between words, glossary and meaning
    wins; each hit says which lists found it."""
    score: dict[tuple, float] = {}
    first: dict[tuple, Hit] = {}
    how: dict[tuple, list[str]] = {}
    for name, hits in lists.items():
        for rank, h in enumerate(hits):
            key = (h.slug, h.lang, h.kind, round(h.start, 2))
            score[key] = score.get(key, 0.0) + 1.0 / (k + rank + 1)
            if key not in first or ("<mark>" in h.snippet and "<mark>" not in first[key].snippet):
                first[key] = replace(h, translation=h.translation or (first[key].translation if key in first else None))
            elif h.translation and not first[key].translation:
                first[key] = replace(first[key], translation=h.translation)
            how.setdefault(key, []).append(name)
    order = sorted(score, key=lambda key: -score[key])
    return [replace(first[key], matched=tuple(dict.fromkeys(how[key])), score=round(score[key], 6))
            for key in order[:limit]]


def lang_token(lang: str) -> str:
    return "l" + "".join(c for c in lang if c.isalnum())


@functools.lru_cache(maxsize=4096)
def slug_token(slug: str) -> str:
    return "e" + hashlib.sha1(slug.encode()).hexdigest()[:16]


def columns(text: str, lang: str, slug: str) -> dict[str, list[str]]:
    """The tokens of one row in each of COLUMNS (also needed, identical, to delete it from FTS5)."""
    runs = stem_runs(text)
    uni, bi, tri = grams(text)
    return {"words": [w for run in runs for w in run], "pairs": pairs(runs), "uni": uni, "bi": bi, "tri": tri,
            "lang": [lang_token(lang)], "ep": [slug_token(slug)]}


def fts_values(text: str, lang: str, slug: str) -> tuple[str, ...]:
    """The FTS5 columns of one segment, in COLUMNS' order."""
    return indexed(text, lang, slug)[1]


def indexed(text: str, lang: str, slug: str) -> tuple[int, tuple[str, ...]]:
    """(`doclen`, `fts_values`) of one segment, from one tokenizing."""
    cols = columns(text, lang, slug)
    return doclen(cols), tuple(" ".join(v) for v in cols.values())


def rows_from_json(slug: str, lang: str, text: str) -> list[Row]:
    """Index rows from a Podcasting 2.0 JSON transcript: whole segments, so phrases stay whole. A
    mixed-language episode's line left as spoken in the other language (nothing translated it) is
    indexed once, from the file of the language it was spoken in, not again from this one."""
    return [Row(slug, lang, float(s["startTime"]), float(s["endTime"]), " ".join(str(s["body"]).split()),
                speaker=str(s["speaker"]) if s.get("speaker") else None,
                via=str(s["translatedBy"]) if s.get("translatedBy") else None)
            for s in json.loads(text).get("segments", []) if str(s.get("body", "")).strip()
            and not as_spoken_elsewhere(s, lang)]


def rows_from_srt(slug: str, lang: str, text: str) -> list[Row]:
    """Index rows from a published SRT, so a person's corrections are what staff find.
    Raises TranscriptFormatError (with the line) for a file that is not valid SRT."""
    return [Row(slug, lang, s.start, s.end, s.text) for s in read_srt(text, lang).segments if s.text.strip()]
