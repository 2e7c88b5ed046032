"""Transcribe stage: the spoken language's transcript, a person's file where there is one, else
Whisper's (heard and finished by the core in `transcribe.core`, as `media-tool transcribe` is), each
line with its speaker.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from media_tool import __version__
from media_tool.model.glossary import english_names
from media_tool.model.language import LANGUAGES
from media_tool.stages import transcript_files as files
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.stages.transcribe.core import (
    PUNCTUATION_REVISION,
    REVISION,
    finish,
    hear,
)
from media_tool.store.files import keep, key_of, read_kept
from media_tool.text.formats import language_files
from media_tool.text.transcripts import Transcript, label_speakers


class TranscribeStage:
    """The spoken language's transcript: a person's file where there is one, else Whisper's."""

    name = "transcribe"

    def key(self, ctx: Context, ep: Episode) -> dict:
        lang = ep.config.language
        human = self._human(ctx, ep)
        return {**self._heard(ctx, ep, human), "tool": __version__, "names": ctx.show.transcription.speaker_names,
                "human": ctx.state.hashes.digest(human) if human else None,
                "overlays": [[lg, ctx.state.hashes.digest(p)] for lg, p in self._overlays(ctx, ep)]
                if ep.config.mixed else None,
                # Chinese punctuation put back by the local model (an English episode's key is unchanged)
                **({} if human or lang == "en" else {"punctuation": [PUNCTUATION_REVISION, ctx.show.translation.engine]})}

    @staticmethod
    def _heard(ctx: Context, ep: Episode, human) -> dict:
        """What Whisper's own words depend on (the audio, model, language, prompt, turns): not the
        punctuation pass, so a change of translator re-punctuates without hearing the episode again."""
        lang, tr = ep.config.language, ctx.show.transcription
        return {"audio": ctx.state.hashes.digest(ctx.show.root / ep.outputs["mp3"]), "language": lang,
                "engine": None if human else [tr.engine, tr.model], "rev": REVISION,
                "glossary": None if human or lang != "zh" else [t.zh for t in ctx.show.glossary.terms],
                "turns": key_of({"turns": ep.turns}) if ep.turns else None, "mixed": ep.config.mixed,
                "english_names": None if human or (lang != "en" and not ep.config.mixed) else list(english_names(
                    ctx.show.glossary, tuple(p.name for p in ep.config.people)))}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        lang = ep.config.language
        human = self._human(ctx, ep)
        if human is not None:  # a person's words are published as written: only who said each line is added
            t = files.read_human(human, lang, ctx.show.rel(human))
            t = replace(t, segments=label_speakers(t.segments, ep.turns)) if ep.turns else t
        else:
            t = self._whisper(ctx, ep, progress)
            backend = ctx.translator("zh", "zh") if ctx.show.translation.engine == "local" else None
            with ctx.model_lock:  # the local model punctuates: one model at work at a time
                t = finish(t, punctuator=backend, cache=ctx.translations(), turns=ep.turns,
                           keep=ctx.show.glossary.chinese(tuple(p.name for p in ep.config.people)))
            ctx.translations().save()
            if ep.config.mixed:  # a person's file of either language corrects the turns spoken in it
                for lg, path in self._overlays(ctx, ep):
                    t = files.overlay(t, path, lg, ctx.show.rel(path))
        # A mixed conversation's words as spoken (both languages) are `<slug>.spoken.*`: the translate
        # stage completes each language's own files, so no file holds one language under the other's name.
        label = "spoken" if ep.config.mixed else None
        texts = language_files(ep.slug, replace(t, language=label or t.language), ctx.show.transcription.speaker_names)
        return files.write_transcripts(ctx.show, ep, ctx.state.written(ep.slug, self.name), t, texts, label=label)

    @staticmethod
    def _human(ctx: Context, ep: Episode) -> Path | None:
        """A person's transcript of a single-language episode (read whole, as the truth)."""
        return None if ep.config.mixed else files.human_file(files.folder(ctx.show, ep.slug), ep.config.language)

    @staticmethod
    def _overlays(ctx: Context, ep: Episode) -> list[tuple[str, Path]]:
        """A mixed conversation's person's files, one per language: each corrects the turns spoken in its
        language (and translates the others, which the translate stage uses)."""
        where = files.folder(ctx.show, ep.slug)
        return [(lg, p) for lg in LANGUAGES if (p := files.human_file(where, lg))]

    def _whisper(self, ctx: Context, ep: Episode, progress) -> Transcript:
        """Whisper's transcript of the episode, kept in `.media-tool/heard/<slug>.json` by what it
        depends on (derived data: a damaged or stale file is heard again; `--force` hears it again)."""
        lang, kept = ep.config.language, ctx.show.state_dir / "heard" / f"{ep.slug}.json"
        key = key_of(self._heard(ctx, ep, None))
        if not ctx.force and (data := read_kept(kept, key)) is not None:
            try:
                return Transcript.from_dict(data)
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # a hand-edited or older file: heard again
        speech = ctx.speech(ep.outputs["mp3"])
        engine, people = ctx.engine(), tuple(p.name for p in ep.config.people)
        with ctx.model_lock:
            t = hear(speech, engine, language="mixed" if ep.config.mixed else lang, main=lang, turns=ep.turns,
                     glossary=ctx.show.glossary, names=people,
                     progress=lambda done, total: progress(done / max(total, 1e-9))).transcript
        keep(kept, key, t.to_dict())
        return t

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        return files.restore_transcripts(ctx.show, ep, data)
