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

from media_tool.model.language import edition_prefix, other_language, root_language
from media_tool.model.language import editions as all_editions
from media_tool.model.taxonomy import role_name
from media_tool.site.feed import Item
from media_tool.site.finder import index as search_index
from media_tool.text.notes import clock, localized
from media_tool.text.transcripts import Transcript, align_by_time, file_name

ASSETS = ("site.css", "site.js", "find.js")
LANG_NAMES = {"en": "English", "zh": "中文"}
HTML_LANG = {"en": "en", "zh": "zh-CN"}
UI = {
    "subscribe": ("Subscribe", "订阅"), "search_label": ("Search what was said", "搜索文字稿"),
    "search": ("Search", "搜索"), "episodes": ("Episodes", "节目"), "chapters": ("Chapters", "章节"),
    "people": ("People", "嘉宾与主持"), "notes": ("Notes", "节目说明"), "clips": ("Clips", "短片"),
    "transcript": ("Transcript", "文字稿"), "no_transcript": ("No transcript yet", "暂无文字稿"),
    "downloads": ("Downloads", "下载"), "embed": ("Embed", "嵌入"),
    "copy_moment": ("Copy link to this moment", "复制此刻链接"), "video": ("video", "视频"),
    "scan": ("Scan to open this episode", "扫码打开本集"), "scan_show": ("Scan to open the show", "扫码打开节目"),
    "feed_copy": ("Or copy a feed address into any podcast app", "或把订阅地址复制到任意播客应用"),
    "edition": ("English", "中文"),
    "search_hint": ("Words in English or Chinese", "中文或英文关键词"),
    "share": ("Share", "分享"), "link": ("Link", "链接"), "copy_button": ("Copy", "复制"), "copied": ("Copied", "已复制"),
    "copy_rss": ("Copy the RSS address", "复制 RSS 订阅地址"),
    "other_apps": ("Any other podcast app: paste the RSS address", "其他播客应用：粘贴 RSS 订阅地址"),
    "speed": ("Speed", "倍速"), "back15": ("Back 15 seconds", "后退 15 秒"), "fwd15": ("Forward 15 seconds", "前进 15 秒"),
    "resume": ("Resume at", "从上次位置继续"),
    "burned": ("Captions in the picture", "画面内字幕"),
}
"""The site's words in both languages; each edition puts its own first (`ui`)."""


def ui(lang: str) -> dict[str, str]:
    """The site's words for one edition: its language first, the other after (the audience reads
    one, the guests the other)."""
    return {k: f"{en} · {zh}" if lang == "en" else f"{zh} · {en}" for k, (en, zh) in UI.items()}


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code of `url` (segno, offline): vector, so it prints sharp at any size; error
    correction M keeps it readable from a photographed slide."""
    import segno

    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=4, border=4, dark="#000", light="#fff", svgclass="qr-code",
                                  title=url, omitsize=True))


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
    machine: frozenset[str] = frozenset()     # "title.zh", "chapter.1.zh": what the machine translated


def _translation_note(t: Transcript | None, lang: str, mixed: bool = False) -> str:
    """What the page says above a machine-made transcript, in words a listener reads (the translator's
    id is in the JSON, not here)."""
    if t is None or t.origin == "human":
        return ""
    if mixed:
        return ("标有“机器翻译”的句子为机器翻译 · Lines marked “machine translation” were translated by machine"
                if lang == "zh" else
                "Lines marked “machine translation” were translated by machine · 标有“机器翻译”的句子为机器翻译")
    return ("机器翻译 · machine translation：中文文本由机器翻译" if lang == "zh" else
            f"Machine translation · 机器翻译: the {LANG_NAMES[lang]} text was translated by machine")


MACHINE_MARK = '<span class="mt" lang="zh-CN">机器翻译 · <span lang="en">machine translation</span></span>'
"""Beside each line a machine translated, where a page mixes people's lines and the machine's."""


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
        # the language of the words shown: a mixed episode's line as spoken is in the language spoken
        # there, the machine's line in the file's own (the Chinese of an English turn is Chinese)
        said = HTML_LANG.get(s.lang, lang) if s.lang and not s.via else lang
        mark = f" {MACHINE_MARK}" if machine_line(s) else ""
        under = ""
        if o is not None and o.text and o.text != s.text:
            olang = HTML_LANG.get(o.lang, tlang) if o.lang and not o.via else tlang
            omark = f" {MACHINE_MARK}" if machine_line(o) else ""
            under = f'<p lang="{olang}" class="translation">{escape(o.text)}{omark}</p>'
        out.append(f'<li data-start="{a}" data-end="{b}"><a class="t" href="#t={a}">{clock(s.start)}</a>{who}\n'
                   f'<p class="spoken" lang="{said}">{escape(s.text)}{mark}</p>{under}</li>\n')
    return "".join(out)


def machine_line(s) -> bool:
    """Whether a line is the machine's translation (not the words as spoken, not a person's)."""
    return bool(s.via) and s.via != "human" and bool(s.text)


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def episode_context(show, ep: SiteEpisode, root: str, transcript: str | None = None,
                    lang: str | None = None) -> dict:
    """The template values of one episode page (or its embed, with another `root`) in the edition of
    `lang` (default: the spoken language): that language's title, chapters, notes and transcript
    first; `transcript` is `transcript_items` of the episode when the caller already made it."""
    base = show.base_url
    lang = lang or ep.spoken
    first = lang if lang in ep.items else ep.spoken if ep.spoken in ep.items else next(iter(ep.items))
    item = ep.items[first]
    other_lang = other_language(lang)
    other_item = ep.items.get(other_lang)
    video = next((m for m in item.media if m.kind == "mp4"), None)
    audio = next((m for m in item.media if m.kind == "mp3"), None)
    main = video or audio
    tracks = []
    downloads = [{"label": f"{m.kind.upper()} ({m.length / 1e6:.1f} MB)", "href": relative(m.url, base, root)}
                 for m in item.media if m.kind != "captioned"]
    captioned = next((m for m in item.media if m.kind == "captioned"), None)
    captioned_href = (relative(captioned.url, base, root) if captioned else
                      f"{root}media/{ep.subtitled}" if ep.subtitled else None)
    if captioned_href:
        size = f" ({captioned.length / 1e6:.1f} MB)" if captioned else ""
        downloads.append({"label": ("带字幕视频 · MP4 with captions" if lang == "zh" else "MP4 with captions · 带字幕视频") + size,
                          "href": captioned_href})
    vtts = {tl for _, mime, tl in item.transcripts if mime == "text/vtt"}
    default_track = lang if lang in vtts else ep.spoken
    for url, mime, tl in sorted(item.transcripts, key=lambda t: t[2] != lang):  # this edition's first
        ext = url.rsplit(".", 1)[-1].upper()
        downloads.append({"label": f"{LANG_NAMES.get(tl, tl)} {ext}", "href": relative(url, base, root)})
        if video and ext == "VTT":
            tracks.append({"lang": HTML_LANG.get(tl, tl), "label": LANG_NAMES.get(tl, tl),
                           "href": relative(url, base, root), "default": tl == default_track})
            if tl == "zh" and len(vtts) > 1:  # the bilingual pair file (the spoken language on top), a choice
                pair = url.rsplit("/", 1)[0] + "/" + file_name(item.slug, "zh-en", "vtt")
                tracks.append({"lang": HTML_LANG.get(ep.spoken, ep.spoken), "default": False,
                               "label": "中文 + English" if ep.spoken == "zh" else "English + 中文",
                               "href": relative(pair, base, root)})
    spoken = ep.transcripts.get(ep.spoken)
    # The edition's language first: the Chinese page of an English talk reads the Chinese, the English under it.
    top_lang = lang if (t := ep.transcripts.get(lang)) is not None and t.segments else ep.spoken
    top, under = ep.transcripts.get(top_lang), ep.transcripts.get(other_language(top_lang))
    under = under if under is not None and under.segments else None
    notes_by_lang = sorted(ep.notes, key=lambda n: n[0] != lang)
    image = item.image or (f"{base}/{show_cover_name(show)}" if show.cover else None)
    mixed = any(x.lang for t in ep.transcripts.values() for x in t.segments)
    if mixed:  # each language's file holds machine lines: the note says the marked ones are
        machine = next((t for t in (ep.transcripts.get(lang), ep.transcripts.get(other_language(lang)))
                        if t is not None and any(machine_line(x) for x in t.segments)), None)
    else:
        translated = ep.transcripts.get(other_language(ep.spoken))  # the translation of what was said
        machine = translated if translated is not None and translated.segments and translated.origin != "human" else None
    return {
        "slug": item.slug, "title": item.title, "title_other": other_item.title if other_item and
        other_item.title != item.title else "", "other_lang": HTML_LANG[other_lang], "number": item.number,
        "date": item.date.date().isoformat(), "duration": clock(item.duration), "summary": item.summary,
        "video": video is not None, "player": relative(main.url, base, root) if main else "",
        "captioned": captioned_href,
        "player_url": main.url if main else "", "image": relative(image, base, root), "image_url": image,
        "poster": relative(item.poster or image, base, root), "tracks": tracks, "downloads": downloads,
        "title_machine": f"title.{lang}" in ep.machine,
        "chapters": [{"start": c.start, "clock": clock(c.start), "title": localized(c.title, lang),
                      "machine": f"chapter.{i}.{lang}" in ep.machine,
                      "title_other": localized(c.title, other_lang) if localized(c.title, other_lang) !=
                      localized(c.title, lang) else ""} for i, c in enumerate(ep.chapters)],
        "people": [{"name": p[0], "role": role_name(p[1], lang), "href": relative(p[3], base, root)}
                   for p in item.people],
        "notes": [{"lang": HTML_LANG.get(lg, lg), "html": html} for lg, html in notes_by_lang],
        "clips": [{"href": f"{root}clips/{name}", "title": title, "clock": f"{clock(a)}–{clock(b)}"}
                  for (name, a, b), title in zip(ep.clips, [s[2] for s in item.soundbites] + [""] * len(ep.clips))],
        "transcript": Markup(transcript if transcript is not None else transcript_items(top, under)),
        "machine_mark": Markup(MACHINE_MARK),
        "translation_note": _translation_note(machine, machine.language, mixed) if machine else "",
        "spoken_transcript": spoken is not None,
        # the embed's height for audio: its title, the player, up to six chapters, the current line
        "embed_height": 150 + 34 * min(6, len(ep.chapters)),
        "embed_url": f"{base}/embed/{item.slug}.{lang}.html", "lang": lang,
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


def render(show, episodes: list[SiteEpisode], listed: dict[str, list[Item]],
           feeds: list[tuple[str, str, str]]) -> dict[str, bytes]:
    """Every file of the site: {path under feed/: bytes}, in two editions, one per language (the root
    edition at the top, the other under zh/ or en/), linked to each other by hreflang and a switch.
    `listed` holds each language's feed items (built and kept episodes), `feeds` (file, label, lang)."""
    env = _environment(show.root / "templates")
    files: dict[str, bytes] = {}
    main = listed.get(show.language) or next(iter(listed.values()), [])
    facts = {it.slug: {"title": it.title, "date": it.date.date().isoformat(), "number": it.number,
                       "titles": {lg: t.title for lg, items in listed.items() for t in items if t.slug == it.slug}}
             for it in main}
    files["site/episodes.json"] = json.dumps(facts, ensure_ascii=False, sort_keys=True, indent=1).encode()
    editions = [lg for lg in (root_language(show), other_language(root_language(show)))
                if lg == root_language(show) or listed.get(lg)]
    for lang in editions:
        files.update(_edition(show, env, lang, editions, episodes, listed, feeds))
    files["site/search.json"] = search_index(show, episodes, {lg: p for lg, p in all_editions(show).items() if lg in editions})
    for ep in episodes:  # an embed per episode and edition (embed/<slug>.html: the spoken language's)
        for lang in dict.fromkeys([ep.spoken, *editions]):
            ctx = episode_context(show, ep, "../", lang=lang)
            page = env.get_template("embed.html").render(
                show=_show_context(show, lang, feeds, ""), ep=ctx, root="../", ui=ui(lang),
                page_lang=HTML_LANG.get(lang, lang)).encode()
            files[f"embed/{ctx['slug']}.{lang}.html"] = page
            if lang == ep.spoken:
                files[f"embed/{ctx['slug']}.html"] = page
    for name in ASSETS:
        override = show.root / "templates" / name
        files[f"site/{name}"] = (override.read_bytes() if override.is_file()
                                 else resources.files("media_tool.site").joinpath("templates", name).read_bytes())
    return files


def _show_context(show, lang: str, feeds: list[tuple[str, str, str]], root: str) -> dict:
    other = other_language(lang)
    ctx = {
        "title": localized(show.title, lang), "title_other": show.title.get(other, ""),
        "description": localized(show.description, lang),
        "description_other": show.description.get(other, ""), "other_lang": HTML_LANG[other],
        "url": show.base_url, "image": f"{root}{show_cover_name(show)}" if show.cover else None,
        "image_url": f"{show.base_url}/{show_cover_name(show)}" if show.cover else None,
        # this edition's feeds first, then the others; each with its address to copy into any app
        "feeds": [{"href": f"{root}{name}", "label": label, "url": f"{show.base_url}/{name}"}
                  for name, label, fl in sorted(feeds, key=lambda f: f[2] != lang)],
        "subscribe": [{"name": n, "href": u} for n, u, ln in show.site.subscribe if ln in (None, lang)],
    }
    if ctx["title_other"] == ctx["title"]:
        ctx["title_other"] = ""
    return ctx


def _edition(show, env, lang: str, editions: list[str], episodes: list[SiteEpisode],
             listed: dict[str, list[Item]], feeds) -> dict[str, bytes]:
    """One language's home page and episode pages, under its prefix."""
    prefix = edition_prefix(show, lang)
    up = "../" if prefix else ""
    other = other_language(lang)
    by_slug = {lg: {it.slug: it for it in items} for lg, items in listed.items()}
    own = by_slug.get(lang) or by_slug.get(show.language, {})
    show_ctx = _show_context(show, lang, feeds, up)
    words = ui(lang)
    page_lang = HTML_LANG.get(lang, lang)

    def links(path: str) -> dict:
        """hreflang alternates and the switch to the other edition, for the page at `path`."""
        alts = [{"hreflang": HTML_LANG[lg], "href": f"{show.base_url}/{edition_prefix(show, lg)}{path}"}
                for lg in editions]
        switch = None
        if other in editions:
            depth = "../" * path.count("/")
            switch = {"href": f"{depth}{up}{edition_prefix(show, other)}{path}" or "./",
                      "label": UI["edition"][0 if other == "en" else 1], "lang": HTML_LANG[other]}
        return {"alternates": alts, "switch": switch, "x_default": f"{show.base_url}/{path}",
                "url": f"{show.base_url}/{prefix}{path}"}

    entries = []
    for slug, it in sorted(own.items(), key=lambda kv: (kv[1].date, kv[0]), reverse=True):
        o = by_slug.get(other, {}).get(slug)
        entries.append({"slug": slug, "number": it.number, "title": it.title,
                        "title_other": o.title if o and o.title != it.title else "",
                        "date": it.date.date().isoformat(), "duration": clock(it.duration),
                        "video": any(m.kind == "mp4" for m in it.media),
                        "guests": ", ".join(p[0] for p in it.people if p[1].lower() == "guest")})
    files = {}
    page = links("")
    files[f"{prefix}index.html"] = env.get_template("index.html").render(
        show=show_ctx, episodes=entries, root=up, home="./", page_lang=page_lang, ui=words, links=page,
        qr=qr_svg(page["url"])).encode()
    files[f"{prefix}search/index.html"] = env.get_template("find.html").render(
        show=show_ctx, root=up + "../", home="../", page_lang=page_lang, ui=words, links=links("search/"),
        lang=lang).encode()
    for ep in episodes:
        root = up + "../../"
        ctx = episode_context(show, ep, root, lang=lang)
        page = links(f"episodes/{ctx['slug']}/")
        files[f"{prefix}episodes/{ctx['slug']}/index.html"] = env.get_template("episode.html").render(
            show=show_ctx, ep=ctx, root=root, home="../../", page_lang=page_lang, ui=words, links=page,
            qr=qr_svg(page["url"])).encode()
    return files


def feed_label(medium: str, lang: str) -> str:
    """How the home page names a feed: `Video · 视频 · 中文`."""
    return f"{'Video · 视频' if medium == 'video' else 'Audio · 音频'} · {LANG_NAMES.get(lang, lang)}"
