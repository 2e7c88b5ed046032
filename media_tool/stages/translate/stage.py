"""Translate stage: the other language on the spoken language's segments: a person's translation,
else the machine's by the policy in `translate.core` (`translation_of`); reported missing, never
invented, when none can be made.
"""

from __future__ import annotations

from dataclasses import replace

from media_tool import __version__
from media_tool.engines.translators import machine_translator
from media_tool.model.language import other_language
from media_tool.stages import transcript_files as files
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.stages.translate.core import REVISION, translation_of
from media_tool.store.files import key_of
from media_tool.text.transcripts import bilingual_files, language_files


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
        else:
            # English to Chinese needs a translator; Mandarin to English has Whisper's task besides.
            translator = (machine_translator(ctx.show.translation, other_language(other), other, ctx.show.glossary)
                          if other == "zh" else None)
            engine = ctx.engine() if ep.config.mixed or lang == "zh" else None
            with ctx.model_lock:
                t, missing = translation_of(source, other, audio_path=ctx.show.root / ep.outputs["mp3"], ff=ctx.ff,
                                            engine=engine, translator=translator, mixed=ep.config.mixed)
            if t is None:
                missing += (f"; put human.{other}.srt, .vtt or .txt in {ctx.show.rel(folder)}/"
                            + (" or set [translation] engine in podcast.toml" if other == "zh" else ""))
        if t is None:
            return replace(ep, notices=ep.notices + (f"{ctx.show.rel(folder)}: {missing}",)), \
                {"written": {}, "missing": missing}
        names = ctx.show.transcription.speaker_names
        texts = {**language_files(ep.slug, t, names), **bilingual_files(ep.slug, source, t, names)}
        return files.write_transcripts(ctx.show, ep, ctx.state.written(ep.slug, self.name), t, texts)

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        return files.restore_transcripts(ctx.show, ep, data)
