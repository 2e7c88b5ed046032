"""Transcripts in `media-tool build`: the sample show's files, human edits, translations that fail."""

from __future__ import annotations

import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import srt
import webvtt
from helpers import ChatEndpoint, build_json, run_here, statuses

from media_tool.text.script import to_simplified


def test_sample_show_transcripts(built_template):
    """Both episodes in both languages: Whisper base hears the spoken language (the English episode
    and the Mandarin one alike), people's translations are aligned to its segments by time."""
    sample_show, report = built_template
    t = sample_show / "transcripts"
    en = (t / "ep-001-pensions" / "ep-001-pensions.en.txt").read_text()
    assert "pension" in en.lower() and "welcome" in en.lower()
    ep1 = list(srt.parse((t / "ep-001-pensions" / "ep-001-pensions.zh-en.srt").read_text()))
    assert ep1[0].content.split("\n")[1] == "欢迎收听社会保障对话。" and ep1[-1].content.endswith("谢谢收听。")
    st = {e["slug"]: e["stages"] for e in json.loads(run_here("status", "--show", str(sample_show), "--json").stdout)}
    assert st["ep-001-pensions"]["translate"]["status"] == "built"
    # The Mandarin episode: no person's transcript, so this is the machine's, in Simplified characters,
    # with the glossary's corrections recorded in the JSON transcript.
    d = t / "ep-002-sick-leave"
    assert not list(d.glob("human.zh.*"))
    doc = json.loads((d / "ep-002-sick-leave.zh.json").read_text())
    zh = "".join(s["body"] for s in doc["segments"])
    assert "病假" in zh and "养老保险" in zh and zh == to_simplified(zh)
    assert {"before": "养老抱歉", "after": "养老保险"} in [{k: c[k] for k in ("before", "after")} for c in doc["corrections"]]
    pairs = list(srt.parse((d / "ep-002-sick-leave.zh-en.srt").read_text()))
    assert len(pairs) == len(doc["segments"]) and all(len(p.content.split("\n")) == 2 for p in pairs)
    assert pairs[0].content.split("\n")[0].startswith("欢迎收听社会保障对话")
    assert "sick leave" in pairs[0].content and pairs[-1].content.split("\n")[1] == "Thank you for listening."
    vtt = webvtt.from_buffer(io.StringIO((d / "ep-002-sick-leave.zh-en.vtt").read_text()))
    assert [c.text.split("\n")[0] for c in vtt] == [p.content.split("\n")[0] for p in pairs]


def test_person_edit_survives_a_new_machine_transcript(built_show):
    srt_path = built_show / "transcripts" / "ep-001-pensions" / "ep-001-pensions.en.srt"
    edited = srt_path.read_text().replace("Welcome", "WELCOME (checked by Li)")
    srt_path.write_text(edited)
    # New audio means a new machine transcript. Not another loudness target: Whisper often hears the
    # same words at -20 LUFS as at -19, and the same text is nothing new. The recording's second of
    # silence kept at the start moves every cue, so the machine's file surely differs.
    toml = built_show / "episodes" / "ep-001-pensions" / "episode.toml"
    toml.write_text(toml.read_text() + "\n[audio]\ntrim_silence = false\n")
    code, report = build_json(built_show)
    assert code == 0 and statuses(report, ("transcribe",))["ep-001-pensions"]["transcribe"] == "done"
    assert srt_path.read_text() == edited
    assert (srt_path.parent / "ep-001-pensions.en.machine.srt").is_file()
    ep1 = next(e for e in report["episodes"] if e["slug"] == "ep-001-pensions")
    assert any("edited by a person, kept" in n for n in ep1["notices"])


def test_wrong_human_translation_fails_that_episode_only(built_show):
    """Plain text has no timings, so it must hold one line per segment; the error names file and line."""
    folder = built_show / "transcripts" / "ep-001-pensions"
    (folder / "human.zh.srt").unlink()
    (folder / "human.zh.txt").write_text("只有一行。\n", encoding="utf-8")
    p = run_here("build", "--show", str(built_show))
    assert p.returncode == 1
    # Published before, so kept as it was, with the problem named (file and line) in its one line.
    assert "fix: transcripts/ep-001-pensions/human.zh.txt:2: 1 segments, but the transcript has" in p.stderr
    code, report = build_json(built_show)
    assert code == 1 and [e["slug"] for e in report["episodes"] if e["failed"]] == ["ep-001-pensions"], report
    feed = (built_show / "feed" / "feed.xml").read_text(encoding="utf-8")  # the others are still published
    assert "media/ep-002-sick-leave.mp3" in feed and "media/ep-003-long-term-care.mp3" in feed


def test_unreachable_translation_endpoint_keeps_existing_files(built_show, tmp_path, monkeypatch):
    (built_show / "transcripts" / "ep-001-pensions" / "human.zh.srt").unlink()  # the machine must translate
    monkeypatch.setenv("MEDIA_TOOL_CACHE", str(tmp_path / "cache"))  # no answer kept by an earlier run
    before = {p.name: p.read_bytes() for p in (built_show / "transcripts" / "ep-001-pensions").iterdir()}
    with open(built_show / "podcast.toml", "a") as fh:
        fh.write('\n[translation]\nengine = "openai"\nurl = "http://127.0.0.1:9/v1"\nmodel = "any"\n')
    p = run_here("build", "--show", str(built_show))
    assert p.returncode == 1
    # The episode keeps what it published: one line says so, and why.
    # (ep-003, a mixed interview, needs the endpoint too: its English turns are translated into Chinese.)
    kept = sorted(ln for ln in p.stderr.splitlines() if ln.startswith("kept:"))
    assert [k.split(":")[1].strip() for k in kept] == ["ep-001-pensions", "ep-003-long-term-care"], kept
    assert kept[0].startswith("kept: ep-001-pensions: kept the version published on")
    assert all("translation endpoint http://127.0.0.1:9/v1/chat/completions unreachable" in k for k in kept)
    assert not [ln for ln in p.stderr.splitlines() if ln.startswith("failed:")]
    after = {p.name: p.read_bytes() for p in (built_show / "transcripts" / "ep-001-pensions").iterdir()}
    assert after == before


POOL = "社会保障制度帮助人们应对疾病失业和年老各国专家分享经验与教训覆盖面越广效果越好劳动者家庭"


class _Translator(ChatEndpoint, BaseHTTPRequestHandler):
    """A careless chat-completions endpoint on loopback: Chinese of a plausible length, with the
    glossary's term only in texts of an even number of characters (the rest it leaves out, as a real model
    sometimes does); it keeps every request. The tool's checks, not the endpoint, must keep the
    translation true to the glossary: a missed term is found and reported."""

    requests: list = []

    def answer(self, body: dict) -> str:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        _Translator.requests.append(system)
        pairs = dict(re.findall(r"([^;:=]+?) = ([^;.]+)", system.split("exactly (source term = required translation):")[-1]))
        out = []
        for text in json.loads(user.split("\n", 1)[1]):
            terms = [zh for en, zh in pairs.items() if en.strip().lower() in text.lower()]
            careless = len(text) % 2  # the same text is always treated alike, asked again or not
            out.append(("" if careless else "".join(terms)) + POOL[:max(4, 2 * len(text.split()))] + "。")
        return json.dumps(out, ensure_ascii=False)


def test_an_endpoint_that_answers_translates_inside_the_build_labelled_and_true_to_the_glossary(built_show, tmp_path,
                                                                                                monkeypatch):
    """[translation] engine = "openai" against a real HTTP server: the build's Chinese of an English
    episode is the endpoint's, the glossary goes in every request, and pages and JSON say it is a
    machine translation."""
    (built_show / "transcripts" / "ep-001-pensions" / "human.zh.srt").unlink()  # the machine must translate
    monkeypatch.setenv("MEDIA_TOOL_CACHE", str(tmp_path / "cache"))  # no answer kept from an earlier run
    server = HTTPServer(("127.0.0.1", 0), _Translator)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Translator.requests.clear()
    heard = built_show / ".media-tool" / "heard" / "ep-002-sick-leave.json"  # Whisper's words, kept
    heard_before = (heard.read_bytes(), heard.stat().st_mtime_ns)
    try:
        with open(built_show / "podcast.toml", "a") as fh:
            fh.write(f'\n[translation]\nengine = "openai"\nurl = "http://127.0.0.1:{server.server_port}/v1"\n'
                     'model = "any"\n')
        code, report = build_json(built_show)
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, report
    # The Mandarin episode is punctuated anew for the new translator, from Whisper's words as kept:
    # the episode is not heard again.
    ep2 = next(e for e in report["episodes"] if e["slug"] == "ep-002-sick-leave")
    assert ep2["stages"]["transcribe"]["status"] == "done", ep2
    assert (heard.read_bytes(), heard.stat().st_mtime_ns) == heard_before
    assert _Translator.requests and all("required translation" in r for r in _Translator.requests)
    assert any("; pension = 养老金;" in r for r in _Translator.requests)  # English into Chinese, with the terms
    zh = json.loads((built_show / "transcripts" / "ep-001-pensions" / "ep-001-pensions.zh.json").read_text())
    bodies = [s["body"] for s in zh["segments"]]
    assert bodies and all(b.endswith("。") and POOL[:4] in b for b in bodies)
    en = json.loads((built_show / "transcripts" / "ep-001-pensions" / "ep-001-pensions.en.json").read_text())
    problems = {p["cue"]: p["problem"] for p in zh.get("translationProblems", [])}
    kept, missed = 0, 0
    for cue, (said, made) in enumerate(zip((s["body"] for s in en["segments"]), bodies), 1):
        if re.search(r"\bpensions?\b", said, re.IGNORECASE):  # the term is required here
            if "养老金" in made:
                kept += 1
            else:  # the endpoint left it out: the tool's check says so, for a person to see
                missed += 1
                assert "'pension' not rendered as '养老金'" in problems.get(cue, ""), (cue, said, made, problems)
    assert kept and missed, (kept, missed)  # both cases happened
    check = run_here("check", "--show", str(built_show), "--json")
    found = [x for x in json.loads(check.stdout) if x["code"] == "translation" and "养老金" in x["message"]]
    assert found and all(x["severity"] == "warning" for x in found)
    page = (built_show / "feed" / "zh" / "episodes" / "ep-001-pensions" / "index.html").read_text(encoding="utf-8")
    assert "机器翻译" in page and bodies[0] in page


def test_a_persons_transcript_wins_over_the_machine(built_show):
    """A person's Mandarin transcript (a separate case from the sample's machine path): used as the
    truth for its language, no glossary corrections applied, and the translation follows it."""
    import shutil

    from helpers import ROOT

    d = built_show / "transcripts" / "ep-002-sick-leave"
    shutil.copy(ROOT / "tests" / "fixtures" / "human" / "ep-002-human.zh.srt", d / "human.zh.srt")
    code, report = build_json(built_show)
    assert code == 0, report
    doc = json.loads((d / "ep-002-sick-leave.zh.json").read_text(encoding="utf-8"))
    assert [s["body"] for s in doc["segments"]][:2] == ["欢迎收听社会保障对话。", "今天我们讨论病假和养老保险。"]
    assert "corrections" not in doc
    pairs = list(srt.parse((d / "ep-002-sick-leave.zh-en.srt").read_text(encoding="utf-8")))
    assert len(pairs) == len(doc["segments"]) and pairs[-1].content.split("\n") == ["谢谢收听。", "Thank you for listening."]
