"""The show folder: podcast.toml and episodes/<slug>/episode.toml parsed into typed values.

Every problem names the file and the field; unknown keys are warned about, never ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import glossary as glossary_csv
from . import taxonomy
from .clips import ASPECTS
from .errors import ConfigError
from .glossary import Glossary
from .settings import (
    AUDIO_BOUNDS,
    AUDIO_FIELDS,
    ENGINES,
    TRANSLATORS,
    AudioSettings,
    PublishSettings,
    SearchSettings,
    TranscriptionSettings,
    TranslationSettings,
)

MEDIA_EXTENSIONS = {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".aif", ".aiff",
                    ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi"}
LANGUAGES = ("en", "zh")
EPISODE_TYPES = ("full", "trailer", "bonus")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
"""Episode folder names: they name published files, so nothing that could collide with a suffix."""
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
"""Characters XML cannot carry or a terminal would act on; tab and newlines are text."""
COVER_MAX_PIXELS = 6000 * 6000
"""Larger art is refused before it is decoded (a 20000-px PNG would take gigabytes)."""
NOTES = {"": "notes.md", "en": "notes.en.md", "zh": "notes.zh.md"}


def control_char(text: str) -> str | None:
    """`U+001B` for the first control character in `text`, or None."""
    m = CONTROL.search(text)
    return f"U+{ord(m.group()):04X}" if m else None


def inside(root: Path, path: Path) -> bool:
    """Whether `path` (after following links) lies inside the show folder `root`."""
    return path.resolve().is_relative_to(root.resolve())


def safe_link(value: str) -> bool:
    """An http(s) URL, or a plain relative path inside the published site: nothing a browser or an
    app would run (javascript:, data:) or read from the listener's machine (file:)."""
    if re.fullmatch(r"(?i)https?://[^\s/?#@]+(?:[/?#]\S*)?", value):
        return True
    parts = value.split("/")
    return (not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) and not value.startswith("/") and "\\" not in value
            and not any(c.isspace() for c in value) and ".." not in parts and all(parts))


def image_problem(path: Path) -> str | None:
    """Why an image file cannot be used at all (not why Apple would refuse it: that is `check`)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
            if im.format not in ("JPEG", "PNG"):
                return f"a {im.format} image: use JPEG or PNG"
    except Image.DecompressionBombError:
        return "image too large to read safely"
    except (UnidentifiedImageError, OSError, ValueError):
        return "not an image (JPEG or PNG expected)"
    if w * h > COVER_MAX_PIXELS:
        return f"{w}x{h} px is too large to read safely (at most 6000x6000; Apple wants 1400-3000)"
    return None


@dataclass(frozen=True)
class Chapter:
    start: float
    title: dict[str, str]
    url: str | None = None
    image: str | None = None


@dataclass(frozen=True)
class Clip:
    """A span worth sharing (podcast:soundbite), in the recording's timeline."""

    start: float
    end: float
    title: dict[str, str]
    aspect: str = "9:16"  # of the rendered clip (feed/clips/)


@dataclass(frozen=True)
class Person:
    name: str
    role: str = "host"
    group: str = "cast"
    href: str | None = None
    img: str | None = None
    voice: str | None = None  # a short recording of this person alone (show-relative), to name their turns


@dataclass(frozen=True)
class Show:
    """podcast.toml, validated."""

    root: Path
    title: dict[str, str]
    description: dict[str, str]
    author: str
    owner_name: str
    owner_email: str
    language: str
    base_url: str
    cover: str | None
    categories: tuple[str, ...]
    explicit: bool
    locked: bool
    audio: AudioSettings
    transcription: TranscriptionSettings
    translation: TranslationSettings = TranslationSettings()
    search: SearchSettings = SearchSettings()
    publish: PublishSettings = PublishSettings()
    glossary: Glossary = Glossary()
    people: tuple[Person, ...] = ()  # recurring people, declared once (their voice samples)
    warnings: tuple[str, ...] = ()

    @property
    def transcripts_dir(self) -> Path:
        return self.root / "transcripts"

    @property
    def state_dir(self) -> Path:
        return self.root / ".media-tool"

    @property
    def feed_dir(self) -> Path:
        return self.root / "feed"

    def rel(self, path: Path | str) -> str:
        """A path as a producer sees it: relative to the show folder where possible."""
        if not Path(path).is_absolute():
            return str(path)
        try:
            return str(Path(path).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class EpisodeConfig:
    """One episodes/<slug>/episode.toml, validated."""

    slug: str
    dir: Path
    title: dict[str, str]
    number: int | None
    season: int | None
    date: dt.datetime
    episode_type: str
    explicit: bool | None
    language: str                                        # the main spoken language (the first, if several)
    source: Path
    chapters: tuple[Chapter, ...] = ()
    clips: tuple[Clip, ...] = ()
    mixed: bool = False                                  # language = ["zh", "en"]: each turn in its own
    people: tuple[Person, ...] = ()
    audio_overrides: dict = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # "" (notes.md), "en", "zh" -> Markdown
    art: Path | None = None                              # episodes/<slug>/cover.jpg, checked
    warnings: tuple[str, ...] = ()

    def audio(self, show: Show) -> AudioSettings:
        """The show's audio settings with this episode's [audio] overrides applied."""
        return show.audio.with_overrides(self.audio_overrides)


class _Reader:
    """Reads one TOML table, collecting problems as `file: field: message` lines."""

    def __init__(self, file: str, table: dict, prefix: str = "", problems: list | None = None,
                 warnings: list | None = None):
        self.file, self.table, self.prefix = file, table, prefix
        self.problems: list[str] = problems if problems is not None else []
        self.warnings: list[str] = warnings if warnings is not None else []
        self.seen: set[str] = set()

    def _bad(self, key: str, message: str) -> None:
        self.problems.append(f"{self.file}: {self.prefix}{key}: {message}")

    def get(self, key: str, required: bool = False):
        self.seen.add(key)
        if key not in self.table:
            if required:
                self._bad(key, "missing (required)")
            return None
        v = self.table[key]
        texts = [v] if isinstance(v, str) else list(v.values()) if isinstance(v, dict) else v if isinstance(v, list) else []
        for t in texts:
            code = control_char(t) if isinstance(t, str) else None
            if code:
                self._bad(key, f"control character {code}")
                return None
        return v

    def tables(self, key: str) -> list["_Reader"]:
        """A `[[key]]` array of tables, one reader per table (`key[0].field: …` in problems)."""
        v = self.get(key)
        if v is None:
            return []
        if not isinstance(v, list) or not all(isinstance(t, dict) for t in v):
            self._bad(key, f"expected [[{key}]] tables")
            return []
        return [self.sub(f"{key}[{i}]", t) for i, t in enumerate(v)]

    def timestamp(self, key: str) -> float | None:
        """A required time: seconds, MM:SS or H:MM:SS (see parse_timestamp)."""
        v = self.get(key, required=True)
        seconds = parse_timestamp(v)
        if seconds is None and v is not None:
            self._bad(key, f"expected seconds, MM:SS or H:MM:SS (minutes and seconds under 60), got {_show(v)}")
        return seconds

    def link(self, key: str) -> str | None:
        """A URL or show-relative path that is safe to publish."""
        v = self.string(key)
        if v is not None and not safe_link(v):
            self._bad(key, f"expected an https:// URL or a path inside the site, got {_show(v)}")
            return None
        return v

    def string(self, key: str, required: bool = False, default: str | None = None) -> str | None:
        v = self.get(key, required)
        if v is None:
            return default
        if not isinstance(v, str) or not v.strip():
            self._bad(key, f"expected a non-empty string, got {_show(v)}")
            return default
        return v.strip()

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None,
               required: bool = False) -> str | None:
        v = self.string(key, required, default)
        if v is not None and v not in options:
            self._bad(key, f"expected one of {', '.join(options)}, got {_show(v)}")
            return default
        return v

    def positive_int(self, key: str, required: bool = False) -> int | None:
        v = self.get(key, required)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            self._bad(key, f"expected a positive integer, got {_show(v)}")
            return None
        return v

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        v = self.get(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            self._bad(key, f"expected true or false, got {_show(v)}")
            return default
        return v

    def number(self, key: str, lo: float, hi: float) -> float | None:
        v = self.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            self._bad(key, f"expected a number from {lo:g} to {hi:g}, got {_show(v)}")
            return None
        return float(v)

    def localized(self, key: str, required: bool = False) -> dict[str, str]:
        """A text given once (`title = "..."`) or per language (`title = {en = "...", zh = "..."}`)."""
        v = self.get(key, required)
        if v is None:
            return {}
        if isinstance(v, str) and v.strip():
            return {"": v.strip()}
        if isinstance(v, dict) and v and all(isinstance(t, str) and t.strip() for t in v.values()):
            unknown = [lang for lang in v if lang not in LANGUAGES]
            if unknown:
                self._bad(key, f"unknown language {unknown[0]!r} (use {', '.join(LANGUAGES)})")
            return {lang: t.strip() for lang, t in v.items() if lang in LANGUAGES}
        self._bad(key, f"expected a string or a table of en/zh strings, got {_show(v)}")
        return {}

    def string_list(self, key: str) -> tuple[str, ...]:
        v = self.get(key)
        if v is None:
            return ()
        if not isinstance(v, list) or not all(isinstance(s, str) and s.strip() for s in v):
            self._bad(key, f"expected a list of strings, got {_show(v)}")
            return ()
        return tuple(s.strip() for s in v)

    def table_of(self, key: str) -> dict:
        v = self.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict):
            self._bad(key, f"expected a table, got {_show(v)}")
            return {}
        return v

    def sub(self, key: str, table: dict) -> "_Reader":
        return _Reader(self.file, table, f"{self.prefix}{key}.", self.problems, self.warnings)

    def finish(self) -> None:
        for key in self.table:
            if key not in self.seen:
                self.warnings.append(f"{self.file}: {self.prefix}{key}: unknown key (ignored)")


def _show(v) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # control characters shown escaped
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return "a table" if isinstance(v, dict) else "a list"
    return str(v)


def _load_toml(path: Path, display: str) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError("file not found", display) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", display) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", display) from exc


def _raise_if(problems: list[str]) -> None:
    if problems:
        file, _, rest = problems[0].partition(": ")
        raise ConfigError(rest, file, problems=problems)


def _audio(r: _Reader, table: dict, show_root: Path | None) -> dict:
    """Validated [audio] overrides, as a dict of AudioSettings fields."""
    sub = r.sub("audio", table)
    out: dict = {}
    for name, f in AUDIO_FIELDS.items():
        if name not in table:
            continue
        if f.type in ("float",):
            v = sub.number(name, *AUDIO_BOUNDS[name])
        elif f.type == "int":
            v = sub.positive_int(name)
            if name == "sample_rate" and v not in (None, 44100, 48000):
                sub._bad(name, f"expected 44100 or 48000, got {v}")
                v = None
            elif name.endswith(("bitrate", "bitrate_mono")) and v is not None and not 32 <= v <= 320:
                sub._bad(name, f"expected a bit rate from 32 to 320 kb/s, got {v}")
                v = None
        elif f.type == "bool":
            v = sub.boolean(name)
        else:
            v = sub.string(name)
            if v is not None and show_root is not None and not inside(show_root, show_root / v):
                sub._bad(name, f"{v} is outside the show folder")
                v = None
            elif v is not None and show_root is not None and not (show_root / v).is_file():
                sub._bad(name, f"file not found: {v}")
                v = None
        if v is not None:
            out[name] = v
    sub.finish()
    return out


def load_show(root: Path | str) -> Show:
    """Read and validate podcast.toml; raise ConfigError naming the file and field."""
    root = Path(root)
    data = _load_toml(root / "podcast.toml", "podcast.toml")
    r = _Reader("podcast.toml", data)
    title = r.localized("title", required=True)
    description = r.localized("description", required=True)
    author = r.string("author", required=True) or ""
    owner = r.table_of("owner")
    ro = r.sub("owner", owner)
    owner_name = ro.string("name", required=True) or ""
    owner_email = ro.string("email", required=True) or ""
    if owner_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", owner_email):
        ro._bad("email", f"not an e-mail address: {_show(owner_email)}")
    ro.finish()
    language = r.choice("language", LANGUAGES, default="en") or "en"
    base_url = r.string("base_url", required=True) or ""
    if base_url and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", base_url):
        r._bad("base_url", f"expected an http(s) URL, got {_show(base_url)}")
    cover = r.string("cover")
    if cover and not inside(root, root / cover):
        r._bad("cover", f"{cover} is outside the show folder")
    elif cover and not (root / cover).is_file():
        r._bad("cover", f"file not found: {cover}")
    elif cover and (why := image_problem(root / cover)):
        r._bad("cover", f"{cover}: {why}")
    categories = r.string_list("categories")
    explicit = r.boolean("explicit", default=False)
    locked = r.boolean("locked", default=True)  # podcast:locked: other platforms may not import the feed
    audio = AudioSettings().with_overrides(_audio(r, r.table_of("audio"), root))
    tr_table = r.table_of("transcription")
    tr = r.sub("transcription", tr_table)
    transcription = TranscriptionSettings(
        engine=tr.choice("engine", ENGINES, default="faster-whisper") or "faster-whisper",
        model=tr.string("model", default="base") or "base",
        languages=tr.string_list("languages") or ("zh", "en"),
        speaker_names=tr.boolean("speaker_names", default=True) is not False)
    bad_langs = [lang for lang in transcription.languages if lang not in LANGUAGES]
    if bad_langs:
        tr._bad("languages", f"unknown language {bad_langs[0]!r} (use {', '.join(LANGUAGES)})")
    tr.finish()
    tl_table = r.table_of("translation")
    tl = r.sub("translation", tl_table)
    translation = TranslationSettings(
        engine=tl.choice("engine", TRANSLATORS, default="human") or "human",
        url=tl.string("url"), model=tl.string("model"),
        api_key_env=tl.string("api_key_env", default="OPENAI_API_KEY") or "OPENAI_API_KEY")
    if translation.url and not re.fullmatch(r"https?://\S+", translation.url):
        tl._bad("url", f"expected an http(s) URL, got {_show(translation.url)}")
    elif translation.url and translation.url.lower().startswith("http://") and not _loopback(translation.url):
        tl._bad("url", "http:// would send the API key in clear text: use https:// (http is allowed only "
                       "for this machine, 127.0.0.1 or localhost)")
    if translation.engine == "openai" and not (translation.url and translation.model):
        tl._bad("engine", 'engine = "openai" needs url and model')
    tl.finish()
    sr = r.sub("search", r.table_of("search"))
    search = SearchSettings(backend=sr.choice("backend", ("sqlite", "postgres"), default="sqlite") or "sqlite",
                            dsn_env=sr.string("dsn_env", default="MEDIA_TOOL_PG_DSN") or "MEDIA_TOOL_PG_DSN")
    sr.finish()
    pr = r.sub("publish", r.table_of("publish"))
    publish = PublishSettings(to=pr.string("to"), endpoint_url=pr.string("endpoint_url"), key_file=pr.string("key_file"))
    if publish.endpoint_url and not re.fullmatch(r"https?://\S+", publish.endpoint_url):
        pr._bad("endpoint_url", f"expected an http(s) URL, got {_show(publish.endpoint_url)}")
    pr.finish()
    regulars = _people(r, root)
    r.finish()
    terms = Glossary()
    gpath = root / "glossary.csv"
    if gpath.exists():
        if not inside(root, gpath) or not gpath.is_file():
            r.problems.append("glossary.csv: not a file inside the show folder")
        else:
            try:
                terms = glossary_csv.load(gpath, "glossary.csv")
            except ConfigError as exc:
                r.problems.append(exc.one_line())
    _raise_if(r.problems)
    return Show(root=root, title=title, description=description, author=author,
                owner_name=owner_name, owner_email=owner_email, language=language,
                base_url=base_url.rstrip("/"), cover=cover, categories=categories,
                explicit=bool(explicit), locked=bool(locked), audio=audio, transcription=transcription,
                translation=translation, search=search, publish=publish, glossary=terms, people=regulars,
                warnings=tuple(r.warnings))


def _loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")


def episode_slugs(show: Show) -> list[str]:
    """Every folder under episodes/ that holds an episode.toml, sorted."""
    base = show.root / "episodes"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "episode.toml").is_file())


def load_episode(show: Show, slug: str) -> EpisodeConfig:
    """Read and validate episodes/<slug>/episode.toml."""
    d = show.root / "episodes" / slug
    display = f"episodes/{slug}/episode.toml"
    if not SLUG.match(slug):
        raise ConfigError("folder name must be lower-case letters, digits and '-', starting with a letter or "
                          "digit (it names the published files)", f"episodes/{slug}")
    if not inside(show.root, d):
        raise ConfigError("a link to a folder outside the show folder: nothing from outside is published",
                          f"episodes/{slug}")
    data = _load_toml(d / "episode.toml", display)
    r = _Reader(display, data)
    title = r.localized("title", required=True)
    number = r.positive_int("number")
    season = r.positive_int("season")
    date = _date(r, "date")
    episode_type = r.choice("type", EPISODE_TYPES, default="full") or "full"
    explicit = r.boolean("explicit")
    mixed = isinstance(r.get("language"), list) or r.get("language") == "mixed"
    if mixed:  # language = ["zh", "en"]: a conversation in both; the first is the main one
        spoken = r.get("language")
        if spoken == "mixed":  # the show's language is the main one
            spoken = [show.language] + [x for x in LANGUAGES if x != show.language]
        if sorted(spoken) != sorted(LANGUAGES) or len(set(spoken)) != 2:
            r._bad("language", f"a mixed-language episode lists both languages, e.g. [\"zh\", \"en\"], got {_show(spoken)}")
            spoken = list(LANGUAGES)
        language = spoken[0]
    else:
        language = r.choice("language", LANGUAGES, required=True) or show.language
    source_name = r.string("source")
    source = _source(r, d, source_name)
    chapters = _chapters(r)
    clips = _clips(r)
    known = {p.name: p.voice for p in show.people if p.voice}
    people = tuple(replace(p, voice=p.voice or known.get(p.name)) for p in _people(r, show.root))
    overrides = _audio(r, r.table_of("audio"), show.root)
    r.finish()
    notes = _notes(show.root, d, slug, r)
    art = None
    if (d / "cover.jpg").exists():
        display_art = f"episodes/{slug}/cover.jpg"
        if not inside(show.root, d / "cover.jpg"):
            r.problems.append(f"{display_art}: a link to a file outside the show folder")
        elif why := image_problem(d / "cover.jpg"):
            r.problems.append(f"{display_art}: {why}")
        else:
            art = d / "cover.jpg"
    _raise_if(r.problems)
    assert date is not None and source is not None
    return EpisodeConfig(slug=slug, dir=d, title=title, number=number, season=season, date=date,
                         episode_type=episode_type, explicit=explicit, language=language,
                         source=source, chapters=chapters, clips=clips, people=people, mixed=mixed,
                         audio_overrides=overrides, notes=notes, art=art, warnings=tuple(r.warnings))


def _notes(root: Path, d: Path, slug: str, r: _Reader) -> dict[str, str]:
    """The episode's notes files, read as UTF-8; control characters removed with a warning."""
    out = {}
    for lang, name in NOTES.items():
        path, display = d / name, f"episodes/{slug}/{name}"
        if not path.exists():
            continue
        if not inside(root, path) or not path.is_file():
            r.problems.append(f"{display}: not a file inside the show folder")
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            r.problems.append(f"{display}: not UTF-8 text (save it as UTF-8)")
            continue
        if code := control_char(text):
            r.warnings.append(f"{display}: control character {code} (and any others) removed")
            text = CONTROL.sub("", text)
        out[lang] = text
    return out


def _date(r: _Reader, key: str) -> dt.datetime | None:
    v = r.get(key, required=True)
    if v is None:
        return None
    if isinstance(v, str):
        try:
            v = dt.datetime.fromisoformat(v)
        except ValueError:
            r._bad(key, f"expected a date like 2026-11-26 or 2026-11-26T09:00:00Z, got {_show(v)}")
            return None
    if isinstance(v, dt.datetime):
        out = v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    elif isinstance(v, dt.date):
        out = dt.datetime(v.year, v.month, v.day, tzinfo=dt.timezone.utc)
    else:
        r._bad(key, f"expected a date, got {_show(v)}")
        return None
    if out.year < 1970:  # RFC 822 dates and podcast apps expect dates of the podcast era
        r._bad(key, f"expected a date from 1970 on, got {out.date().isoformat()}")
        return None
    return out


def _source(r: _Reader, d: Path, name: str | None) -> Path | None:
    if name is not None:
        p = d / name
        if "/" in name or "\\" in name or name.startswith("."):
            r._bad("source", f"expected a file name inside the episode folder, got {_show(name)}")
            return None
        if not p.is_file():
            r._bad("source", f"file not found: {name}")
            return None
        if not inside(d, p):
            r._bad("source", f"{name} is a link to a file outside the episode folder")
            return None
        return p
    media = sorted(p for p in d.iterdir() if p.suffix.lower() in MEDIA_EXTENSIONS and p.is_file())
    if len(media) == 1:
        if not inside(d, media[0]):
            r._bad("source", f"{media[0].name} is a link to a file outside the episode folder")
            return None
        return media[0]
    r._bad("source", "missing, and the folder does not hold exactly one recording"
           f" ({len(media)} found)")
    return None


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


def _chapters(r: _Reader) -> tuple[Chapter, ...]:
    out = []
    for cr in r.tables("chapters"):
        start = cr.timestamp("start")
        title = cr.localized("title", required=True)
        url, image = cr.link("url"), cr.link("image")
        cr.finish()
        if start is not None and title:
            out.append(Chapter(start=start, title=title, url=url, image=image))
    starts = [c.start for c in out]
    if starts != sorted(starts):
        r._bad("chapters", "chapter start times must increase")
    return tuple(out)


CLIP_SECONDS = (1.0, 300.0)
"""A soundbite's length: apps show 15 s to 2 min best; longer is an excerpt, not a clip."""


def _clips(r: _Reader) -> tuple[Clip, ...]:
    out = []
    for cr in r.tables("clips"):
        start, end = cr.timestamp("start"), cr.timestamp("end")
        title = cr.localized("title", required=True)
        aspect = cr.choice("aspect", tuple(ASPECTS), default="9:16") or "9:16"
        cr.finish()
        if start is not None and end is not None and title:
            lo, hi = CLIP_SECONDS
            if not lo <= end - start <= hi:
                cr._bad("end", f"a clip lasts {lo:g} to {hi:g} s, this one {end - start:g} s")
            else:
                out.append(Clip(start, end, title, aspect))
    return tuple(out)


def _people(r: _Reader, root: Path) -> tuple[Person, ...]:
    out = []
    for pr in r.tables("people"):
        name = pr.string("name", required=True)
        role = pr.string("role", default="host") or "host"
        group = pr.string("group", default="cast") or "cast"
        if why := taxonomy.problem(role, group):
            pr._bad("role" if "role" in why.split(" is ")[0] else "group", why)
        voice = pr.string("voice")
        if voice and not inside(root, root / voice):
            pr._bad("voice", f"{voice} is outside the show folder")
            voice = None
        elif voice and not (root / voice).is_file():
            pr._bad("voice", f"file not found: {voice}")
            voice = None
        person = Person(name=name or "", role=role, group=group, href=pr.link("href"), img=pr.link("img"),
                        voice=voice)
        pr.finish()
        if name:
            out.append(person)
    return tuple(out)
