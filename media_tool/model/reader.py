"""The validating reader of the show's TOML files: one table at a time, every problem collected as a
`file: field: message` line, unknown keys warned about, so a producer sees all of them at once.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from media_tool.errors import ConfigError
from media_tool.model.language import LANGUAGES

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
"""Control characters, and the invisible ones that reorder or hide text (U+202E turns a title around
in a podcast app; a zero-width space splits a word search cannot find): never in a published field."""
"""Characters XML cannot carry or a terminal would act on; tab and newlines are text."""

def control_char(text: str) -> str | None:
    """`U+001B` for the first control character in `text`, or None."""
    m = CONTROL.search(text)
    return f"U+{ord(m.group()):04X}" if m else None

def safe_link(value: str) -> bool:
    """An http(s) URL, or a plain relative path inside the published site: nothing a browser or an
    app would run (javascript:, data:) or read from the listener's machine (file:)."""
    if re.fullmatch(r"(?i)https?://[^\s/?#@]+(?:[/?#]\S*)?", value):
        return True
    parts = value.split("/")
    return (not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) and not value.startswith("/") and "\\" not in value
            and not any(c.isspace() for c in value) and ".." not in parts and all(parts))

def parse_timestamp(v) -> float | None:
    """Seconds from a number, `SS`, `MM:SS` or `H:MM:SS` (with `.mmm`); minutes and seconds after
    a colon must be under 60, so a typo like `1:76` is an error, not 136 seconds."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v) if v >= 0 and v == v and v != float("inf") else None
    if not isinstance(v, str):
        return None
    m = re.fullmatch(r"(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d+)?)", v.strip())
    if not m:
        return None
    hours, minutes, seconds = int(m[1] or 0), int(m[2] or 0), float(m[3])
    if (m[2] is not None and seconds >= 60) or (m[1] is not None and minutes >= 60):
        return None
    return hours * 3600 + minutes * 60 + seconds


class Reader:
    """Reads one TOML table, collecting problems as `file: field: message` lines."""

    def __init__(self, file: str, table: dict, prefix: str = "", problems: list | None = None,
                 warnings: list | None = None):
        self.file, self.table, self.prefix = file, table, prefix
        self.problems: list[str] = problems if problems is not None else []
        self.warnings: list[str] = warnings if warnings is not None else []
        self.seen: set[str] = set()

    def bad(self, key: str, message: str) -> None:
        self.problems.append(f"{self.file}: {self.prefix}{key}: {message}")

    def get(self, key: str, required: bool = False):
        self.seen.add(key)
        if key not in self.table:
            if required:
                self.bad(key, "missing (required)")
            return None
        v = self.table[key]
        texts = [v] if isinstance(v, str) else list(v.values()) if isinstance(v, dict) else v if isinstance(v, list) else []
        for t in texts:
            code = control_char(t) if isinstance(t, str) else None
            if code:
                self.bad(key, f"control character {code}")
                return None
        return v

    def tables(self, key: str) -> list["Reader"]:
        """A `[[key]]` array of tables, one reader per table (`key[0].field: …` in problems)."""
        v = self.get(key)
        if v is None:
            return []
        if not isinstance(v, list) or not all(isinstance(t, dict) for t in v):
            self.bad(key, f"expected [[{key}]] tables")
            return []
        return [self.sub(f"{key}[{i}]", t) for i, t in enumerate(v)]

    def timestamp(self, key: str) -> float | None:
        """A required time: seconds, MM:SS or H:MM:SS (see parse_timestamp)."""
        v = self.get(key, required=True)
        seconds = parse_timestamp(v)
        if seconds is None and v is not None:
            self.bad(key, f"expected seconds, MM:SS or H:MM:SS (minutes and seconds under 60), got {shown(v)}")
        return seconds

    def link(self, key: str) -> str | None:
        """A URL or show-relative path that is safe to publish."""
        v = self.string(key)
        if v is not None and not safe_link(v):
            self.bad(key, f"expected an https:// URL or a path inside the site, got {shown(v)}")
            return None
        return v

    def string(self, key: str, required: bool = False, default: str | None = None) -> str | None:
        v = self.get(key, required)
        if v is None:
            return default
        if not isinstance(v, str) or not v.strip():
            self.bad(key, f"expected a non-empty string, got {shown(v)}")
            return default
        return v.strip()

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None,
               required: bool = False) -> str | None:
        v = self.string(key, required, default)
        if v is not None and v not in options:
            self.bad(key, f"expected one of {', '.join(options)}, got {shown(v)}")
            return default
        return v

    def positive_int(self, key: str, required: bool = False) -> int | None:
        v = self.get(key, required)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            self.bad(key, f"expected a positive integer, got {shown(v)}")
            return None
        return v

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        v = self.get(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            self.bad(key, f"expected true or false, got {shown(v)}")
            return default
        return v

    def number(self, key: str, lo: float, hi: float) -> float | None:
        v = self.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            self.bad(key, f"expected a number from {lo:g} to {hi:g}, got {shown(v)}")
            return None
        return float(v)

    def localized(self, key: str, required: bool = False, longest: int | None = None) -> dict[str, str]:
        """A text given once (`title = "..."`) or per language (`title = {en = "...", zh = "..."}`),
        each at most `longest` characters (a pasted document as a title costs every stage its length)."""
        v = self.get(key, required)
        if v is None:
            return {}
        long = [t for t in ([v] if isinstance(v, str) else v.values() if isinstance(v, dict) else [])
                if isinstance(t, str) and longest and len(t.strip()) > longest]
        if long:
            self.bad(key, f"{len(long[0].strip())} characters long; a title has at most {longest} "
                          f"(apps cut it near 60): put the rest in the notes")
            return {}
        if isinstance(v, str) and v.strip():
            return {"": v.strip()}
        if isinstance(v, dict) and v and all(isinstance(t, str) and t.strip() for t in v.values()):
            unknown = [lang for lang in v if lang not in LANGUAGES]
            if unknown:
                self.bad(key, f"unknown language {unknown[0]!r} (use {', '.join(LANGUAGES)})")
            return {lang: t.strip() for lang, t in v.items() if lang in LANGUAGES}
        self.bad(key, f"expected a string or a table of en/zh strings, got {shown(v)}")
        return {}

    def string_list(self, key: str) -> tuple[str, ...]:
        v = self.get(key)
        if v is None:
            return ()
        if not isinstance(v, list) or not all(isinstance(s, str) and s.strip() for s in v):
            self.bad(key, f"expected a list of strings, got {shown(v)}")
            return ()
        return tuple(s.strip() for s in v)

    def table_of(self, key: str) -> dict:
        v = self.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict):
            self.bad(key, f"expected a table, got {shown(v)}")
            return {}
        return v

    def sub(self, key: str, table: dict) -> "Reader":
        return Reader(self.file, table, f"{self.prefix}{key}.", self.problems, self.warnings)

    def finish(self) -> None:
        for key in self.table:
            if key not in self.seen:
                self.warnings.append(f"{self.file}: {self.prefix}{key}: unknown key (ignored)")


def shown(v) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # control characters shown escaped
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return "a table" if isinstance(v, dict) else "a list"
    return str(v)


def load_toml(path: Path, display: str) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError("file not found", display) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", display) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", display) from exc


def raise_if(problems: list[str]) -> None:
    if problems:
        file, _, rest = problems[0].partition(": ")
        raise ConfigError(rest, file, problems=problems)


