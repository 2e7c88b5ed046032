"""The one error tree: every failure the CLI can explain in one line."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path


class MediaToolError(Exception):
    """Base of every error media-tool raises on purpose.

    `path` names the file at fault so the one-line message can lead with it.
    """

    exit_code = 1

    def __init__(self, message: str, path: str | None = None, problems: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.problems = problems or []  # every `file: field: problem` line, where there are several

    def one_line(self) -> str:
        """The message a person reads: `file: problem`."""
        text = " ".join(self.message.split())
        return f"{self.path}: {text}" if self.path else text

    def lines(self) -> list[str]:
        """Every problem, one line each (a file with three problems names all three at once)."""
        return [" ".join(p.split()) for p in self.problems] or [self.one_line()]


class ConfigError(MediaToolError):
    """A show or episode file is missing, malformed or has a bad value."""

    exit_code = 2


class UsageError(MediaToolError):
    """The command line asked for something that cannot be done."""

    exit_code = 2


class InputMediaError(MediaToolError):
    """A recording cannot be used: empty, unreadable, truncated, no audio, too short."""


class ToolError(MediaToolError):
    """An external program (ffmpeg, ffprobe) failed; carries the command and stderr tail."""

    def __init__(self, message: str, path: str | None = None, command: list[str] | None = None,
                 stderr_tail: str = ""):
        super().__init__(message, path)
        self.command = command or []
        self.stderr_tail = stderr_tail


class ModelError(MediaToolError):
    """A speech model cannot be loaded or cannot do what was asked."""


class TranslationError(MediaToolError):
    """A translation could not be made; the episode's existing files are left as they are."""


class PublishError(MediaToolError):
    """The feed or its files cannot be written as the standards require."""


class LockError(MediaToolError):
    """Another build holds the show's lock."""


class SearchTimeout(MediaToolError):
    """A search ran past its deadline (`serve` answers 503 and the client may ask again)."""


class DiskError(MediaToolError):
    """A file could not be written: the disk is full, read-only, over quota, or not ours to write."""


DISK_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EROFS: "read-only file system",
               errno.EDQUOT: "disk quota exceeded", errno.EACCES: "permission denied",
               errno.EPERM: "not permitted", errno.EIO: "input/output error"}


def disk_error(exc: OSError, path: str | None = None, needed: int | None = None,
               display: str | None = None) -> DiskError:
    """One line for a failed write: which path (as `display` shows it), why, and (when full) the free
    space of the filesystem that holds `path` and what is needed. `path` is the path as written (not
    a show-relative name for display, whose free space would be measured where the command started)."""
    where = str(path or exc.filename or "")
    reason = DISK_ERRNOS.get(exc.errno, exc.strerror or str(exc))
    message = f"cannot write: {reason}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        free = free_space(where) if where else None
        figures = [f"{free} free"] if free else []
        figures += [f"about {_mb(needed)} needed"] if needed else []
        message += f" ({', '.join(figures)})" if figures else ""
    return DiskError(message, display or where or None)


def free_space(path) -> str | None:
    """Free space on the device holding `path` (or its nearest existing parent), as `12.3 MB`."""
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return _mb(shutil.disk_usage(p).free)
    except OSError:
        return None


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class ClusterError(MediaToolError):
    """The Ray cluster a build was given cannot be used: nothing answers at its address, Ray is not
    installed, or a worker runs another version of media-tool."""
