"""The language policy every stage asks (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from media_tool.model.language import LANGUAGES, feed_languages, first, other_language


@dataclass
class _Show:
    language: str
    title: dict = field(default_factory=dict)


def test_the_other_language_both_ways():
    assert other_language("en") == "zh"
    assert other_language("zh") == "en"
    assert set(LANGUAGES) == {"en", "zh"}


def test_first_puts_the_spoken_language_first():
    assert first("zh") == ("zh", "en")
    assert first("en") == ("en", "zh")


def test_feeds_exist_for_the_show_language_and_each_titled_other():
    assert feed_languages(_Show("en", {"en": "Dialogues", "zh": "对话"})) == ["en", "zh"]
    assert feed_languages(_Show("zh", {"en": "Dialogues", "zh": "对话"})) == ["zh", "en"]
    assert feed_languages(_Show("en", {"en": "Dialogues"})) == ["en"]
