"""The pipeline's stages, one module each, behind the one `Stage` protocol (see `base`).

`STAGES` is listed once, in dependency order: each stage reads only what the ones before it
put on the Episode. `PUBLISH` is the show-level step that runs after every episode's stages.
"""

from __future__ import annotations

from .base import Stage
from .captions import CaptionStage
from .clips import ClipStage
from .index import IndexStage
from .normalize import NormalizeStage
from .probe import ProbeStage
from .publish import PublishStep
from .speakers import SpeakersStage
from .tag import TagStage
from .transcribe import TranscribeStage
from .translate import TranslateStage

# Dependency order: probe facts -> normalized masters -> who spoke when -> transcript of them (each line
# with its speaker) -> its translation -> captions drawn into the video (both languages) -> short captioned
# clips -> tagged published copies (tags carry the transcript and subtitle tracks) -> the search index.
CLIPS = ClipStage()
STAGES: tuple[Stage, ...] = (ProbeStage(), NormalizeStage(), SpeakersStage(), TranscribeStage(), TranslateStage(),
                             CaptionStage(), CLIPS, TagStage(), IndexStage())
PUBLISH = PublishStep()

__all__ = ["CLIPS", "STAGES", "PUBLISH", "Stage"]
