"""The one error tree: every failure the CLI can explain in one line."""

from __future__ import annotations


class MediaToolError(Exception):
    """Base of every error media-tool raises on purpose.

    `path` names the file at fault so the one-line message can lead with it.
    """

    exit_code = 1

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path

    def one_line(self) -> str:
        """The message a person reads: `file: problem`."""
        text = " ".join(self.message.split())
        return f"{self.path}: {text}" if self.path else text


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
