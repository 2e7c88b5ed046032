"""The static bilingual site in feed/: a home page, a page per episode (player, chapters, notes,
downloads and the interactive transcript in both languages) and an embeddable player per episode.

For an audience that reaches podcasts through links shared in WeChat and on programme sites, where
the big podcast apps are often unreachable. Everything is local and relative (no CDN, no web fonts,
no analytics), so the site works from any host, under `media-tool serve`, and from a file share.
Pages come from Jinja2 templates in the package, each overridable by a file of the same name in
the show's `templates/` folder. This module is pure: values in, {relative path: bytes} out; the
publish step writes them (only where the bytes changed, so rebuilds are byte-identical).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from media_tool.model.language import other_language
from media_tool.site.feed import Item
from media_tool.text.notes import clock, localized
from media_tool.text.transcripts import Transcript, align_by_time

ASSETS = ("site.css", "site.js")
LANG_NAMES = {"en": "English", "zh": "中文"}
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def relative(url: str | None, base: str, root: str) -> str | None:
    """A URL under the site's base as a path relative to the page (`root` leads back to feed/)."""
    if url and url.startswith(base + "/"):
        return root + url[len(base) + 1:]
    return url


@dataclass(frozen=True)
class SiteEpisode:
    """What the site needs of one built episode, beyond its feed items."""

    items: dict[str, Item]                    # language -> the feed item in that language
    spoken: str
    transcripts: dict[str, Transcript]
    chapters: tuple                           # published chapters (start, title dict)
    clips: tuple[tuple[str, float, float], ...] = ()  # file name under clips/, start, end
    subtitled: str | None = None              # file name under media/ of the captioned MP4
    notes: tuple[tuple[str, str], ...] = ()   # (language, sanitized HTML) of the notes, each text once


def _translation_note(t: Transcript | None, lang: str) -> str:
    if t is None or t.origin == "human":
        return ""
    by = t.origin.split(":", 1)[1] if ":" in t.origin else t.origin
    return (f"The {LANG_NAMES[lang]} text is a machine translation ({by}) · {LANG_NAMES[lang]}为机器翻译"
            if lang == "en" else f"{LANG_NAMES[lang]}为机器翻译（{by}）· The Chinese text is a machine translation ({by})")


def transcript_items(spoken: Transcript | None, other: Transcript | None) -> str:
    """The interactive transcript's <li>s: each segment with data-start/data-end, a #t= link, the spoken
    text and its translation, each with its lang. Made here, not in the template: at 800 lines a page
    it is most of the site's markup, and rendered once it serves the page and the embed alike."""
    if spoken is None:
        return ""
    if other is not None and len(other.segments) != len(spoken.segments):
        other = align_by_time(spoken, list(other.segments), other.language, other.origin)
    lang = HTML_LANG.get(spoken.language, spoken.language)
    tlang = HTML_LANG.get(other.language, other.language) if other is not None else ""
    out = []
    for i, s in enumerate(spoken.segments):
        a, b = _num(s.start), _num(s.end)
        who = f' <span class="speaker">{escape(s.speaker)}</span>' if s.speaker else ""
        o = other.segments[i] if other is not None else None
        said = HTML_LANG.get(s.lang, lang) if s.lang else lang  # mixed-language episodes: per line
        under = ""
        if o is not None and o.text and o.text != s.text:
            olang = HTML_LANG.get(o.lang, tlang) if o.lang and not o.via else tlang
            under = f'<p lang="{olang}" class="translation">{escape(o.text)}</p>'
        out.append(f'<li data-start="{a}" data-end="{b}"><a class="t" href="#t={a}">{clock(s.start)}</a>{who}\n'
                   f'<p class="spoken" lang="{said}">{escape(s.text)}</p>{under}</li>\n')
    return "".join(out)


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def episode_context(show, ep: SiteEpisode, root: str, transcript: str | None = None) -> dict:
    """The template values of one episode page (or its embed, with another `root`); `transcript` is
    `transcript_items` of the episode when the caller already made it."""
    base = show.base_url
    item = ep.items[ep.spoken] if ep.spoken in ep.items else next(iter(ep.items.values()))
    other_lang = other_language(ep.spoken)
    other_item = ep.items.get(other_lang)
    video = next((m for m in item.media if m.kind == "mp4"), None)
    audio = next((m for m in item.media if m.kind == "mp3"), None)
    main = video or audio
    tracks = []
    downloads = [{"label": f"{m.kind.upper()} ({m.length / 1e6:.1f} MB)", "href": relative(m.url, base, root)}
                 for m in item.media]
    if ep.subtitled:
        downloads.append({"label": "MP4 with captions · 带字幕视频", "href": f"{root}media/{ep.subtitled}"})
    for url, mime, lang in item.transcripts:
        ext = url.rsplit(".", 1)[-1].upper()
        downloads.append({"label": f"{LANG_NAMES.get(lang, lang)} {ext}", "href": relative(url, base, root)})
        if video and ext == "VTT":
            tracks.append({"lang": HTML_LANG.get(lang, lang), "label": LANG_NAMES.get(lang, lang),
                           "href": relative(url, base, root), "default": lang == ep.spoken})
    spoken, other = ep.transcripts.get(ep.spoken), ep.transcripts.get(other_lang)
    image = item.image or (f"{base}/{show_cover_name(show)}" if show.cover else None)
    return {
        "slug": item.slug, "title": item.title, "title_other": other_item.title if other_item and
        other_item.title != item.title else "", "other_lang": HTML_LANG[other_lang], "number": item.number,
        "date": item.date.date().isoformat(), "duration": clock(item.duration), "summary": item.summary,
        "video": video is not None, "player": relative(main.url, base, root) if main else "",
        "player_url": main.url if main else "", "image": relative(image, base, root), "image_url": image,
        "tracks": tracks, "downloads": downloads,
        "chapters": [{"start": c.start, "clock": clock(c.start), "title": localized(c.title, ep.spoken),
                      "title_other": localized(c.title, other_lang) if localized(c.title, other_lang) !=
                      localized(c.title, ep.spoken) else ""} for c in ep.chapters],
        "people": [{"name": p[0], "role": p[1], "href": relative(p[3], base, root)} for p in item.people],
        "notes": [{"lang": HTML_LANG.get(lg, lg), "html": html} for lg, html in ep.notes],
        "clips": [{"href": f"{root}clips/{name}", "title": title, "clock": f"{clock(a)}–{clock(b)}"}
                  for (name, a, b), title in zip(ep.clips, [s[2] for s in item.soundbites] + [""] * len(ep.clips))],
        "transcript": Markup(transcript if transcript is not None else transcript_items(
            spoken, other if other is not None and other.segments else None)),
        "translation_note": _translation_note(other, other_lang) if other is not None and other.segments else "",
    }


def show_cover_name(show) -> str:
    return f"cover{Path(show.cover).suffix.lower()}"


def _environment(templates: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None and templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.PackageLoader("media_tool.site", "templates"))
    return jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True, trim_blocks=False,
                              keep_trailing_newline=True)


def render(show, episodes: list[SiteEpisode], listed: list[Item], listed_other: dict[str, Item],
           feeds: list[tuple[str, str]]) -> dict[str, bytes]:
    """Every file of the site: {path under feed/: bytes}. `listed` are the main feed's items (built
    and kept episodes), `listed_other` the other language's by slug, `feeds` (file name, label)."""
    env = _environment(show.root / "templates")
    other_lang = other_language(show.language)
    show_ctx = {
        "title": localized(show.title, show.language), "title_other": show.title.get(other_lang, ""),
        "description": localized(show.description, show.language),
        "description_other": show.description.get(other_lang, ""), "other_lang": HTML_LANG[other_lang],
        "url": show.base_url, "image": show_cover_name(show) if show.cover else None,
        "image_url": f"{show.base_url}/{show_cover_name(show)}" if show.cover else None,
        "feeds": [{"href": name, "label": label} for name, label in feeds],
    }
    if show_ctx["title_other"] == show_ctx["title"]:
        show_ctx["title_other"] = ""
    files: dict[str, bytes] = {}
    entries = []
    for it in sorted(listed, key=lambda i: (i.date, i.slug), reverse=True):
        o = listed_other.get(it.slug)
        entries.append({"slug": it.slug, "number": it.number, "title": it.title,
                        "title_other": o.title if o and o.title != it.title else "",
                        "date": it.date.date().isoformat(), "duration": clock(it.duration),
                        "video": any(m.kind == "mp4" for m in it.media),
                        "guests": ", ".join(p[0] for p in it.people if p[1].lower() == "guest")})
    facts = {e["slug"]: {"title": e["title"], "date": e["date"], "number": e["number"]} for e in entries}
    files["site/episodes.json"] = json.dumps(facts, ensure_ascii=False, sort_keys=True, indent=1).encode()
    lang = HTML_LANG.get(show.language, show.language)
    files["index.html"] = env.get_template("index.html").render(
        show=show_ctx, episodes=entries, root="", page_lang=lang).encode()
    for ep in episodes:
        page_lang = HTML_LANG.get(ep.spoken, ep.spoken)
        ctx = episode_context(show, ep, "../../")
        lines = str(ctx["transcript"])  # the same <li>s in the embed
        files[f"episodes/{ctx['slug']}/index.html"] = env.get_template("episode.html").render(
            show=show_ctx, ep=ctx, root="../../", page_lang=page_lang).encode()
        ctx = episode_context(show, ep, "../", lines)
        files[f"embed/{ctx['slug']}.html"] = env.get_template("embed.html").render(
            show=show_ctx, ep=ctx, root="../", page_lang=page_lang).encode()
    for name in ASSETS:
        override = show.root / "templates" / name
        files[f"site/{name}"] = (override.read_bytes() if override.is_file()
                                 else resources.files("media_tool.site").joinpath("templates", name).read_bytes())
    return files


def feed_label(medium: str, lang: str) -> str:
    """How the home page names a feed: `Video · 视频 · 中文`."""
    return f"{'Video · 视频' if medium == 'video' else 'Audio · 音频'} · {LANG_NAMES.get(lang, lang)}"
