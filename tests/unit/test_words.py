"""The episode's own words in both languages (stages/translate/words.py): what a person wrote in one
language only is asked of the translator, the machine's notes are labelled, a person's text wins."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from media_tool.model.show import Chapter, load_episode, load_show
from media_tool.stages.translate.words import (
    translate_words,
    wanted,
    with_words,
)
from media_tool.text.script import written_in

ROOT = Path(__file__).resolve().parents[2]


class Echo:
    """A translator with one answer (the real one is tested in test_translate); it records what it was asked."""

    name, model_name = "echo", "test"

    def __init__(self):
        self.asked = []

    def translate_requests(self, requests, progress=None):
        self.asked += [r.text for r in requests]
        return ["".join(chr(0x4E00 + 37 * i % 4000) for i in range(max(3, len(r.text) // 3))) + "。"
                for r in requests]  # Chinese of about the right length, no loop


def _cfg():
    return load_episode(load_show(ROOT), "ep-001-pensions")  # titles in both languages, English notes.md


def test_only_what_a_person_left_out_is_wanted():
    cfg = _cfg()
    asked = wanted(cfg)
    assert [(w["field"], w["target"]) for w in asked] == [("notes", "zh")]  # titles and chapters are bilingual
    one = replace(cfg, title={"": "Pensions"}, chapters=(Chapter(0.0, {"en": "Welcome"}),))
    fields = sorted((w["field"], w["source"], w["target"]) for w in wanted(one))
    assert fields == [("chapter", "en", "zh"), ("notes", "en", "zh"), ("title", "en", "zh")]


def test_the_machines_notes_are_labelled_and_a_persons_text_wins():
    cfg = replace(_cfg(), title={"en": "Pensions"})
    echo = Echo()
    made, problems = translate_words(cfg, lambda a, b: echo, cache=None)
    # the producer is told the Chinese title is the machine's, and nothing else is wrong
    assert problems == ["title: given in English only; the Chinese feed and pages show the machine's translation "
                        "(add title.zh to episode.toml to choose it)"] and "Pensions" in echo.asked
    out = with_words(cfg, made)
    assert out.title["en"] == "Pensions" and out.title["zh"].endswith("。")
    assert "title.zh" in out.machine and "title.en" not in out.machine  # the page marks the machine's title
    label = out.notes["zh"].split("\n", 1)[0]
    assert label == "*机器翻译 · machine translation：本集说明由机器译自英文。*"  # plain words a listener reads
    assert "echo" not in out.notes["zh"]  # the translator's id is for the JSON, not the listener
    assert out.notes["en"] == cfg.notes[""]  # notes.md is English (read from its text), kept as written
    made, problems = translate_words(cfg, lambda a, b: None)
    assert not made and problems and all("shown in its place" in p for p in problems)


def test_the_language_of_notes_is_read_from_their_text():
    assert written_in("养老金制度为什么重要？我们来看覆盖范围和基本养老金。", "en") == "zh"
    assert written_in("What makes a pension system work for everyone?", "zh") == "en"
    assert written_in("What makes a pension work? 养老金制度为什么重要？我们来看覆盖范围。", "en") is None  # both
