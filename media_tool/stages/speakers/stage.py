"""Speakers stage: who spoke when, before transcription, so every transcript line carries its speaker.

Runs for an episode naming two or more `[[people]]` (their count is the number of voices looked
for), and never for a monologue. A person with a voice sample (`voice = "voices/li-wei.wav"`, in the
episode or once in podcast.toml's `[[people]]`) names the voice closest to it; the other voices are
named by first appearance in the order of `[[people]]` with the hosts first. Where the voice
encoder's weights are missing the build says so in one line and the transcripts have no speakers.

It runs before normalize, on the recording itself, so the speaker leveler can use the turns: they are
in the recording's time, and normalize moves them onto the published file's timeline (its intro
jingle and trimmed silence) as it makes that file.
"""

from __future__ import annotations

from dataclasses import replace

from media_tool import __version__
from media_tool.media.audio import listen
from media_tool.stages.context import Context
from media_tool.stages.episode import Episode
from media_tool.stages.speakers import core as speakers

REVISION = 3  # 3: heard in the recording, before normalize


def names(ep: Episode) -> list[str]:
    """The people in the order voices are named: hosts first, then the rest as listed."""
    people = ep.config.people
    return [p.name for p in people if p.role.lower() == "host"] + [p.name for p in people if p.role.lower() != "host"]


class SpeakersStage:
    name = "speakers"

    def key(self, ctx: Context, ep: Episode) -> dict:
        n = len(ep.config.people)
        if n < 2:
            return {"speakers": None}
        return {"audio": ctx.state.hashes.digest(ep.config.source), "count": n, "rev": REVISION,
                "tool": __version__, "weights": speakers.unavailable() is None, "names": names(ep),
                "voices": {p.name: ctx.state.hashes.digest(ctx.show.root / p.voice)
                           for p in ep.config.people if p.voice}}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        n = len(ep.config.people)
        if n < 2:
            return replace(ep, turns=()), {"turns": []}
        why = speakers.unavailable()
        if why:
            note = f"episodes/{ep.slug}: {why}"
            return replace(ep, turns=(), notices=ep.notices + (note,)), {"turns": [], "note": note}
        speech = ctx.speech(ctx.show.rel(ep.config.source))
        voices = ctx.voices()
        found, centroids, heard = voices.diarize(speech.samples, list(speech.regions), n)
        prints = {}
        for p in ep.config.people:  # a voice sample names its person's turns, wherever they fall
            if p.voice:
                sample = listen(ctx.show.root / p.voice, ctx.ff)
                v = voices.voiceprint(sample.samples, list(sample.regions))
                if v is not None:
                    prints[p.name] = v
        named = speakers.name_voices(centroids, names(ep), prints)
        turns = tuple((t.start, t.end, named[t.speaker]) for t in found)
        data: dict = {"turns": [list(t) for t in turns], "heard": heard}
        if heard != n:
            data["note"] = (f"episodes/{ep.slug}/episode.toml: {n} people named, but {heard} voice(s) heard; "
                            f"the turns are split between the {n} named (check [[people]])")
            ep = replace(ep, notices=ep.notices + (data["note"],))
        return replace(ep, turns=turns), data

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        notices = ep.notices + ((data["note"],) if data.get("note") else ())
        return replace(ep, turns=tuple(tuple(t) for t in data.get("turns", [])), notices=notices)
