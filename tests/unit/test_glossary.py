"""The glossary's pure core: corrections by sound and their guards, the CSV's errors, the terminology
check, English names put right."""

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


def test_english_names_are_the_glossarys_names_and_acronyms_and_the_peoples_latin_names():
    g = glossary.Glossary(tuple(glossary.Term(zh, en) for zh, en in (
        ("人力资源和社会保障部", "MoHRSS"), ("国际劳工组织", "ILO"), ("养老金", "pension"), ("公约", "C102"))))
    assert glossary.english_names(g, ("Alex Morgan", "李华", "ILO")) == ("MoHRSS", "ILO", "C102", "Alex Morgan")
    assert glossary.english_names(glossary.Glossary(), ("李华",)) == ()


NAMES = ("MoHRSS", "ILO", "C102", "WHO", "IT", "Maria Silva", "Anna Keller", "Social Protection Dialogues")


@pytest.mark.parametrize("heard, written", [
    ("In China, Mo HRSS sets the rules.", "In China, MoHRSS sets the rules."),  # said apart
    ("MoHSS, MOHRSS and Mohrss.", "MoHRSS, MoHRSS and MoHRSS."),  # a letter off, the case
    ("The I.L.O. adopted C-102.", "The ILO adopted C102."),  # the letters' dots, not the sentence's
    ("It was set by the I.L.O. Then it grew.", "It was set by the ILO. Then it grew."),
    ("W H O and I L O", "WHO and ILO"),
    # a word as people write it, other digits, a name's case or a letter off it: left as heard
    ("Mothers usually collect it.", "Mothers usually collect it."),
    ("Who said it? The who, and IT.", "Who said it? The who, and IT."),
    ("C-100-2 and C103.", "C-100-2 and C103."),
    ("A killer, Anna Keler, maria silva.", "A killer, Anna Keler, maria silva."),
    ("welcome to social protection dialogues", "welcome to social protection dialogues"),
])
def test_english_names_said_apart_or_misspelt_are_put_right_and_words_are_left_alone(heard, written):
    texts, fixes = glossary.correct_english(["First line.", heard], NAMES)
    assert texts == ["First line.", written]
    assert bool(fixes) == (heard != written) and all(f.segment == 1 and f.after in NAMES for f in fixes)
    assert glossary.correct_english([heard], ()) == ([heard], [])



def test_a_line_with_a_word_written_as_an_acronym_is_unsure_and_takes_only_the_names_heard_again():
    """Heard again with the names as the prompt, Whisper writes them where it wrote another acronym
    ("The RIO": ILO), and also over ordinary words ("Mothers" as MoHRSS) and changes other words:
    only the first is taken, a convention's number only where the words heard hold it."""
    assert glossary.unsure("The RIO adopted C-100-2.", NAMES) and glossary.unsure("Mo HRSS", NAMES)
    for sure in ["Mothers usually collect it.", "MoHRSS and the ILO.", "At 85% of the time.", "I said a word."]:
        assert not glossary.unsure(sure, NAMES), sure
    assert not glossary.unsure("The RIO", ())
    plain = "The RIO adopted C-100-2 on minimum standards.\nMothers usually collect the RIO.\nC-100 and C-103."
    prompted = "Did ILO adopted C102 on minimum standard. MoHRSS usually collect the ILO. C102 and C102."
    assert glossary.names_heard(plain, prompted, NAMES) == (
        "The ILO adopted C102 on minimum standards.\nMothers usually collect the ILO.\nC-100 and C-103.",
        ["ILO", "C102", "ILO"])
    assert glossary.names_heard("the railo said", "the ILO said", NAMES) == ("the railo said", [])
    assert glossary.english_prompt(("MoHRSS", "ILO")) == "MoHRSS, ILO." and glossary.english_prompt(()) is None
    many = [f"ACRONYM{i:04d}" for i in range(200)]
    assert len(glossary.english_prompt(many)) <= glossary.HINT_CHARS
