"""The glossary's pure core: corrections by sound and their guards, the CSV's errors, the terminology
check, English hints."""

from __future__ import annotations

import pytest

from media_tool.errors import ConfigError
from media_tool.model import glossary

TERMS = glossary.parse("zh,en\n工伤保险,work injury insurance\n工伤,work injury\n缴费,contribution\n精算,actuarial\n"
                       "养老保险,old-age insurance\n病假,sick leave\n城市,city\n")


def fix(*texts: str) -> tuple[list[str], list[tuple[str, str]]]:
    out, fixes = TERMS.correct(list(texts))
    return out, [(f.before, f.after) for f in fixes]


def test_misheard_terms_are_put_right():
    assert fix("工商保险保障受伤的职工。") == (["工伤保险保障受伤的职工。"], [("工商保险", "工伤保险")])
    assert fix("按月脚费，竟算平衡。") == (["按月缴费，精算平衡。"], [("脚费", "缴费"), ("竟算", "精算")])
    assert fix("今天讨论并价和养老抱歉。")[1] == [("并价", "病假"), ("养老抱歉", "养老保险")]


def test_words_that_are_right_as_heard_are_never_replaced():
    # Real words that sound like a term: 工商 (industry and commerce), 程式 (a program), 抱歉 (sorry).
    same = ["他在工商局工作。", "这个程式写得很好。", "真抱歉，我来晚了。", "冰箱坏了。", "工伤保险和病假。"]
    out, fixes = fix(*same)
    assert out == same and fixes == []


def test_a_short_term_glued_to_its_neighbour_is_left_alone():
    # 假 and 期 make 假期 (a holiday): "并假期" must not become "病假期".
    assert fix("并假期")[1] == []


def test_csv_errors_name_file_and_line():
    with pytest.raises(ConfigError) as exc:
        glossary.parse("chinese,english\n病假,sick leave\n", "glossary.csv")
    assert exc.value.one_line().startswith('glossary.csv:1: the first line must be the header "zh,en"')
    with pytest.raises(ConfigError) as exc:
        glossary.parse("zh,en\n病假,sick leave\n缴费\n", "glossary.csv")
    assert exc.value.one_line() == "glossary.csv:3: expected a Chinese term and its English term"


def test_inconsistencies_both_ways_and_longest_term_first():
    terms = glossary.parse("zh,en\n病假,sick leave\n病假工资,sick pay\n养老金,pension\n")
    zh = ["病假工资让工人安心休息。", "我们讨论病假。", "养老金很重要。"]
    en = ["Sick pay lets workers rest.", "We discuss holidays.", "Pensions matter; so does sick leave."]
    found = terms.inconsistencies(zh, en, "zh")
    assert found == [(1, "'病假' without 'sick leave' in the English"), (2, "'sick leave' without '病假' in the Chinese")]


def test_english_hints_are_names_and_acronyms_within_the_prompt_budget():
    g = glossary.Glossary(tuple(glossary.Term(zh, en) for zh, en in (
        ("人力资源和社会保障部", "MoHRSS"), ("国际劳工组织", "ILO"), ("养老金", "pension"), ("公约", "C102"))))
    assert glossary.english_hints(g, ("Alex Morgan", "李华")) == "MoHRSS, ILO, C102, Alex Morgan."
    assert glossary.english_hints(glossary.Glossary(), ("李华",)) is None
    many = glossary.Glossary(tuple(glossary.Term(f"词{i}", f"ACRONYM{i:04d}") for i in range(200)))
    assert len(glossary.english_hints(many)) <= glossary.HINT_CHARS

