"""Chapters, clocks and notes' paragraphs: spans, ffmetadata, the one clock of feeds, pages and search,
and the blocks of notes search indexes (pure)."""

from __future__ import annotations

from media_tool.stages.tag import chapter_spans, ffmetadata
from media_tool.text.notes import clock


# -- tag ----------------------------------------------------------------------------------------------
def test_chapter_spans_end_where_the_next_begins():
    assert chapter_spans([(0.0, "A"), (30.0, "B"), (90.0, "C")], 120.0) == (
        (0.0, 30.0, "A"), (30.0, 90.0, "B"), (90.0, 120.0, "C"))
    # A chapter starting past the end is dropped; one running past it is cut at the end.
    assert chapter_spans([(0.0, "A"), (50.0, "B"), (200.0, "C")], 100.0) == ((0.0, 50.0, "A"), (50.0, 100.0, "B"))


def test_ffmetadata_escapes_and_uses_milliseconds():
    text = ffmetadata(((0.0, 61.5, "Intro; a=b #1"), (61.5, 70.0, "Back\\slash")))
    assert text.splitlines() == [";FFMETADATA1", "[CHAPTER]", "TIMEBASE=1/1000", "START=0", "END=61500",
                                 "title=Intro\\; a\\=b \\#1", "[CHAPTER]", "TIMEBASE=1/1000", "START=61500",
                                 "END=70000", "title=Back\\\\slash"]



def test_one_clock_truncates_as_players_do():
    assert clock(59.6) == "0:59"  # a player at 59.6 s shows 0:59; feed, page and search agree
    assert clock(60.0) == "1:00"
    assert clock(3599.99) == "59:59"
    assert clock(3600) == "1:00:00"
    assert clock(3725.2) == "1:02:05"
    assert clock(-0.2) == "0:00"


def test_notes_paragraphs_are_each_block_once_with_its_own_words():
    """Search indexes notes by paragraph, each in the language it is written in: a list item's words
    without its sublist's, a line break read as a space, headings and quotes as paragraphs."""
    from media_tool.text.notes import notes_html, paragraphs

    md = ("Who pays for care?\nOur host asks.\n\n本期主持人用中文提问。\n\n## Links\n\n- the *ILO* report\n  - annex\n"
          "- [C102](https://ilo.org/c102) text\n\n> quoted\n> words\n\nend  \nline")
    assert paragraphs(notes_html(md)) == ["Who pays for care? Our host asks.", "本期主持人用中文提问。", "Links",
                                          "the ILO report", "annex", "C102 text", "quoted words", "end line"]
    assert paragraphs("") == [] and paragraphs("<p> </p>") == []
