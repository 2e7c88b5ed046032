"""Machine translation that can be published: true to the glossary, guarded, cached, one to one.

Any backend (`engines.translators`) answers requests; this core decides what to ask and what to
keep. Each segment goes with the glossary terms found in it as required translations and its
neighbours as context; each answer is cleaned (control characters out, Simplified Chinese with
Chinese punctuation) and checked: written in the target's script, no leaked instructions, no
repetition loop, a plausible length, every required term there. A failed check is asked again
once, more strictly; a segment that still fails is reported and left out (the source is never
published as its own translation), a term still missing is reported (JSON, `check`). Answers are
cached by everything they depend on, so a re-run translates only what changed.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from media_tool.engines.models import release_memory, user_cache
from media_tool.engines.quality import (
    Similarity,
    Verdict,
    hard_problems,
    hints,
    judge_all,
    leftover_words,
    missing_terms,
    problem,
)
from media_tool.model.glossary import Glossary
from media_tool.store.files import write_json
from media_tool.text.script import (
    as_chinese,
    close_gaps,
    close_sentence,
    has_han,
    has_latin,
    needs_punctuation,
    same_characters,
)

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
BEAMS = 4
"""Candidates asked for a line whose first answer failed a check."""


@dataclass(frozen=True)
class Request:
    """One text to translate, with what the backend should know about it."""

    text: str
    source: str
    target: str
    terms: tuple[tuple[str, str], ...] = ()  # (term as in the source, its required translation)
    before: str = ""                         # the line before, for context only
    after: str = ""
    context: str = ""                        # the episode's title (or the notes' first line), for context
    strict: bool = False                     # a second try: the instructions said more firmly
    hints: tuple[str, ...] = ()              # on a second try: what the first answer lost
    avoid: tuple[str, ...] = ()              # on a second try: source words the first answer left untranslated

    def key(self, backend_id: str) -> str:
        """What the answer depends on, hashed: the backend, its prompt revision, the text and its terms.
        Not the context: when a person corrects one line, only that line is translated again."""
        material = json.dumps([backend_id, self.source, self.target, self.text, self.terms], ensure_ascii=False)
        return hashlib.sha256(material.encode()).hexdigest()


@dataclass
class Translated:
    """The answers, one per request (None where none could be trusted), and what to report."""

    texts: list[str | None]
    misses: list[tuple[int, str]] = field(default_factory=list)    # (index, a required term not rendered)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (index, why no translation was kept)
    cached: int = 0
    verdicts: list[dict | None] = field(default_factory=list)      # {"score", "doubt", "alternatives"}

    def to_dict(self) -> dict:
        return {"misses": [{"segment": i, "problem": p} for i, p in self.misses],
                "failures": [{"segment": i, "problem": p} for i, p in self.failures], "cached": self.cached,
                "verdicts": self.verdicts}


class Cache:
    """Translations by request key, in one JSON file (`translations.json` in the user's model cache):
    derived data, so a damaged file is an empty cache, and it is written atomically."""

    def __init__(self, path: Path | None):
        self.path, self._lock, self.entries = path, threading.Lock(), {}
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.entries = {k: v for k, v in data.items() if isinstance(k, str) and _entry(v)}
            except (OSError, ValueError, AttributeError):
                self.entries = {}
        self._dirty = False

    def get(self, key: str) -> str | None:
        """The text kept for `key` (see `verdict` for what was judged of it)."""
        with self._lock:
            v = self.entries.get(key)
        return v.get("text") if isinstance(v, dict) else v

    def verdict(self, key: str) -> dict | None:
        """The score, doubt and alternatives kept with a translation, where they were."""
        with self._lock:
            v = self.entries.get(key)
        return {k: x for k, x in v.items() if k != "text"} if isinstance(v, dict) else None

    def put(self, key: str, text: str | dict) -> None:
        with self._lock:
            self.entries[key] = text
            self._dirty = True

    def save(self) -> None:
        """Written atomically, merged with what another process saved meanwhile."""
        with self._lock:
            if self.path is None or not self._dirty:
                return
            try:
                on_disk = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(on_disk, dict):
                    self.entries = {**{k: v for k, v in on_disk.items() if _entry(v)}, **self.entries}
            except (OSError, ValueError):
                pass
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json(self.path, self.entries)
            self._dirty = False


def _entry(v) -> bool:
    return isinstance(v, str) or (isinstance(v, dict) and isinstance(v.get("text"), str))


def clean(text: str, target: str) -> str:
    """An answer as it may be published: one line, no control or direction characters, no quotes
    the model wrapped it in; Chinese in Simplified characters with Chinese punctuation."""
    text = unicodedata.normalize("NFC", CONTROL.sub("", text))
    text = " ".join(text.split())
    for a, b in (('"', '"'), ("“", "”"), ("「", "」"), ("«", "»")):
        if len(text) > 2 and text.startswith(a) and text.endswith(b) and a not in text[1:-1]:
            text = text[1:-1].strip()
    if target == "zh":
        text = close_gaps(as_chinese(text))
    return text


def user_translations() -> Cache:
    """The translations one machine has made, shared by every show and every `media-tool transcribe`
    on it (the same sentence, terms and model give the same answer)."""
    return Cache(user_cache() / "translations.json")


ProgressFn = Callable[[float], None]


def translate_all(backend, requests: list[Request], *, cache: Cache | None = None,
                  progress: ProgressFn | None = None, similarity: Similarity | None = None) -> Translated:
    """Every request answered by `backend` and judged (`engines.quality`): a line whose answer fails a
    hard check is asked again, for several candidates told what the first one lost, and the best is
    kept; a line no answer can stand for is reported and left out (never the source under the
    target's name). Each kept line has its score, its doubt and the other candidates."""
    ident = f"{backend.name}:{getattr(backend, 'revision', 0)}:{getattr(backend, 'model_name', '')}"
    out: list[str | None] = [None] * len(requests)
    result = Translated(out, verdicts=[None] * len(requests))
    todo = []
    for i, r in enumerate(requests):
        key = r.key(ident)
        hit = cache.get(key) if cache else None
        if hit is not None:
            out[i], result.cached = hit, result.cached + 1
            result.verdicts[i] = cache.verdict(key)
        elif not r.text.strip():
            out[i] = ""
        else:
            todo.append(i)
    first = _ask(backend, [requests[i] for i in todo], (lambda f: progress(0.7 * f)) if progress else None)
    answers: dict[int, list[str]] = {i: [clean(a, requests[i].target)] for i, a in zip(todo, first)}
    failed = {i: hard_problems(requests[i], answers[i][0]) for i in todo}
    retry = [i for i in todo if failed[i]]
    again = [replace(requests[i], strict=True, hints=tuple(hints(failed[i])),
                     avoid=tuple(leftover_words(requests[i], answers[i][0]))) for i in retry]
    for i, more in zip(retry, _candidates(backend, again, (lambda f: progress(0.7 + 0.3 * f)) if progress else None)):
        answers[i] = list(dict.fromkeys(answers[i] + [clean(a, requests[i].target) for a in more]))
    # judged once every answer is in: the generator's working memory is given back first, so the embedding
    # model's never adds to it at its peak
    if similarity is not None and todo:
        release_memory()
    kept = judge_all([(requests[i], answers[i]) for i in todo], similarity)
    for i, verdicts in zip(todo, kept):
        r, verdicts = requests[i], sorted(verdicts, key=Verdict.rank)  # stable: the first answer wins a tie
        best = verdicts[0]
        if why := problem(r, best.text):
            result.failures.append((i, why))
            continue
        out[i] = best.text
        others = [v.text for v in verdicts[1:] if v.text != best.text and len(v.problems) <= len(best.problems)
                  and problem(r, v.text) is None][:3]  # no worse than the one kept: a reviewer's real choices
        result.verdicts[i] = {"score": best.score, "doubt": best.doubt, "alternatives": others}
        if cache is not None:  # kept answers are cached, doubts and all: a re-run gives the same text and report
            cache.put(r.key(ident), {"text": best.text, **result.verdicts[i]})
    for i, r in enumerate(requests):
        if out[i]:
            result.misses += [(i, m) for m in missing_terms(r, out[i])]
    if progress:
        progress(1.0)
    return result


def _candidates(backend, requests: list[Request], progress: ProgressFn | None) -> list[list[str]]:
    """Several answers per request where the backend can give them (the local model's beams), else one."""
    if not requests:
        return []
    if hasattr(backend, "candidates_for"):
        out = backend.candidates_for(requests, BEAMS, progress=progress)
        if len(out) != len(requests):
            raise ValueError(f"{backend.name} returned {len(out)} answers for {len(requests)} requests")
        return [[a for a in c if isinstance(a, str)] or [""] for c in out]
    return [[a] for a in _ask(backend, requests, progress)]


def _ask(backend, requests: list[Request], progress: ProgressFn | None) -> list[str]:
    if not requests:
        return []
    if hasattr(backend, "translate_requests"):
        answers = backend.translate_requests(requests, progress=progress)
    else:  # a backend that takes plain texts (argostranslate, a chat endpoint)
        answers = backend.translate([r.text for r in requests])
    if len(answers) != len(requests):
        raise ValueError(f"{backend.name} returned {len(answers)} answers for {len(requests)} requests")
    return [a if isinstance(a, str) else "" for a in answers]


def punctuate(backend, texts: list[str], *, cache: Cache | None = None) -> tuple[list[str], int]:
    """Chinese segments with the punctuation Whisper left out put back: those `needs_punctuation` finds
    bare go to `backend` (the local model, which takes a zh->zh request as "punctuate this") and its
    answer is kept only if every character is unchanged (`same_characters`); every segment then ends in
    a closing mark. Without a backend that takes requests, only the closing marks. Returns the texts and
    how many the model punctuated."""
    bare = [i for i, t in enumerate(texts) if needs_punctuation(t)]
    out = list(texts)
    restored = 0
    if bare and backend is not None and hasattr(backend, "translate_requests"):
        ident = f"{backend.name}:{getattr(backend, 'revision', 0)}:{getattr(backend, 'model_name', '')}"
        requests = [Request(texts[i], "zh", "zh") for i in bare]
        answers: dict[int, str | None] = {i: cache.get(r.key(ident)) if cache else None
                                          for i, r in zip(bare, requests)}
        todo = [(i, r) for i, r in zip(bare, requests) if answers[i] is None]
        for (i, r), answer in zip(todo, _ask(backend, [r for _, r in todo], None)):
            answer = as_chinese(answer.strip())
            answers[i] = answer if same_characters(texts[i], answer) else texts[i]
            if cache is not None:
                cache.put(r.key(ident), answers[i])
        for i in bare:
            restored += answers[i] != texts[i]
            out[i] = answers[i]
    return [close_sentence(t) for t in out], restored


def segment_requests(texts: list[str], source: str, target: str, glossary: Glossary,
                     context: str = "") -> list[Request]:
    """One request per segment, with the glossary's terms, the line before and `context` (the title)."""
    return [Request(t, source, target, glossary.required(t, source),
                    before=texts[i - 1] if i > 0 else "", after=texts[i + 1] if i + 1 < len(texts) else "",
                    context=context)
            for i, t in enumerate(texts)]


# -- text: titles, show notes, chapter titles ------------------------------------------------------------
_FENCE = re.compile(r"^(```|~~~)")
_LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)(\s+\"[^\"]*\")?\)")
_CODE = re.compile(r"`[^`]+`")
_PREFIX = re.compile(r"^(\s*(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)*)")


FALLBACK = {"zh": "（此段未能机器翻译，以下是英文原文 · This paragraph could not be machine-translated: the English original follows）",
            "en": "(This paragraph could not be machine-translated: the Chinese original follows · 此段未能机器翻译，以下是中文原文)"}
"""The label before a paragraph left in its own language: a reader is told, never misled."""


def translate_text(backend, text: str, source: str, target: str, glossary: Glossary = Glossary(), *,
                   cache: Cache | None = None, context: str = "") -> tuple[str | None, list[str]]:
    """A title or Markdown notes in `target`: paragraph by paragraph (a wrapped paragraph joined into
    one line; list items and headings line by line, their markers kept), code blocks, inline code and
    link addresses untouched, `context` (the title, or the notes for a title) and the paragraph before
    as context. A paragraph no answer can be trusted for stays as written, after a label that says so,
    and the rest is translated; None only where nothing could be (a title that failed). Returns the
    text and the problems: terms missed, paragraphs left as written."""
    pieces: list[tuple[str, str]] = []  # (kind, text): "keep" as it is, "say" to translate
    fenced = False
    for line in text.split("\n"):
        if _FENCE.match(line.strip()):
            fenced = not fenced
            pieces.append(("keep", line))
        elif fenced or not line.strip():
            pieces.append(("keep", line))
        elif (pieces and pieces[-1][0] == "say" and not _PREFIX.match(line).group(1)
              and not pieces[-1][1].lstrip().startswith("#")):
            # a paragraph wrapped over several lines is one sentence to the model, not two halves
            before = pieces[-1][1].rstrip()
            glue = "" if has_han(before[-1:]) else " "
            pieces[-1] = ("say", before + glue + line.strip())
        else:
            pieces.append(("say", line))
    jobs, slots = [], []
    for n, (kind, line) in enumerate(pieces):
        if kind != "say":
            continue
        prefix = _PREFIX.match(line).group(1)
        body, saved = _protect(line[len(prefix):])
        if not (has_han(body) or has_latin(body)):
            continue
        jobs.append(Request(body, source, target, glossary.required(body, source),
                            before=jobs[-1].text[:300] if jobs else "", context=context[:300]))
        slots.append((n, prefix, saved))
    done = translate_all(backend, jobs, cache=cache)
    problems = [f"{jobs[i].text[:40]!r}: {m}" for i, m in done.misses]
    left = 0
    for k, ((n, prefix, saved), answer) in enumerate(zip(slots, done.texts)):
        restored = _restore(answer, saved) if answer is not None else None
        if restored is None:
            why = next((p for i, p in done.failures if i == k), "a link or a piece of code was lost")
            problems.append(f"{jobs[k].text[:40]!r}: could not be translated ({why}): left as written, labelled")
            left += 1
            pieces[n] = ("keep", f"{prefix}{FALLBACK[target]} {pieces[n][1][len(prefix):]}")
            continue
        pieces[n] = ("keep", prefix + restored)
    if jobs and left == len(jobs):
        return None, problems  # nothing translated (a title that failed): nothing to publish under `target`
    return "\n".join(p for _, p in pieces), problems


def _protect(text: str) -> tuple[str, list[str]]:
    """Link addresses and inline code replaced by numbered marks the model copies through."""
    saved: list[str] = []

    def mark(value: str) -> str:
        saved.append(value)
        return f"⟦{len(saved) - 1}⟧"

    text = _CODE.sub(lambda m: mark(m.group()), text)
    text = _LINK.sub(lambda m: m.group(1) + "(" + mark(m.group(2) + (m.group(3) or "")) + ")", text)
    return text, saved


def _restore(text: str, saved: list[str]) -> str | None:
    for i, value in enumerate(saved):
        if f"⟦{i}⟧" not in text:
            return None  # the model lost a link or a piece of code: not published
        text = text.replace(f"⟦{i}⟧", value)
    return text
