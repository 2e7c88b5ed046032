"""`media-tool transcribe` and `media-tool build` are one transcription core: for the same recording
and settings they write the same transcripts, byte for byte, in every language and format (Whisper's
words, Chinese punctuation, glossary corrections, the machine translation and its labels)."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import ROOT, build_json, run_here, small_show

pytestmark = pytest.mark.slow

EPISODES = [("ep-1-en", "en", 12.0), ("ep-2-zh", "zh", 14.0)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    show = small_show(tmp_path_factory.mktemp("core") / "show", EPISODES)
    shutil.copy(ROOT / "glossary.csv", show / "glossary.csv")
    code, report = build_json(show)
    assert code == 0, report
    return show


@pytest.mark.parametrize("slug,lang", [(s, lg) for s, lg, _ in EPISODES])
def test_transcribe_and_build_write_the_same_transcripts(built, tmp_path, slug, lang):
    state = json.loads((built / ".media-tool" / "state.json").read_text())
    master = built / state["episodes"][slug]["normalize"]["data"]["outputs"]["mp3"]  # what the build heard
    n = slug.split("-")[1]
    title = f"Episode {n}" if lang == "en" else f"第{n}集"  # the build reads the episode's title as context
    p = run_here("transcribe", str(master), "-o", str(tmp_path), "--language", lang,
                 "--glossary", str(built / "glossary.csv"), "--title", title, "--json")
    assert p.returncode == 0, p.stderr
    made = {f.name.removeprefix(master.stem + "."): f.read_bytes() for f in tmp_path.iterdir() if f.is_file()}
    folder = built / "transcripts" / slug
    published = {f.name.removeprefix(slug + "."): f.read_bytes() for f in folder.iterdir()
                 if f.is_file() and f.name.startswith(slug + ".")}
    wanted = {f"{lg}.{ext}" for lg in ("en", "zh") for ext in ("srt", "vtt", "json", "txt")} | {"zh-en.srt", "zh-en.vtt"}
    assert wanted <= set(published) and wanted <= set(made), (sorted(published), sorted(made))
    for name in sorted(wanted):
        assert made[name] == published[name], (name, made[name].decode()[:400], published[name].decode()[:400])
    if lang == "zh":  # the drift this guards against: the command once left Chinese unpunctuated
        text = published["zh.txt"].decode()
        assert text.strip() and all(line[-1] in "。？！" for line in text.splitlines() if line.strip()), text
