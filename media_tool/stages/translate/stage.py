"""Translate stage: the other language on the spoken language's segments: a person's translation,
else the machine's by the policy in `translate.core` (`translation_of`), the offline model by
default; reported missing, never invented, when none can be made. A mixed conversation's files are
completed both ways: each language's file holds every turn, as spoken or translated.
"""

from __future__ import annotations

from dataclasses import replace

from media_tool import __version__
from media_tool.engines import llm
from media_tool.engines.translators import PROMPT_REVISION
from media_tool.errors import MediaToolError
from media_tool.model.language import other_language
from media_tool.stages import transcript_files as files
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.stages.translate.core import (
    REVISION,
    Translation,
    crossed,
    translation_of,
)
from media_tool.stages.translate.words import translate_words, wanted, with_words
from media_tool.store.files import key_of
from media_tool.text.formats import bilingual_files, language_files
from media_tool.text.notes import localized


class TranslateStage:
    """The other language (and, for a mixed conversation, the main language completed)."""

    name = "translate"

    def key(self, ctx: Context, ep: Episode) -> dict:
        lang = ep.config.language
        other = other_language(lang)
        human = files.human_file(files.folder(ctx.show, ep.slug), other)
        tl, tr = ctx.show.translation, ctx.show.transcription
        source = ep.transcripts[lang]
        local = [llm.NAME, llm.CONVERTER_REVISION, PROMPT_REVISION] if tl.engine == "local" else None
        mine = files.human_file(files.folder(ctx.show, ep.slug), lang) if ep.config.mixed else None
        return {"source": key_of(source.to_dict()), "human": ctx.state.hashes.digest(human) if human else None,
                "mine": ctx.state.hashes.digest(mine) if mine else None,
                "translator": [tl.engine, tl.url, tl.model, tl.whisper_translate], "local": local,
                "whisper": [tr.engine, tr.model] if lang == "zh" or ep.config.mixed else None,
                "wanted": other in tr.languages, "rev": REVISION, "tool": __version__,
                "glossary": [[t.zh, t.en] for t in ctx.show.glossary.terms], "mixed": ep.config.mixed,
                "names": tr.speaker_names, "words": [[w["field"], w["index"], w["target"], w["text"]]
                                                     for w in wanted(ep.config)]}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        ep, data = self._transcript(ctx, ep, progress)
        if other_language(ep.config.language) not in ctx.show.transcription.languages:
            return ep, data
        made, problems = translate_words(ep.config, lambda a, b: self._translator(ctx, a, b, progress, []),
                                         ctx.show.glossary, cache=ctx.translations())
        ctx.translations().save()
        data = {**data, "words": made, "word_problems": [f"episodes/{ep.slug}: {p}" for p in problems]}
        return self._with_words(ep, data), data

    @staticmethod
    def _with_words(ep: Episode, data: dict) -> Episode:
        """The machine's title, notes and chapter titles on the episode, and what could not be made."""
        made = [w for w in data.get("words") or () if isinstance(w, dict)]
        return replace(ep, config=with_words(ep.config, made),
                       notices=ep.notices + tuple(data.get("word_problems") or ()))

    @staticmethod
    def _translator(ctx: Context, source_lang: str, target: str, progress, why_not: list[str]):
        if ctx.show.translation.engine == "human":
            return None
        try:
            return ctx.translator(source_lang, target, progress=lambda f: progress(0.3 * f))
        except MediaToolError as exc:  # no weights here: said in one line, the translation reported missing
            why_not.append(exc.one_line())
            return None

    def _transcript(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        lang, folder = ep.config.language, files.folder(ctx.show, ep.slug)
        other = other_language(lang)
        if other not in ctx.show.transcription.languages:
            return ep, {"written": {}, "skipped": f"{other} not in [transcription] languages"}
        source = ep.transcripts[lang]
        human = files.human_file(folder, other)
        tl = ctx.show.translation
        speech = lambda: ctx.speech(ep.outputs["mp3"])  # noqa: E731 (decoded only if Whisper translates)
        why_not: list[str] = []

        def translator_for(source_lang: str, target: str):
            return self._translator(ctx, source_lang, target, progress, why_not)

        engine = ctx.engine() if ep.config.mixed or lang == "zh" else None
        cache = ctx.translations()
        title = localized(ep.config.title, lang)  # what the episode is about, beside every line
        person = files.read_human_translation(human, source, other, ctx.show.rel(human)) if human else None
        gaps = person is not None and any(not y.text.strip() and x.text.strip()
                                          for x, y in zip(source.segments, person.segments))
        if person is not None and not gaps and not ep.config.mixed:
            result = Translation(person)
        else:  # no person's translation, or one with lines left to the machine (a review's fixes), or mixed
            with ctx.model_lock:
                result = translation_of(source, other, speech=speech, engine=engine,
                                        translator_for=translator_for, mixed=ep.config.mixed,
                                        glossary=ctx.show.glossary,
                                        cache=cache, whisper_task=tl.whisper_translate, context=title,
                                        similarity=ctx.similarity())
            if person is not None:
                result = with_person(result, person)
            mine = files.human_file(folder, lang) if ep.config.mixed else None
            if mine is not None and lang in result.extra:  # the person's file of the main language translates
                own = files.read_human_translation(mine, source, lang, ctx.show.rel(mine))  # the other turns
                result = replace(result, extra={lang: replace(result.extra[lang], segments=tuple(
                    y if y.text.strip() and y.via == "human" else m
                    for y, m in zip(own.segments, result.extra[lang].segments)))})
        cache.save()
        progress(1.0)
        if result.transcript is None:
            missing = result.missing + (f" ({why_not[0]})" if why_not else "")
            missing += (f"; put human.{other}.srt, .vtt or .txt in {ctx.show.rel(folder)}/"
                        + (' or set [translation] engine = "local" in podcast.toml' if tl.engine == "human" else ""))
            return replace(ep, notices=ep.notices + (f"{ctx.show.rel(folder)}: {missing}",)), \
                {"written": {}, "missing": missing}
        names = ctx.show.transcription.speaker_names
        t = replace(result.transcript, problems=tuple(p for p in result.misses + result.failures
                                                      if _in_file(p, result.transcript)))
        notices = tuple(f"{ctx.show.rel(folder)}/{ep.slug}.{lg}.json: cue {p['segment'] + 1}: {p['problem']}"
                        for lg, tr in ((other, t), *result.extra.items()) for p in result.misses + result.failures
                        if _in_file(p, tr))
        also: tuple = ()
        texts = {**language_files(ep.slug, t, names)}
        if ep.config.mixed:
            main = result.extra[lang]
            main = replace(main, problems=tuple(p for p in result.misses + result.failures if _in_file(p, main)))
            also = (main,)
            texts.update(language_files(ep.slug, main, names))
            texts.update(bilingual_files(ep.slug, source, crossed(source, {lang: main, other: t}), names))
        else:
            texts.update(bilingual_files(ep.slug, source, t, names))
        ep = replace(ep, notices=ep.notices + notices)
        return files.write_transcripts(ctx.show, ep, ctx.state.written(ep.slug, self.name), t, texts, also)

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        ep = files.restore_transcripts(ctx.show, ep, data)
        return self._with_words(ep, data) if ep is not None else None


def with_person(machine: Translation, person) -> Translation:
    """A person's translation wins line by line: the machine's stands only where the person left a line
    empty (a partial file: the fixes saved from the review page), and only its problems there are kept."""
    if machine.transcript is None:
        return Translation(person) if all(y.text.strip() for y in person.segments) else machine
    segs = tuple(y if y.text.strip() else m for y, m in zip(person.segments, machine.transcript.segments))
    theirs = {i for i, y in enumerate(person.segments) if y.text.strip()}
    keep = lambda ps: tuple(p for p in ps if p["segment"] not in theirs)  # noqa: E731
    return Translation(replace(person, segments=segs), "", keep(machine.misses), keep(machine.failures),
                       machine.extra)


def _in_file(problem: dict, t) -> bool:
    """Whether a reported problem is about a segment this file translated (not one it holds as spoken)."""
    i = problem["segment"]
    return 0 <= i < len(t.segments) and (t.segments[i].via is not None or not t.segments[i].text)
