"""Regenerate the sample show's synthetic recordings (espeak-ng speech, ffmpeg video and art).

The outputs are committed as the show's inputs; run this only to change them:
    python scripts/make_sample_media.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EN_TEXT = (
    "Welcome to Social Protection Dialogues. Today we talk about pensions. "
    "A pension system protects people in old age, and it works best when coverage is broad. "
    "Many countries combine a basic pension paid from taxes with contributory insurance. "
    "Thank you for listening."
)
ZH_TEXT = (
    "欢迎收听社会保障对话。今天我们讨论病假和养老保险。"
    "病假工资让生病的工人可以安心休息。"
    "养老保险帮助老年人维持基本生活。谢谢收听。"
)


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def speak(text: str, voice: str, out: Path, speed: int = 150) -> None:
    run("espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        en = ROOT / "episodes/ep-001-pensions/recording.flac"
        speak(EN_TEXT, "en-us", tmp / "en.wav")
        # Half a second of room tone either side, quiet like a real home recording (about -28 LUFS).
        run("ffmpeg", "-v", "error", "-y", "-i", str(tmp / "en.wav"), "-af",
            "adelay=1200,apad=pad_dur=1.5,volume=-9dB", "-c:a", "flac", str(en))

        speak(ZH_TEXT, "cmn", tmp / "zh.wav", speed=140)
        zh = ROOT / "episodes/ep-002-sick-leave/recording.mp4"
        dur = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                    "csv=p=0", str(tmp / "zh.wav")], capture_output=True, text=True,
                                   check=True).stdout) + 1.0
        run("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"smptehdbars=size=320x180:rate=10:duration={dur}",
            "-i", str(tmp / "zh.wav"), "-af", "apad,aresample=48000", "-t", str(dur),
            "-c:v", "libx264", "-preset", "veryslow", "-crf", "38", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "48k", "-ac", "1", "-movflags", "+faststart", str(zh))

    jingle = ROOT / "jingles/intro.flac"
    jingle.parent.mkdir(exist_ok=True)
    run("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
        "aevalsrc='0.3*sin(2*PI*523.25*t)*exp(-3*t)+0.3*sin(2*PI*659.25*(t-0.25))*exp(-3*(t-0.25))"
        "*gte(t,0.25)+0.3*sin(2*PI*783.99*(t-0.5))*exp(-3*(t-0.5))*gte(t,0.5)':s=44100:d=2",
        "-c:a", "flac", str(jingle))

    run("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "gradients=s=1400x1400:c0=0x1f4e79:c1=0x2e8b57:d=1",
        "-frames:v", "1", "-q:v", "6", str(ROOT / "cover.jpg"))


if __name__ == "__main__":
    main()
