"""Scripts and the way Chinese and English are written: the one place that knows which characters
are Han, which are Latin, how wide each is on a screen, Simplified against Traditional, and the
rules of Chinese punctuation. Everything else asks here (pure, no I/O but OpenCC's dictionaries).
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata

HAN_RANGES = ("\u3400-\u4dbf"            # CJK Extension A
              "\u4e00-\u9fff"            # CJK Unified Ideographs
              "\uf900-\ufaff"            # CJK Compatibility Ideographs
              "\U00020000-\U0003134f")   # Extensions B-G (rare names and characters)
"""Han characters, as a regular-expression class body (`[...]`); the one definition."""
HAN = re.compile(f"[{HAN_RANGES}]")
HAN_RUN = re.compile(f"[{HAN_RANGES}]+")
LATIN = re.compile(r"[A-Za-z]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CJK_PUNCT = "，。！？；：、"
"""Chinese clause and sentence marks, full width."""
CLAUSE_MARK = re.compile(r"[，。？！、；：,.?!;:…]")
_HALF_TO_FULL = {",": "，", "?": "？", "!": "！", ";": "；", ":": "："}
_MARK = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\u2014-\u2026!-/:-@\[-`{-~]")
"""What restoring punctuation may add or change: spaces, CJK and ASCII punctuation."""
BARE_RUN = 20
"""Chinese characters in a row with no mark or pause between them that a clause rarely reaches: a
longer run is one Whisper left unpunctuated."""


def is_han(ch: str) -> bool:
    """Whether one character is a Han character."""
    return HAN.fullmatch(ch) is not None


def has_han(text: str) -> bool:
    return HAN.search(text) is not None


def has_latin(text: str) -> bool:
    return LATIN.search(text) is not None


def han_count(text: str) -> int:
    return len(HAN.findall(text))


def latin_count(text: str) -> int:
    return len(LATIN.findall(text))


def latin_only(text: str) -> bool:
    """Written in the Latin script: letters, and no Han character (a guest's name as English writes it)."""
    return has_latin(text) and not has_han(text) and text.isascii()


def only_han(text: str) -> bool:
    """A text that is Han characters and nothing else (a glossary term that can be heard by sound)."""
    return HAN_RUN.fullmatch(text) is not None


def written_in(text: str, default: str) -> str | None:
    """"zh" or "en" by the script most of `text` is in (Han characters against English words, about
    two characters to a word); None where it holds much of both (bilingual notes need no translation)."""
    han, words = han_count(text) / 2, len(LATIN_WORD.findall(text))
    if not han and not words:
        return default
    share = han / (han + words)
    return "zh" if share > 0.8 else "en" if share < 0.2 else None


def reads_as(text: str, lang: str) -> bool:
    """Whether `text` reads as `lang`: Chinese needs Han characters; English fewer Han characters than
    letters (names and terms of the other language are fine). Empty text is not judged here."""
    han, latin = han_count(text), latin_count(text)
    if not han and not latin:
        return True
    return han > 0 if lang == "zh" else latin > 2 * han


def comparable_size(text: str) -> float:
    """Length comparable across the languages: a Chinese character carries about three Latin letters."""
    han = han_count(text)
    return han * 3.0 + (len(re.sub(r"\s", "", text)) - han)


# -- on a screen --------------------------------------------------------------------------------------
def width(text: str) -> int:
    """Display columns: a Chinese character (and any wide character) takes two, as on a screen."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def join_words(parts) -> str:
    """Pieces of text joined as each script wants: a space between words, none between Chinese
    characters (or a Chinese character and its mark)."""
    out = ""
    for part in parts:
        if not part:
            continue
        if out and not (is_wide(out[-1]) and is_wide(part[0])):
            out += " "
        out += part
    return out


def one_line(text: str) -> str:
    """Lines rejoined into one: with a space between words, without one between Chinese characters."""
    return join_words(text.split())


# -- Simplified characters ----------------------------------------------------------------------------
def to_simplified(text: str) -> str:
    """Traditional to Simplified characters (OpenCC t2s), punctuation kept."""
    with _T2S_LOCK:  # one converter, shared by the build's threads
        return _t2s().convert(text)


_T2S_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _t2s():
    """One converter per process: making one reads its dictionaries (5 ms, 10 000 times for a long file)."""
    from opencc import OpenCC

    return OpenCC("t2s")


# -- Chinese punctuation ------------------------------------------------------------------------------
def chinese_punctuation(text: str) -> str:
    """ASCII , ? ! ; : after a Chinese character as the full-width marks Chinese text uses."""
    return re.sub(f"(?<=[{HAN_RANGES}])([,?!;:])\\s*", lambda m: _HALF_TO_FULL[m.group(1)], text)


def as_chinese(text: str) -> str:
    """Text as published in Chinese: Simplified characters, Chinese punctuation."""
    return chinese_punctuation(to_simplified(text))


def close_gaps(text: str) -> str:
    """The spaces a model put between Chinese characters (or after a Chinese mark) taken out."""
    return re.sub(f"(?<=[{HAN_RANGES}{CJK_PUNCT}])\\s+(?=[{HAN_RANGES}])", "", text)


def needs_punctuation(text: str) -> bool:
    """A Chinese segment Whisper left without punctuation: a run of BARE_RUN characters with no mark or
    space between, or 12 and more with no mark at all (a short one only needs its closing mark)."""
    runs = [han_count(piece) for piece in re.split(r"[\s，。？！、；：,.?!;:…]", text)]
    if not runs or max(runs) == 0:
        return False
    return max(runs) >= BARE_RUN or (sum(runs) >= 12 and not CLAUSE_MARK.search(text) and " " not in text.strip())


def same_characters(before: str, after: str) -> bool:
    """Whether `after` is `before` with only punctuation and spacing changed: the guard on restored
    punctuation (a model that "improves" a word, or drops one, is not trusted)."""
    return bool(after.strip()) and _MARK.sub("", before) == _MARK.sub("", after)


def close_sentence(text: str) -> str:
    """A Chinese segment ending in a closing mark: ？ after a question particle, else 。; spaces between
    Chinese characters become ，(Whisper's pause where it wrote no mark)."""
    text = re.sub(f"(?<=[{HAN_RANGES}])\\s+(?=[{HAN_RANGES}])", "，", text.strip())
    if text and not CLAUSE_MARK.search(text[-1]) and text[-1] not in "”’）》":
        text += "？" if text[-1] in "吗嘛么" else "。"
    return text


def trailing_han(text: str) -> re.Match | None:
    """The run of Han characters that ends `text`, if any."""
    return re.search(f"[{HAN_RANGES}]+$", text)


# -- line breaks -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def jieba_tokenizer():
    """jieba's tokenizer, its dictionary loaded once per process (about a second): Chinese words for
    line breaks here, and the dictionary `text.homophones` reads."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba.dt


def chinese_words(run: str) -> list[str]:
    """A run of Chinese text cut into words (jieba), so a line never breaks inside 讨论 or 覆盖面."""
    with _JIEBA_LOCK:
        return [w for w in jieba_tokenizer().cut(run) if w]


_JIEBA_LOCK = threading.Lock()
_CLOSING = set(CJK_PUNCT + "”’)）》」』】…—.,!?;:")
"""Marks that end what comes before them: never the first thing on a line."""
_OPENING = set("“‘(（《「『【")
"""Marks that open what follows them: never the last thing on a line."""


def break_tokens(text: str) -> list[str]:
    """Break points: words for spaced text, words (jieba; punctuation kept on the word before it)
    for Chinese."""
    out: list[str] = []
    for word in text.split():
        if any(is_wide(c) for c in word):
            for piece in chinese_words(word):
                if out and out[-1] != " " and (all(ch in _CLOSING for ch in piece) or
                                               all(ch in _OPENING for ch in out[-1])):
                    out[-1] += piece
                else:
                    out.append(piece)
            out.append(" ")
        else:
            out += [word, " "]
    while out and out[-1] == " ":
        out.pop()
    return out


def wrap(text: str, limit: int) -> list[str]:
    """Lines of at most `limit` columns, broken between words (Chinese words too; a Chinese word
    wider than a line between its characters)."""
    lines, cur = [], ""
    tokens = []
    for tok in break_tokens(text):
        tokens += list(tok) if width(tok) > limit and any(is_wide(c) for c in tok) else [tok]
    for tok in tokens:
        if tok == " ":
            cur += " " if cur else ""
            continue
        if cur and width(cur.rstrip() + (" " if cur.endswith(" ") else "") + tok) > limit:
            lines.append(cur.rstrip())
            cur = ""
        cur += tok
    if cur.strip():
        lines.append(cur.rstrip())
    return lines
