"""What a translation must keep of its source, whatever its wording: the numbers and quantities, the
negations, the direction of comparisons and changes, and causes (pure).

A fluent translation can turn a sentence around with one word ("less strain" as 压力, "must not" as
必须), and corpus scores do not see it. `critical_problems(source, answer, source_lang)` reads each
side with rules of its own language and names every element of the source the answer lost, or that
it added (a negation nobody said). Numbers are compared by value: "one in three" is 三分之一,
"30 percent" is 百分之三十 and 三成, "1.5 million" is 150万; the number one is left out (English
writes "a", Chinese 一 in a hundred words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# -- numbers ------------------------------------------------------------------------------------------
_EN_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
             "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
             "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_EN_SCALES = {"hundred": 100, "thousand": 1000, "million": 10 ** 6, "billion": 10 ** 9, "trillion": 10 ** 12}
_EN_FRACTIONS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fourth": 4,
                 "fourths": 4, "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6, "tenth": 10, "tenths": 10}
_EN_MULTIPLES = {"a factor of two": 2.0, "a factor of three": 3.0, "twice as": 2.0, "double": 2.0, "doubled": 2.0, "doubles": 2.0, "doubling": 2.0, "triple": 3.0,
                 "tripled": 3.0, "threefold": 3.0, "twofold": 2.0, "dozen": 12.0}
_EN_NUMBER_WORD = "|".join(sorted(list(_EN_UNITS) + list(_EN_SCALES), key=len, reverse=True))
_EN_NUMBER = re.compile(
    rf"(?<![\w.])(\d+(?:,\d{{3}})*(?:\.\d+)?|(?:(?:{_EN_NUMBER_WORD})(?:[\s-]+(?:and[\s-]+)?)?)+)"
    rf"(?:\s*(%|percent\b|per\s+cent\b))?", re.IGNORECASE)
_EN_ONE_IN = re.compile(rf"\b(\d+|{_EN_NUMBER_WORD})\s+(?:in|out\s+of)\s+(?:every\s+)?(\d+|{_EN_NUMBER_WORD})\b",
                        re.IGNORECASE)
_EN_FRACTION = re.compile(r"\b(a|an|one|two|three|four|five|\d+)[\s-]+(half|halves|thirds?|quarters?|fourths?|"
                          r"fifths?|sixths?|tenths?)\b|\bhalf\b", re.IGNORECASE)

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_SMALL = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG = {"万": 10 ** 4, "亿": 10 ** 8}
_ZH_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
_ZH_NOT_NUMBERS = ("一起", "一些", "一样", "一定", "一般", "一直", "一切", "一方面", "统一", "唯一", "万一", "一旦",
                   "一点", "一下", "一致", "一向", "一律", "进一步", "一体", "一边", "一再", "一度", "不一",
                   "十分", "千万不", "千万别", "千万要", "一同", "一生", "第一", "一家人", "一线", "单一", "一是", "二是",
                   "三是", "一则", "一来", "一时", "一齐", "一味", "一概", "一辈子", "一部分", "一系列", "一带一路")
_ZH_NUMBER = re.compile(rf"(\d+(?:[,，]\d{{3}})*(?:\.\d+)?|[{_ZH_NUMERAL}]+)(?:\.(\d+))?\s*(?:多|余)?\s*([万亿]?)")
_EN_SCALED = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(thousand|million|billion|trillion)\b", re.IGNORECASE)


_ZH_ONE_IN = re.compile(rf"每?([\d]+|[{_ZH_NUMERAL}]+)(?:个|名|位|户)?[^，。；：\d{_ZH_NUMERAL}]{{0,8}}?"
                        rf"(?:中|里|当中)就?有([\d]+|[{_ZH_NUMERAL}]+)(?:个|名|位|户|人)?")


def _zh_value(text: str) -> float | None:
    """A Chinese numeral as a number: 三 3, 十五 15, 两百 200, 三千五百 3500, 一万二 12000, 1.5万 15000."""
    if re.fullmatch(r"[\d.,，]+", text):
        return float(re.sub(r"[,，]", "", text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_SMALL:
            section += (1 if digit is None else digit) * _ZH_SMALL[ch]
            digit = None
        elif ch in _ZH_BIG:
            total = (total + section + (digit or 0)) * _ZH_BIG[ch]
            section, digit = 0, None
        else:
            return None
    if digit is not None and section and text[-2:-1] in _ZH_SMALL:  # 一万二: the digit after a unit counts one lower
        pass
    return float(total + section + (digit or 0))


def _en_words_value(words: str) -> float | None:
    total, part = 0, 0
    seen = False
    for w in re.findall(r"[a-z]+", words.lower()):
        if w == "and":
            continue
        if w in _EN_UNITS:
            part += _EN_UNITS[w]
            seen = True
        elif w in _EN_SCALES:
            part = (part or 1) * _EN_SCALES[w]
            if _EN_SCALES[w] >= 1000:
                total, part = total + part, 0
            seen = True
        else:
            return None
    return float(total + part) if seen else None


def _value(raw: str, lang: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    if re.fullmatch(r"\d+(?:,\d{3})*(?:\.\d+)?", raw):
        return float(raw.replace(",", ""))
    return _zh_value(raw) if lang == "zh" else _en_words_value(raw)


def _key(v: float) -> float:
    return round(v, 3) if v < 10 else round(v, 1)


def numbers(text: str, lang: str) -> list[float]:
    """The numbers a sentence states, by value (a percentage and a fraction as the share, 30 % as 0.3;
    "one in three" and 三分之一 as 0.333); one alone is left out (see the module)."""
    out: list[float] = []
    if lang == "en":
        rest = _EN_SCALED.sub(lambda m: f"{float(m.group(1).replace(',', '')) * _EN_SCALES[m.group(2).lower()]:.0f}", text)
        rest = re.sub(r"\bpercentage points?\b", "points", rest, flags=re.IGNORECASE)  # points, not a share
        for m in _EN_ONE_IN.finditer(rest):
            a, b = _value(m.group(1), "en"), _value(m.group(2), "en")
            if a and b and b > a:
                out.append(_key(a / b))
                rest = rest.replace(m.group(), " ")
        for m in _EN_FRACTION.finditer(rest):
            if m.group(2):
                n = 1.0 if m.group(1).lower() in ("a", "an") else _value(m.group(1), "en")
                d = _EN_FRACTIONS[m.group(2).lower()]
            else:
                n, d = 1.0, 2
            if n:
                out.append(_key(n / d))
            rest = rest.replace(m.group(), " ", 1)
        for w, v in _EN_MULTIPLES.items():
            for _ in re.finditer(rf"\b{w}\b", rest, re.IGNORECASE):
                out.append(_key(v))
        for m in _EN_NUMBER.finditer(rest):
            v = _value(m.group(1), "en")
            if v is None:
                continue
            if m.group(2):
                out.append(_key(v / 100))
                continue
            if v != 1:
                out.append(_key(v))
        return out
    rest = text
    for m in re.finditer(rf"([\d]+|[{_ZH_NUMERAL}]+)个?百分点", rest):  # percentage points: a number, not a share
        v = _value(m.group(1), "zh")
        if v is not None:
            out.append(_key(v))
        rest = rest.replace(m.group(), "　", 1)
    for m in re.finditer(rf"百分之([\d.]+|[{_ZH_NUMERAL}点]+)", rest):
        v = _value(m.group(1).replace("点", "."), "zh") if "点" not in m.group(1) else _zh_decimal(m.group(1))
        if v is not None:
            out.append(_key(v / 100))
        rest = rest.replace(m.group(), "　", 1)
    for m in _ZH_ONE_IN.finditer(rest):  # 每四个老人中就有一个: one in four
        d, n = _value(m.group(1), "zh"), _value(m.group(2), "zh")
        if d and n and d > n:
            out.append(_key(n / d))
            rest = rest.replace(m.group(), "　", 1)
    for m in re.finditer(rf"([\d]+|[{_ZH_NUMERAL}]+)分之([\d]+|[{_ZH_NUMERAL}]+)", rest):
        d, n = _value(m.group(1), "zh"), _value(m.group(2), "zh")
        if d and n is not None:
            out.append(_key(n / d))
        rest = rest.replace(m.group(), "　", 1)
    for word in _ZH_NOT_NUMBERS + ("之一",):  # (after the fractions: 三分之一 is a third, 之一 alone "one of")
        rest = rest.replace(word, "　")
    for m in re.finditer(r"([一二两三四五六七八九])成(?![功为立本员])", rest):
        out.append(_key(_ZH_DIGITS[m.group(1)] / 10))
        rest = rest.replace(m.group(), "　", 1)
    for m in re.finditer(r"一半|半数", rest):
        out.append(0.5)
        rest = rest.replace(m.group(), "　", 1)
    for m in re.finditer(r"(?:增加|提高|增长|上升|扩大|多)了?一倍|翻(?:了)?一番|翻倍", rest):
        out.append(2.0)
        rest = rest.replace(m.group(), "　", 1)
    for m in re.finditer(rf"([\d.]+|[{_ZH_NUMERAL}]+)倍", rest):
        v = _value(m.group(1), "zh")
        if v:
            out.append(_key(v))
        rest = rest.replace(m.group(), "　", 1)
    for m in re.finditer(r"([\d]+(?:[,，]\d{3})*(?:\.\d+)?)\s*(%|％)", rest):
        out.append(_key(float(re.sub(r"[,，]", "", m.group(1))) / 100))
        rest = rest.replace(m.group(), "　", 1)
    for m in _ZH_NUMBER.finditer(rest):
        raw = m.group(1) + (f".{m.group(2)}" if m.group(2) else "")
        v = _value(raw, "zh") if not m.group(2) else float(raw) if re.fullmatch(r"[\d.]+", raw) else None
        if v is None or not re.search(r"[\d一二两三四五六七八九十百千]", raw):
            continue  # a unit alone (万) is no number
        if m.group(3):
            v *= _ZH_BIG[m.group(3)]
        if v != 1:
            out.append(_key(v))
    return out


def _zh_decimal(text: str) -> float | None:
    whole, _, frac = text.partition("点")
    w = _value(whole, "zh") if whole else 0.0
    digits = "".join(str(_ZH_DIGITS.get(c, "")) for c in frac)
    return None if w is None or not digits else float(f"{int(w)}.{digits}")


# -- negation, direction, quantity, cause ------------------------------------------------------------------
@dataclass(frozen=True)
class Marker:
    """A kind of element a translation must keep: its words in each language."""

    name: str
    en: re.Pattern
    zh: re.Pattern
    zh_not: tuple[str, ...] = ()  # Chinese words that hold a marker's character without its meaning
    en_not: tuple[str, ...] = ()  # English phrases that hold a marker's word without its meaning


NEGATION = Marker(
    "negation",
    re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|can't|won't|don't|doesn't|"
               r"didn't|isn't|aren't|wasn't|weren't|hasn't|haven't|hadn't|shouldn't|mustn't|couldn't|wouldn't|"
               r"fail(?:s|ed)? to|unable|lack(?:s|ed|ing)?|nowhere|no longer|barely|hardly)\b|n't\b", re.IGNORECASE),
    re.compile(r"不|没|無|无|非|未|别|勿|莫|否|缺乏|缺少|禁止|拒绝"),
    ("不断", "不仅", "不管", "不少", "不错", "不久", "不同", "不过", "不但", "差不多", "不得不", "无论", "无数", "无疑",
     "非常", "非洲", "是非", "未来", "莫斯科", "否则", "要不然", "不然", "别人", "别的", "分别", "区别", "特别", "类别",
     "级别", "告别", "识别", "性别", "个别", "别处", "差别", "鉴别", "辨别", "并非常", "没错", "未免", "不论", "是否",
     "能否", "与否", "可否", "不光", "不止", "莫名", "无穷", "不可或缺", "缺一不可", "非正规", "非正式", "不稳定",
     "不平等", "不公平", "不确定", "非营利", "无业", "不超过"),
    ("not only", "not just", "no doubt", "nothing but", "no matter", "not least", "without worry",
     "without worrying", "without a worry", "no problem", "never mind", "not bad"),
)
"""Some Chinese words are negative in form where English says it in one word (不平等 inequality, 无业
unemployed): they are not counted, lest a faithful translation be flagged."""
FEWER = Marker(
    "less or lower",
    re.compile(r"\b(?:less|fewer|lower(?:ed|s|ing)?|smaller|reduc(?:e|es|ed|ing|tion|tions)|decreas(?:e|es|ed|ing)|"
               r"fall(?:s|ing)?|fell|fallen|drop(?:s|ped|ping)?|cut(?:s|ting)?|declin(?:e|es|ed|ing)|shrink(?:s|ing)?|"
               r"shrank|eas(?:e|es|ed|ing)|lessen(?:s|ed|ing)?|below|under|minus|down|worse|weaker|"
               r"shorter|cheaper|narrow(?:er|ed|s|ing)?|at most|up to|no more than|maximum|low)\b", re.IGNORECASE),
    re.compile(r"少|低|降|减|缩|跌|下滑|下跌|下调|削|减轻|减缓|不足|少于|以下|低于|更差|更弱|更短|便宜|收窄|缩小|最多|最长|至多|"
               r"不超过"),
    ("多少", "至少", "不少", "少数民族", "青少年", "少年", "少儿", "减免", "低保", "最低工资", "最低生活保障", "低收入",
     "最低"),
    ("at least", "low-income", "low income", "lower-income", "cut off", "cut out", "under way", "underway",
     "fall ill", "falls ill", "fell ill", "falling ill", "fallen ill", "fall sick", "fell sick", "sit down",
     "write down", "settle down", "under the", "under a", "under this", "under these", "under its"),
)
MORE = Marker(
    "more or higher",
    re.compile(r"\b(?:more|greater|higher|larger|bigger|increas(?:e|es|ed|ing)|ris(?:e|es|ing)|rose|risen|"
               r"grow(?:s|ing|th)?|grew|grown|rais(?:e|es|ed|ing)|expand(?:s|ed|ing)?|expansion|extend(?:s|ed|ing)?|"
               r"boost(?:s|ed|ing)?|above|exceed(?:s|ed|ing)?|better|stronger|longer|wider|plus|"
               r"broaden(?:s|ed|ing)?|broader|improv(?:e|es|ed|ing|ement)|twice as|doubl(?:e|ed|es|ing)|faster|quicker|sooner|"
               r"over(?= (?:\d|a |one|two|three|four|five|six|seven|eight|nine|ten|half|twenty|thirty|forty|fifty|"
               r"sixty|seventy|eighty|ninety|hundred)))\b", re.IGNORECASE),
    re.compile(r"多|高|增|涨|升|扩|超|加大|提高|提升|上调|延长|更好|更强|更长|更广|以上|改善|加强|扩大|改进|一倍|翻番|翻倍|一番|"
               r"更(?!低|少|小|差|弱|短|窄)"),
    ("多少", "大多", "许多", "很多", "诸多", "多数", "多种", "多样", "多元", "差不多", "高龄", "高中", "高校", "最高",
     "增值税", "升级", "多年", "最多", "得多"),
    ("more or less", "once more", "no more than", "not more than", "at most", "moreover"),
)
""""Many" (许多) is not "more", nor is an old age (高龄) "higher": those words are not counted."""
ONLY = Marker(
    "only",
    re.compile(r"\b(?:only|just|merely|solely|alone|sole)\b", re.IGNORECASE),
    re.compile(r"只|仅|才|唯一|单单|光是"),
    ("只是", "不仅", "仅仅是", "刚才", "人才", "才能", "天才", "方才", "只有不到", "只有少于", "只有少数", "不仅仅"),
    ("not only", "not just", "just as", "just like"),
)
ALL = Marker(
    "all or every",
    re.compile(r"\b(?:all|every|everyone|everybody|everything|each|whole|entire|universal(?:ly)?|any)\b",
               re.IGNORECASE),
    re.compile(r"所有|每|全|一切|都|各|任何|凡|普遍"),
    ("全国", "全球", "安全", "完全", "健全", "全面", "全民", "各种", "各地", "各国", "各位", "首都", "都市", "成都",
     "都是", "全体"),
)
CAUSE = Marker(
    "cause",
    re.compile(r"\b(?:because|since|so|therefore|thus|hence|due to|owing to|as a result|result(?:s|ed)? in|"
               r"lead(?:s|ing)? to|led to|caus(?:e|es|ed|ing)|why|reason|thanks to|consequently|means that)\b",
               re.IGNORECASE),
    re.compile(r"因为|由于|所以|因此|因而|导致|造成|使得|致使|以致|结果|原因|为什么|为何|缘故|从而|于是|之所以|得益于|可见"),
    (),
    ("so far", "so-called", "so much", "so many", "or so", "and so on", "so long", "even so"),
)
ALMOST = Marker(
    "“almost”",
    re.compile(r"\b(?:almost|nearly|hardly|barely|scarcely|virtually|close to)\b", re.IGNORECASE),
    re.compile(r"几乎|差不多|将近|近乎|快要|接近(?=[\d一二两三四五六七八九十百千万半])"),
    ("差不多所有",),
)
""""Hardly any" is not "none", nor "nearly half" half."""
MARKERS = (NEGATION, FEWER, MORE, ONLY, CAUSE, ALMOST)
"""Checked both ways. ALL is not among them: "all" and 都 come and go with the grammar of each language
(都 stands in sentences that say no "all"), so it is no sign of a changed meaning."""


_NOT_UNTIL = re.compile(r"直到[^，。；！？]{0,12}?才")


def present(marker: Marker, text: str, lang: str) -> bool:
    """Whether `text` holds a word of `marker` in `lang`."""
    if lang == "en":
        for phrase in marker.en_not:
            text = re.sub(rf"\b{re.escape(phrase)}\b", " ", text, flags=re.IGNORECASE)
        return marker.en.search(text) is not None
    text = _LESS_THAN.sub("少于", text)  # 不到一半, 不足百分之十: "fewer than", no negation
    text = _NOT_UNTIL.sub("直到", text)  # 直到2019年才: "not until", neither "only" nor a negation here
    for word in sorted(marker.zh_not, key=len, reverse=True):  # 不仅仅 before 不仅
        text = text.replace(word, "　")
    return marker.zh.search(text) is not None


_LESS_THAN = re.compile(rf"(?:不到|不足)(?=[^，。；！？]{{0,12}}?(?:[\d{_ZH_NUMERAL}半]|分之))")
"""不到一半, 不足百分之十, 不到平均工资的四分之一: "less than" a quantity, not a negation."""


def critical_problems(source: str, answer: str, source_lang: str) -> list[str]:
    """Every critical element the answer lost or added, one line each ([] where it keeps them all)."""
    target = "en" if source_lang == "zh" else "zh"
    out = []
    want, got = numbers(source, source_lang), numbers(answer, target)
    left = list(got)
    for v in want:
        match = next((g for g in left if abs(g - v) <= max(0.01, 0.002 * abs(v))), None)
        if match is None:
            out.append(f"the number {_shown(v)} is not in the translation")
        else:
            left.remove(match)
    for v in left:
        if not any(abs(v - w) <= max(0.01, 0.002 * abs(w)) for w in want):
            out.append(f"the number {_shown(v)} is in the translation, not in what was said")
    for marker in MARKERS:
        said, made = present(marker, source, source_lang), present(marker, answer, target)
        if said and not made:
            out.append(f"the {marker.name} of the source is lost")
        elif made and not said and marker is NEGATION:
            out.append("a negation the source does not have")
    return out


def _shown(v: float) -> str:
    if 0 < v < 1:
        return f"{v * 100:g}%"
    return f"{v:g}"
