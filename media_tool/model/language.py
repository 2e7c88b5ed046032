"""The language policy, asked by every stage: the two languages, the other one, which feeds exist.

The show is bilingual by design (Mandarin and English). An episode's spoken language is its
`language` (a mixed episode's first language is its main one); everything published reaches the
other language too, by a person's translation or the translator's.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")
NAMES = {"en": "English", "zh": "Mandarin"}


def other_language(language: str) -> str:
    """The show's other language: Chinese for English, English for Chinese."""
    return "en" if language == "zh" else "zh"


def first(language: str) -> tuple[str, str]:
    """Both languages, `language` first (the order files, tracks and tags list them in)."""
    return (language, other_language(language))


def feed_languages(show) -> list[str]:
    """The languages that get a feed: the show's own (feed.xml), then the other where the show has
    a title in it (feed.<lang>.xml)."""
    return [show.language] + [lg for lg in LANGUAGES if lg != show.language and lg in show.title]


def root_language(show) -> str:
    """The site edition at feed/'s root: [site] root, else the show's language."""
    return show.site.root or show.language


def edition_prefix(show, lang: str) -> str:
    """Where a language's edition of the site lives under feed/: the root edition at the top, the
    other in zh/ or en/ (pages, search results and QR codes all link there)."""
    return "" if lang == root_language(show) else f"{lang}/"


def editions(show) -> dict[str, str]:
    """language -> its edition's prefix, for every language the site has."""
    return {lg: edition_prefix(show, lg) for lg in LANGUAGES}


