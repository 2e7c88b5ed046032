"""Transcribe stage: the spoken language's transcript, a person's file where there is one, else
Whisper's (the core in `transcribe.core`), each line with its speaker.
"""

from __future__ import annotations

from dataclasses import replace

from media_tool import __version__
from media_tool.engines.translation import punctuate
from media_tool.errors import MediaToolError
from media_tool.model.glossary import english_hints
from media_tool.stages import transcript_files as files
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.stages.transcribe.core import (
    PUNCTUATION_REVISION,
    REVISION,
    transcribe,
    transcribe_mixed,
)
from media_tool.store.files import key_of
from media_tool.text.transcripts import Transcript, label_speakers, language_files


class TranscribeStage:
    """The spoken language's transcript: a person's file where there is one, else Whisper's."""

    name = "transcribe"

    def key(self, ctx: Context, ep: Episode) -> dict:
        lang = ep.config.language
        human = files.human_file(files.folder(ctx.show, ep.slug), lang)
        tr = ctx.show.transcription
        return {"audio": ctx.state.hashes.digest(ctx.show.root / ep.outputs["mp3"]), "language": lang,
                "human": ctx.state.hashes.digest(human) if human else None,
                "engine": None if human else [tr.engine, tr.model], "rev": REVISION, "tool": __version__,
                "glossary": None if human or lang != "zh" else [t.zh for t in ctx.show.glossary.terms],
                "turns": key_of({"turns": ep.turns}) if ep.turns else None, "mixed": ep.config.mixed,
                "names": tr.speaker_names,
                "hints": None if human or lang != "en" else english_hints(
                    ctx.show.glossary, tuple(p.name for p in ep.config.people)),
                # Chinese punctuation put back by the local model (an English episode's key is unchanged)
                **({} if human or lang == "en" else {"punctuation": [PUNCTUATION_REVISION, ctx.show.translation.engine]})}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        lang = ep.config.language
        human = files.human_file(files.folder(ctx.show, ep.slug), lang)
        if human is not None:
            t = files.read_human(human, lang, ctx.show.rel(human))
        else:
            engine = ctx.engine()
            people = tuple(p.name for p in ep.config.people)
            with ctx.model_lock:
                if ep.config.mixed:
                    t = transcribe_mixed(ctx.show.root / ep.outputs["mp3"], ctx.ff, engine, main=lang, turns=ep.turns,
                                         glossary=ctx.show.glossary, names=people).transcript
                else:
                    t = transcribe(ctx.show.root / ep.outputs["mp3"], ctx.ff, engine, language=lang,
                                   progress=lambda done, total: progress(done / max(total, 1e-9)),
                                   glossary=ctx.show.glossary, names=people).transcript
                t = self._punctuated(ctx, t)
        if ep.turns:  # who said each line (a person's own speaker names are kept)
            t = replace(t, segments=label_speakers(t.segments, ep.turns))
        # A mixed conversation's words as spoken (both languages) are `<slug>.spoken.*`: the translate
        # stage completes each language's own files, so no file holds one language under the other's name.
        label = "spoken" if ep.config.mixed else None
        texts = language_files(ep.slug, replace(t, language=label or t.language), ctx.show.transcription.speaker_names)
        return files.write_transcripts(ctx.show, ep, ctx.state.written(ep.slug, self.name), t, texts, label=label)

    @staticmethod
    def _punctuated(ctx: Context, t: Transcript) -> Transcript:
        """Whisper's Chinese segments with their punctuation (`engines.translation.punctuate`): by the
        local model where the show translates with it, else only their closing marks."""
        where = [i for i, s in enumerate(t.segments) if (s.lang or t.language) == "zh"]
        if not where:
            return t
        backend = ctx.translator("zh", "zh") if ctx.show.translation.engine == "local" else None
        bare = [t.segments[i].text for i in where]
        try:
            texts, _ = punctuate(backend, bare, cache=ctx.translations())
        except MediaToolError:  # no local model here (the translate stage says why): the closing marks only
            texts, _ = punctuate(None, bare)
        ctx.translations().save()
        segs = list(t.segments)
        for i, text in zip(where, texts):
            segs[i] = replace(segs[i], text=text)
        return replace(t, segments=tuple(segs))

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        return files.restore_transcripts(ctx.show, ep, data)
