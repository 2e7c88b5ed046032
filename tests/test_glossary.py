"""The glossary: corrections by sound and their guards, the CSV's errors, terminology checks, and
translations that follow the segments a person or the model settles on."""

from __future__ import annotations

import json

import pytest
import srt

from helpers import build_json, cli
from media_tool import glossary, transcript_files
from media_tool.errors import ConfigError
from media_tool.transcripts import Segment, Transcript

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


def test_human_srt_translation_follows_new_segment_boundaries(tmp_path):
    """Re-transcribing moves segment boundaries; a timed translation is aligned by time, so every
    word of it still lands on the segment spoken at that moment."""
    human = tmp_path / "human.zh.srt"
    human.write_text("1\n00:00:00,000 --> 00:00:04,000\n欢迎收听。今天谈养老金。\n\n"
                     "2\n00:00:04,500 --> 00:00:07,000\n谢谢收听。\n", encoding="utf-8")
    for source in (Transcript("en", (Segment(0, 1.8, "Welcome."), Segment(1.9, 4.1, "Today: pensions."),
                                     Segment(4.4, 7.0, "Thanks."))),
                   Transcript("en", (Segment(0, 4.1, "Welcome. Today: pensions."), Segment(4.4, 7.0, "Thanks.")))):
        t = transcript_files.read_human_translation(human, source, "zh", "human.zh.srt")
        assert len(t.segments) == len(source.segments) and t.origin == "human"
        assert "".join(s.text for s in t.segments) == "欢迎收听。今天谈养老金。谢谢收听。"
        assert t.segments[-1].text == "谢谢收听。"


def test_edited_transcript_is_what_gets_translated(built_show):
    """A person corrects the Mandarin transcript: the English is made again from their text."""
    d = built_show / "transcripts" / "ep-002-sick-leave"
    zh = d / "ep-002-sick-leave.zh.srt"
    zh.write_text(zh.read_text(encoding="utf-8").replace("谢谢收听。", "谢谢大家收听。"), encoding="utf-8")
    code, report = build_json(built_show)
    assert code == 0, report
    ep2 = next(e for e in report["episodes"] if e["slug"] == "ep-002-sick-leave")
    assert ep2["stages"]["translate"]["status"] == "done"
    pairs = list(srt.parse((d / "ep-002-sick-leave.zh-en.srt").read_text(encoding="utf-8")))
    assert pairs[-1].content.split("\n")[0] == "谢谢大家收听。"
    assert zh.read_text(encoding="utf-8").count("谢谢大家收听。") == 1  # the person's file is kept as they wrote it


def test_check_reports_terms_a_translation_drops(built_show):
    p = cli("check", "--show", str(built_show), "--json")
    assert p.returncode == 0 and not [x for x in json.loads(p.stdout) if x["code"] == "terminology"]
    en = built_show / "transcripts" / "ep-002-sick-leave" / "ep-002-sick-leave.en.json"
    doc = json.loads(en.read_text(encoding="utf-8"))
    doc["segments"][0]["body"] = doc["segments"][0]["body"].replace("sick leave", "time off")
    en.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    found = [x for x in json.loads(cli("check", "--show", str(built_show), "--json").stdout) if x["code"] == "terminology"]
    assert found == [{"file": "transcripts/ep-002-sick-leave/ep-002-sick-leave.zh-en.srt", "severity": "warning",
                      "message": "cue 1: '病假' without 'sick leave' in the English", "code": "terminology"}]


def test_english_hints_are_names_and_acronyms_within_the_prompt_budget():
    g = glossary.Glossary(tuple(glossary.Term(zh, en) for zh, en in (
        ("人力资源和社会保障部", "MoHRSS"), ("国际劳工组织", "ILO"), ("养老金", "pension"), ("公约", "C102"))))
    assert glossary.english_hints(g, ("Alex Morgan", "李华")) == "MoHRSS, ILO, C102, Alex Morgan."
    assert glossary.english_hints(glossary.Glossary(), ("李华",)) is None
    many = glossary.Glossary(tuple(glossary.Term(f"词{i}", f"ACRONYM{i:04d}") for i in range(200)))
    assert len(glossary.english_hints(many)) <= glossary.HINT_CHARS


@pytest.mark.slow
def test_english_names_and_acronyms_are_heard_with_the_hints(tmp_path):
    """Real Whisper base on espeak speech full of acronyms: without the prompt it writes MoHSS."""
    import subprocess

    from media_tool.ffmpeg import FFmpeg
    from media_tool.stages.transcribe import transcribe
    from media_tool.whisper_engines import load_engine, user_cache

    text = ("The ILO adopted Convention C102 on minimum standards of social security. In China, MoHRSS sets the "
            "rules for pensions. The ILO and MoHRSS compared individual accounts and contributory insurance.")
    wav = tmp_path / "acronyms.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), text], check=True)
    g = glossary.Glossary((glossary.Term("人力资源和社会保障部", "MoHRSS"), glossary.Term("国际劳工组织", "ILO")))
    engine, ff = load_engine("faster-whisper", "base", user_cache()), FFmpeg.discover()
    plain = " ".join(s.text for s in transcribe(wav, ff, engine, language="en").transcript.segments)
    hinted = " ".join(s.text for s in transcribe(wav, ff, engine, language="en", glossary=g).transcript.segments)
    assert hinted.count("MoHRSS") == 2 and plain.count("MoHRSS") < 2, (plain, hinted)
