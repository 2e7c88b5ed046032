"""Search over the sample show's transcripts (SQLite FTS5): Chinese of any length, English word
forms and phrases, text that looks like query syntax, and incremental re-indexing."""

from __future__ import annotations

import sqlite3

import pytest
from helpers import build_json, run_here, search_hits

from media_tool.search import Row, SQLiteIndex
from media_tool.search.query import columns, grams, highlight, parse_query


@pytest.fixture()
def built(built_show):
    return built_show


hits = search_hits


def said(show, query, *extra):
    """What the words typed find in what was said (the lexical part of the search, alone)."""
    return [h for h in hits(show, query, "--words-only", *extra) if h["kind"] == "segment"
            and h["matched"] == ["words"]]


def test_two_and_four_character_chinese(built):
    two = said(built, "病假")
    assert {h["slug"] for h in two} == {"ep-002-sick-leave"} and len(two) == 2
    assert all("<mark>病假</mark>" in h["snippet"] and h["lang"] == "zh" for h in two)
    four = said(built, "养老保险")  # heard as 养老抱歉 by Whisper base; the glossary put it right
    assert len(four) == 2 and all("养老保险" in h["text"] and h["slug"] == "ep-002-sick-leave" for h in four)
    first = min(four, key=lambda h: h["start"])
    # a Chinese query opens the Chinese edition's page at that moment; the audio is beside it
    assert first["url"] == f"https://podcast.example.org/zh/episodes/ep-002-sick-leave/#t={first['start']:.1f}"
    assert first["media_url"] == f"https://podcast.example.org/media/ep-002-sick-leave.mp3#t={first['start']:.1f}"
    assert first["start"] < 2 < first["end"] and "病假" in first["text"]
    assert said(built, "老保") and not said(built, "保老")  # characters must stand together, in order
    one = said(built, "病")  # a single character works too
    assert len(one) == 2


def test_english_phrase_word_forms_and_ranking(built):
    phrase = said(built, '"social protection"')
    # the shorter segment ranks first: ep-001's cue holds only the welcome, ep-002's two sentences,
    # ep-003's (its human translation) two long ones.
    assert [h["slug"] for h in phrase] == ["ep-001-pensions", "ep-002-sick-leave", "ep-003-long-term-care"]
    assert said(built, '"protection social"') == []
    forms = said(built, "PENSIONS", "--lang", "en", "--episode", "ep-001-pensions")
    assert forms and all("pension" in h["text"].lower() for h in forms)


def test_no_hits_and_syntax_characters(built):
    assert said(built, "zebra crossing") == []
    for q in ['"', "*", "-", "NEAR(", "(", ")", "AND", "OR NOT", '"病假', "病假*", "col:病假", "^", "'", "{}", "+-*/"]:
        assert isinstance(search_hits(built, q), list), q  # exit 0, a list, and no traceback
    assert [h["slug"] for h in said(built, "病假*")] == ["ep-002-sick-leave"] * 2  # searched as text


def test_cli_hits_fit_80_columns_with_each_link_whole_on_its_own_line(built, monkeypatch):
    from rich.cells import cell_len

    monkeypatch.setenv("COLUMNS", "80")
    p = run_here("search", "养老", "--show", str(built))
    assert p.returncode == 0 and "病假" in p.stdout and "found by" in p.stdout
    lines = p.stdout.splitlines()
    links = [n for n, line in enumerate(lines) if line.strip().startswith("https://")]
    assert len(links) == int(lines[0].split()[0]) > 3  # "N hit(s) for ...", then one link per hit
    assert all("/episodes/" in lines[n] and " " not in lines[n].strip() for n in links)
    assert all(cell_len(line) <= 80 for n, line in enumerate(lines) if n not in links)
    firsts = [0] + links[:-1]  # each hit starts after the last one's link: number, slug, time, what was said
    for k, n in enumerate(firsts, 1):
        number, slug, where = lines[n + 1].split()[:3]
        assert number == str(k) and slug.startswith("ep-0") and (":" in where or where in ("title", "notes", "chapter"))
    assert any("#t=" in lines[n] for n in links)


def test_reindex_touches_only_the_changed_episode(built):
    db = built / ".media-tool" / "search.sqlite3"
    before = dict(sqlite3.connect(db).execute("SELECT id, slug FROM segments"))
    ep1_ids = {i for i, s in before.items() if s == "ep-001-pensions"}
    srt_path = built / "transcripts" / "ep-002-sick-leave" / "ep-002-sick-leave.zh.srt"  # a person's correction
    srt_path.write_text(srt_path.read_text().replace("谢谢收听。", "谢谢大家收听。"), encoding="utf-8")
    code, report = build_json(built)
    assert code == 0, report
    stages = {e["slug"]: {k: v["status"] for k, v in e["stages"].items()} for e in report["episodes"]}
    assert stages["ep-001-pensions"]["index"] == "skipped" and stages["ep-002-sick-leave"]["index"] == "done"
    after = dict(sqlite3.connect(db).execute("SELECT id, slug FROM segments"))
    assert {i for i, s in after.items() if s == "ep-001-pensions"} == ep1_ids  # untouched rows
    assert hits(built, "大家")[0]["text"] == "谢谢大家收听。"


def test_deleted_episode_leaves_the_index(built):
    import shutil
    shutil.rmtree(built / "episodes" / "ep-001-pensions")
    assert build_json(built)[0] == 0
    assert all(h["slug"] != "ep-001-pensions" for h in hits(built, "welcome"))
    assert hits(built, "welcome")


def test_query_parsing_is_pure():
    assert grams("病假。养老金") == (["病", "假", "养", "老", "金"], ["病假", "养老", "老金"], ["养老金"])
    assert parse_query("养老保险") == ('tri : "养老保 老保险"', ["养老保险"])
    assert parse_query("养老金 病假 失") == ('tri : "养老金" AND bi : "病假" AND uni : "失"', ["养老金", "病假", "失"])
    assert parse_query('"old age" Pensions*') == ('pairs : "old_ag" AND words : "pension"', ["old", "age", "Pensions"])
    assert parse_query('"the old age" "age"') == ('pairs : "the_old old_ag" AND words : "ag"', ["the", "old", "age", "age"])
    # words on either side of Chinese do not stand together: no pair spans a Han run, in a row or a query
    assert columns("Pensions 养老金 for the elderly", "en", "s")["pairs"] == ["for_the", "the_elderli"]
    assert parse_query('"pension 养老 insurance scheme"')[0] == 'bi : "养老" AND words : "pension" AND pairs : "insur_scheme"'
    assert parse_query('" * - (') == (None, [])
    assert highlight("Pensions & <b>", ["pension"]) == "<mark>Pensions</mark> &amp; &lt;b&gt;"


def test_index_api_replace_and_remove(tmp_path):
    ix = SQLiteIndex(tmp_path / "i.sqlite3")
    ix.replace_episode("a", "A", "2026-01-01", "u", "k1", [Row("a", "en", 0, 1, "hello world")])
    ix.replace_episode("b", "B", "2026-02-01", "u", "k2", [Row("b", "en", 0, 1, "hello there")])
    assert [h.slug for h in ix.search("hello")] == ["b", "a"]
    ix.replace_episode("a", "A", "2026-01-01", "u", "k3", [Row("a", "en", 0, 1, "goodbye")])
    assert [h.slug for h in ix.search("hello")] == ["b"] and ix.keys() == {"a": "k3", "b": "k2"}
    assert ix.remove_except({"a"}) == ["b"] and ix.count() == 1 and ix.search("hello") == []


def test_hits_rank_shortest_first_and_an_index_from_before_lengths_is_measured_once(tmp_path):
    """Lexical hits are ranked by each row's stored length (`query.doclen`), ties to the newer
    episode; an index written before lengths were stored ranks by FTS5's bm25 when only read (the
    same order where each word stands once) and is measured when next opened for writing."""
    path = tmp_path / "i.sqlite3"
    ix = SQLiteIndex(path)
    ix.replace_episode("a", "A", "2026-01-01", "u", "k", [Row("a", "en", 0, 1, "Pension reform in the provinces today."),
                                                       Row("a", "en", 1, 2, "The pension.", speaker="Li"),
                                                       Row("a", "en", 2, 3, "Pension?", speaker="Li")])
    ix.replace_episode("b", "B", "2026-02-01", "u", "k", [Row("b", "en", 0, 1, "Pension!", speaker="Li")])
    order = [("b", 0), ("a", 2), ("a", 1), ("a", 0)]
    assert [(h.slug, h.start) for h in ix.search("pension")] == order
    assert [(h.slug, h.start) for h in ix.search("pension", limit=2)] == order[:2]
    assert [(h.slug, h.start) for h in ix.search("pension", speaker="Li")] == order[:3]
    ix.close()
    with sqlite3.connect(path) as db:  # as an index from before lengths were stored
        db.execute("DROP TABLE doclens")
        db.execute("DELETE FROM meta WHERE key = 'doclens'")
    old = SQLiteIndex(path, readonly=True)
    assert not old._lengths() and [(h.slug, h.start) for h in old.search("pension")] == order
    SQLiteIndex(path).close()  # a build opens it: every row measured
    again = SQLiteIndex(path, readonly=True)
    assert again._lengths() and [(h.slug, h.start) for h in again.search("pension")] == order
    assert again.db.execute("SELECT count(*) FROM doclens").fetchone()[0] == 4


def test_an_index_of_an_older_layout_is_made_again_and_takes_the_same_rows(tmp_path):
    """An older layout is dropped (to be rebuilt from the transcripts), its lengths with it, so the
    same episode indexed again reuses its row ids without a clash."""
    path = tmp_path / "i.sqlite3"
    rows = [Row("a", "en", 0, 1, "Pension reform."), Row("a", "en", 1, 2, "The pension fund.")]
    SQLiteIndex(path).replace_episode("a", "A", "2026-01-01", "u", "k", rows)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 1")
    ix = SQLiteIndex(path)
    assert ix.count() == 0 and ix.db.execute("SELECT count(*) FROM doclens").fetchone()[0] == 0
    ix.replace_episode("a", "A", "2026-01-01", "u", "k", rows)
    assert [h.start for h in ix.search("pension")] == [0, 1]


def test_person_corrections_are_searchable_and_phrases_stay_whole(built):
    # Whole segments are indexed, so a phrase that an SRT cue break splits is still found.
    srt = (built / "transcripts" / "ep-002-sick-leave" / "ep-002-sick-leave.en.srt").read_text()
    cue_texts = [" ".join(c.split("\n")[2:]).split() for c in srt.strip().split("\n\n")]
    # the first break inside a sentence: the last two words of a cue and the first of the next
    words = next(a[-2:] + b[:1] for a, b in zip(cue_texts, cue_texts[1:])
                 if len(a) >= 2 and b and not a[-1].endswith((".", "?", "!")))
    phrase = " ".join(w.strip(",;:").lower() for w in words)
    assert hits(built, f'"{phrase}"'), phrase
    srt_file = built / "transcripts" / "ep-001-pensions" / "ep-001-pensions.en.srt"
    srt_file.write_text(srt_file.read_text().replace("Welcome", "Welcome Zanzibar"), encoding="utf-8")
    code, report = build_json(built)
    assert code == 0
    found = said(built, "zanzibar")
    assert [h["slug"] for h in found] == ["ep-001-pensions"] and "<mark>Zanzibar</mark>" in found[0]["snippet"]


def test_a_search_past_its_deadline_stops_and_leaves_the_connection_as_it_was(tmp_path, monkeypatch):
    """SQLite is stopped where it is (a progress handler), SearchTimeout raised; the next search,
    without a deadline, runs on the same connection as if nothing happened."""
    import random
    import time
    from types import SimpleNamespace

    from media_tool.errors import SearchTimeout

    rng = random.Random(4)
    words = "pension insurance sick leave unemployment benefit worker farmer policy coverage".split()
    ix = SQLiteIndex(tmp_path / "i.sqlite3")
    for e in range(20):
        ix.replace_episode(f"e{e}", f"E{e}", f"2025-01-{e + 1:02d}", "u", "k",
                           [Row(f"e{e}", "en", k, k + 1, " ".join(rng.choices(words, k=12))) for k in range(500)])
    query = "pension insurance sick leave worker"
    assert ix.search(query)
    # The search's clock, made to run a second each time SQLite's progress handler looks at it, so the
    # 5-second deadline passes in the middle of the query on any machine, fast or loaded.
    from media_tool.search import sqlite as backend

    start, ticks = time.monotonic(), iter(range(10**6))
    monkeypatch.setattr(backend, "time", SimpleNamespace(monotonic=lambda: start + next(ticks)))
    with pytest.raises(SearchTimeout, match="ran past its deadline$") as stopped:
        ix.search(query, deadline=start + 5)
    monkeypatch.undo()
    assert isinstance(stopped.value.__cause__, sqlite3.OperationalError)  # stopped inside SQLite
    with pytest.raises(SearchTimeout, match="before it began"):
        ix.search(query, deadline=time.monotonic() - 1)
    assert [h.start for h in ix.search(query)] == [h.start for h in ix.search(query, deadline=time.monotonic() + 60)]
