"""Mandarin the recogniser wrote with the wrong characters, put right by sound and by how Chinese is
written (pure, given jieba's word list and pypinyin's readings).

Whisper often writes a word with characters that sound alike: 即并 for 疾病, 再是点 for 在试点, 领去 for
领取. Such a stretch is rarely a word, and a word with the same toneless pinyin is far more probable
in its place. `correct` reads each run of Chinese characters with jieba's unigram model (the
log-probability of its best segmentation) and tries every short stretch that is not itself a common
word against the dictionary's words that sound the same; the replacements that make the run more
probable, and a few single characters Whisper swaps (再/在), are put to a judge that reads the
whole line (the local language model), which takes one only when the line becomes far more probable
(`JUDGED`, in nats). A right word is never "corrected": a stretch that is a common word, or part of a
glossary term or a name, is left alone, and a replacement the judge finds no better loses (个体工商户
stays).
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass

from media_tool.text.script import HAN_RUN, jieba_tokenizer

COMMON = 200
"""A stretch with at least this frequency in jieba's dictionary is a word people write: never replaced."""
MIN_FREQ = 20
"""A candidate word must be at least this frequent (rare dictionary words are mostly names)."""
LENGTHS = (4, 3, 2)


@dataclass(frozen=True)
class Fix:
    segment: int
    before: str
    after: str

    def to_dict(self) -> dict:
        return {"segment": self.segment, "before": self.before, "after": self.after, "by": "sound"}


@functools.lru_cache(maxsize=None)
def readings(ch: str) -> frozenset[str]:
    """Every toneless pinyin reading of one character."""
    from pypinyin import Style, pinyin

    return frozenset(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])




def frequency(word: str) -> int:
    return jieba_tokenizer().FREQ.get(word, 0)


def near(syllable: str) -> str:
    """A syllable with the distinctions Whisper most often loses folded away (n/ng, zh/z, ch/c, sh/s):
    天众 for 听众, 陈相 for 城乡."""
    s = re.sub(r"^(zh|ch|sh)", lambda m: m.group()[0], syllable)
    return s[:-1] if s.endswith("ng") else s


@functools.lru_cache(maxsize=1)
def _by_sound() -> dict[tuple[str, ...], list[tuple[str, int]]]:
    """The dictionary's words of 2-4 characters (frequency >= MIN_FREQ) by folded toneless pinyin
    (`near`), each word under its reading as a word (pypinyin's phrase readings: 重要 zhong yao, not chong)."""
    from pypinyin import Style, lazy_pinyin

    out: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for word, freq in jieba_tokenizer().FREQ.items():
        if freq >= MIN_FREQ and 2 <= len(word) <= 4 and HAN_RUN.fullmatch(word):
            out.setdefault(tuple(near(x) for x in lazy_pinyin(word, style=Style.NORMAL)), []).append((word, freq))
    return out


def _candidates(window: str) -> list[str]:
    """Dictionary words that sound like `window`, or nearly (every character's readings tried): those
    of the very same sound first, then the near ones, each by frequency."""
    found: dict[str, tuple[int, int]] = {}
    exact = [readings(ch) for ch in window]
    combos = itertools.product(*(sorted({near(r) for r in readings(ch)}) for ch in window))
    for key in itertools.islice(combos, 64):
        for word, freq in _by_sound().get(key, ()):
            same = all(readings(a) & b for a, b in zip(word, exact))
            found[word] = (0 if same else 1, -freq)
    ranked = [(w, k) for w, k in sorted(found.items(), key=lambda x: x[1]) if w != window]
    same = [w for w, (kind, _) in ranked if kind == 0]
    return same or [w for w, _ in ranked]  # a near sound only where no word has the very same


def log_probability(run: str) -> float:
    """The log-probability of a run of Chinese by jieba's unigram model (its best segmentation)."""
    dt = jieba_tokenizer()
    dag = dt.get_DAG(run)
    route: dict[int, tuple[float, int]] = {len(run): (0.0, 0)}
    total = math.log(dt.total)
    for i in range(len(run) - 1, -1, -1):
        route[i] = max((math.log(dt.FREQ.get(run[i:j + 1]) or 1) - total + route[j + 1][0], j) for j in dag[i])
    return route[0][0]


def _protected(run: str, keep: tuple[str, ...]) -> set[int]:
    """Positions inside a glossary term or a name: never part of a replacement."""
    out: set[int] = set()
    for term in keep:
        for m in re.finditer(re.escape(term), run):
            out.update(range(m.start(), m.end()))
    return out


def proposals(run: str, keep: tuple[str, ...] = (), floor: float = 1.0) -> list[tuple[float, str]]:
    """Each replacement of one stretch of `run` by a word that sounds the same which makes the run at
    least `floor` nats more probable: (gain, the new run), the best first, one per stretch."""
    base, out = log_probability(run), []
    guarded = _protected(run, keep)
    for n in LENGTHS:
        for i in range(len(run) - n + 1):
            window = run[i:i + n]
            if frequency(window) >= COMMON or guarded & set(range(i, i + n)):
                continue
            best = None
            for c in _candidates(window)[:8]:
                new = run[:i] + c + run[i + n:]
                gain = log_probability(new) - base
                if gain >= floor and (best is None or gain > best[0]):
                    best = (gain, new)
            if best:
                out.append(best)
    return sorted(out, key=lambda x: -x[0])


CONFUSABLE = ("在再", "做作", "那哪", "已以", "须需", "像象")
"""Single characters the recogniser swaps for one of the same sound (再试点 for 在试点): put to the
judge alone, never replaced by the dictionary, which cannot read grammar."""
PROPOSE = 1.0
"""With a judge, stretches whose replacement makes the run this much more probable by the dictionary
are put to it (a word list alone cannot tell 领去 from 领取 by a wide margin: 3.7 nats)."""
JUDGED = 2.5
"""The judge (the local language model, which reads the whole line) must find the new line this much
more probable (in nats) for a replacement to be taken."""


def correct(texts: list[str], keep: tuple[str, ...] = (), fluency=None) -> tuple[list[str], list[Fix]]:
    """Each line with its misheard words put right, and what was changed (for the JSON and a reviewer).
    The dictionary proposes, `fluency` (the local model's: texts -> log-probabilities) reads each
    whole line and decides. Without a judge nothing is changed: the dictionary alone "corrected" 7 of
    139 right sentences (更低 as 耕地, 自付 as 字符), the judge none."""
    if fluency is None:
        return list(texts), []
    out, todo = list(texts), set(range(len(texts)))
    for _ in range(3):  # more rounds for a line with several misheard words
        variants: list[tuple[int, str]] = []
        for n in sorted(todo):
            text = out[n]
            guarded = _protected(text, keep)
            for m in HAN_RUN.finditer(text):
                for _, new_run in proposals(m.group(), keep, PROPOSE)[:3]:
                    variants.append((n, text[:m.start()] + new_run + text[m.end():]))
            for i, ch in enumerate(text):
                for group in CONFUSABLE:
                    if ch in group and i not in guarded:
                        variants += [(n, text[:i] + other + text[i + 1:]) for other in group if other != ch]
        if not variants:
            break
        lines = sorted({n for n, _ in variants})
        scores = fluency([out[n] for n in lines] + [v for _, v in variants])
        base = dict(zip(lines, scores[:len(lines)]))
        best: dict[int, tuple[float, str]] = {}
        for (n, v), score in zip(variants, scores[len(lines):]):
            gain = score - base[n]
            if gain >= JUDGED and (n not in best or gain > best[n][0]):
                best[n] = (gain, v)
        for n, (_, v) in best.items():
            out[n] = v
        todo = set(best)
        if not todo:
            break
    fixes = [f for n, (a, b) in enumerate(zip(texts, out)) for f in _changes(n, a, b)]
    return out, fixes


def _changes(n: int, before: str, after: str) -> list[Fix]:
    """What changed in one line, run by run (the same runs: replacements keep lengths in script)."""
    if before == after:
        return []
    a, b = HAN_RUN.findall(before), HAN_RUN.findall(after)
    if len(a) != len(b):
        return [Fix(n, before, after)]
    return [Fix(n, x, y) for x, y in zip(a, b) if x != y]
