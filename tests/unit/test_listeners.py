"""Listeners in China, round 2, the pure parts: subtitle cues fit for reading, captions sized and
placed for phones, notes that open in the feed's language, localised roles, the static search index."""

from __future__ import annotations

import json

from media_tool.model.taxonomy import ROLES, role_name
from media_tool.text.formats import MIN_CUE_S, cues, to_srt
from media_tool.text.layout import (
    MIN_CAPTION_PX,
    caption_size,
    captioned_frame,
    safe_margins,
    to_ass,
)
from media_tool.text.notes import lead_with, notes_html, paragraphs, within
from media_tool.text.script import chinese_words
from media_tool.text.transcripts import Segment, Transcript

LONG_ZH = ("我们今天讨论养老金制度的覆盖面，以及它如何帮助农村地区的老年人获得基本的收入保障和医疗服务，"
           "还有非正规就业者怎样参加社会保险。")


def test_cues_break_between_words_never_inside_one():
    shown = cues([Segment(0, 9, LONG_ZH)], 20, 2)
    assert len(shown) >= 2 and "".join(c.text.replace("\n", "") for c in shown) == LONG_ZH  # nothing lost
    words = chinese_words(LONG_ZH)
    ends, at = set(), 0
    for w in words:
        at += len(w)
        ends.add(at)
    at = 0
    for c in shown:
        for line in c.text.split("\n"):
            at += len(line)
            assert at in ends, (line, c.text)  # every line ends where a word ends (讨论, 覆盖面 stay whole)
    english = cues([Segment(0, 6, "Social protection systems help people cope with illness, unemployment and old age, "
                               "and they are paid for in many different ways.")], 30, 2)
    assert all(not line.startswith(" ") and not line.endswith(" ")
               for c in english for line in c.text.split("\n"))


def test_no_cue_shorter_than_a_second_and_no_orphan_of_a_character_or_two():
    segs = (Segment(0.0, 3.8, "农村老年人主要依靠基础养"), Segment(3.8, 4.2, "金。"),
            Segment(5.0, 7.0, "谢谢。"), Segment(7.3, 7.7, "好的，"), Segment(8.5, 10.0, "我们继续讨论病假。"))
    shown = cues(segs, 32, 2)
    texts = [c.text for c in shown]
    assert texts == ["农村老年人主要依靠基础养金。", "谢谢。", "好的，", "我们继续讨论病假。"]  # 「金。」 joins its sentence
    ok = next(c for c in shown if c.text == "好的，")
    assert ok.end - ok.start >= MIN_CUE_S and ok.start >= 7.0 and ok.end <= 8.5  # the time it needs, from silence
    assert all(a.end <= b.start + 1e-6 for a, b in zip(shown, shown[1:]))  # never over a neighbour
    # a voice change is never joined over, and a long segment's last cue is no orphan
    two = cues([Segment(0, 3, "Thank you for having me", "Anna"), Segment(3, 4, "it.", "Li")], 40, 2)
    assert [c.speaker for c in two] == ["Anna", "Li"]
    even = cues([Segment(0, 6, "养老金" * 11 + "。")], 32, 2)
    assert len(even) == 2 and min(len(c.text) for c in even) >= 10, [c.text for c in even]
    assert to_srt(Transcript("zh", segs)).count(" --> ") == len(shown)


def test_captions_readable_at_every_master_size_and_clear_of_the_apps_overlays():
    for w, h in ((320, 180), (426, 240), (640, 360), (1280, 720), (1920, 1080), (1080, 1920), (720, 1280)):
        cw, ch = captioned_frame(w, h)
        assert min(cw, ch) >= 360 and cw % 2 == 0 and ch % 2 == 0 and abs(cw / ch - w / h) < 0.01
        size = caption_size(cw, ch)
        assert size >= MIN_CAPTION_PX and size <= ch / 15
    assert captioned_frame(1920, 1080) == (1920, 1080)  # a large master is drawn as it is
    left, right, bottom = safe_margins(1080, 1920)
    assert bottom >= 0.25 * 1920 and right >= 0.15 * 1080  # above the description, left of the buttons
    ass = to_ass(Transcript("zh", (Segment(0, 2, "你好。"),)), None, 1080, 1920, font="Noto Sans SC")
    style = next(line for line in ass.splitlines() if line.startswith("Style: Spoken,"))
    assert style.startswith("Style: Spoken,Noto Sans SC,") and style.endswith(f",{left},{right},{bottom}")


def test_bilingual_notes_open_in_the_feeds_language_and_stay_whole():
    html = notes_html("Who pays for care? An expert explains.\n\n## Links\n\n- [Report](https://x.org)\n\n"
                      "本期主持人用中文提问，国际专家用英文回答。")
    zh = lead_with(html, "zh")
    assert zh.startswith("<p>本期主持人") and zh.index("<h2>Links</h2>") < zh.index("Report")
    assert sorted(paragraphs(zh)) == sorted(paragraphs(html))  # reordered, nothing lost
    assert lead_with(html, "en") == html
    assert lead_with("<p>只有中文。</p>", "en") == "<p>只有中文。</p>"
    long = "".join(f"<p>{'段落' * 200}{i}</p>" for i in range(20))
    cut = within(long, 8000, "https://podcast.example.org/zh/episodes/x/", "zh")
    assert len(cut) <= 8000 and cut.endswith('完整节目说明见本集网页</a></p>') and "<p>" + "段落" * 200 + "0</p>" in cut


def test_every_taxonomy_role_has_a_chinese_name():
    for roles in ROLES.values():
        for r in roles:
            name = role_name(r, "zh")
            assert name and all("\u4e00" <= ch <= "\u9fff" for ch in name), r
    assert role_name("Guest", "zh") == "嘉宾" and role_name("Guest", "en") == "guest"


def test_the_static_search_index_holds_every_line_and_traditional_forms(tmp_path):
    import datetime as dt

    from media_tool.model.glossary import Glossary, Term
    from media_tool.site.feed import Item, Media
    from media_tool.site.finder import index
    from media_tool.site.pages import SiteEpisode

    class Show:
        glossary = Glossary((Term("养老金", "pension"),))

    item = Item("ep-1", "g", "养老金", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), 60,
                (Media("mp3", "https://x/media/ep-1.mp3", 1),), "", "")
    ep = SiteEpisode(items={"zh": item}, spoken="zh",
                     transcripts={"zh": Transcript("zh", (Segment(1.5, 3, "发放养老金。"),))}, chapters=())
    data = json.loads(index(Show(), [ep], {"en": "", "zh": "zh/"}))
    assert data["lines"] == [["ep-1", "zh", 1.5, "发放养老金。"]]
    assert data["t2s"]["養"] == "养" and data["t2s"]["發"] == "发" and data["t2s"]["髮"] == "发"
    assert data["terms"] == [["养老金", "pension"]] and data["episodes"]["ep-1"]["pages"]["zh"] == "zh/episodes/ep-1/"
