"""The show folder: podcast.toml and episodes/<slug>/episode.toml parsed into typed values.

Every problem names the file and the field; unknown keys are warned about, never ignored.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from media_tool.errors import ConfigError
from media_tool.model import glossary as glossary_csv
from media_tool.model import taxonomy
from media_tool.model.glossary import Glossary
from media_tool.model.language import LANGUAGES
from media_tool.model.reader import (
    CONTROL,
    Reader,
    control_char,
    load_toml,
    raise_if,
    shown,
)
from media_tool.model.settings import (
    AUDIO_BOUNDS,
    AUDIO_FIELDS,
    DEVICES,
    ENGINES,
    TRANSLATORS,
    AudioSettings,
    ClusterSettings,
    PublishSettings,
    SearchSettings,
    SiteSettings,
    TranscriptionSettings,
    TranslationSettings,
)
from media_tool.store.files import inside
from media_tool.text.script import has_han

MEDIA_EXTENSIONS = {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".aif", ".aiff",
                    ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi"}
EPISODE_TYPES = ("full", "trailer", "bonus")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SLUG_MAX = 80
"""Longest episode folder name: it names published files (`<slug>.subtitled.mp4`, clip names with
times and aspect) that must stay under file systems' 255-byte limit with room to spare."""
RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$")
"""Names Windows cannot store as files: a show synced to a producer's PC or a Windows host would break."""


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot name an episode, or None."""
    if not SLUG.match(slug):
        return ("must be lower-case letters, digits and '-', starting with a letter or digit (it names the "
                "published files)")
    if len(slug) > SLUG_MAX:
        return f"must be at most {SLUG_MAX} characters (it names the published files), got {len(slug)}"
    if RESERVED.match(slug):
        return f"{slug!r} is a name Windows reserves for a device: choose another"
    return None
"""Episode folder names: they name published files, so nothing that could collide with a suffix."""
COVER_MAX_PIXELS = 6000 * 6000
"""Larger art is refused before it is decoded (a 20000-px PNG would take gigabytes)."""
NOTES = {"": "notes.md", "en": "notes.en.md", "zh": "notes.zh.md"}
PLACEHOLDER_NOTES = {"": "Show notes in Markdown: what the episode is about, links, guests.",
                     "zh": "中文节目介绍（Markdown）。"}
"""What `media-tool new` writes into notes.md and notes.zh.md for the producer to replace: never
published (the build leaves it out, `check` calls it an error)."""






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


TITLE_MAX = 255
"""The longest title of a show, episode, chapter or clip (RSS readers and ID3 tags keep about this)."""


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
    site: SiteSettings = SiteSettings()
    cluster: ClusterSettings = ClusterSettings()
    glossary: Glossary = Glossary()
    people: tuple[Person, ...] = ()  # recurring people, declared once (their voice samples)
    warnings: tuple[str, ...] = ()
    authors: dict[str, str] = field(default_factory=dict)  # author per language ("" for one name)
    guid: str | None = None
    """podcast:guid pinned in podcast.toml (else kept from what was published: model/identity)."""

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
    placeholders: tuple[tuple[str, bool], ...] = ()      # (notes file, nothing else in it) still holding `new`'s text
    machine: tuple[str, ...] = ()                        # "title.zh", "chapter.1.zh": texts the machine translated

    @property
    def placeholder_lines(self) -> tuple[tuple[str, str], ...]:
        """(file, what to say) for each notes file still holding `new`'s placeholder: a warning in the
        build, an error in `check`."""
        return tuple((display, "still holds the placeholder `media-tool new` wrote"
                      + (": no notes published from it" if left else ": published without it")
                      + " (write the notes, or delete the file)") for display, left in self.placeholders)

    def audio(self, show: Show) -> AudioSettings:
        """The show's audio settings with this episode's [audio] overrides applied."""
        return show.audio.with_overrides(self.audio_overrides)


def _audio(r: Reader, table: dict, show_root: Path | None) -> dict:
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
                sub.bad(name, f"expected 44100 or 48000, got {v}")
                v = None
            elif name.endswith(("bitrate", "bitrate_mono")) and v is not None and not 32 <= v <= 320:
                sub.bad(name, f"expected a bit rate from 32 to 320 kb/s, got {v}")
                v = None
        elif f.type == "bool":
            v = sub.boolean(name)
        else:
            v = sub.string(name)
            if v is not None and show_root is not None and not inside(show_root, show_root / v):
                sub.bad(name, f"{v} is outside the show folder")
                v = None
            elif v is not None and show_root is not None and not (show_root / v).is_file():
                sub.bad(name, f"file not found: {v}")
                v = None
        if v is not None:
            out[name] = v
    sub.finish()
    return out


def load_show(root: Path | str) -> Show:
    """Read and validate podcast.toml; raise ConfigError naming the file and field."""
    root = Path(root).absolute()  # a relative --show works from any folder (outputs are recorded show-relative)
    data = load_toml(root / "podcast.toml", "podcast.toml")
    r = Reader("podcast.toml", data)
    title = r.localized("title", required=True, longest=TITLE_MAX)
    description = r.localized("description", required=True)
    authors = r.localized("author", required=True)  # one name, or one per language (itunes:author per feed)
    owner = r.table_of("owner")
    ro = r.sub("owner", owner)
    owner_name = ro.string("name", required=True) or ""
    owner_email = ro.string("email", required=True) or ""
    if owner_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", owner_email):
        ro.bad("email", f"not an e-mail address: {shown(owner_email)}")
    ro.finish()
    language = r.choice("language", LANGUAGES, default="en") or "en"
    author = authors.get(language) or authors.get("") or next(iter(authors.values()), "")
    if "zh" in title and "zh" not in authors and author and not has_han(author) and len(author.split()) > 2:
        r.warnings.append("podcast.toml: author: no Chinese name (author = { en = \"...\", zh = \"...\" }); "
                          "feed.zh.xml names the author in English")
    base_url = r.string("base_url", required=True) or ""
    if base_url and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", base_url):
        r.bad("base_url", f"expected an http(s) URL, got {shown(base_url)}")
    elif base_url:
        try:  # an address in Chinese is published as the ASCII one apps understand (punycode, %-escapes)
            base_url = ascii_url(base_url)
        except ValueError as exc:
            r.bad("base_url", f"cannot be written as an ASCII address ({exc}), got {shown(base_url)}")
    cover = r.string("cover")
    if cover and not inside(root, root / cover):
        r.bad("cover", f"{cover} is outside the show folder")
    elif cover and not (root / cover).is_file():
        r.bad("cover", f"file not found: {cover}")
    elif cover and (why := image_problem(root / cover)):
        r.bad("cover", f"{cover}: {why}")
    categories = r.string_list("categories")
    explicit = r.boolean("explicit", default=False)
    locked = r.boolean("locked", default=True)  # podcast:locked: other platforms may not import the feed
    guid = r.string("guid")
    if guid:
        try:
            guid = str(uuid.UUID(guid))
        except ValueError:
            r.bad("guid", f"expected a UUID (podcast:guid, kept forever), got {shown(guid)}")
    audio = AudioSettings().with_overrides(_audio(r, r.table_of("audio"), root))
    tr_table = r.table_of("transcription")
    tr = r.sub("transcription", tr_table)
    d = TranscriptionSettings()  # every default from the one dataclass
    transcription = TranscriptionSettings(
        engine=tr.choice("engine", ENGINES, default=d.engine) or d.engine,
        model=tr.string("model", default=d.model) or d.model,
        languages=tr.string_list("languages") or d.languages,
        speaker_names=tr.boolean("speaker_names", default=d.speaker_names) is not False,
        device=tr.choice("device", DEVICES, default=d.device) or d.device)
    bad_langs = [lang for lang in transcription.languages if lang not in LANGUAGES]
    if bad_langs:
        tr.bad("languages", f"unknown language {bad_langs[0]!r} (use {', '.join(LANGUAGES)})")
    tr.finish()
    tl_table = r.table_of("translation")
    tl = r.sub("translation", tl_table)
    dt_ = TranslationSettings()
    translation = TranslationSettings(
        engine=tl.choice("engine", TRANSLATORS, default=dt_.engine) or dt_.engine,
        url=tl.string("url"), model=tl.string("model"),
        whisper_translate=bool(tl.boolean("whisper_translate", default=dt_.whisper_translate)),
        device=tl.choice("device", DEVICES, default=dt_.device) or dt_.device,
        api_key_env=tl.string("api_key_env", default=dt_.api_key_env) or dt_.api_key_env)
    if translation.url and not re.fullmatch(r"https?://\S+", translation.url):
        tl.bad("url", f"expected an http(s) URL, got {shown(translation.url)}")
    elif translation.url and translation.url.lower().startswith("http://") and not _loopback(translation.url):
        tl.bad("url", "http:// would send the API key in clear text: use https:// (http is allowed only "
                       "for this machine, 127.0.0.1 or localhost)")
    if translation.engine == "openai" and not (translation.url and translation.model):
        tl.bad("engine", 'engine = "openai" needs url and model')
    tl.finish()
    sr = r.sub("search", r.table_of("search"))
    search = SearchSettings(backend=sr.choice("backend", ("sqlite", "postgres"), default="sqlite") or "sqlite",
                            dsn_env=sr.string("dsn_env", default="MEDIA_TOOL_PG_DSN") or "MEDIA_TOOL_PG_DSN")
    sr.finish()
    cl = r.sub("cluster", r.table_of("cluster"))
    cluster = ClusterSettings(address=cl.string("address"), workers=cl.positive_int("workers"))
    if cluster.address and not re.fullmatch(r"local|off|none|(ray://)?[^\s:/]+:\d{1,5}", cluster.address):
        cl.bad("address", f"expected HOST:PORT of a running Ray head, local or off; got {shown(cluster.address)}")
    cl.finish()
    pr = r.sub("publish", r.table_of("publish"))
    publish = PublishSettings(to=pr.string("to"), endpoint_url=pr.string("endpoint_url"), key_file=pr.string("key_file"))
    if publish.endpoint_url and not re.fullmatch(r"https?://\S+", publish.endpoint_url):
        pr.bad("endpoint_url", f"expected an http(s) URL, got {shown(publish.endpoint_url)}")
    pr.finish()
    st = r.sub("site", r.table_of("site"))
    links = []
    for lr in st.tables("subscribe"):
        name, url = lr.string("name", required=True), lr.link("url")
        if not url:
            lr.bad("url", "required: the show's page on that platform")
        lang = lr.choice("language", LANGUAGES)
        lr.finish()
        if name and url:
            links.append((name, url, lang))
    site = SiteSettings(root=st.choice("root", LANGUAGES), subscribe=tuple(links))
    st.finish()
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
    raise_if(r.problems)
    return Show(root=root, title=title, description=description, author=author,
                owner_name=owner_name, owner_email=owner_email, language=language,
                base_url=base_url.rstrip("/"), cover=cover, categories=categories,
                explicit=bool(explicit), locked=bool(locked), audio=audio, transcription=transcription,
                translation=translation, search=search, publish=publish, site=site, cluster=cluster, glossary=terms, people=regulars,
                warnings=tuple(r.warnings), guid=guid or None, authors=authors)


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
    if why := slug_problem(slug):
        raise ConfigError(f"folder name {why}", f"episodes/{slug[:SLUG_MAX + 20]}")
    if not inside(show.root, d):
        raise ConfigError("a link to a folder outside the show folder: nothing from outside is published",
                          f"episodes/{slug}")
    data = load_toml(d / "episode.toml", display)
    r = Reader(display, data)
    title = r.localized("title", required=True, longest=TITLE_MAX)
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
            r.bad("language", f"a mixed-language episode lists both languages, e.g. [\"zh\", \"en\"], got {shown(spoken)}")
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
    notes, placeholders = _notes(show.root, d, slug, r)
    art = None
    if (d / "cover.jpg").exists():
        display_art = f"episodes/{slug}/cover.jpg"
        if not inside(show.root, d / "cover.jpg"):
            r.problems.append(f"{display_art}: a link to a file outside the show folder")
        elif why := image_problem(d / "cover.jpg"):
            r.problems.append(f"{display_art}: {why}")
        else:
            art = d / "cover.jpg"
    raise_if(r.problems)
    assert date is not None and source is not None
    return EpisodeConfig(slug=slug, dir=d, title=title, number=number, season=season, date=date,
                         episode_type=episode_type, explicit=explicit, language=language,
                         source=source, chapters=chapters, clips=clips, people=people, mixed=mixed,
                         audio_overrides=overrides, notes=notes, art=art, warnings=tuple(r.warnings),
                         placeholders=placeholders)


def _notes(root: Path, d: Path, slug: str, r: Reader) -> tuple[dict[str, str], tuple[tuple[str, bool], ...]]:
    """The episode's notes files, read as UTF-8; control characters removed with a warning; `new`'s
    placeholder text left out (the files that held it returned, and whether nothing else was in them)."""
    out, placeholders = {}, []
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
        flat = " ".join(text.split())
        held = [p for p in PLACEHOLDER_NOTES.values() if p in flat]
        if held:
            for p in held:
                flat = flat.replace(p, " ")
            left = not flat.strip()
            placeholders.append((display, left))
            if left:
                continue
            for p in held:
                text = text.replace(p, "")
        out[lang] = text
    return out, tuple(placeholders)


def _date(r: Reader, key: str) -> dt.datetime | None:
    v = r.get(key, required=True)
    if v is None:
        return None
    if isinstance(v, str):
        try:
            v = dt.datetime.fromisoformat(v)
        except ValueError:
            r.bad(key, f"expected a date like 2026-11-26 or 2026-11-26T09:00:00Z, got {shown(v)}")
            return None
    if isinstance(v, dt.datetime):
        out = v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    elif isinstance(v, dt.date):
        out = dt.datetime(v.year, v.month, v.day, tzinfo=dt.timezone.utc)
    else:
        r.bad(key, f"expected a date, got {shown(v)}")
        return None
    if out.year < 1970:  # RFC 822 dates and podcast apps expect dates of the podcast era
        r.bad(key, f"expected a date from 1970 on, got {out.date().isoformat()}")
        return None
    return out


def _source(r: Reader, d: Path, name: str | None) -> Path | None:
    if name is not None:
        p = d / name
        if "/" in name or "\\" in name or name.startswith("."):
            r.bad("source", f"expected a file name inside the episode folder, got {shown(name)}")
            return None
        if not p.is_file():
            r.bad("source", f"file not found: {name}")
            return None
        if not inside(d, p):
            r.bad("source", f"{name} is a link to a file outside the episode folder")
            return None
        return p
    media = sorted(p for p in d.iterdir() if p.suffix.lower() in MEDIA_EXTENSIONS and p.is_file())
    if len(media) == 1:
        if not inside(d, media[0]):
            r.bad("source", f"{media[0].name} is a link to a file outside the episode folder")
            return None
        return media[0]
    r.bad("source", "missing, and the folder does not hold exactly one recording"
           f" ({len(media)} found)")
    return None




def _chapters(r: Reader) -> tuple[Chapter, ...]:
    out = []
    for cr in r.tables("chapters"):
        start = cr.timestamp("start")
        title = cr.localized("title", required=True, longest=TITLE_MAX)
        url, image = cr.link("url"), cr.link("image")
        cr.finish()
        if start is not None and title:
            out.append(Chapter(start=start, title=title, url=url, image=image))
    starts = [c.start for c in out]
    if starts != sorted(starts):
        r.bad("chapters", "chapter start times must increase")
    return tuple(out)


ASPECTS = {"9:16": (1080, 1920), "1:1": (1080, 1080), "16:9": (1920, 1080)}
"""Frame sizes: 9:16 for phone feeds (Channels, Douyin, Reels), 1:1 for timelines, 16:9 for sites."""
CLIP_SECONDS = (1.0, 300.0)
"""A soundbite's length: apps show 15 s to 2 min best; longer is an excerpt, not a clip."""


def clip_length_problem(seconds: float) -> str | None:
    """Why a clip of this length cannot be made, or None: the one rule for [[clips]] and `media-tool clip`."""
    lo, hi = CLIP_SECONDS
    return None if lo <= seconds <= hi else f"a clip lasts {lo:g} to {hi:g} s, this one {seconds:.1f} s"


def _clips(r: Reader) -> tuple[Clip, ...]:
    out = []
    for cr in r.tables("clips"):
        start, end = cr.timestamp("start"), cr.timestamp("end")
        title = cr.localized("title", required=True, longest=TITLE_MAX)
        aspect = cr.choice("aspect", tuple(ASPECTS), default="9:16") or "9:16"
        cr.finish()
        if start is not None and end is not None and title:
            if why := clip_length_problem(end - start):
                cr.bad("end", why)
            else:
                out.append(Clip(start, end, title, aspect))
    return tuple(out)


def _people(r: Reader, root: Path) -> tuple[Person, ...]:
    out = []
    for pr in r.tables("people"):
        name = pr.string("name", required=True)
        role = pr.string("role", default="host") or "host"
        group = pr.string("group", default="cast") or "cast"
        if why := taxonomy.problem(role, group):
            pr.bad("role" if "role" in why.split(" is ")[0] else "group", why)
        voice = pr.string("voice")
        if voice and not inside(root, root / voice):
            pr.bad("voice", f"{voice} is outside the show folder")
            voice = None
        elif voice and not (root / voice).is_file():
            pr.bad("voice", f"file not found: {voice}")
            voice = None
        person = Person(name=name or "", role=role, group=group, href=pr.link("href"), img=pr.link("img"),
                        voice=voice)
        pr.finish()
        if name:
            out.append(person)
    return tuple(out)


def ascii_url(url: str) -> str:
    """`url` as the ASCII address feeds, tags and apps need: the host in punycode (IDNA), the path
    percent-encoded (characters already escaped are kept)."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        host = host.encode("idna").decode("ascii")
    netloc = host + (f":{parts.port}" if parts.port else "")
    if parts.username:
        raise ValueError("a user name in the address")
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe="/%-._~!$&'()*+,;=:@"),
                       quote(parts.query, safe="=&%"), ""))
