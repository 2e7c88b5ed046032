"""One ranked list from three ways of finding: the words typed (FTS5, see `query.doclen`), their glossary
translations (养老金 also searches "pension"), and meaning (nearest embeddings), fused by
reciprocal rank; each hit says how it was found and with what score."""

from __future__ import annotations

import time
from dataclasses import replace

from media_tool.model.glossary import Glossary
from media_tool.search.query import (
    Hit,
    fuse,
    highlight,
    on_pages,
    parse,
)
from media_tool.search.semantic import (
    ANCHORS,
    embeddings,
    floor,
    from_int8,
    meaningful,
    query_vector_later,
    text_hash,
    unavailable,
    vector_of,
)
from media_tool.text.script import has_han


def search(index, query: str, *, glossary: Glossary = Glossary(), lang: str | None = None, slug: str | None = None,
           since: str | None = None, speaker: str | None = None, limit: int = 20,
           meaning: bool = True, editions: dict[str, str] | None = None,
           titles: dict[str, dict[str, str]] | None = None, deadline: float | None = None) -> tuple[list[Hit], list[str]]:
    """Hits and notices (one line each, e.g. why meaning search is off). `glossary` (a `Glossary`) widens
    the query to the other language's terms.
    A long query is cut (words: WORDS_MAX characters, meaning: MEANING_MAX), with a note, so one pasted
    document costs what a question costs. With the site's `editions` (language -> prefix) each hit
    opens the episode's page in the query's language (titles from `titles` where given). Past `deadline`
    (a `time.monotonic()` value) the lookup of the words stops with SearchTimeout; one that ends past it
    gives its hits by words only, and says so."""
    notices = []
    asked = "zh" if has_han(query) else "en"  # the query's language
    if len(query) > WORDS_MAX:
        notices.append(f"the query is {len(query)} characters long: the first {WORDS_MAX} were searched for")
        query = query[:WORDS_MAX]
    pick = {"lang": lang, "slug": slug, "since": since, "speaker": speaker, "limit": max(limit, 20)}
    can = meaning and hasattr(index, "nearest")
    why = unavailable() if can else None
    asked_meaning = can and why is None and meaningful(query)
    vector = query_vector_later(query[:MEANING_MAX]) if asked_meaning else None  # made meanwhile
    lists = {"words": index.search(query, **pick, deadline=deadline)}
    terms = parse(query)[1]
    other = glossary.expansions(query) if glossary else []
    if other:
        found = []
        for term in other:
            found += index.search(f'"{term}"', **pick, deadline=deadline)
            terms += parse(term)[1]
        lists["glossary"] = found
    if vector is not None:
        try:  # the query's vector, waited for until the deadline at most (a burst queues them)
            blob = vector.result(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            blob = None
        if blob is None or (deadline is not None and time.monotonic() >= deadline):
            notices.append("the search ran past its deadline: these hits are by words only")
        else:
            vector, off = vector_of(blob), anchors(index)
            lists["meaning"] = index.nearest(vector, min_cosine=floor(vector, off, asked), off_topic=off, prefer=asked,
                                             **pick)
    elif why:
        notices.append(why)
    hits = [h if "<mark>" in h.snippet else _marked(h, terms) for h in fuse(lists, limit)]
    if editions is not None:
        hits = on_pages(hits, asked, editions, titles or {})
    return hits, notices


WORDS_MAX = 1000
MEANING_MAX = 512
"""Longest query searched by words, and by meaning (the embedding model reads 512 tokens at most)."""


def _marked(hit: Hit, terms: list[str]) -> Hit:
    return replace(hit, snippet=highlight(hit.text, terms))


_ANCHORS: list = []


def anchors(index):
    """The off-topic anchors' vectors: from the index's embedding cache (made at indexing), else
    embedded here; kept for the life of the process (`serve` asks once)."""
    import numpy as np

    if not _ANCHORS:
        blobs, _ = embeddings(list(ANCHORS), index.cached_embeddings([text_hash(t) for t in ANCHORS]))
        _ANCHORS.append(np.vstack([from_int8(b) for b in blobs]))
    return _ANCHORS[0]
