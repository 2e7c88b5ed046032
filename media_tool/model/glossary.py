"""The show's glossary (`glossary.csv`: zh,en[,note]), the one object every question about terms asks:
whether a term stands in a text (`has_term`, one rule for both languages), the terms a text requires
in translation (`Glossary.required`), the other language's terms a search widens to
(`Glossary.expansions`), corrections by sound (`Glossary.correct`), the names Whisper cannot spell
(`Glossary.names`), and terminology checks of translations (`Glossary.inconsistencies`).

Whisper hears a term it does not know as a homophone: 工伤 as 工商, 缴费 as 脚费, 精算 as 竞算,
养老 as 样劳. Such a mishearing sounds the same as the glossary term in toneless pinyin, so it is
corrected to the term, with guards: a stretch of text that is itself a real word (工商, "industry
and commerce", is one) is never replaced, whatever it sounds like; short terms must also not be
glued into a real word by their neighbours; an exact occurrence of a term is never touched. Near
homophones (n/ng, zh/z, ch/c, sh/s) count only for terms of three or more characters. Every
correction is reported.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from pathlib import Path

from media_tool.errors import ConfigError
from media_tool.text.homophones import frequency, near, readings
from media_tool.text.script import HAN_RUN, has_han, latin_only, only_han


@dataclass(frozen=True)
class Term:
    zh: str
    en: str
    note: str = ""


@dataclass(frozen=True)
class Correction:
    """One change made to a transcript segment, for the report."""

    segment: int
    before: str
    after: str

    def to_dict(self) -> dict:
        return {"segment": self.segment, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms)

    def required(self, text: str, source: str) -> tuple[tuple[str, str], ...]:
        """The terms in `text` (in `source`) with their required translation, longest first; a shorter
        term inside a longer one found there is not required again (病假工资 is "sick pay", not "sick leave")."""
        out, rest = [], text
        for t in sorted(self.terms, key=lambda t: len(t.zh if source == "zh" else t.en), reverse=True):
            term, wanted = (t.zh, t.en) if source == "zh" else (t.en, t.zh)
            if has_term(rest, term, source):
                out.append((term, wanted))
                rest = without_term(rest, term, source)
        return tuple(out)

    def expansions(self, query: str) -> list[str]:
        """The other language's terms of those the query holds (a search for 养老金 finds "pension" too),
        by the same rule as every other match (`has_term`), each once, none the query already holds."""
        lang = "zh" if has_han(query) else "en"
        found = [wanted for _, wanted in self.required(query, lang)]
        if lang == "zh":  # a mixed query ("失业保险 and pension") holds terms of both languages
            found += [wanted for _, wanted in self.required(HAN_RUN.sub(" ", query), "en")]
        return [t for t in dict.fromkeys(found) if t and not has_term(query, t, "zh" if has_han(t) else "en")]

    def names(self, people: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
        """The names and acronyms Whisper cannot know how to write (see `english_names`)."""
        return english_names(self, people)

    def chinese(self, people: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
        """The Chinese words nothing may rewrite by sound: the terms, and the people's names."""
        return tuple(t.zh for t in self.terms if t.zh) + tuple(people)

    def correct(self, texts: list[str]) -> tuple[list[str], list[Correction]]:
        """Mandarin segments with misheard glossary terms put right; the corrections made."""
        terms = sorted({t.zh for t in self.terms if len(t.zh) >= 2 and only_han(t.zh)}, key=len, reverse=True)
        if not terms:
            return texts, []
        out, fixes = [], []
        for n, text in enumerate(texts):
            fixed = HAN_RUN.sub(lambda m: _correct_run(m.group(), terms, n, fixes), text)
            out.append(fixed)
        return out, fixes

    def inconsistencies(self, source: list[str], target: list[str], source_lang: str) -> list[tuple[int, str]]:
        """(cue, what is wrong) where a term stands in one language and its partner not in the other.
        A line left as spoken (a mixed episode's turn nothing could translate: the same words, or an
        empty side) is not a translation."""
        out = []
        terms = sorted(self.terms, key=lambda t: len(t.zh), reverse=True)  # 病假工资 before 病假
        for i, (a, b) in enumerate(zip(source, target)):
            if not a.strip() or not b.strip() or a.strip() == b.strip():
                continue
            zh, en = (a, b) if source_lang == "zh" else (b, a)
            for t in terms:
                has_zh, has_en = t.zh in zh, _has_english(en, t.en)
                if has_zh and not has_en:
                    out.append((i, f"{t.zh!r} without {t.en!r} in the English"))
                elif has_en and not has_zh:
                    out.append((i, f"{t.en!r} without {t.zh!r} in the Chinese"))
                # a longer term's words are its own: the shorter terms inside it are not checked again
                zh, en = without_term(zh, t.zh, "zh"), without_term(en, t.en, "en")
        return out


_GAP = r"[\s\-\u2010-\u2013'\u2019]+"
"""What may stand between the words of an English term: spaces, hyphens, an apostrophe ("work-injury
insurance" is "work injury insurance"; "workers' compensation" is "workers compensation")."""


@functools.lru_cache(maxsize=4096)
def _english(term: str) -> re.Pattern:
    """A term as a whole word or phrase, any case, plural allowed, its words apart by `_GAP`."""
    words = re.findall(r"[^\W_]+", term) or [term]
    return re.compile(r"(?<![\w])" + _GAP.join(map(re.escape, words)) + r"(?:e?s)?(?![\w])", re.IGNORECASE)


def _has_english(text: str, term: str) -> bool:
    return _english(term).search(text) is not None


def has_term(text: str, term: str, lang: str) -> bool:
    """Whether `term` stands in `text`: a Chinese term anywhere, an English one as a whole word or
    phrase in any case, plural allowed (the one rule: translation, checks and search all ask it)."""
    return term in text if lang == "zh" else _has_english(text, term)


def without_term(text: str, term: str, lang: str) -> str:
    """`text` with every occurrence of `term` (by `has_term`'s rule) blanked out."""
    return text.replace(term, "\0") if lang == "zh" else _english(term).sub("\0", text)


def load(path: Path, display: str | None = None) -> Glossary:
    """Read a glossary CSV (UTF-8, header `zh,en`, optional `note`); errors name the file and line."""
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", display) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", display) from exc
    return parse(text, display)


def parse(text: str, display: str = "glossary.csv") -> Glossary:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [h.strip().lower() for h in rows[0][:2]] != ["zh", "en"]:
        raise ConfigError('the first line must be the header "zh,en" (optionally ",note")', f"{display}:1")
    terms = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise ConfigError("expected a Chinese term and its English term", f"{display}:{line}")
        terms.append(Term(row[0].strip(), row[1].strip(), row[2].strip() if len(row) > 2 else ""))
    return Glossary(tuple(terms))


# -- sound ----------------------------------------------------------------------------------------------
_readings, _near = readings, near  # one place knows how Mandarin sounds (text.homophones)


def _final(syllable: str) -> str:
    return re.sub(r"^(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])", "", syllable)


def _sounds(window: str, term: str, near: bool) -> bool:
    """Whether `window` sounds like `term`: every syllable alike (toneless); with `near`, alike up to
    n/ng and retroflex folding; and in a term of four or more syllables, one syllable may differ in
    its initial alone (保险 heard as 抱歉: xian/qian), the rest of the term vouching for it."""
    loose = len(term) >= 4
    for a, b in zip(window, term):
        ra, rb = _readings(a), _readings(b)
        if ra & rb:
            continue
        if near and {_near(x) for x in ra} & {_near(x) for x in rb}:
            continue
        if loose and {_final(x) for x in ra} & {_final(x) for x in rb}:
            loose = False
            continue
        return False
    return True


def _is_word(text: str) -> bool:
    return frequency(text) > 0


def _correct_run(run: str, terms: list[str], segment: int, fixes: list[Correction]) -> str:
    out, i = [], 0
    while i < len(run):
        for term in terms:
            n = len(term)
            window = run[i:i + n]
            if len(window) < n:
                continue
            if window == term:
                break  # already right: keep it whole
            if not _sounds(window, term, near=n >= 3) or _is_word(window):
                continue
            if n == 2 and any(_is_word(w) for w in (run[max(0, i - 1):i + n], run[i:i + n + 1],
                                                     run[max(0, i - 1):i + 1], run[i + n - 1:i + n + 1]) if len(w) > 1):
                continue  # a short stretch that makes a real word with a neighbour: it is not a unit
            fixes.append(Correction(segment, window, term))
            out.append(term)
            i += n
            break
        else:
            out.append(run[i])
            i += 1
            continue
        if window == term:
            out.append(term)
            i += n
    return "".join(out)


def english_names(glossary: Glossary, names: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
    """The names and acronyms Whisper cannot know how to write (MoHRSS, ILO, C102, a guest's name):
    the glossary's English terms written with a capital or a digit, and the people's Latin-script
    names, each once."""
    picked = [t.en.strip() for t in glossary.terms if any(c.isupper() or c.isdigit() for c in t.en)]
    picked += [n.strip() for n in names if n.strip() and latin_only(n)]
    return tuple(dict.fromkeys(t for t in picked if t))


def correct_english(texts: list[str], names: tuple[str, ...] | list[str]) -> tuple[list[str], list[Correction]]:
    """English segments with the `names` (see `english_names`) Whisper split or misspelt put right:
    "Mo HRSS", "I.L.O.", "C-102" as MoHRSS, ILO, C102 (the same letters and digits, apart); "Mohrss",
    "MOHRSS" (the case, for names of four or more letters: "who" is not WHO, "it" not IT); "MoHSS"
    (one letter off an acronym of five or more, written as an acronym, digits the same). A word as
    people write it ("Mothers", "killer" for Keller) is never touched.

    Where Whisper wrote something else for a name ("The RIO adopted"), `unsure` finds the line and
    `names_heard` takes the name from a hearing of that line with the names as Whisper's prompt."""
    wanted = sorted(((n, _key(n)) for n in names if len(_key(n)) >= 2), key=lambda p: -len(p[1]))
    if not wanted:
        return texts, []
    out, fixes = [], []
    for n, text in enumerate(texts):
        for name, key in wanted:
            text = _put_right(text, name, key, n, fixes)
        out.append(text)
    return out, fixes


_TOKEN = re.compile(r"[A-Za-z0-9]+")
_APART = re.compile(r"[ .\-]{1,2}")  # what Whisper writes between the pieces of one name said apart


def _key(text: str) -> str:
    return "".join(_TOKEN.findall(text)).casefold()


def _acronym(token: str) -> bool:
    """A capital after the first letter, or a digit: MoHRSS, ILO, C102 (not Maria, not pension)."""
    return any(c.isupper() for c in token[1:]) or any(c.isdigit() for c in token)


def _put_right(text: str, name: str, key: str, segment: int, fixes: list[Correction]) -> str:
    tokens = list(_TOKEN.finditer(text))
    parts, at, i = [], 0, 0
    name_tokens = _TOKEN.findall(name)
    while i < len(tokens):
        found = None
        for k in range(min(len(tokens) - i, len(name_tokens) + 4), 0, -1):
            span = tokens[i:i + k]
            if any(not _APART.fullmatch(text[a.end():b.start()]) for a, b in zip(span, span[1:])):
                continue
            said = text[span[0].start():span[-1].end()]
            if said != name and _same_name(said, [t.group() for t in span], name, name_tokens, key):
                found = (span[0].start(), span[-1].end(), k)
                break
        if found:
            a, b, k = found
            if "." in text[a:b] and text[b:b + 1] == "." and not re.match(r"\.(\s+[A-Z]|\s*$)", text[b:]):
                b += 1  # "I.L.O. adopted": the letters' last dot, not a sentence's end
            parts += [text[at:a], name]
            fixes.append(Correction(segment, text[a:b], name))
            at, i = b, i + k
        else:
            i += 1
    return "".join(parts) + text[at:] if parts else text


def _same_name(said: str, pieces: list[str], name: str, name_pieces: list[str], key: str) -> bool:
    heard = "".join(pieces).casefold()
    is_acronym = any(_acronym(t) for t in name_pieces)
    if heard == key:
        if len(pieces) != len(name_pieces):
            return True  # said apart (or run together): "Mo HRSS", "I.L.O.", "C-102"
        return is_acronym and len(key) >= 4  # the case alone: "Mohrss", not "who" for WHO
    digits = _numbers_agree(said, name) if any(c.isdigit() for c in key) else not any(c.isdigit() for c in heard)
    return (is_acronym and len(key) >= 5 and digits and any(_acronym(t) for t in pieces)
            and _one_edit(heard, key))


def _one_edit(a: str, b: str) -> bool:
    """Whether `a` becomes `b` by changing, adding or dropping one letter."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


_WRITTEN = re.compile(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*")  # a word as written: C-100-2, I.L.O, MoHRSS


def _unsure_word(word: str, keys: set[str] | dict[str, str]) -> bool:
    """Written as an acronym (`_acronym`) with a letter in it (RIO, HRSS, C-100-2; not 85) and not
    one of the names."""
    return _acronym(word) and any(c.isalpha() for c in word) and _key(word) not in keys


def unsure(text: str, names: tuple[str, ...] | list[str]) -> bool:
    """Whether a line heard without a prompt may hold a name Whisper did not know how to write."""
    keys = {_key(n) for n in names}
    return bool(names) and any(_unsure_word(w, keys) for w in _WRITTEN.findall(text))


def names_heard(plain: str, prompted: str, names: tuple[str, ...] | list[str]) -> tuple[str, list[str]]:
    """`plain` (heard without a prompt) with each name that `prompted` (the same speech heard with the
    names as the prompt) holds where `plain` has a word written as an acronym ("The RIO" and "The
    ILO": ILO); nothing else is taken from `prompted`, which tends to write the names over ordinary
    words ("Mothers" as MoHRSS) and to change words besides. Also the names taken."""
    from difflib import SequenceMatcher

    keys = {_key(n): n for n in names}
    a, b = list(_WRITTEN.finditer(plain)), [m.group() for m in _WRITTEN.finditer(prompted)]
    ops = SequenceMatcher(None, [_key(m.group()) for m in a], [_key(w) for w in b], autojunk=False).get_opcodes()
    parts, at, taken = [], 0, []
    for tag, i1, i2, j1, j2 in ops:
        if tag != "replace" or i2 - i1 != j2 - j1:
            continue
        for i, j in zip(range(i1, i2), range(j1, j2)):
            name = keys.get(_key(b[j]))
            if name and _unsure_word(a[i].group(), keys) and _numbers_agree(a[i].group(), name):
                parts += [plain[at:a[i].start()], name]
                at = a[i].end()
                taken.append(name)
    return "".join(parts) + plain[at:], taken


def _numbers_agree(heard: str, name: str) -> bool:
    """Whether a word heard holds the name's number, if it has one: C102 as "C-102" or "C-100-2"
    (one hundred two), not "C-100" (C100 is another convention)."""
    want = "".join(c for c in name if c.isdigit())
    groups = re.findall(r"\d+", heard)
    return not want or (bool(groups) and ("".join(groups) == want or str(sum(map(int, groups))) == want))


HINT_CHARS = 600
"""About 150 tokens: well inside Whisper's 224-token prompt, leaving room for nothing else it needs."""


def english_prompt(names: tuple[str, ...] | list[str]) -> str | None:
    """The names as Whisper's initial prompt, within HINT_CHARS (for `names_heard`'s second hearing)."""
    out, size = [], 0
    for name in names:
        if size + len(name) + 2 > HINT_CHARS:
            break
        out.append(name)
        size += len(name) + 2
    return ", ".join(out) + "." if out else None
