"""The one writer of feed/: puts a collected `SitePlan` in place, media first and feeds last.

Only this step writes feed/. Only what changed is written (an unchanged show gives byte-identical
files), each file atomically; media go in before the pages and feeds that point at them, so a feed
never names a file that is not there yet.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from media_tool.errors import disk_error
from media_tool.model.identity import Identity
from media_tool.model.show import Show
from media_tool.site.collect import SitePlan, collect
from media_tool.stages.episode import Episode
from media_tool.store.files import atomic_output, copy_if_changed, write_if_changed


@dataclass
class Written:
    """What the step wrote and decided: feed files, notices, and the per-episode records to keep."""

    feeds: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    records: dict[str, dict] = field(default_factory=dict)


def link_if_changed(src: Path, dst: Path) -> bool:
    """Put `src` at `dst` as a hard link (no second copy of large media), else a copy; atomic."""
    if dst.exists() and os.path.samefile(src, dst):
        return False
    with atomic_output(dst) as tmp:
        try:
            os.link(src, tmp)
        except OSError:  # another file system, or links not allowed: copy instead
            copy_if_changed(src, tmp)
    return True


def _room_for(show: Show, plan: SitePlan) -> None:
    """Refuse before writing anything when the media to copy into feed/ would not fit: half a set of
    files swapped in place would not match the feed that is still live."""
    root = show.feed_dir
    root.mkdir(parents=True, exist_ok=True)
    needed = 0
    for src, rel in plan.media:
        dst = root / rel
        if dst.exists() and os.path.samefile(src, dst):
            continue
        if os.stat(src).st_dev != os.stat(root).st_dev:  # a copy, not a link: it takes room
            needed += os.stat(src).st_size
    if needed:
        free = shutil.disk_usage(root).free
        if free < needed + (1 << 20):
            raise disk_error(OSError(errno.ENOSPC, "no space"), str(root), needed, display=show.rel(root))


def write(show: Show, plan: SitePlan) -> list[Path]:
    """Put `plan` into feed/: media, then copied files, chapters, pages, and the feeds last."""
    root = show.feed_dir
    _room_for(show, plan)
    for src, rel in plan.media:
        link_if_changed(src, root / rel)
    for src, rel in plan.copies:
        copy_if_changed(src, root / rel)
    for rel, data in {**plan.files, **plan.pages}.items():
        write_if_changed(root / rel, data)
    for name, data in plan.feeds.items():
        write_if_changed(root / name, data)
    return [root / name for name in plan.feeds]


class SiteStep:
    """The show-level step after every episode's stages: feed/ (feeds, pages, the files they name)."""

    name = "site"

    def run(self, show: Show, episodes: list[Episode], *, now: dt.datetime, force: bool = False,
            failed: dict[str, str] | None = None, kept: dict[str, dict] | None = None,
            identity: Identity | None = None) -> Written:
        """Collect feed/ as values, then write it; see `collect` for what the arguments mean."""
        plan = collect(show, episodes, now=now, force=force, failed=failed, kept=kept, identity=identity)
        feeds = write(show, plan)
        return Written(feeds=feeds, notices=plan.notices, kept=plan.kept, records=plan.records)
