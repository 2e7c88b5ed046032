"""The one protocol every per-episode stage satisfies."""

from __future__ import annotations

from typing import Protocol

from media_tool.stages.context import Context
from media_tool.stages.episode import Episode, StageProgress


class Stage(Protocol):
    """A step of the per-episode pipeline.

    `key` describes everything the stage's output depends on (inputs' hashes, settings, tool
    and model versions); the build reruns the stage only when that key changes or `restore`
    finds its outputs gone. `run` returns the Episode with this stage's facts added and the
    JSON record to keep; `restore` rebuilds those facts from the record without doing the
    work, or returns None when the outputs are no longer there.
    """

    name: str

    def key(self, ctx: Context, ep: Episode) -> dict:
        """JSON-able description of the inputs; hashed into the stage's cache key."""

    def run(self, ctx: Context, ep: Episode, progress: StageProgress) -> tuple[Episode, dict]:
        """Do the work; returns the richer Episode and the record to store."""

    def restore(self, ctx: Context, ep: Episode, data: dict) -> Episode | None:
        """The Episode as `run` left it, from the stored record; None if outputs went missing."""
