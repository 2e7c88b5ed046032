"""Burned-in bilingual captions (text/transcripts.to_ass): a long line spread over several screens
keeps both languages on every screen, two lines of each at most."""

from __future__ import annotations

import re

import pytest

from media_tool.text.transcripts import Segment, Transcript, to_ass

EN = ("In many countries, most workers in the informal economy are not covered, because they are "
      "self-employed, not employees, and nobody deducts a contribution from their pay.")
ZH = "在许多国家，非正规经济中的大多数劳动者没有被覆盖，因为他们是自雇者，而不是雇员，也没有人从他们的工资中扣缴费用。"


@pytest.mark.parametrize("size", [(640, 360), (1280, 720), (360, 640)])
@pytest.mark.parametrize("spoken,other", [(EN, ZH), (ZH, EN), (EN, "只有一句。")])
def test_every_screen_shows_both_languages(size, spoken, other):
    lang = "zh" if spoken is ZH else "en"
    src = Transcript(lang, (Segment(20.0, 26.0, spoken),), "human")
    tr = Transcript("en" if lang == "zh" else "zh", (Segment(20.0, 26.0, other),), "human")
    events = [line.split(",,0,0,0,,", 1)[1] for line in to_ass(src, tr, *size).splitlines()
              if line.startswith("Dialogue: 0,")]
    assert events
    for text in events:
        top, _, under = text.partition(r"{\rTranslation}")
        assert top.strip(r"\N") and under, (size, events)
        assert top.rstrip(r"\N").count(r"\N") <= 1 and under.count(r"\N") <= 1  # two lines of each at most
    # nothing is lost: every word of both lines is on some screen
    shown = re.sub(r"\\N|\{\\rTranslation\}", " ", " ".join(events))
    for word in re.findall(r"[A-Za-z]+", spoken + other):
        assert word in shown
