"""The episode's own words in both languages: its title, notes and chapter titles, machine-translated
where a person wrote them in one language only, so the Chinese feed and pages never fall back to the
English without a word (and the English to the Chinese).

The machine's notes say so in their first line; a title or a chapter the machine could not be trusted
with stays in the language a person wrote, and is reported. What a person wrote always wins.
"""

from __future__ import annotations

from dataclasses import replace

from media_tool.engines.translation import Cache, translate_text
from media_tool.errors import MediaToolError
from media_tool.model.glossary import Glossary
from media_tool.model.language import LANGUAGES, other_language
from media_tool.model.show import EpisodeConfig
from media_tool.stages.translate.core import translator_id
from media_tool.text.notes import MACHINE_NOTES
from media_tool.text.script import written_in

NAMES = {"en": "English", "zh": "Chinese"}
SOURCE_NAMES = {"zh": {"en": "英文", "zh": "中文"}, "en": {"en": "English", "zh": "Chinese"}}


def notes_language(cfg: EpisodeConfig) -> str | None:
    """The language notes.md is in: whichever has no notes.<lang>.md; where neither has, the one its
    text is written in (a Mandarin interview's notes.md may well be English)."""
    if "" not in cfg.notes:
        return None
    free = [lg for lg in LANGUAGES if lg not in cfg.notes]
    if len(free) == 1:
        return free[0]
    return written_in(cfg.notes[""], cfg.language)


def _text_in(text: dict[str, str], lang: str, spoken: str) -> str | None:
    """What a person wrote in `lang`: a text given once (under "") is in the language it is written in
    (a mixed episode's English title is English, whichever language is spoken first), the spoken one
    where that is hard to tell, and counts for both where it holds both (「养老金 · Pensions」)."""
    once = text.get("")
    return text.get(lang) or (once if once and written_in(once, spoken) in (lang, None) else None)


def wanted(cfg: EpisodeConfig) -> list[dict]:
    """Each text a person wrote in one language only: {"field", "index", "source", "target", "text"}."""
    out = []
    for target in LANGUAGES:
        source = other_language(target)
        if not _text_in(cfg.title, target, cfg.language) and (t := _text_in(cfg.title, source, cfg.language)):
            out.append({"field": "title", "index": 0, "source": source, "target": target, "text": t})
        shared = notes_language(cfg)  # None: notes.md is in both languages
        mine = cfg.notes.get(target) or (cfg.notes.get("") if shared in (target, None) else None)
        theirs = cfg.notes.get(source) or (cfg.notes.get("") if shared == source else None)
        if not (mine and mine.strip()) and theirs and theirs.strip():
            out.append({"field": "notes", "index": 0, "source": source, "target": target, "text": theirs})
        for field_name, items in (("chapter", cfg.chapters), ("clip", cfg.clips)):
            for i, c in enumerate(items):
                if not _text_in(c.title, target, cfg.language) and (t := _text_in(c.title, source, cfg.language)):
                    out.append({"field": field_name, "index": i, "source": source, "target": target, "text": t})
    return out


def translate_words(cfg: EpisodeConfig, translator_for, glossary: Glossary = Glossary(), *,
                    cache: Cache | None = None) -> tuple[list[dict], list[str]]:
    """The machine's version of each text `wanted`: the same dicts with "text" translated and "by";
    and one line for each it could not make (left in the language a person wrote)."""
    made, problems = [], []
    for w in wanted(cfg):
        backend = translator_for(w["source"], w["target"])
        if backend is None:
            problems.append(f"{w['field']}: no {NAMES[w['target']]} (no machine translator): the {NAMES[w['source']]} "
                            f"is shown in its place")
            continue
        try:
            text, misses = translate_text(backend, w["text"], w["source"], w["target"], glossary, cache=cache,
                                          context=_context(cfg, w))
        except MediaToolError as exc:  # an endpoint down: the episode still publishes, this field as written
            problems.append(f"{w['field']}: no {NAMES[w['target']]} ({exc.one_line()}): the {NAMES[w['source']]} "
                            "is shown in its place")
            continue
        if text is None or not text.strip():
            where = w["field"] if w["field"] not in ("chapter", "clip") else f"{w['field']}s[{w['index']}]"
            problems.append(f"{where}: the machine's "
                            f"{NAMES[w['target']]} could not be trusted ({'; '.join(misses) or 'no answer'}): "
                            f"the {NAMES[w['source']]} is shown in its place")
            continue
        made.append({**w, "text": text.strip(), "by": translator_id(backend)})
        if w["field"] == "title":  # the producer hears of it: a title is what listeners see first
            problems.append(f"title: given in {NAMES[w['source']]} only; the {NAMES[w['target']]} feed and pages "
                            f"show the machine's translation (add title.{w['target']} to episode.toml to choose it)")
        problems += [f"{w['field']}: {m}" for m in misses if m.endswith("labelled")]
    return made, problems


def _context(cfg: EpisodeConfig, w: dict) -> str:
    """What the model reads beside a text to translate it: for the notes, the title; for a title or a
    chapter, the title and the notes in the same language (a title alone is too short to read right:
    "Benefits that travel" is not a travel allowance)."""
    title = _text_in(cfg.title, w["source"], cfg.language) or ""
    if w["field"] == "notes":
        return title
    notes = cfg.notes.get(w["source"]) or (cfg.notes.get("") if notes_language(cfg) in (w["source"], None) else "")
    body = " ".join((notes or "").split())
    return (title + " — " if w["field"] != "title" and title else "") + body[:240]


def with_words(cfg: EpisodeConfig, made: list[dict]) -> EpisodeConfig:
    """`cfg` with the machine's texts added where a person wrote none (their notes labelled); pure."""
    title, notes, chapters, clips = dict(cfg.title), dict(cfg.notes), list(cfg.chapters), list(cfg.clips)
    if "" in title and any(w["field"] == "title" for w in made):
        title = {written_in(title[""], cfg.language) or cfg.language: title.pop("")} | title
    if "" in notes and any(w["field"] == "notes" for w in made):
        notes = {notes_language(cfg): notes.pop("")} | notes
    for w in made:
        if w["field"] == "title":
            title[w["target"]] = w["text"]
        elif w["field"] == "notes":
            label = MACHINE_NOTES[w["target"]].format(source=SOURCE_NAMES[w["target"]][w["source"]], by=w["by"])
            notes[w["target"]] = f"{label}\n\n{w['text']}\n"
        elif w["field"] in ("chapter", "clip"):
            items = chapters if w["field"] == "chapter" else clips
            if w["index"] < len(items):
                c = items[w["index"]]
                t = dict(c.title)
                if "" in t:
                    t = {written_in(t[""], cfg.language) or cfg.language: t.pop("")} | t
                items[w["index"]] = replace(c, title={**t, w["target"]: w["text"]})
    machine = tuple(f"{w['field']}.{w['index']}.{w['target']}" if w["field"] in ("chapter", "clip")
                    else f"{w['field']}.{w['target']}" for w in made)
    return replace(cfg, title=title, notes=notes, chapters=tuple(chapters), clips=tuple(clips),
                   machine=cfg.machine + machine)
