"""The translation core's checks (pure): required terms, cleaning, guards, retries, Markdown kept.

The backends here are fakes, named as such: they stand for a model's answers so that what the core
keeps and reports can be checked exactly; the real model is tested in tests/test_translate.py.
"""

from __future__ import annotations

import pytest

from media_tool.engines.translation import (
    Cache,
    Request,
    clean,
    problem,
    punctuate,
    segment_requests,
    translate_all,
    translate_text,
)
from media_tool.model import glossary
from media_tool.text.script import close_sentence, needs_punctuation, same_characters

TERMS = glossary.parse("zh,en\n病假,sick leave\n病假工资,sick pay\n缴费,contribution\n国际劳工组织,ILO\n")


class FakeBackend:
    """A fake translator: answers from a table, a second try (strict) from another table."""

    name = "fake"

    def __init__(self, first: dict[str, str], second: dict[str, str] | None = None):
        self.first, self.second, self.asked = first, second or {}, []

    def translate_requests(self, requests, progress=None):
        self.asked.append([(r.text, r.strict) for r in requests])
        return [(self.second if r.strict else self.first).get(r.text, "") for r in requests]


def test_required_terms_take_the_longest_first_and_match_english_words():
    assert TERMS.required("病假工资由单位支付", "zh") == (("病假工资", "sick pay"),)
    assert TERMS.required("Contributions to the ILO fund", "en") == (("contribution", "缴费"),
                                                                            ("ILO", "国际劳工组织"))
    assert TERMS.required("a contributor", "en") == ()  # a different word, not the term


def test_clean_removes_control_characters_and_makes_chinese_simplified():
    assert clean("\x00他們\x1b[31m說，\u202e好 ", "zh") == "他们[31m说，好"
    assert clean('"Sick pay is low."', "en") == "Sick pay is low."
    assert clean("国际 劳工 组织", "zh") == "国际劳工组织"


@pytest.mark.parametrize("source,target,answer,why", [
    ("Sick pay is low.", "zh", "Sick pay is low.", "not Chinese"),
    ("病假工资很低。", "en", "病假工资很低。", "Chinese characters"),
    ("病假工资很低。", "en", "Sick pay is low. 很低", "Chinese characters"),
    ("Sick pay is low.", "zh", "", "empty"),
    ("Sick pay is low.", "zh", "<|im_start|>assistant 病假工资很低", "instructions"),
    ("Sick pay is low.", "zh", "以下是翻译：病假工资很低。", "instructions"),
    ("Thank you.", "zh", "谢谢" * 60, "repetition"),
    ("We discussed pensions, sick pay, contributions and the role of the ILO in detail.", "zh", "好。",
     "implausible length"),
])
def test_answers_that_cannot_be_published(source, target, answer, why):
    assert why in (problem(Request(source, "en" if target == "zh" else "zh", target), answer) or "")


def test_good_answers_pass_and_names_may_stay_latin():
    assert problem(Request("Sick pay is low.", "en", "zh"), "病假工资很低。") is None
    assert problem(Request("ILO C102", "en", "zh"), "ILO C102") is None
    assert problem(Request("病假工资很低。", "zh", "en"), "Sick pay is low.") is None


def test_a_failed_answer_is_asked_again_then_reported_never_the_source():
    backend = FakeBackend({"Sick pay is low.": "Sick pay is low.", "Thank you.": "谢谢。"},
                          {"Sick pay is low.": "Sick pay is low."})
    done = translate_all(backend, segment_requests(["Sick pay is low.", "Thank you."], "en", "zh", TERMS))
    assert done.texts == [None, "谢谢。"]
    assert [i for i, _ in done.failures] == [0]
    assert backend.asked[1] == [("Sick pay is low.", True)]  # the second, stricter try


def test_a_missed_term_is_retried_and_a_remaining_miss_reported():
    backend = FakeBackend({"Sick pay is low.": "病假工资很低。", "Sick leave helps.": "休息有帮助。",
                           "Contributions rose.": "贡献增加了。"},
                          {"Sick leave helps.": "病假有帮助。", "Contributions rose.": "贡献上升了。"})
    done = translate_all(backend, segment_requests(["Sick pay is low.", "Sick leave helps.", "Contributions rose."],
                                                   "en", "zh", TERMS))
    assert done.texts == ["病假工资很低。", "病假有帮助。", "贡献增加了。"]
    assert done.misses == [(2, "'contribution' not rendered as '缴费'")]
    assert done.failures == []


def test_answers_are_cached_by_what_they_depend_on(tmp_path):
    cache = Cache(tmp_path / "t.json")
    backend = FakeBackend({"Thank you.": "谢谢。"})
    translate_all(backend, segment_requests(["Thank you."], "en", "zh", TERMS), cache=cache)
    cache.save()
    again = FakeBackend({})
    done = translate_all(again, segment_requests(["Thank you."], "en", "zh", TERMS), cache=Cache(tmp_path / "t.json"))
    assert done.texts == ["谢谢。"] and done.cached == 1 and again.asked == []
    other_glossary = glossary.parse("zh,en\n谢谢,Thank you\n")
    translate_all(again, segment_requests(["Thank you."], "en", "zh", other_glossary), cache=Cache(tmp_path / "t.json"))
    assert again.asked  # the terms changed: asked again
    (tmp_path / "t.json").write_text("[1, 2")  # damaged: an empty cache, not an error
    assert Cache(tmp_path / "t.json").entries == {}


def test_markdown_notes_keep_links_code_and_structure():
    notes = ("# Sick pay\n\nSick pay is low. See [the ILO](https://ilo.org/x) and `C102`.\n\n"
             "- First point.\n- Second point.\n\n```\ncode stays\n```\n")
    answers = {"Sick pay": "病假工资", "Sick pay is low. See [the ILO](⟦1⟧) and ⟦0⟧.": "病假工资很低。见[国际劳工组织](⟦1⟧)和⟦0⟧。",
               "First point.": "第一点。", "Second point.": "第二点。"}
    text, misses = translate_text(FakeBackend(answers), notes, "en", "zh", TERMS)
    assert text == ("# 病假工资\n\n病假工资很低。见[国际劳工组织](https://ilo.org/x)和`C102`。\n\n"
                    "- 第一点。\n- 第二点。\n\n```\ncode stays\n```\n")
    assert misses == []


def test_notes_with_a_lost_link_are_not_published():
    answers = {"See [the ILO](⟦0⟧).": "见国际劳工组织。"}
    assert translate_text(FakeBackend(answers), "See [the ILO](https://ilo.org).", "en", "zh")[0] is None


def test_a_backend_that_returns_the_wrong_count_is_an_error():
    class Short(FakeBackend):
        def translate_requests(self, requests, progress=None):
            return ["一"]

    with pytest.raises(ValueError, match="2 requests"):
        translate_all(Short({}), segment_requests(["One.", "Two."], "en", "zh", TERMS))


@pytest.mark.parametrize("text, bare", [
    ("我们今天请到了一位研究社会保护的专家首先请您介绍一下农村居民的养老保险制度", True),  # one long run
    ("这个制度由个人缴费集体补助组成", True),        # 14 characters, no mark at all
    ("城乡居民医疗保险已经覆盖了绝大多数人口。", False),  # one clause, closed
    ("他们最关心看病贵", False),                      # short: only its closing mark is missing
    ("那么我们先从养老金说起 现在很多老人的养老金其实不够用", False),  # Whisper's pause is a break
    ("Pensions are paid monthly", False),
])
def test_which_chinese_segments_whisper_left_bare(text, bare):
    assert needs_punctuation(text) is bare


def test_restored_punctuation_must_keep_every_character():
    assert same_characters("你觉得这个政策有帮助吗", "你觉得，这个政策有帮助吗？")
    assert not same_characters("你觉得这个政策有帮助吗", "你认为，这个政策有帮助吗？")  # a word "improved"
    assert not same_characters("你觉得这个政策有帮助吗", "你觉得这个政策？")  # words dropped
    assert close_sentence("你觉得这个政策有帮助吗") == "你觉得这个政策有帮助吗？"
    assert close_sentence("我们先说起 现在的情况") == "我们先说起，现在的情况。"
    assert close_sentence("他说“很好”") == "他说“很好”"


def test_a_punctuation_answer_that_changes_words_is_not_kept(tmp_path):
    bare = ["我们今天请到了一位研究社会保护的专家首先请您介绍一下农村居民的养老保险制度",
            "这个制度由个人缴费集体补助和政府补贴组成"]
    backend = FakeBackend({bare[0]: "我们今天请到了一位研究社会保护的专家，首先请您介绍一下农村居民的养老保险制度。",
                           bare[1]: "这个制度由个人缴费、集体补助和政府补助组成。"})  # 补贴 -> 补助: refused
    cache = Cache(tmp_path / "t.json")
    texts, restored = punctuate(backend, bare, cache=cache)
    assert restored == 1
    assert texts == ["我们今天请到了一位研究社会保护的专家，首先请您介绍一下农村居民的养老保险制度。",
                     "这个制度由个人缴费集体补助和政府补贴组成。"]
    again, _ = punctuate(backend, bare, cache=cache)
    assert again == texts and len(backend.asked) == 1  # the answers (and the refusal) were kept
    assert punctuate(None, bare)[0] == [t + "。" for t in bare]  # no model: only the closing marks
