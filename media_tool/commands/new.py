"""`media-tool new`: start an episode folder that `build` publishes with no further edits.

The episode.toml it writes shows every key, the optional ones commented out with their allowed
values, so a producer never has to guess a format.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tomllib
from pathlib import Path

from media_tool.errors import UsageError
from media_tool.model.language import LANGUAGES
from media_tool.model.settings import AudioSettings
from media_tool.model.show import (
    EPISODE_TYPES,
    MEDIA_EXTENSIONS,
    PLACEHOLDER_NOTES,
    SLUG_MAX,
    TITLE_MAX,
    Show,
    episode_slugs,
    slug_problem,
)
from media_tool.store.files import write_bytes


def next_number(show: Show) -> int:
    """One more than the highest episode number in the show (1 for the first)."""
    numbers = [0]
    for slug in episode_slugs(show):
        try:
            data = tomllib.loads((show.root / "episodes" / slug / "episode.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(data.get("number"), int) and not isinstance(data.get("number"), bool):
            numbers.append(data["number"])
    return max(numbers) + 1


def _toml_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def episode_toml(*, title: str, title_zh: str | None, number: int, date: dt.date, language: str,
                 source: str | None) -> str:
    """The commented episode.toml (pure)."""
    titles = f"title = {{ en = {_toml_string(title)}, zh = {_toml_string(title_zh)} }}" if title_zh else \
        f"title = {_toml_string(title)}"
    audio = AudioSettings()

    def row(code: str, comment: str) -> str:
        return f"{code:<49} # {comment}"

    lines = [
        "# This episode's settings. Keys after a # are optional: remove the # to use one.",
        row(titles, 'one title, or { en = "...", zh = "..." }'),
        row(f"number = {number}", "a positive integer, unique in its season"),
        row("# season = 1", "a positive integer"),
        row(f"date = {date.isoformat()}", "2026-11-27 or 2026-11-27T09:00:00Z; a future date is scheduled"),
        row('# type = "full"', " | ".join(EPISODE_TYPES)),
        row("# explicit = false", "true | false (the show's setting when left out)"),
        row(f"language = {_toml_string(language)}", "the language spoken: " + " | ".join(LANGUAGES)),
        row(f"source = {_toml_string(source)}", "the recording, in this folder") if source else
        row('# source = "recording.wav"', "the recording; not needed when the folder holds one"),
    ]
    lines += [
        "",
        "# [[chapters]]                                   # one table per chapter, in order",
        '# start = "0:00"                                 # in the recording: seconds, MM:SS or H:MM:SS',
        '# title = { en = "Welcome", zh = "欢迎" }',
        '# url = "https://example.org/page"               # an https:// URL or a path inside the site',
        '# image = "https://example.org/chapter.jpg"',
        "",
        "# [[people]]",
        '# name = "Li Wei"',
        '# role = "host"                                  # a Podcast Taxonomy role: host, co-host, guest, ...',
        '# group = "cast"                                 # its Podcast Taxonomy group',
        '# href = "https://example.org/li-wei"',
        '# img = "https://example.org/li-wei.jpg"',
        "",
        "# [audio]                                        # this episode's overrides of podcast.toml [audio]",
        row(f"# target_lufs = {audio.target_lufs}", "-40 to -5 (stereo); target_lufs_mono for mono"),
        row(f"# trim_silence = {str(audio.trim_silence).lower()}", "true | false"),
        "",
    ]
    return "\n".join(lines)


def create(show: Show, slug: str, *, title: str | None = None, title_zh: str | None = None,
           language: str = "en", recording: Path | None = None, date: dt.date | None = None,
           link: bool = False) -> list[Path]:
    """Make episodes/SLUG/ (episode.toml, notes.md, notes.zh.md, the recording); returns the files made."""
    if why := slug_problem(slug):
        raise UsageError("an episode name is " + why.removeprefix("must be ") if why.startswith("must be lower")
                         else f"episode name: {why}",
                         slug[:SLUG_MAX + 20] + ("..." if len(slug) > SLUG_MAX + 20 else ""))
    if language not in LANGUAGES:
        raise UsageError(f"--language: expected one of {', '.join(LANGUAGES)}, got {language!r}")
    for flag, text in (("--title", title), ("--title-zh", title_zh)):
        if text and len(text.strip()) > TITLE_MAX:
            raise UsageError(f"{flag}: {len(text.strip())} characters long; a title has at most {TITLE_MAX} "
                             "(put the rest in the notes)")
    folder = show.root / "episodes" / slug
    if folder.exists():
        raise UsageError("already exists: nothing was changed", show.rel(folder))
    if recording is not None:
        if not recording.is_file():
            raise UsageError("no such file", str(recording))
        if recording.suffix.lower() not in MEDIA_EXTENSIONS:
            raise UsageError(f"not a recording media-tool reads (use one of {', '.join(sorted(MEDIA_EXTENSIONS))})",
                             str(recording))
    source = f"recording{recording.suffix.lower()}" if recording else None
    toml = episode_toml(title=title or slug.replace("-", " ").capitalize(), title_zh=title_zh,
                        number=next_number(show), date=date or dt.date.today(), language=language, source=source)
    folder.mkdir(parents=True)
    made = [folder / "episode.toml", folder / "notes.md", folder / "notes.zh.md"]
    write_bytes(made[0], toml.encode())
    write_bytes(made[1], (PLACEHOLDER_NOTES[""] + "\n").encode())
    write_bytes(made[2], (PLACEHOLDER_NOTES["zh"] + "\n").encode())
    if recording is not None:
        dest = folder / source
        if link:
            os.link(recording, dest)  # a hard link: the recording stays inside the show
        else:
            shutil.copyfile(recording, dest)
        made.append(dest)
    return made
