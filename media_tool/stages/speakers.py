"""Speakers stage: who spoke when, before transcription, so every transcript line carries its speaker.

Runs for an episode naming two or more `[[people]]` (their count is the number of voices looked
for), and never for a monologue. Voices are numbered by first appearance and named in the order
of `[[people]]` with the hosts first: the first voice heard is the first host. Where the voice
encoder's weights are missing the build says so in one line and the transcripts have no speakers.
"""

from __future__ import annotations

from dataclasses import replace

from .. import __version__, speakers
from ..episode import Context, Episode
from ..whisper_engines import decode_audio, speech_regions

REVISION = 1


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
        return {"audio": ctx.state.hashes.digest(ctx.show.root / ep.outputs["mp3"]), "count": n, "rev": REVISION,
                "tool": __version__, "weights": speakers.unavailable() is None}

    def run(self, ctx: Context, ep: Episode, progress) -> tuple[Episode, dict]:
        n = len(ep.config.people)
        if n < 2:
            return replace(ep, turns=()), {"turns": []}
        why = speakers.unavailable()
        if why:
            note = f"episodes/{ep.slug}: {why}"
            return replace(ep, turns=(), notices=ep.notices + (note,)), {"turns": [], "note": note}
        audio = decode_audio(ctx.show.root / ep.outputs["mp3"], ctx.ff)
        found = speakers.turns(audio, speech_regions(audio), n)
        named = names(ep)
        turns = tuple((t.start, t.end, named[t.speaker] if t.speaker < len(named) else f"Speaker {t.speaker + 1}")
                      for t in found)
        return replace(ep, turns=turns), {"turns": [list(t) for t in turns]}

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        notices = ep.notices + ((data["note"],) if data.get("note") else ())
        return replace(ep, turns=tuple(tuple(t) for t in data.get("turns", [])), notices=notices)
