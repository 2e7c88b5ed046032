"""The public site's own search: an index of every line said, written by the build as one JSON file
and searched in the listener's browser (`site/find.js`), so the search box works on any static
host, with no server. `media-tool serve` keeps its fuller search (FTS, meaning) for staff.

The index holds each line's episode, language, start and text; the glossary's pairs (a search for
养老金 finds "pension" too); and a Traditional -> Simplified map of the characters the index uses,
so a reader typing Traditional characters finds the Simplified transcript (pure).
"""

from __future__ import annotations

import json

from media_tool.text.script import HAN, to_simplified


def index(show, episodes, editions: dict[str, str]) -> bytes:
    """`site/search.json` for `episodes` (SiteEpisode values): lines, titles, pages per edition."""
    eps, lines, chars = {}, [], set()
    for ep in episodes:
        item = ep.items.get(ep.spoken) or next(iter(ep.items.values()))
        eps[item.slug] = {"titles": {lg: it.title for lg, it in ep.items.items()},
                          "date": item.date.date().isoformat(),
                          "pages": {lg: f"{prefix}episodes/{item.slug}/" for lg, prefix in editions.items()}}
        for lang, t in sorted(ep.transcripts.items()):
            for s in t.segments:
                if s.text.strip():
                    lines.append([item.slug, lang, round(s.start, 2), s.text])
                    chars.update(HAN.findall(s.text))
    terms = [[t.zh, t.en] for t in show.glossary.terms] if show.glossary else []
    for zh, _ in terms:
        chars.update(HAN.findall(zh))
    t2s = {trad: simp for trad, simp in _traditional_map().items() if simp in chars}
    data = {"episodes": eps, "lines": lines, "terms": terms, "t2s": t2s}
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode()


def _traditional_map() -> dict[str, str]:
    """Every Traditional character of the common CJK block that OpenCC (t2s) writes as another
    character, with that Simplified one (發 and 髮 both -> 发). One conversion of the block, one
    character a line, so no phrase rule joins neighbours."""
    block = [chr(c) for c in range(0x4E00, 0xA000)]
    out = to_simplified("\n".join(block)).split("\n")
    return {t: s for t, s in zip(block, out) if len(s) == 1 and s != t}
