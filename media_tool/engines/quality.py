"""How far a machine translation can be trusted, with no reference to compare it with (pure).

Hard checks say why an answer cannot stand as it is: it is not in the target's script, repeats the
instructions, loops, has an implausible length, leaves out a required glossary term, keeps a word of
the source's script, or loses (or adds) a number, a negation, a comparison, "only" or a cause
(`text.meaning`). Soft signals rank what passes: the cross-lingual similarity of source and answer
by the multilingual embedding model, where the caller has one. `score` folds them into one number in
0..1 that the review queue sorts by, and `doubt` says in words why a person should look.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from media_tool.engines.guards import compression_ratio
from media_tool.model.glossary import has_term
from media_tool.text.meaning import critical_problems
from media_tool.text.script import (
    comparable_size,
    han_count,
    has_han,
    has_latin,
    latin_count,
)

LEAKS = ("<|im_", "<text>", "</text>", "translate the", "translation:", "required term", "context only",
         "the line before", "line before:", "episode:", "简体中文翻译", "翻译：", "以下是", "here is the translation")
"""Words of the instructions (or a chatty preamble) that never belong in a translation."""
Similarity = Callable[[list[tuple[str, str]]], list[float]]
"""(source, answer) pairs -> cosine similarity of their meaning (e5), one per pair."""
DOUBTFUL = 0.6
"""Lines scored under this go to the review queue (with every line a hard check failed)."""


def problem(req, answer: str) -> str | None:
    """Why `answer` cannot be published as the translation of `req` at all, or None."""
    if not answer.strip():
        return "empty answer"
    lowered = answer.lower()
    if any(leak in lowered for leak in LEAKS) and not any(leak in req.text.lower() for leak in LEAKS):
        return "the answer repeats the instructions"
    han, latin = han_count(answer), latin_count(answer)
    if req.target == "zh" and has_latin(req.text) and han == 0 and not only_names(req.text):
        return "not Chinese"
    if req.target == "zh" and han and latin > 2 * han + 12:
        return "mostly not Chinese"
    if req.target == "en" and han:
        return "Chinese characters in the English"
    if (answer.strip() == req.text.strip() and not only_names(req.text)
            and (has_han(req.text) if req.target == "en" else has_latin(req.text))):
        return "the source text given back untranslated"
    if len(answer) > 40 and compression_ratio(answer) > 2.4:
        return "a repetition loop"
    src, out = comparable_size(req.text), comparable_size(answer)
    low, high = (0.15, 4.0) if len(req.text) > 12 else (0.05, 8.0)
    if not low * src <= out <= high * src + 8:
        return f"implausible length ({out:.0f} for {src:.0f})"
    return None


def only_names(text: str) -> bool:
    """A source that is only names, acronyms and numbers may stand as it is in Chinese (ILO, C102)."""
    words = re.findall(r"[A-Za-z][\w.-]*", text)
    return bool(words) and all(w[0].isupper() or any(c.isdigit() for c in w) for w in words) and len(words) <= 3


def missing_terms(req, answer: str) -> list[str]:
    """The required terms `answer` does not render as the glossary says."""
    return [f"{a!r} not rendered as {b!r}" for a, b in req.terms if not has_term(answer, b, req.target)]


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def leftover_words(req, answer: str) -> list[str]:
    """English words left in a Chinese answer ("我们为什么 informal就业…"): names, acronyms and the
    glossary's own renderings may stay, an ordinary lower-case word may not."""
    if req.target != "zh" or req.source != "en":
        return []
    allowed = {w.lower() for _, b in req.terms for w in _WORD.findall(b)}
    return [w for w in dict.fromkeys(_WORD.findall(answer)) if w.islower() and w not in allowed and len(w) > 2]


SHORT, LONG = 0.55, 2.0
"""The answer's size against the source's (`comparable_size`): faithful translations of the benchmark
sets run 0.65-1.5 (88 pairs, both ways); outside these bounds a clause is likely lost, or added."""


def length_problem(req, answer: str) -> str | None:
    """A translation far shorter or longer than its source (only for sources long enough to tell)."""
    src = comparable_size(req.text)
    if src < 24 or req.source == req.target:
        return None
    ratio = comparable_size(answer) / src
    if ratio < SHORT:
        return f"much shorter than what was said (size {ratio:.2f} of it): a part may be missing"
    if ratio > LONG:
        return f"much longer than what was said ({ratio:.1f} times): something may have been added"
    return None


def hard_problems(req, answer: str) -> list[str]:
    """Every reason the answer should not stand unchecked, in words a reviewer reads ([] if none)."""
    if why := problem(req, answer):
        return [why]
    out = missing_terms(req, answer)
    if left := leftover_words(req, answer):
        out.append("English left in the Chinese: " + ", ".join(left))
    if size := length_problem(req, answer):
        out.append(size)
    if req.source != req.target:
        out += critical_problems(req.text, answer, req.source)
    return out


@dataclass(frozen=True)
class Verdict:
    """One answer judged: its score (0..1), the hard problems, the similarity where measured."""

    text: str
    problems: tuple[str, ...]
    similarity: float | None = None

    @property
    def score(self) -> float:
        checks = max(0.0, 1.0 - 0.45 * len(self.problems))  # any hard problem puts a line under DOUBTFUL
        if self.similarity is None:
            return round(checks, 3)
        meaning = min(1.0, max(0.0, (self.similarity - 0.70) / 0.22))  # e5: unrelated ~0.7, faithful ~0.9
        return round(checks * (0.6 + 0.4 * meaning), 3)  # so every line that passes ranks above every one that fails

    @property
    def doubt(self) -> str | None:
        """Why a person should check the line, or None."""
        if self.problems:
            return "; ".join(self.problems)
        if self.score < DOUBTFUL + 0.05 and self.similarity is not None:
            return f"its meaning is far from the source's (similarity {self.similarity:.2f})"
        return None

    def rank(self) -> tuple:
        """The order candidates are kept in: fewest hard problems, then the most similar."""
        return (len(self.problems), -(self.similarity or 0.0))


def judge(req, answers: list[str], similarity: Similarity | None = None) -> list[Verdict]:
    """Each answer of one request judged (`similarity` for those that pass the first check)."""
    return judge_all([(req, answers)], similarity)[0]


def judge_all(items: list[tuple], similarity: Similarity | None = None) -> list[list[Verdict]]:
    """`judge` for many requests at once ((request, answers) each), the similarities in one call."""
    found = [[tuple(hard_problems(r, a)) for a in answers] for r, answers in items]
    pairs, where = [], []
    for k, (r, answers) in enumerate(items):
        for j, a in enumerate(answers):
            if similarity is not None and r.source != r.target and a.strip() and problem(r, a) is None:
                pairs.append((r.text, a))
                where.append((k, j))
    sims: dict[tuple[int, int], float] = dict(zip(where, similarity(pairs))) if pairs else {}
    return [[Verdict(a, p, sims.get((k, j))) for j, (a, p) in enumerate(zip(answers, found[k]))]
            for k, (_, answers) in enumerate(items)]


_SMALL = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "twenty": 20, "thirty": 30, "fifty": 50, "hundred": 100, "a hundred": 100}
_EN_BIG = re.compile(r"\b(\d+(?:\.\d+)?|a hundred|" + "|".join(_SMALL) + r")\s+(million|billion)\b", re.IGNORECASE)
_ZH_BIG = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿)")


def prepared(text: str, source: str, target: str) -> str:
    """The source as the model reads it: large numbers written the way the target counts them (a small
    model turns "two million" into 2000万 as often as into 200万, and 2亿 into "20 million"): "two
    million" reads 200万 for Chinese, 150万 reads "1.5 million" for English. The check still compares
    the answer with the source as written."""
    if source == "en" and target == "zh":
        def zh(m: re.Match) -> str:
            n = m.group(1).lower()
            v = (float(n) if n[0].isdigit() else _SMALL[n]) * (10 ** 6 if m.group(2).lower() == "million" else 10 ** 9)
            return f"{v / 10 ** 8:g}亿" if v >= 10 ** 8 else f"{v / 10 ** 4:g}万"
        return _EN_BIG.sub(zh, text)
    if source == "zh" and target == "en":
        def en(m: re.Match) -> str:
            v = float(m.group(1)) * (10 ** 4 if m.group(2) == "万" else 10 ** 8)
            if v >= 10 ** 9:
                return f" {v / 10 ** 9:g} billion "
            return f" {v / 10 ** 6:g} million " if v >= 10 ** 6 else f" {v:,.0f} "
        return _ZH_BIG.sub(en, text)
    return text


_HINTS = {"negation": "keep the negation (not / no / 不 / 没有)", "less or lower": "keep “less / lower” (少 / 减 / 低)",
          "more or higher": "keep “more / higher” (多 / 增 / 高)", "only": "keep “only” (只 / 仅)",
          "cause": "keep the cause (because / so / 因为 / 所以)",
          "“almost”": "keep “almost / hardly” (几乎 / 差不多)"}


def hints(problems: tuple[str, ...] | list[str]) -> list[str]:
    """What a second request should ask for, from what the first answer lost."""
    out = []
    for p in problems:
        m = re.match(r"the (.+) of the source is lost", p)
        if m and m.group(1) in _HINTS:
            out.append(_HINTS[m.group(1)])
        elif p.startswith("the number") and "not in the translation" in p:
            out.append("keep " + p.split(" is not")[0].removeprefix("the "))
        elif p == "a negation the source does not have":
            out.append("add no negation the text does not have")
        elif p.startswith("English left"):
            out.append("translate every English word into Chinese")
    return out
