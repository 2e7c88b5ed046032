"""What is wrong with a show as given, before anything is built: the rules of the show folder itself
(Apple's cover art, categories, https, duplicate episode numbers, every file's bad values), as
`Problem`s. The build warns of them and `media-tool check` reports them with the built feed's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from media_tool.errors import ConfigError
from media_tool.model.identity import load as load_identity
from media_tool.model.show import Show, episode_slugs, load_episode

COVER_MIN, COVER_MAX = 1400, 3000


@dataclass(frozen=True)
class Problem:
    """One finding: the file at fault, how bad, what is wrong, and a stable code to decide on."""

    file: str
    severity: str  # "error" | "warning"
    message: str
    code: str = "show"  # what kind of problem (see CODES); callers decide by it, never by the message

    def to_dict(self) -> dict:
        return asdict(self)


CODES = {
    "base-url": "podcast.toml base_url is not https",
    "cover": "cover art missing or not what Apple accepts",
    "categories": "no category",
    "config": "a show or episode file has a bad value",
    "unknown-key": "a key media-tool does not know (warning)",
    "duplicate-number": "two episodes share a season and number",
    "feed": "a built feed breaks Apple's or Podcasting 2.0's rules",
    "terminology": "a translation does not carry a glossary term over (warning)",
    "translation": "a machine translation left a cue out or missed a term, as its checks found (warning)",
    "transcript": "a transcript file that cannot be read (error)",
}


def warning(line: str) -> Problem:
    """A loader warning (`file: field: message`) as a Problem."""
    file, _, message = line.partition(": ")
    return Problem(file, "warning", message, "unknown-key")


def cover_problems(path: Path, display: str) -> list[Problem]:
    """Apple: square, 1400 to 3000 px, RGB, JPEG or PNG whose extension matches its content."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            fmt, (w, h), mode = im.format, im.size, im.mode
    except (UnidentifiedImageError, OSError):
        return [Problem(display, "error", "not an image Pillow can read", "cover")]
    out = []
    if fmt not in ("JPEG", "PNG"):
        out.append(Problem(display, "error", f"{fmt} image: use JPEG or PNG", "cover"))
    elif path.suffix.lower() not in ({".jpg", ".jpeg"} if fmt == "JPEG" else {".png"}):
        out.append(Problem(display, "error", f"a {fmt} image named {path.suffix}: the extension must match", "cover"))
    if w != h:
        out.append(Problem(display, "error", f"{w}x{h}: cover art must be square", "cover"))
    if not COVER_MIN <= min(w, h) or max(w, h) > COVER_MAX:
        out.append(Problem(display, "error", f"{w}x{h}: cover art must be {COVER_MIN} to {COVER_MAX} px", "cover"))
    if mode not in ("RGB",):
        out.append(Problem(display, "error", f"colour mode {mode}: use RGB", "cover"))
    return out


def show_problems(show: Show) -> list[Problem]:
    out = []
    if not show.base_url.startswith("https://"):
        out.append(Problem("podcast.toml", "error", f"base_url: {show.base_url} is not https (Apple requires it)",
                           "base-url"))
    if show.cover:
        out += cover_problems(show.root / show.cover, show.cover)
    else:
        out.append(Problem("podcast.toml", "error", "cover: missing (Apple requires artwork)", "cover"))
    if not show.categories:
        out.append(Problem("podcast.toml", "error", "categories: at least one is required", "categories"))
    if not show.guid:
        kept = load_identity(show, None).guid
        out.append(Problem("podcast.toml", "warning", f"guid: not set, so the show's podcast:guid is kept only in "
                           f"feed/; add guid = \"{kept}\" so that moving base_url without feed/ keeps every "
                           "subscriber", "guid"))
    out += [warning(w) for w in show.warnings]
    numbers: dict[tuple, str] = {}
    for slug in episode_slugs(show):
        display = f"episodes/{slug}/episode.toml"
        try:
            ep = load_episode(show, slug)
        except ConfigError as exc:
            for line in exc.lines():
                file, _, message = line.partition(": ")
                out.append(Problem(file or display, "error", message, "config"))
            continue
        out += [warning(w) for w in ep.warnings]
        out += [Problem(file, "error", what, "placeholder") for file, what in ep.placeholder_lines]
        if ep.number is not None:
            key = (ep.season, ep.number)
            if key in numbers:
                out.append(Problem(display, "error", f"number {ep.number}"
                                   f"{f' (season {ep.season})' if ep.season else ''} is also used by {numbers[key]}",
                                   "duplicate-number"))
            else:
                numbers[key] = display
        if ep.art:
            out += cover_problems(ep.art, f"episodes/{slug}/cover.jpg")
    return out


