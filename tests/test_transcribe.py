"""Transcription with real Whisper weights (tiny.en, offline), every output format, translations,
and the guards. The multilingual model (Whisper base, offline) on real Mandarin is in test_mandarin."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jiwer
import pytest
import srt
import webvtt
from helpers import ChatEndpoint, ffmpeg, model_cache_without_translations

from media_tool.engines.guards import RawSegment, guard
from media_tool.engines.whisper import load_engine
from media_tool.errors import ConfigError, ModelError
from media_tool.media.audio import listen
from media_tool.media.ffmpeg import FFmpeg
from media_tool.stages import transcript_files
from media_tool.stages.transcribe import core as tr
from media_tool.stages.translate.core import whisper_translation
from media_tool.text import formats, script, transcripts
from media_tool.text.transcripts import Segment, Transcript
from media_tool.text.wer import normalize_for_wer

FIXTURES = Path(__file__).parent / "fixtures"
SPEECH = FIXTURES / "english.opus"
KNOWN = (FIXTURES / "english.txt").read_text()

@pytest.fixture(scope="module")
def ff() -> FFmpeg:
    return FFmpeg.discover()


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    cache = tmp_path_factory.mktemp("models")
    return {name: load_engine(name, "tiny.en", cache) for name in ("faster-whisper", "openai-whisper")}


def wer(hyp: str) -> float:
    return jiwer.wer(normalize_for_wer(KNOWN), normalize_for_wer(hyp))


@pytest.mark.parametrize("name", ["faster-whisper", "openai-whisper"])
def test_word_error_rate_on_known_speech(engines, ff, name):
    out = tr.transcribe(listen(SPEECH, ff), engines[name], language="en")
    text = " ".join(s.text for s in out.transcript.segments)
    assert wer(text) < 0.15, (name, wer(text), text)
    assert out.language == "en" and out.transcript.segments
    transcripts.check_timing(out.transcript, out.audio_seconds)


def test_auto_language_on_english_only_model_is_english(engines, ff):
    out = tr.transcribe(listen(SPEECH, ff), engines["faster-whisper"], language="auto")
    assert out.language == "en" and out.detected


def test_every_format_parses_with_an_independent_reader(engines, ff, tmp_path):
    out = tr.transcribe(listen(SPEECH, ff), engines["faster-whisper"], language="en")
    files = formats.render(out.transcript)
    subs = list(srt.parse(files["srt"]))
    assert subs and all(s.start <= s.end for s in subs)
    assert all(a.start <= b.start for a, b in zip(subs, subs[1:]))
    assert subs[-1].end.total_seconds() <= out.audio_seconds + 0.01
    for s in subs:  # Podcasting 2.0 guidance: at most two lines of 32 characters
        lines = s.content.split("\n")
        assert len(lines) <= 2 and all(len(ln) <= 32 for ln in lines), s.content
    vtt = webvtt.from_buffer(io.StringIO(files["vtt"]))
    assert len(out.transcript.segments) <= len(vtt) <= len(subs)  # wider lines: fewer cues than SRT
    assert all(len(ln) <= 65 for c in vtt for ln in c.text.split("\n"))
    data = json.loads(files["json"])
    assert data["version"] == "1.0.0" and len(data["segments"]) == len(out.transcript.segments)
    for seg in data["segments"]:
        # the spec's keys, and the machine's own estimate for the review queue (apps ignore unknown keys)
        assert set(seg) <= {"startTime", "endTime", "body", "speaker", "confidence", "doubt", "alternatives"}
        assert 0 <= seg["startTime"] <= seg["endTime"] <= out.audio_seconds + 0.01 and seg["body"]
    assert files["txt"].count("\n") == len(out.transcript.segments)


@pytest.mark.parametrize("name", ["faster-whisper", "openai-whisper"])
def test_silence_gives_an_empty_transcript(engines, ff, tmp_path, name):
    quiet = tmp_path / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=20:c=pink:a=0.0005", "-ar", "16000", str(quiet))
    out = tr.transcribe(listen(quiet, ff), engines[name], language="en")
    assert out.transcript.segments == ()
    assert formats.render(out.transcript)["json"].count("startTime") == 0


def test_english_only_model_refuses_mandarin(engines, ff):
    with pytest.raises(ModelError, match="English-only: it cannot transcribe Mandarin"):
        tr.transcribe(listen(SPEECH, ff), engines["faster-whisper"], language="zh")
    source = Transcript("zh", (Segment(0, 1, "你好"),))
    with pytest.raises(ModelError, match="English-only"):
        whisper_translation(listen(SPEECH, ff), engines["openai-whisper"], source)


def test_align_by_time_gives_every_segment_one_translation():
    source = Transcript("zh", (Segment(0, 2, "一"), Segment(2, 5, "二"), Segment(5, 9, "三")))
    other = [Segment(0, 4.8, "one two"), Segment(5.1, 9, "three and more")]
    t = transcripts.align_by_time(source, other, "en", "test")
    assert [s.text for s in t.segments] == ["one", "two", "three and more"]


def test_guards_drop_inventions():
    speech = [(0.0, 10.0)]
    segs = [RawSegment(0, 3, "Real words here."), RawSegment(12, 15, "Text over silence."),
            RawSegment(3, 5, "Subtitles by the Amara.org community"),
            RawSegment(5, 8, "the " * 40), RawSegment(8, 9, "Again."), RawSegment(9, 9.5, "Again."),
            RawSegment(9.5, 10, "Again.")]
    assert [s.text for s in guard(segs, speech)] == ["Real words here.", "Again.", "Again."]


def test_wrapping_counts_chinese_as_double_width():
    lines = script.wrap("病假工资让生病的工人可以安心休息，养老保险帮助老年人维持基本生活。", 32)
    assert all(script.width(ln) <= 32 for ln in lines) and len(lines) == 3
    assert script.wrap("one two three", 7) == ["one two", "three"]


def test_human_translation_with_wrong_count_names_file_and_line(tmp_path):
    source = Transcript("en", (Segment(0, 1, "a"), Segment(1, 2, "b"), Segment(2, 3, "c")))
    f = tmp_path / "human.zh.txt"
    f.write_text("甲\n乙\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        transcript_files.read_human_translation(f, source, "zh", "transcripts/x/human.zh.txt")
    assert exc.value.one_line().startswith("transcripts/x/human.zh.txt:3: 2 segments, but the transcript has 3")
    f.write_text("甲\n乙\n丙\n丁\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        transcript_files.read_human_translation(f, source, "zh", "transcripts/x/human.zh.txt")
    assert exc.value.one_line().startswith("transcripts/x/human.zh.txt:4: 4 segments")
    f.write_text("甲\n乙\n丙\n", encoding="utf-8")
    assert [s.text for s in transcript_files.read_human_translation(f, source, "zh", "x").segments] == ["甲", "乙", "丙"]


def test_edited_file_is_never_overwritten(tmp_path):
    t1 = Transcript("en", (Segment(0, 1, "first version"),))
    files = {"x.en.srt": formats.to_srt(t1)}
    written, conflicts = transcript_files.write_files(tmp_path, files, {})
    assert conflicts == []
    (tmp_path / "x.en.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nfixed by a person\n")
    t2 = Transcript("en", (Segment(0, 1, "second version"),))
    written2, conflicts = transcript_files.write_files(tmp_path, {"x.en.srt": formats.to_srt(t2)}, written)
    assert conflicts == ["x.en.srt"]
    assert "fixed by a person" in (tmp_path / "x.en.srt").read_text()
    assert "second version" in (tmp_path / "x.en.machine.srt").read_text()
    # Unedited files are replaced as usual.
    w3, c3 = transcript_files.write_files(tmp_path, {"y.en.txt": "a\n"}, {})
    w4, c4 = transcript_files.write_files(tmp_path, {"y.en.txt": "b\n"}, w3)
    assert c4 == [] and (tmp_path / "y.en.txt").read_text() == "b\n"


class _ChatAPI(ChatEndpoint, BaseHTTPRequestHandler):
    """A real HTTP server on loopback speaking the chat-completions protocol (echo translator)."""

    seen: list = []
    answers = "right"  # or "short" (one answer too few), "prose" (not a JSON array)

    def answer(self, body: dict) -> str:
        _ChatAPI.seen.append((self.path, self.headers.get("Authorization"), body["model"]))
        if _ChatAPI.answers == "prose":
            return "Here are your translations: 译文"
        texts = json.loads(body["messages"][-1]["content"].split("\n", 1)[1])
        return json.dumps(["譯文：" + t for t in texts][:-1 if _ChatAPI.answers == "short" else None],
                          ensure_ascii=False)


def test_chat_endpoint_translator_and_its_failure(monkeypatch):
    from media_tool.engines.translators import ChatTranslator
    from media_tool.errors import TranslationError
    from media_tool.model.settings import TranslationSettings
    from media_tool.stages.translate.core import translate

    server = HTTPServer(("127.0.0.1", 0), _ChatAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("TEST_KEY", "sekret")
        settings = TranslationSettings(engine="openai", url=f"http://127.0.0.1:{server.server_port}/v1",
                                       model="m1", api_key_env="TEST_KEY", batch=2)
        source = Transcript("en", tuple(Segment(i, i + 1, f"line {i}") for i in range(5)))
        _ChatAPI.seen.clear()
        t, report = translate(ChatTranslator(settings, "en", "zh"), source, "zh")
        assert [s.text for s in t.segments] == [f"译文：line {i}" for i in range(5)]  # Simplified
        assert t.origin == "translation:openai" and {s.via for s in t.segments} == {"openai"} and not report["failures"]
        # batches of 2: 3 requests; the echo leaves English words in the Chinese, so each line is asked again
        # once (3 more), and published with its doubt for a reviewer
        assert _ChatAPI.seen[0] == ("/v1/chat/completions", "Bearer sekret", "m1") and len(_ChatAPI.seen) == 6
        assert all("English left in the Chinese: line" in s.doubt for s in t.segments)
        # A malformed answer is an error naming the endpoint, never a transcript shifted or in the source's words.
        for kind, why in (("short", "returned 1 segments for 2"), ("prose", "not a JSON array")):
            _ChatAPI.answers = kind
            with pytest.raises(TranslationError, match=why):
                translate(ChatTranslator(settings, "en", "zh"), source, "zh")
    finally:
        _ChatAPI.answers = "right"
        server.shutdown()
        server.server_close()  # the port now refuses connections at once
    closed = TranslationSettings(engine="openai", url=f"http://127.0.0.1:{server.server_port}/v1", model="m1",
                                 timeout_s=5)
    with pytest.raises(TranslationError, match="unreachable"):
        translate(ChatTranslator(closed, "en", "zh"), source, "zh")


def test_argos_without_its_package_is_a_clear_error():
    """argostranslate's en->zh package cannot be downloaded here; the error must say what to install."""
    from media_tool.engines.translators import machine_translator
    from media_tool.errors import TranslationError
    from media_tool.model.settings import TranslationSettings

    try:
        import argostranslate  # noqa: F401
        pytest.skip("argostranslate is installed; its en->zh package decides the outcome")
    except ImportError:
        pass
    with pytest.raises(TranslationError, match="argostranslate is not installed"):
        machine_translator(TranslationSettings(engine="argos"), "en", "zh")
    assert machine_translator(TranslationSettings(engine="human"), "en", "zh") is None


def test_transcribe_cli_json(tmp_path):
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "media_tool", "transcribe", str(SPEECH), "-o", str(tmp_path),
                        "--model", "tiny.en", "--translator", "none", "--json"], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["translator"] == "none"
    assert d["language"] == "en" and d["detected"] and d["segments"] > 3 and d["model"] == "faster-whisper:tiny.en"
    assert sorted(Path(f).name for f in d["files"]) == [f"english.en.{e}" for e in ("json", "srt", "txt", "vtt")]
    assert d["realtime_factor"] > 0 and abs(d["audio_seconds"] - 43.7) < 0.5  # speed is the benchmarks' business
    assert "no translator" in d["missing"]["zh"]
    p = subprocess.run([sys.executable, "-m", "media_tool", "transcribe", str(SPEECH), "-o", str(tmp_path),
                        "--model", "tiny.en", "--language", "zh"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 1 and "English-only: it cannot transcribe Mandarin" in p.stderr


class _Recorder(BaseHTTPRequestHandler):
    """Records the Authorization header of any request it gets."""

    seen: list = []

    def do_GET(self):
        _Recorder.seen.append(self.headers.get("Authorization"))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args):
        pass


class _Redirect(BaseHTTPRequestHandler):
    """Answers every POST with a 302 to `target` (urllib follows a 302 POST as a GET, headers kept)."""

    target = ""

    def do_POST(self):
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_api_key_never_follows_a_redirect_to_another_origin(monkeypatch):
    from media_tool.engines.translators import ChatTranslator
    from media_tool.errors import TranslationError
    from media_tool.model.settings import TranslationSettings
    from media_tool.stages.translate.core import translate

    api = HTTPServer(("127.0.0.1", 0), _Recorder)
    hop = HTTPServer(("127.0.0.1", 0), _Redirect)
    for s in (api, hop):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    monkeypatch.setenv("TEST_KEY", "sekret")
    source = Transcript("en", (Segment(0, 1, "hello"),))
    settings = TranslationSettings(engine="openai", url=f"http://127.0.0.1:{hop.server_port}/v1", model="m",
                                   api_key_env="TEST_KEY")
    try:
        _Recorder.seen = []
        # "localhost" is another origin than "127.0.0.1", though the same machine: refused, nothing sent there.
        _Redirect.target = f"http://localhost:{api.server_port}/v1/chat/completions"
        with pytest.raises(TranslationError, match="redirected to another origin"):
            translate(ChatTranslator(settings, "en", "zh"), source, "zh")
        assert _Recorder.seen == []
    finally:
        for s in (api, hop):
            s.shutdown()
            s.server_close()


def test_speech_found_in_pieces_on_several_threads_matches_one_pass(ff, tmp_path):
    """Long audio is searched for speech in pieces cut at quiet moments, one per core; the regions
    must be those of one pass (a word cut in two would be transcribed twice or lost)."""
    from media_tool.media.audio import (
        WINDOW_S,
        decode_audio,
        quiet_point,
        speech_regions,
    )

    src = Path(__file__).parent / "fixtures" / "mandarin.opus"
    long = tmp_path / "long.wav"
    ffmpeg("-stream_loop", "3", "-i", str(src), "-ac", "1", "-ar", "16000", str(long))
    audio = decode_audio(long, ff)
    one, three = speech_regions(audio, parts=1), speech_regions(audio, parts=3)
    assert all(b - a <= WINDOW_S + 0.01 for a, b in three)
    total = lambda rs: sum(b - a for a, b in rs)  # noqa: E731
    assert total(three) == pytest.approx(total(one), rel=0.03)
    assert len(three) == pytest.approx(len(one), abs=2)
    cut = quiet_point(audio, len(audio) // 2)
    frame = audio[cut - 160:cut + 160]
    assert float((frame ** 2).mean()) <= float((audio ** 2).mean())  # cut where it is quieter than on average


def test_transcribe_cli_reuses_the_machines_translations(tmp_path):
    """`media-tool transcribe` keeps its translations in the user's cache, as a build does: a second run
    on the same file (another output folder, say) takes them from there rather than translating again."""
    import os
    import subprocess
    import sys

    cache = model_cache_without_translations(tmp_path / "cache")
    clip = tmp_path / "clip.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(clip),
                    "Sick pay lets workers who fall ill rest without worry."], check=True)
    env = {**os.environ, "MEDIA_TOOL_CACHE": str(cache)}

    def run(out: Path) -> list[dict]:
        p = subprocess.run([sys.executable, "-m", "media_tool", "transcribe", str(clip), "-o", str(out),
                            "--model", "tiny.en", "--json"], capture_output=True, text=True, timeout=600, env=env)
        assert p.returncode == 0, p.stderr
        return json.loads((out / "clip.zh.json").read_text(encoding="utf-8"))["segments"]

    first = run(tmp_path / "a")
    saved = json.loads((cache / "translations.json").read_text(encoding="utf-8"))
    texts = {v["text"] if isinstance(v, dict) else v for v in saved.values()}  # kept with its score and doubt
    assert saved and all(s["body"] in texts for s in first if s["body"])
    marker = "这是缓存里的译文。"  # what only the cache could give
    (cache / "translations.json").write_text(json.dumps({k: marker for k in saved}), encoding="utf-8")
    second = run(tmp_path / "b")
    assert [s["body"] for s in second] == [marker] * len(first)
    assert all(s["translatedBy"].startswith("local:") for s in second)
