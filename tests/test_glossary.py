"""The glossary: corrections by sound and their guards, the CSV's errors, terminology checks, and
translations that follow the segments a person or the model settles on."""

from __future__ import annotations

import json

import pytest
import srt
from helpers import build_json, run_here

from media_tool.media.audio import listen
from media_tool.model import glossary
from media_tool.stages import transcript_files
from media_tool.text.transcripts import Segment, Transcript


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
    p = run_here("check", "--show", str(built_show), "--json")
    assert p.returncode == 0 and not [x for x in json.loads(p.stdout) if x["code"] == "terminology"]
    en = built_show / "transcripts" / "ep-002-sick-leave" / "ep-002-sick-leave.en.json"
    doc = json.loads(en.read_text(encoding="utf-8"))
    doc["segments"][0]["body"] = doc["segments"][0]["body"].replace("sick leave", "time off")
    en.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    found = [x for x in json.loads(run_here("check", "--show", str(built_show), "--json").stdout) if x["code"] == "terminology"]
    assert found == [{"file": "transcripts/ep-002-sick-leave/ep-002-sick-leave.zh-en.srt", "severity": "warning",
                      "message": "cue 1: '病假' without 'sick leave' in the English", "code": "terminology"}]


@pytest.mark.slow
def test_english_names_and_acronyms_are_put_right_and_the_words_around_them_left_as_heard(tmp_path):
    """Real Whisper base on espeak speech full of acronyms: it writes "Mo HRSS"; the glossary puts it
    right, and nothing else of what was heard changes (given the names as its prompt, Whisper wrote
    them over ordinary words: "Mothers" as MoHRSS)."""
    import subprocess
    from difflib import SequenceMatcher

    from media_tool.engines.models import user_cache
    from media_tool.engines.whisper import load_engine
    from media_tool.media.ffmpeg import FFmpeg
    from media_tool.stages.transcribe.core import transcribe

    text = ("The ILO adopted Convention C102 on minimum standards of social security. In China, MoHRSS sets the "
            "rules for pensions. The ILO and MoHRSS compared individual accounts and contributory insurance. "
            "Mothers usually collect the payment with a bank card.")
    wav = tmp_path / "acronyms.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), text], check=True)
    g = glossary.Glossary((glossary.Term("人力资源和社会保障部", "MoHRSS"), glossary.Term("国际劳工组织", "ILO")))
    engine, ff = load_engine("faster-whisper", "base", user_cache()), FFmpeg.discover()
    plain = [s.text for s in transcribe(listen(wav, ff), engine, language="en").transcript.segments]
    heard = transcribe(listen(wav, ff), engine, language="en", glossary=g, names=("Maria Silva",)).transcript
    named = [s.text for s in heard.segments]
    assert " ".join(named).count("MoHRSS") == 2 and " ".join(plain).count("MoHRSS") < 2, (plain, named)
    for was, now in zip(plain, named):  # nothing changed but where a name now stands
        a, b = was.split(), now.split()
        for tag, _, _, j1, j2 in SequenceMatcher(None, a, b).get_opcodes():
            assert tag == "equal" or any(n in " ".join(b[j1:j2]) for n in ("MoHRSS", "ILO")), (was, now)
    assert heard.corrections and all(c["after"] != c["before"] for c in heard.corrections)
    assert "Mothers usually collect" in " ".join(named), named
