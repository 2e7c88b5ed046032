"""Machine translation backends behind one small protocol (`name`, `translate(texts) -> texts`):
offline argostranslate, where its package is installed, and an OpenAI-compatible chat-completions
endpoint (the API key read from the environment, never sent to another origin).
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from media_tool.errors import TranslationError
from media_tool.model.glossary import Glossary, has_term
from media_tool.model.settings import TranslationSettings
from media_tool.text.script import trailing_han


class ArgosTranslator:
    """Offline machine translation with argostranslate, when its en->zh package is installed."""

    name = "argos"

    def __init__(self, source: str, target: str):
        try:
            from argostranslate import translate as argos
        except ImportError as exc:
            raise TranslationError("argostranslate is not installed (pip install argostranslate, then "
                                   "install its en->zh package)") from exc
        langs = {lang.code: lang for lang in argos.get_installed_languages()}
        src, dst = langs.get(source), langs.get(target)
        translation = src.get_translation(dst) if src and dst else None
        if translation is None:
            raise TranslationError(f"no argostranslate {source}->{target} package is installed")
        self._t = translation

    def translate(self, texts: list[str]) -> list[str]:
        return [self._t.translate(t) for t in texts]

def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port

class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only within the endpoint's origin: the API key never travels elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if _origin(newurl) != _origin(req.full_url):
            raise TranslationError(f"translation endpoint {req.full_url} redirected to another origin "
                                   f"({urllib.parse.urlsplit(newurl).netloc}); refused, so the API key is not sent there")
        return super().redirect_request(req, fp, code, msg, headers, newurl)

_OPENER = urllib.request.build_opener(_SameOriginRedirects)

class ChatTranslator:
    """An OpenAI-compatible chat-completions endpoint; segments go in numbered batches as JSON."""

    name = "openai"

    def __init__(self, settings: TranslationSettings, source: str, target: str, glossary: Glossary = Glossary()):
        if not settings.url or not settings.model:
            raise TranslationError("[translation] engine = \"openai\" needs url and model")
        self.key = os.environ.get(settings.api_key_env, "")
        self.settings, self.source, self.target = settings, source, target
        self.glossary = glossary

    def _system(self) -> str:
        """The instructions, with the glossary as required terminology."""
        text = "You translate podcast transcripts."
        if self.glossary:
            pairs = [(t.zh, t.en) if self.source == "zh" else (t.en, t.zh) for t in self.glossary.terms]
            text += (" Use this terminology exactly (source term = required translation): "
                     + "; ".join(f"{a} = {b}" for a, b in pairs) + ".")
        return text

    def _ask(self, texts: list[str]) -> list[str]:
        names = {"en": "English", "zh": "Simplified Chinese"}
        prompt = (f"Translate each {names[self.source]} segment of a podcast transcript into "
                  f"{names[self.target]}. Answer with only a JSON array of {len(texts)} strings, one per "
                  f"segment, in order.\n" + json.dumps(texts, ensure_ascii=False))
        body = json.dumps({"model": self.settings.model, "temperature": 0,
                           "messages": [{"role": "system", "content": self._system()},
                                        {"role": "user", "content": prompt}]}).encode()
        url = self.settings.url.rstrip("/") + "/chat/completions"
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", **({"Authorization": f"Bearer {self.key}"} if self.key else {})})
        try:
            deadline = time.monotonic() + self.settings.timeout_s  # for the whole answer, not each byte
            with _OPENER.open(req, timeout=self.settings.timeout_s) as resp:
                body = b""
                while chunk := resp.read1(1 << 16):
                    body += chunk
                    if time.monotonic() > deadline or len(body) > 32 << 20:
                        raise TranslationError(f"translation endpoint {url} took longer than "
                                               f"{self.settings.timeout_s:g} s to answer (or answered too much)")
            answer = json.loads(body)
        except urllib.error.HTTPError as exc:
            raise TranslationError(f"translation endpoint {url} answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TranslationError(f"translation endpoint {url} unreachable: {reason}") from exc
        except json.JSONDecodeError as exc:
            raise TranslationError(f"translation endpoint {url} did not answer JSON") from exc
        try:
            content = answer["choices"][0]["message"]["content"].strip()
            content = content.removeprefix("```json").removeprefix("```").removesuffix("```").strip()
            out = json.loads(content)
        except (KeyError, IndexError, TypeError, json.JSONDecodeError) as exc:
            raise TranslationError(f"translation endpoint {url} gave an answer that is not a JSON array") from exc
        if not isinstance(out, list) or len(out) != len(texts) or not all(isinstance(x, str) for x in out):
            raise TranslationError(f"translation endpoint {url} returned {len(out) if isinstance(out, list) else 'no'}"
                                   f" segments for {len(texts)}")
        return out

    def translate(self, texts: list[str]) -> list[str]:
        out: list[str] = []
        for i in range(0, len(texts), self.settings.batch):
            out += self._ask(texts[i:i + self.settings.batch])
        return out

def machine_translator(settings: TranslationSettings, source: str, target: str, glossary: Glossary = Glossary()):
    """The configured machine translator, or None where the show relies on people."""
    if settings.engine == "argos":
        return ArgosTranslator(source, target)
    if settings.engine == "openai":
        return ChatTranslator(settings, source, target, glossary)
    return None


PROMPT_REVISION = 1
BEAMS = 4
"""Beams searched on a second try (where the first answer failed a check): four candidates cost about
four times one, and only for the few segments that need it."""
"""Bumped when the local translator's instructions change: cached translations follow it."""
LANGUAGE_NAMES = {"en": "English", "zh": "Simplified Chinese"}
BATCH_TOKENS = 800
"""Prompt tokens in one batch (about 8 short requests): see `LocalTranslator._batches`."""


class LocalTranslator:
    """The offline instruction model (`engines.llm`) as a translator: one prompt per segment, batched,
    the glossary's terms for that segment in the instructions, its neighbours as context."""

    name = "local"
    revision = PROMPT_REVISION

    def __init__(self, model, batch: int = 16):
        self.model, self.batch = model, batch
        self.model_name = model.name

    def system(self, r) -> str:
        """The instructions for one request (see `engines.translation.Request`)."""
        if r.source == r.target:  # engines.translation.punctuate
            return ("你是中文编辑。请给用户的中文文本加上中文标点符号（，。？！、；：）。不要改动、增加或删除任何字，"
                    "也不要翻译，只加标点。只回答加好标点的文本。")
        src, dst = LANGUAGE_NAMES[r.source], LANGUAGE_NAMES[r.target]
        text = (f"You are a professional translator for a podcast about social protection (pensions, social "
                f"insurance, social assistance). Translate the user's {src} text into {dst}. Translate all of "
                f"it, every clause, and add nothing. Answer with the {dst} translation only.")
        if r.target == "en":
            text += " Use no Chinese characters."
        if r.terms:
            text += (" Required terminology (use exactly these translations): "
                     + "; ".join(f"{a} = {b}" for a, b in r.terms) + ".")
        if r.before and not r.strict:  # a second try goes without: a small model drifts into it
            text += f"\n\nFor context only, do not translate it: the text before was: {r.before}"
        if r.strict:
            text += (f"\n\nImportant: write only {dst}, keep the meaning of every word, and use every required "
                     "term as given.")
        return text

    @staticmethod
    def user(r) -> str:
        """The text to translate; on a second try each required term is followed by its translation in
        brackets, which a small model copies far more reliably than a list in the instructions."""
        if not (r.strict and r.terms):
            return r.text
        text = r.text
        for a, b in r.terms:
            pattern = re.escape(a) if r.source == "zh" else r"(?<![\w])" + re.escape(a) + r"(?:e?s)?(?![\w])"
            text = re.sub(pattern, lambda m: f"{m.group()} [{b}]", text, count=1,
                          flags=0 if r.source == "zh" else re.IGNORECASE)
        return text

    def translate_requests(self, requests, progress=None) -> list[str]:
        order = sorted(range(len(requests)), key=lambda i: len(requests[i].text))  # like lengths batch well
        answers: dict[int, str] = {}
        prompts = {i: self.model.chat(self.system(requests[i]), self.user(requests[i])) for i in order}
        done = 0
        for chunk in self._batches(order, {i: len(self.model.tokens(p)) for i, p in prompts.items()}, requests):
            batch = [prompts[i] for i in chunk]
            limits = [min(1024, 16 + 3 * len(self.model.tokens(requests[i].text))) for i in chunk]
            if any(requests[i].strict for i in chunk):  # a second try: the best of a few beams that keeps the terms
                for i, hyps in zip(chunk, self.model.candidates(batch, limits, BEAMS)):
                    r = requests[i]
                    folded = [fold_marks(h, r.terms, r.target) for h in hyps]
                    answers[i] = next((h for h in folded if all(has_term(h, b, r.target) for _, b in r.terms)),
                                      folded[0])
            else:
                for i, a in zip(chunk, self.model.generate(batch, limits)):
                    answers[i] = a
            done += len(chunk)
            if progress:
                progress(min(1.0, done / len(order)))
        out = [answers[i] for i in range(len(requests))]
        return out

    def _batches(self, order: list[int], tokens: dict[int, int], requests) -> list[list[int]]:
        """Requests in batches of at most `batch`, and of at most BATCH_TOKENS prompt tokens (a beam
        search's counted BEAMS times): CTranslate2 computes the vocabulary's logits at every prompt
        position, so a batch's working memory follows its prompt tokens (measured: 4 short requests
        +270 MB, 16 +790 MB over the 1.6 GB model)."""
        out: list[list[int]] = []
        size = 0
        for i in order:
            cost = tokens[i] * (BEAMS if requests[i].strict else 1)
            if out and len(out[-1]) < self.batch and size + cost <= BATCH_TOKENS:
                out[-1].append(i)
                size += cost
            else:
                out.append([i])
                size = cost
        return out

    def translate(self, texts: list[str]) -> list[str]:
        raise NotImplementedError("the local translator takes requests (engines.translation)")


def fold_marks(text: str, terms, target: str) -> str:
    """A second try's answer with the bracketed terms it copied from the marked source folded in: the
    model writes its own word and then the required term in brackets ("少量的贡献 [缴费]"), so the word
    just before the mark (by jieba for Chinese) is replaced by the term; marks it did not copy stay out."""
    for _, term in terms:
        mark = re.compile(r"\s*[\[【（(]\s*" + re.escape(term) + r"\s*[\]】）)]")
        m = mark.search(text)
        while m:
            before, after = text[:m.start()], text[m.end():]
            if term not in before[-len(term) - 2:]:
                before = _drop_last_word(before, target)
            text = before + ("" if before.endswith(term) else term) + after
            m = mark.search(text)
    return text


def _drop_last_word(text: str, lang: str) -> str:
    if lang == "zh":
        import jieba

        run = trailing_han(text)
        if not run:
            return text
        words = list(jieba.cut(run.group(), HMM=False))
        return text[:run.start()] + "".join(words[:-1]) if words else text
    m = re.search(r"\s*\b[\w-]+$", text)
    return text[:m.start()] + " " if m else text
