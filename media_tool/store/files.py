"""File-system edge: atomic writes, content hashes, and the show lock.

A half-written file never appears under its real name: everything is written to a
hidden `.part` sibling and renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from media_tool.errors import LockError

PART_MARK = ".part-"


def part_path(final: Path) -> Path:
    """A hidden temporary sibling of `final`, unique to this writer."""
    return final.with_name(f".{final.name}{PART_MARK}{os.getpid()}-{secrets.token_hex(3)}")


@contextlib.contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; rename it to `final` only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = part_path(final)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def scratch(beside: Path, tag: str) -> Iterator[Path]:
    """A hidden temporary file next to `beside`, always deleted afterwards."""
    beside.parent.mkdir(parents=True, exist_ok=True)
    tmp = part_path(beside.with_name(f"{beside.name}.{tag}"))
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (fsync, then rename)."""
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def write_json(path: Path, data) -> None:
    write_bytes(path, (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode())


def read_kept(path: Path, key: str):
    """What `keep` wrote at `path` under `key`, or None: derived data, so a missing, damaged or
    stale file only costs redoing the work."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("value") if isinstance(data, dict) and data.get("key") == key else None


def keep(path: Path, key: str, value) -> None:
    """Keep a JSON-able result by the key of what it depends on (read back by `read_kept`)."""
    write_json(path, {"key": key, "value": value})


def remove_stale_parts(folder: Path) -> list[Path]:
    """Delete `.part` files left by a build that was killed; returns what was removed."""
    removed = []
    if folder.is_dir():
        for p in folder.rglob(f".*{PART_MARK}*"):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


def sha256(data: str | bytes) -> str:
    """Hex SHA-256 of text (as UTF-8) or bytes: the one content hash of the project."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class HashCache:
    """Content hashes remembered by (size, mtime) so an unchanged 3-hour WAV is not re-read."""

    def __init__(self, entries: dict | None = None):
        self.entries: dict[str, dict] = dict(entries or {})

    def digest(self, path: Path) -> str:
        st = path.stat()
        key = str(path.resolve())
        hit = self.entries.get(key)
        if (isinstance(hit, dict) and hit.get("size") == st.st_size and hit.get("mtime_ns") == st.st_mtime_ns
                and isinstance(hit.get("sha256"), str)):
            return hit["sha256"]
        digest = sha256_file(path)
        self.entries[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        return digest


def key_of(material: dict) -> str:
    """A stable hash of a JSON-able description of a stage's inputs."""
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, default=str)
    return sha256(blob)[:32]


class ShowLock:
    """An exclusive lock on one show; the kernel releases it if the process dies.

    Two builds of one show never race: the second is refused at once. Anything else waits its turn,
    up to `wait_s`: an upload waits for a build to finish (and a build for an upload), so what goes up
    is one consistent site and what a build writes is never half sent. `on_wait(holder)` is called
    once when it has to wait."""

    POLL_S = 0.2

    def __init__(self, state_dir: Path, purpose: str = "build", *, wait_s: float = 3600.0, on_wait=None):
        self.path = state_dir / "lock"
        self.purpose, self.wait_s, self.on_wait = purpose, wait_s, on_wait
        self._fh = None

    def __enter__(self) -> "ShowLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        deadline, told = time.monotonic() + self.wait_s, False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                doing = holder.split()[0] if holder.split() and not holder.startswith("pid") else "build"
                if (self.purpose == "build" and doing == "build") or time.monotonic() > deadline:
                    fh.close()
                    waited = "" if not told else f", still after {self.wait_s:g} s"
                    raise LockError(f"another {doing} of this show is running ({holder}){waited}",
                                    str(self.path)) from exc
                if not told and self.on_wait is not None:
                    self.on_wait(holder)
                told = True
                time.sleep(self.POLL_S)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{self.purpose} pid {os.getpid()}")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self._fh:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomic write, skipped when the bytes are already there (keeps rebuilds byte-identical)."""
    if path.is_file() and path.read_bytes() == data:
        return False
    write_bytes(path, data)
    return True


def copy_if_changed(src: Path, dst: Path) -> bool:
    """Copy atomically unless `dst` already holds the same bytes."""
    if dst.is_file() and dst.stat().st_size == src.stat().st_size and dst.read_bytes() == src.read_bytes():
        return False
    with atomic_output(dst) as tmp:
        shutil.copyfile(src, tmp)
    return True


def inside(root: Path, path: Path) -> bool:
    """Whether `path` (after following links) lies inside `root`: the one test of "inside the show"
    (nothing from outside the show folder is ever read or published)."""
    return path.resolve().is_relative_to(root.resolve())
