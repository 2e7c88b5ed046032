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

from media_tool.engines.guards import compression_ratio
from media_tool.engines.models import user_cache
from media_tool.model.glossary import Glossary, has_term
from media_tool.store.files import write_json
from media_tool.text.script import (
    as_chinese,
    close_gaps,
    close_sentence,
    comparable_size,
    han_count,
    has_han,
    has_latin,
    latin_count,
    needs_punctuation,
    same_characters,
)

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
LEAKS = ("<|im_", "translate the", "translation:", "required term", "context only", "the line before",
         "简体中文翻译", "翻译：", "以下是", "here is the translation")
"""Words of the instructions (or a chatty preamble) that never belong in a translation."""


@dataclass(frozen=True)
class Request:
    """One text to translate, with what the backend should know about it."""

    text: str
    source: str
    target: str
    terms: tuple[tuple[str, str], ...] = ()  # (term as in the source, its required translation)
    before: str = ""                         # the neighbouring source text, for context only
    after: str = ""
    strict: bool = False                     # a second try: the instructions said more firmly

    def key(self, backend_id: str) -> str:
        """What the answer depends on, hashed: the backend, its prompt revision, the text, the terms, the context."""
        material = json.dumps([backend_id, self.source, self.target, self.text, self.terms, self.before,
                               self.after], ensure_ascii=False)
        return hashlib.sha256(material.encode()).hexdigest()


@dataclass
class Translated:
    """The answers, one per request (None where none could be trusted), and what to report."""

    texts: list[str | None]
    misses: list[tuple[int, str]] = field(default_factory=list)    # (index, a required term not rendered)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (index, why no translation was kept)
    cached: int = 0

    def to_dict(self) -> dict:
        return {"misses": [{"segment": i, "problem": p} for i, p in self.misses],
                "failures": [{"segment": i, "problem": p} for i, p in self.failures], "cached": self.cached}


class Cache:
    """Translations by request key, in one JSON file (`translations.json` in the user's model cache):
    derived data, so a damaged file is an empty cache, and it is written atomically."""

    def __init__(self, path: Path | None):
        self.path, self._lock, self.entries = path, threading.Lock(), {}
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.entries = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}
            except (OSError, ValueError, AttributeError):
                self.entries = {}
        self._dirty = False

    def get(self, key: str) -> str | None:
        with self._lock:
            return self.entries.get(key)

    def put(self, key: str, text: str) -> None:
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
                    self.entries = {**{k: v for k, v in on_disk.items() if isinstance(v, str)}, **self.entries}
            except (OSError, ValueError):
                pass
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json(self.path, self.entries)
            self._dirty = False


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


def problem(req: Request, answer: str) -> str | None:
    """Why `answer` cannot be published as the translation of `req`, or None."""
    if not answer.strip():
        return "empty answer"
    lowered = answer.lower()
    if any(leak in lowered for leak in LEAKS) and not any(leak in req.text.lower() for leak in LEAKS):
        return "the answer repeats the instructions"
    han, latin = han_count(answer), latin_count(answer)
    if req.target == "zh" and has_latin(req.text) and han == 0 and not _only_names(req.text):
        return "not Chinese"
    if req.target == "zh" and han and latin > 2 * han + 12:
        return "mostly not Chinese"
    if req.target == "en" and han:
        return "Chinese characters in the English"
    if (answer.strip() == req.text.strip() and not _only_names(req.text)
            and (has_han(req.text) if req.target == "en" else has_latin(req.text))):
        return "the source text given back untranslated"
    if len(answer) > 40 and compression_ratio(answer) > 2.4:
        return "a repetition loop"
    src, out = comparable_size(req.text), comparable_size(answer)
    low, high = (0.15, 4.0) if len(req.text) > 12 else (0.05, 8.0)
    if not low * src <= out <= high * src + 8:
        return f"implausible length ({out:.0f} for {src:.0f})"
    return None


def _only_names(text: str) -> bool:
    """A source that is only names, acronyms and numbers may stand as it is in Chinese (ILO, C102)."""
    words = re.findall(r"[A-Za-z][\w.-]*", text)
    return bool(words) and all(w[0].isupper() or any(c.isdigit() for c in w) for w in words) and len(words) <= 3




def missing_terms(req: Request, answer: str) -> list[str]:
    """The required terms `answer` does not render as the glossary says."""
    return [f"{a!r} not rendered as {b!r}" for a, b in req.terms if not has_term(answer, b, req.target)]


def user_translations() -> Cache:
    """The translations one machine has made, shared by every show and every `media-tool transcribe`
    on it (the same sentence, terms and model give the same answer)."""
    return Cache(user_cache() / "translations.json")


ProgressFn = Callable[[float], None]


def translate_all(backend, requests: list[Request], *, cache: Cache | None = None,
                  progress: ProgressFn | None = None) -> Translated:
    """Every request answered by `backend`, checked, asked again once where a check failed; see the
    module's docstring for what is kept and what is reported."""
    ident = f"{backend.name}:{getattr(backend, 'revision', 0)}:{getattr(backend, 'model_name', '')}"
    out: list[str | None] = [None] * len(requests)
    result = Translated(out)
    todo = []
    for i, r in enumerate(requests):
        hit = cache.get(r.key(ident)) if cache else None
        if hit is not None:
            out[i], result.cached = hit, result.cached + 1
        elif not r.text.strip():
            out[i] = ""
        else:
            todo.append(i)
    first = _ask(backend, [requests[i] for i in todo],
                 (lambda f: progress(0.8 * f)) if progress else None)
    retry = []
    for i, answer in zip(todo, first):
        answer = clean(answer, requests[i].target)
        if problem(requests[i], answer) or missing_terms(requests[i], answer):
            retry.append(i)
        out[i] = answer
    second = _ask(backend, [replace(requests[i], strict=True) for i in retry], None)
    for i, answer in zip(retry, second):
        r = requests[i]
        answer = clean(answer, r.target)
        keep = min((out[i], answer), key=lambda a: (problem(r, a) is not None, len(missing_terms(r, a))))
        if why := problem(r, keep):
            out[i] = None
            result.failures.append((i, why))
            continue
        out[i] = keep
    for i in todo:  # kept answers are cached, misses and all: a re-run gives the same text and report
        if out[i] is not None and cache is not None:
            cache.put(requests[i].key(ident), out[i])
    for i, r in enumerate(requests):
        if out[i]:
            result.misses += [(i, m) for m in missing_terms(r, out[i])]
    if progress:
        progress(1.0)
    return result


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


def segment_requests(texts: list[str], source: str, target: str, glossary: Glossary) -> list[Request]:
    """One request per segment, with the glossary's terms and the segments either side as context."""
    return [Request(t, source, target, glossary.required(t, source),
                    before=texts[i - 1] if i > 0 else "", after=texts[i + 1] if i + 1 < len(texts) else "")
            for i, t in enumerate(texts)]


# -- text: titles, show notes, chapter titles ------------------------------------------------------------
_FENCE = re.compile(r"^(```|~~~)")
_LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)(\s+\"[^\"]*\")?\)")
_CODE = re.compile(r"`[^`]+`")
_PREFIX = re.compile(r"^(\s*(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)*)")


def translate_text(backend, text: str, source: str, target: str, glossary: Glossary = Glossary(), *,
                   cache: Cache | None = None) -> tuple[str | None, list[str]]:
    """A title or Markdown notes in `target`: paragraph by paragraph (a wrapped paragraph joined into
    one line; list items and headings line by line, their markers kept), code blocks, inline code and link addresses untouched. None where a
    part could not be trusted (nothing half-translated is published); the terms missed."""
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
        jobs.append(Request(body, source, target, glossary.required(body, source)))
        slots.append((n, prefix, saved))
    done = translate_all(backend, jobs, cache=cache)
    misses = [f"{jobs[i].text[:40]!r}: {m}" for i, m in done.misses]
    for (n, prefix, saved), answer in zip(slots, done.texts):
        if answer is None:
            return None, misses
        restored = _restore(answer, saved)
        if restored is None:
            return None, misses
        pieces[n] = ("keep", prefix + restored)
    return "\n".join(p for _, p in pieces), misses


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
