"""Translate stage: the second language, segment by segment, on the spoken language's timings.

Mandarin to English can come from Whisper's translate task (`whisper_translation`).
English to Chinese needs a translator: a person's file, offline argostranslate, or an
OpenAI-compatible chat-completions endpoint. A translation that cannot be made is reported
missing, never invented.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

from .. import __version__
from .. import transcript_files as files
from ..episode import Context, Episode
from ..errors import ModelError, TranslationError
from ..fsutil import key_of
from ..glossary import Glossary
from ..settings import TranslationSettings
from ..transcripts import (
    Segment,
    Transcript,
    align_by_time,
    bilingual_files,
    language_files,
    other_language,
    to_simplified,
)
from ..whisper_engines import clean_segments, decode_audio, only, speech_regions

REVISION = 3


def segments_with(source: Transcript, texts: list[str], language: str, origin: str) -> Transcript:
    if len(texts) != len(source.segments):
        raise TranslationError(f"translator returned {len(texts)} segments for {len(source.segments)}")
    return Transcript(language, tuple(Segment(s.start, s.end, " ".join(t.split()), s.speaker)
                                      for s, t in zip(source.segments, texts)), origin)


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
            with _OPENER.open(req, timeout=self.settings.timeout_s) as resp:
                answer = json.load(resp)
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


def translate(translator, source: Transcript, target: str) -> Transcript:
    texts = translator.translate([s.text for s in source.segments]) if source.segments else []
    if target == "zh":
        texts = [to_simplified(t) for t in texts]
    return segments_with(source, texts, target, f"translation:{translator.name}")


MIN_COVERAGE = 0.5
"""A Whisper translation that leaves more than half the segments empty (a loop the guards dropped,
or silence) is not published: it is reported missing."""


def usable_translation(t: Transcript) -> bool:
    """Whether enough segments got text to publish the translation (see MIN_COVERAGE)."""
    return sum(1 for s in t.segments if s.text.strip()) >= MIN_COVERAGE * len(t.segments)


def whisper_translation(audio_path: Path, ff, engine, source: Transcript, progress=None) -> Transcript:
    """English for a Mandarin recording by Whisper's translate task, put on the source's timings."""
    if not engine.multilingual:
        raise ModelError(f"model {engine.model_name!r} is English-only: it cannot translate Mandarin")
    audio = decode_audio(audio_path, ff)
    speech = speech_regions(audio)
    run = engine.run(audio, language=source.language, task="translate", prompt=None, speech=speech,
                     progress=progress)
    return align_by_time(source, clean_segments(run.segments, "en", speech), "en",
                         f"whisper-translate:{engine.model_name}")


def mixed_translation(audio_path: Path, ff, engine, translator, source: Transcript, target: str) -> Transcript:
    """The other-language file of a mixed-language episode, one segment per spoken one: what was said
    in `target` as said; the rest translated (Mandarin by Whisper's translate task over just those
    turns, English by the configured translator), or, where nothing can translate it, the words as
    spoken; each segment says which (`lang`, `via`)."""
    foreign = Transcript(source.language, tuple(x for x in source.segments if x.lang != target), source.origin)
    done: dict[float, Segment] = {}
    if foreign.segments:
        spoken = foreign.segments[0].lang or source.language
        if spoken == "zh" and engine is not None and engine.multilingual:
            audio = decode_audio(audio_path, ff)
            speech = [(max(a, x.start - 0.2), min(b, x.end + 0.2)) for a, b in speech_regions(audio)
                      for x in foreign.segments if min(b, x.end) > max(a, x.start)]
            run = engine.run(only(audio, speech), language="zh", task="translate", prompt=None, speech=speech)
            aligned = align_by_time(foreign, clean_segments(run.segments, "en", speech), "en", "")
            via = f"whisper-translate:{engine.model_name}"
            done = {x.start: replace(y, lang=x.lang, via=via) for x, y in zip(foreign.segments, aligned.segments)
                    if y.text.strip()}
        elif spoken == "en" and translator is not None:
            made = translate(translator, foreign, "zh")
            done = {x.start: replace(y, lang=x.lang, via=translator.name)
                    for x, y in zip(foreign.segments, made.segments) if y.text.strip()}
    segs = tuple(done.get(x.start, replace(x, via=None)) if x.lang != target else x for x in source.segments)
    return Transcript(target, segs, f"mixed:{source.origin}")


class TranslateStage:
    """The other language: a person's translation, Whisper's translate task (zh -> en), or the
    configured machine translator (en -> zh); reported missing, never invented, when none can."""

    name = "translate"

    def key(self, ctx: Context, ep: Episode) -> dict:
        lang = ep.config.language
        other = other_language(lang)
        human = files.human_file(files.folder(ctx.show, ep.slug), other)
        tl, tr = ctx.show.translation, ctx.show.transcription
        source = ep.transcripts[lang]
        return {"source": key_of(source.to_dict()), "human": ctx.state.hashes.digest(human) if human else None,
                "translator": [tl.engine, tl.url, tl.model], "whisper": [tr.engine, tr.model] if lang == "zh" else None,
                "wanted": other in tr.languages, "rev": REVISION, "tool": __version__,
                "glossary": [[t.zh, t.en] for t in ctx.show.glossary.terms], "mixed": ep.config.mixed,
                "names": tr.speaker_names}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        lang, folder = ep.config.language, files.folder(ctx.show, ep.slug)
        other = other_language(lang)
        if other not in ctx.show.transcription.languages:
            return ep, {"written": {}, "skipped": f"{other} not in [transcription] languages"}
        source = ep.transcripts[lang]
        human = files.human_file(folder, other)
        t, missing = None, ""
        if human is not None:
            t = files.read_human_translation(human, source, other, ctx.show.rel(human))
        elif ep.config.mixed:
            engine = ctx.engine()
            translator = machine_translator(ctx.show.translation, "en", "zh", ctx.show.glossary) if other == "zh" else None
            with ctx.model_lock:
                t = mixed_translation(ctx.show.root / ep.outputs["mp3"], ctx.ff, engine, translator, source, other)
        elif lang == "zh":
            engine = ctx.engine()
            if engine.multilingual:
                with ctx.model_lock:
                    t = whisper_translation(ctx.show.root / ep.outputs["mp3"], ctx.ff, engine, source)
                if not usable_translation(t):
                    filled = sum(1 for s in t.segments if s.text.strip())
                    t, missing = None, (f"English translation missing: Whisper's translate task gave usable text for "
                                        f"only {filled} of {len(source.segments)} segments (a repetition loop or "
                                        f"silence was dropped); put human.en.srt, .vtt or .txt in "
                                        f"{ctx.show.rel(folder)}/")
            else:
                missing = (f"English translation missing: model {engine.model_name!r} is English-only; put "
                           f"human.en.srt, .vtt or .txt in {ctx.show.rel(folder)}/ or configure a multilingual model")
        else:
            translator = machine_translator(ctx.show.translation, lang, other, ctx.show.glossary)
            if translator is None:
                missing = (f"Chinese translation missing: no translator configured; put human.zh.srt, .vtt or "
                           f".txt in {ctx.show.rel(folder)}/ or set [translation] engine in podcast.toml")
            else:
                t = translate(translator, source, other)
        if t is None:
            return replace(ep, notices=ep.notices + (f"{ctx.show.rel(folder)}: {missing}",)), \
                {"written": {}, "missing": missing}
        names = ctx.show.transcription.speaker_names
        texts = {**language_files(ep.slug, t, names), **bilingual_files(ep.slug, source, t, names)}
        return files.write_transcripts(ctx, ep, self.name, t, texts)

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        return files.restore_transcripts(ctx, ep, data)
