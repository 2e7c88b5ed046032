"""An episode's words as listeners read them: localized text, notes HTML, and summaries.

One place for what the tag stage (ID3/MP4 descriptions) and the publish step (feeds) both
say about an episode, so a file's tags and its feed item never disagree.
"""

from __future__ import annotations

import html
from dataclasses import replace

MACHINE_NOTES = {"zh": "*机器翻译 · machine translation：本集说明由机器译自{source}。*",
                 "en": "*Machine translation · 机器翻译: these notes were translated by machine from {source}.*"}
"""The first line of notes the machine translated: readers are told, and search leaves it out."""
DESCRIPTION_LIMIT = 4000  # bytes: Apple truncates longer item descriptions
CONTENT_LIMIT = 8000  # characters of content:encoded: 小宇宙 imports this much whole
ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "code", "pre",
                "h2", "h3", "h4"}


def localized(text: dict[str, str], lang: str) -> str:
    """A text given per language (or once, under ""): this language's, else the shared one, else the first."""
    return text.get(lang) or text.get("") or next(iter(text.values()), "")


def notes_html(markdown: str) -> str:
    """CommonMark to HTML, then an allow-list: no script, no event handlers, no javascript: links."""
    import nh3
    from markdown_it import MarkdownIt

    raw = MarkdownIt("commonmark").render(markdown)
    return nh3.clean(raw, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener nofollow").strip()


def episode_notes(notes: dict[str, str], lang: str) -> str:
    """An episode's notes in `lang` (notes.<lang>.md, else notes.md), rendered and sanitized ("" if none)."""
    text = notes.get(lang, notes.get(""))
    return notes_html(text) if text else ""


def machine_label(paragraph: str) -> bool:
    """Whether a paragraph of notes is the machine translation's label (MACHINE_NOTES)."""
    text = paragraph.strip().strip("*")
    return any(text.startswith(label.strip("*").split("{", 1)[0]) for label in MACHINE_NOTES.values())


def lead_with(fragment: str, lang: str) -> str:
    """Notes that hold paragraphs of both languages, reordered so those in `lang` come first (each
    language's paragraphs keep their order): the Chinese feed's description opens in Chinese. A
    heading moves with the blocks under it; notes in one language come back as they are."""
    from lxml import html as lh

    from media_tool.text.script import written_in

    if not fragment:
        return fragment
    root = lh.fromstring(f"<div>{fragment}</div>")
    groups: list[list] = []
    for el in root:
        if groups and (groups[-1][-1].tag in ("h1", "h2", "h3", "h4", "h5", "h6")):
            groups[-1].append(el)  # a heading and what it heads stay together
        else:
            groups.append([el])
    said = [written_in(" ".join(e.text_content() for e in g), lang) for g in groups]
    if root.text and root.text.strip() or len(set(s for s in said if s)) < 2:
        return fragment
    first = [g for g, s in zip(groups, said) if s == lang]
    rest = [g for g, s in zip(groups, said) if s != lang]
    return "".join(lh.tostring(e, encoding="unicode") for g in first + rest for e in g).strip()


def within(fragment: str, limit: int, more: str, lang: str) -> str:
    """Notes HTML of at most about `limit` characters: whole blocks while they fit, then a link to the
    page (`more`) that holds them all. Apps that import descriptions whole (小宇宙) get no cut tag."""
    from lxml import html as lh

    if len(fragment) <= limit:
        return fragment
    link = (f'<p><a href="{html.escape(more)}">{"完整节目说明见本集网页" if lang == "zh" else "The full notes are on the episode page"}</a></p>')
    out, size = [], len(link)
    for el in lh.fromstring(f"<div>{fragment}</div>"):
        block = lh.tostring(el, encoding="unicode")
        if size + len(block) > limit:
            break
        out.append(block)
        size += len(block)
    return "".join(out).strip() + link


def plain(html: str) -> str:
    """The text of an HTML fragment, for descriptions and tags."""
    from lxml import html as lh

    return lh.fromstring(f"<div>{html}</div>").text_content() if html else ""


BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "dt", "dd", "td", "th")


def paragraphs(html: str) -> list[str]:
    """The text of each paragraph, list item, heading or cell of an HTML fragment, spaces made one, so
    each is indexed in the language it is written in (bilingual notes hold one paragraph of each)."""
    from lxml import html as lh

    if not html:
        return []
    root = lh.fromstring(f"<div>{html}</div>")
    found = [" ".join(_own_text(e).split()) for e in root.iter(*BLOCKS)]
    return [t for t in found if t]


def _own_text(element) -> str:
    """An element's text less that of the blocks inside it (a list item's words, not its sublist's)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == "br":
            parts.append(" ")
        elif child.tag not in BLOCKS and not any(True for _ in child.iterdescendants(*BLOCKS)):
            parts.append(child.text_content())
        elif child.tag not in BLOCKS:
            parts.append(_own_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def summary(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """Plain text within `limit` UTF-8 bytes, cut at a sentence end or else a word boundary."""
    text = " ".join(text.split())
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: limit - 3].decode("utf-8", "ignore")
    for marks in (".!?。！？", " "):
        at = max(cut.rfind(m) for m in marks)
        if at > len(cut) // 2:
            return cut[: at + 1].rstrip() + ("" if marks != " " else "…")
    return cut + "…"


def clock(seconds: float) -> str:
    """M:SS, or H:MM:SS from an hour on: the one clock of feeds, pages and search. Truncated, as
    players show time (a chapter at 59.6 s is 0:59 on the player, so it is 0:59 everywhere)."""
    s = int(max(0.0, seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def extras_html(chapters, people, lang: str, transcripts: list[tuple[str, str, str]]) -> str:
    """Chapters (as published), people and transcript links (url, type, language) appended to the
    notes (all text escaped)."""
    parts = []
    if chapters:
        rows = "".join(f"<li>{clock(c.start)} {html.escape(localized(c.title, lang))}</li>" for c in chapters)
        parts.append(f"<h3>{'章节' if lang == 'zh' else 'Chapters'}</h3><ul>{rows}</ul>")
    if people:
        from media_tool.model.taxonomy import role_name

        rows = "".join(f"<li>{html.escape(p.name)}{'（' if lang == 'zh' else ' ('}{html.escape(role_name(p.role, lang))}"
                       f"{'）' if lang == 'zh' else ')'}</li>" for p in people)
        parts.append(f"<h3>{'嘉宾与主持' if lang == 'zh' else 'People'}</h3><ul>{rows}</ul>")
    if transcripts:
        names = {"en": "English", "zh": "中文"}
        rows = "".join(f'<li><a href="{html.escape(u)}">{names.get(lg, lg)} ({u.rsplit(".", 1)[-1].upper()})</a></li>'
                       for u, _, lg in transcripts)
        parts.append(f"<h3>{'文字稿' if lang == 'zh' else 'Transcripts'}</h3><ul>{rows}</ul>")
    return "".join(parts)


def published_chapters(chapters, offset: float):
    """Chapters moved from the recording's timeline (as a producer writes them) into the published
    file's (after the intro jingle and the trimmed silence); a chapter at 0:00 stays at 0:00."""
    return tuple(replace(c, start=round(max(0.0, c.start + offset) if c.start > 0 else 0.0, 3)) for c in chapters)
