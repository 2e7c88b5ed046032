"""Guards against Whisper's known failure modes, the same for every engine: text over silence or
music, stock subtitle credits, repetition loops; cleaned segments in Simplified Chinese where Chinese.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from media_tool.text.script import as_chinese
from media_tool.text.transcripts import Segment


@dataclass(frozen=True)
class RawSegment:
    start: float
    end: float
    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0

# Phrases Whisper invents over silence and music, learnt from subtitle credits in its training data.
STOCK_PHRASES = (
    "subtitles by the amara.org community", "amara.org", "subtitles by", "transcription by castingwords",
    "字幕由amara.org社区提供", "字幕由", "请不吝点赞", "订阅 转发 打赏", "明镜与点点栏目", "thanks for watching",
    "thank you for watching", "please subscribe", "like and subscribe",
)

def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data)))

def guard(segments: list[RawSegment], speech: list[tuple[float, float]]) -> list[RawSegment]:
    """Drop Whisper's known inventions: text over non-speech, stock credits, repetition loops."""
    out: list[RawSegment] = []
    for seg in segments:
        text = seg.text.strip()
        if not text:
            continue
        span = max(1e-3, seg.end - seg.start)
        overlap = sum(max(0.0, min(seg.end, b) - max(seg.start, a)) for a, b in speech)
        lowered = text.lower()
        if overlap / span < 0.2:
            continue  # nobody was speaking: invented text over silence or music
        if any(p in lowered for p in STOCK_PHRASES) and (seg.no_speech_prob > 0.3 or len(lowered) < 60):
            continue
        if compression_ratio(text) > 2.4:
            continue  # a repetition loop ("the the the ...")
        if len(out) >= 2 and out[-1].text.strip() == text == out[-2].text.strip():
            continue  # the same line a third time running
        out.append(seg)
    return out

UNSURE_LOGPROB = {"en": -0.8, "zh": -0.3}
"""A line whose words Whisper heard at a mean log-probability under this goes to the review queue. An
English word is one or a few tokens, a Chinese "word" a character, so Chinese needs a closer bound:
on the committed Mandarin fixtures the lines with wrong characters are mostly under -0.3 (0.74), the
right ones mostly over; on English, a planted sentence of French heard as English scores -1.0."""


def confidence(s: RawSegment, text: str, language: str = "en") -> tuple[float, str | None]:
    """How sure the recogniser was of a line (0..1, its words' mean probability) and why to check it."""
    score = round(math.exp(min(0.0, s.avg_logprob)), 3)
    if s.avg_logprob < UNSURE_LOGPROB.get(language, -0.8):
        return score, f"the recogniser was unsure (mean log-probability {s.avg_logprob:.2f})"
    if s.no_speech_prob > 0.6:
        return score, f"perhaps not speech (no-speech probability {s.no_speech_prob:.2f})"
    if len(text) > 20 and compression_ratio(text) > 2.0:
        return score, "it repeats itself"
    return score, None


def clean_segments(raw, language: str, speech) -> list[Segment]:
    """Model segments after the guards, trimmed; Chinese in Simplified characters with Chinese
    punctuation; each with the recogniser's confidence (`confidence`)."""
    out = []
    for s in guard(list(raw), speech):
        text = " ".join(s.text.split())
        if language == "zh":
            text = as_chinese(text)
        score, doubt = confidence(s, text, language)
        out.append(Segment(round(s.start, 3), round(s.end, 3), text, score=score, doubt=doubt))
    return out
