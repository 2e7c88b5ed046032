"""Burned-in bilingual captions (text/transcripts.to_ass): a long line spread over several screens
keeps both languages on every screen, two lines of each at most."""

from __future__ import annotations

import re

import pytest

from media_tool.text.layout import clauses, to_ass
from media_tool.text.transcripts import Segment, Transcript

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


def test_long_cues_are_cut_between_clauses_in_both_languages():
    """Each screen shows whole clauses of the spoken line and of its translation, timed by its share
    of what was said; decimals and abbreviations are not clause ends."""
    src = Transcript("en", (Segment(20.0, 26.0, EN),), "human")
    tr = Transcript("zh", (Segment(20.0, 26.0, ZH),), "human")
    events = [line for line in to_ass(src, tr, 640, 360).splitlines() if line.startswith("Dialogue: 0,")]
    assert len(events) >= 2
    times, texts = [], []
    for line in events:
        fields = line.split(",", 9)
        times.append((fields[1], fields[2]))
        texts.append(fields[9].partition(r"{\rTranslation}"))
    for top, _, under in texts[:-1]:
        assert top.rstrip(r"\N").endswith(","), texts
        assert under.endswith(("，", "。")), texts
    assert times[0][0] == "0:00:20.00" and times[-1][1] == "0:00:26.00"
    assert all(a[1] == b[0] for a, b in zip(times, times[1:]))  # one screen follows the other
    assert clauses("The rate is 3.5 percent, e.g. in Chile. 好的。谢谢") == [
        "The rate is 3.5 percent,", "e.g. in Chile.", "好的。", "谢谢"]


def test_a_clip_title_is_drawn_in_both_languages():
    src = Transcript("en", (Segment(0.0, 3.0, "Pensions matter."),), "human")
    ass = to_ass(src, None, 1080, 1920, title="Pensions for everyone", title_top=900, duration=3.0,
                 title_other="人人享有养老金")
    title = next(line for line in ass.splitlines() if line.startswith("Dialogue: 1,"))
    assert re.search(r",,Pensions for everyone\\N\{[^}]*\}人人享有养老金$", title), title
    assert r"\r" not in title  # a style reset would move the title to that style's margins
    alone = to_ass(src, None, 1080, 1920, title="Pensions", title_top=900, duration=3.0, title_other="Pensions")
    assert next(line for line in alone.splitlines() if line.startswith("Dialogue: 1,")).endswith(",,Pensions")
