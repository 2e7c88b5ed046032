"""Build state in .media-tool/state.json: per episode and stage, the input key and what was made.

JSON, never pickles, written atomically after every episode so a killed build keeps its work.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from media_tool.store.files import HashCache, write_json

VERSION = 1


class BuildState:
    """Stage records keyed by episode slug and stage name, plus the content-hash cache."""

    def __init__(self, path: Path, data: dict | None = None):
        self.path = path
        data = data if isinstance(data, dict) else {}
        if data.get("version") != VERSION:
            data = {}
        # What is read back is checked: a damaged or hand-edited state only costs a rebuild.
        episodes = data.get("episodes") if isinstance(data.get("episodes"), dict) else {}
        self.episodes: dict[str, dict[str, dict]] = {
            slug: {name: rec for name, rec in stages.items() if isinstance(rec, dict)}
            for slug, stages in episodes.items() if isinstance(stages, dict)}
        self.hashes = HashCache(data.get("hashes") if isinstance(data.get("hashes"), dict) else None)
        published = data.get("published") if isinstance(data.get("published"), dict) else {}
        self.published: dict[str, dict] = {k: v for k, v in published.items() if isinstance(v, dict)}
        """slug -> what the publish step last put in the feeds for it (kept while the episode fails)."""
        self.show: dict = data.get("show") if isinstance(data.get("show"), dict) else {}
        """The show's identity as last published (model/identity), for when feed/ is gone."""
        self._lock = threading.Lock()

    @classmethod
    def load(cls, state_dir: Path) -> "BuildState":
        path = state_dir / "state.json"
        try:
            data = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            data = None  # a missing or damaged state only costs a rebuild
        return cls(path, data)

    def record(self, slug: str, stage: str) -> dict | None:
        with self._lock:
            return self.episodes.get(slug, {}).get(stage)

    def written(self, slug: str, stage: str) -> dict[str, str]:
        """name -> hash of each file the stage last wrote (kept through a failed run)."""
        rec = self.record(slug, stage) or {}
        return dict((rec.get("data") or {}).get("written") or {})

    def put(self, slug: str, stage: str, record: dict) -> None:
        with self._lock:
            self.episodes.setdefault(slug, {})[stage] = record

    def forget(self, keep: set[str]) -> list[str]:
        """Drop episodes that no longer exist; returns their slugs."""
        with self._lock:
            gone = [s for s in self.episodes if s not in keep]
            for s in gone:
                del self.episodes[s]
            return gone

    def save(self) -> None:
        with self._lock:
            data = {"version": VERSION, "episodes": self.episodes, "hashes": self.hashes.entries,
                    "published": self.published, "show": self.show}
            write_json(self.path, data)
