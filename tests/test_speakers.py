"""Speaker turns: Resemblyzer's voice encoder run in numpy (checked against PyTorch's LSTM with the
same weights), its weights read without running code from the file, spectral clustering of a
two-voice interview made from the committed fixtures (a Mandarin voice asks, an English one answers),
and the build naming every transcript line's speaker in JSON, WebVTT, SRT and the search index."""

from __future__ import annotations

import io
import json
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from helpers import ROOT, build_json, cli, copy_show, ffmpeg

from media_tool import speakers
from media_tool.transcripts import Segment, Transcript, read_srt, speakers_from_prefixes, to_srt, to_vtt

FIXTURES = Path(__file__).parent / "fixtures"
NEEDS_WEIGHTS = pytest.mark.skipif(speakers.unavailable() is not None, reason=str(speakers.unavailable()))


def interview(tmp: Path, turns: int = 8, seed: int = 0) -> tuple[np.ndarray, list[tuple[float, float, int]]]:
    """Alternating 4-9 s turns of the two fixture voices with 0.7 s pauses; the truth (start, end, voice)."""
    voices = []
    for name in ("mandarin", "english"):
        wav = tmp / f"{name}.wav"
        ffmpeg("-i", str(FIXTURES / f"{name}.opus"), "-ac", "1", "-ar", "16000", str(wav))
        voices.append(soundfile.read(str(wav), dtype="float32")[0])
    rng = np.random.default_rng(seed)
    gap = np.zeros(int(0.7 * 16000), np.float32)
    parts, truth, t, pos = [], [], 0.0, [0, 0]
    for k in range(turns):
        who = k % 2
        n = int(rng.uniform(4, 9) * 16000)
        src = voices[who]
        if pos[who] + n > len(src):
            pos[who] = 0
        chunk = src[pos[who]:pos[who] + n]
        pos[who] += n
        parts += [chunk, gap]
        truth.append((t, t + len(chunk) / 16000, who))
        t += (len(chunk) + len(gap)) / 16000
    return np.concatenate(parts), truth


def error_rate(found, truth) -> float:
    """The share of 0.1-s steps of speech whose speaker is wrong or missing (a DER without collar)."""
    wrong = total = 0
    for a, b, who in truth:
        for x in np.arange(a, b, 0.1):
            total += 1
            said = next((t.speaker for t in found if t.start <= x < t.end), None)
            wrong += said != who
    return wrong / total


@NEEDS_WEIGHTS
def test_numpy_encoder_matches_pytorch_with_the_same_weights():
    torch = pytest.importorskip("torch", reason="the reference needs torch (the openai-whisper extra)")
    state = torch.load(speakers.weights_path(), map_location="cpu")["model_state"]
    ours = speakers.encoder()
    assert set(ours) == set(state) and all(np.array_equal(ours[k], state[k].numpy()) for k in state)
    lstm = torch.nn.LSTM(40, 256, 3, batch_first=True)
    linear = torch.nn.Linear(256, 256)
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
    mels = np.abs(np.random.default_rng(0).standard_normal((6, 160, 40))).astype(np.float32) * 3
    with torch.no_grad():
        _, (hidden, _) = lstm(torch.from_numpy(mels))
        ref = torch.relu(linear(hidden[-1]))
        ref = (ref / torch.norm(ref, dim=1, keepdim=True)).numpy()
    assert np.abs(speakers.embed(mels) - ref).max() < 1e-4


def test_the_weights_reader_runs_no_code(tmp_path):
    evil = tmp_path / "evil.pt"
    buf = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(header, buf, protocol=2)
    buf.write(b"cos\nsystem\n(S'echo pwned > " + str(tmp_path / "pwned").encode() + b"'\ntR.")
    evil.write_bytes(buf.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="os.system is not allowed"):
        speakers.load_torch_legacy(evil)
    assert not (tmp_path / "pwned").exists()


def test_mel_frames_put_a_tone_in_its_band():
    t = np.arange(16000) / 16000
    mels = speakers.mel_frames(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    assert mels.shape == (101, 40)  # 10 ms hop, centred: one frame per hop plus one
    centres = speakers.mel_filters().argmax(axis=1) * 16000 / 400  # each band's peak frequency
    assert abs(centres[mels[50].argmax()] - 1000) < 120


@NEEDS_WEIGHTS
@pytest.mark.parametrize("count", [2, None])
def test_two_voices_are_found_with_or_without_their_count(tmp_path, count):
    from media_tool.whisper_engines import speech_regions

    audio, truth = interview(tmp_path)
    found = speakers.turns(audio, speech_regions(audio), count)
    assert {t.speaker for t in found} == {0, 1}
    assert error_rate(found, truth) <= 0.05, [(round(t.start, 1), round(t.end, 1), t.speaker) for t in found]


def test_speaker_names_in_srt_and_vtt_and_read_back():
    t = Transcript("zh", (Segment(0, 2, "你好。", "李华"), Segment(2, 4, "今天谈养老金。", "李华"),
                          Segment(4, 6, "Thank you.", "Anna Smith")))
    srt = to_srt(t)
    assert "李华: 你好。" in srt and "\n今天谈养老金。" in srt and "Anna Smith: Thank you." in srt
    assert "<v 李华>你好。" in to_vtt(t)
    back = speakers_from_prefixes(read_srt(srt, "zh").segments, {"李华", "Anna Smith"})
    assert [(s.text, s.speaker) for s in back] == [(s.text, s.speaker) for s in t.segments]
    assert speakers.label((Segment(0, 3, "x"), Segment(5, 9, "y"), Segment(20, 21, "z")),
                          ((0, 4.5, "A"), (4.5, 10, "B")))[:2] == (Segment(0, 3, "x", "A"), Segment(5, 9, "y", "B"))


@NEEDS_WEIGHTS
@pytest.mark.slow
def test_build_names_the_speaker_of_every_line(tmp_path):
    show = copy_show(ROOT, tmp_path / "show")
    shutil.rmtree(show / "episodes" / "ep-001-pensions")
    ep = show / "episodes" / "ep-003-interview"
    ep.mkdir()
    audio, truth = interview(tmp_path, turns=6, seed=2)
    soundfile.write(str(ep / "recording.wav"), audio, 16000)
    (ep / "episode.toml").write_text(
        'title = { zh = "访谈", en = "An interview" }\nnumber = 3\ndate = 2026-11-20T09:00:00Z\nlanguage = "zh"\n'
        'source = "recording.wav"\n\n[[people]]\nname = "Anna Smith"\nrole = "guest"\n\n'
        '[[people]]\nname = "李华"\nrole = "host"\n', encoding="utf-8")
    code, report = build_json(show, "--episode", "ep-003-interview")
    assert code == 0, report
    folder = show / "transcripts" / "ep-003-interview"
    segs = json.loads((folder / "ep-003-interview.zh.json").read_text(encoding="utf-8"))["segments"]
    assert {s.get("speaker") for s in segs} == {"李华", "Anna Smith"}  # the host is the first voice heard
    first_guest = next(a for a, b, who in truth if who == 1)
    assert all(s["speaker"] == "李华" for s in segs if s["endTime"] <= first_guest)
    assert "<v 李华>" in (folder / "ep-003-interview.zh.vtt").read_text(encoding="utf-8")
    assert "Anna Smith: " in (folder / "ep-003-interview.zh.srt").read_text(encoding="utf-8")
    en = json.loads((folder / "ep-003-interview.en.json").read_text(encoding="utf-8"))["segments"]
    assert {s.get("speaker") for s in en} <= {"李华", "Anna Smith"}  # the translation keeps who spoke
    said = next(s["body"] for s in segs if s["speaker"] == "Anna Smith")
    word = re.findall(r"[\u4e00-\u9fff]{2}|[A-Za-z]{4,}", said)[0]
    p = cli("search", word, "--show", str(show), "--json", "--words-only", "--speaker", "Anna Smith")
    assert p.returncode == 0 and json.loads(p.stdout), p.stderr
    assert all(h["speaker"] == "Anna Smith" for h in json.loads(p.stdout))


@NEEDS_WEIGHTS
def test_a_voice_sample_names_its_speaker_wherever_they_first_speak(tmp_path):
    from media_tool.whisper_engines import speech_regions

    audio, truth = interview(tmp_path)  # the Mandarin voice speaks first
    found, centroids, heard = speakers.diarize(audio, speech_regions(audio), 2)
    assert heard == 2
    assert speakers.diarize(audio, speech_regions(audio), 3)[2] == 2  # three named, two heard: the build says so
    english = soundfile.read(str(tmp_path / "english.wav"), dtype="float32")[0][-10 * 16000:]
    prints = {"Anna Smith": speakers.voiceprint(english, speech_regions(english))}
    # Anna is the host, so by order alone she would get the first voice heard (the Mandarin one).
    assert speakers.name_voices(centroids, ["Anna Smith", "李华"], {}) == ["Anna Smith", "李华"]
    assert speakers.name_voices(centroids, ["Anna Smith", "李华"], prints) == ["李华", "Anna Smith"]


@NEEDS_WEIGHTS
@pytest.mark.slow
def test_mixed_language_episode_each_turn_in_its_own_language(tmp_path):
    """A Chinese host asks in Mandarin, an English guest answers; one short Mandarin question sits
    between two English answers and must still be heard as Mandarin."""
    show = copy_show(ROOT, tmp_path / "show")
    shutil.rmtree(show / "episodes" / "ep-001-pensions")
    shutil.rmtree(show / "episodes" / "ep-002-sick-leave")
    ep = show / "episodes" / "ep-004-mixed"
    ep.mkdir()
    audio, truth = interview(tmp_path, turns=6, seed=4)
    zh = soundfile.read(str(tmp_path / "mandarin.wav"), dtype="float32")[0]
    short = zh[int(20.0 * 16000):int(22.5 * 16000)]  # a 2.5-second question
    cut = int(truth[3][1] * 16000)  # after the second English answer ...
    gap = np.zeros(int(0.7 * 16000), np.float32)
    audio = np.concatenate([audio[:cut], gap, short, gap, audio[cut:]])
    question = (truth[3][1] + 0.7, truth[3][1] + 0.7 + len(short) / 16000)
    soundfile.write(str(ep / "recording.wav"), audio, 16000)
    (ep / "episode.toml").write_text(
        'title = { zh = "混合", en = "Mixed" }\nnumber = 4\ndate = 2026-11-21T09:00:00Z\nlanguage = ["zh", "en"]\n'
        'source = "recording.wav"\n\n[[people]]\nname = "李华"\nrole = "host"\n\n'
        '[[people]]\nname = "Anna Smith"\nrole = "guest"\n', encoding="utf-8")
    code, report = build_json(show)
    assert code == 0, report
    folder = show / "transcripts" / "ep-004-mixed"
    spoken = json.loads((folder / "ep-004-mixed.zh.json").read_text(encoding="utf-8"))["segments"]
    english = json.loads((folder / "ep-004-mixed.en.json").read_text(encoding="utf-8"))["segments"]
    assert len(spoken) == len(english)
    han = re.compile(r"[\u4e00-\u9fff]")
    for s in spoken:  # each line in the language it was spoken, and marked so
        assert s["spokenLanguage"] in ("zh", "en") and s["translatedBy"] is None
        assert bool(han.search(s["body"])) == (s["spokenLanguage"] == "zh"), s
    assert {s["speaker"] for s in spoken if s["spokenLanguage"] == "zh"} == {"李华"}
    mid = [s for s in spoken if question[0] <= (s["startTime"] + s["endTime"]) / 2 <= question[1]]
    assert mid and all(s["spokenLanguage"] == "zh" for s in mid)  # the short question: Mandarin
    for s, e in zip(spoken, english):  # the English file: all English, the Mandarin lines translated
        assert not han.search(e["body"]), e
        assert e["translatedBy"] == (None if s["spokenLanguage"] == "en" else "whisper-translate:base")
    page = (show / "feed" / "episodes" / "ep-004-mixed" / "index.html").read_text(encoding="utf-8")
    assert 'class="spoken" lang="en"' in page and 'class="spoken" lang="zh-Hans"' in page
