"""The pipeline's stages, one module each, behind the one `Stage` protocol (see `base`).

`STAGES` is listed once, in dependency order: each stage reads only what the ones before it
put on the Episode. `SITE` is the show-level step that writes feed/ after every episode's stages.
"""

from __future__ import annotations

from media_tool.site.write import SiteStep
from media_tool.stages.base import Stage
from media_tool.stages.captions import CaptionStage
from media_tool.stages.clips.stage import ClipStage
from media_tool.stages.index import IndexStage
from media_tool.stages.normalize.stage import NormalizeStage
from media_tool.stages.probe import ProbeStage
from media_tool.stages.speakers.stage import SpeakersStage
from media_tool.stages.tag import TagStage
from media_tool.stages.transcribe.stage import TranscribeStage
from media_tool.stages.translate.stage import TranslateStage

# Dependency order: probe facts -> who spoke when (in the recording) -> normalized masters, each voice leveled
# (the turns moved onto their timeline) -> transcript of them (each line
# with its speaker) -> its translation -> captions drawn into the video (both languages) -> short captioned
# clips -> tagged published copies (tags carry the transcript and subtitle tracks) -> the search index.
CLIPS = ClipStage()
STAGES: tuple[Stage, ...] = (ProbeStage(), SpeakersStage(), NormalizeStage(), TranscribeStage(), TranslateStage(),
                             CaptionStage(), CLIPS, TagStage(), IndexStage())
SITE = SiteStep()

__all__ = ["CLIPS", "STAGES", "SITE", "Stage"]
