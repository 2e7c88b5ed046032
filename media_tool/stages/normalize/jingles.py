"""Intro/outro jingles: short clips trimmed and faded with pydub, cached as WAV.

ffmpeg (through the one runner) decodes the clip; pydub does what it is good at on a few
seconds of audio: cutting silence off the ends and fading. Loudness is set later, with the
programme, in the normalize stage's float pipeline, so no gain is applied here (no clipping).
"""

from __future__ import annotations

import wave
from pathlib import Path

from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from media_tool.errors import InputMediaError
from media_tool.media.ffmpeg import FFmpeg
from media_tool.store.files import atomic_output, key_of, sha256_file

MAX_JINGLE_S = 60.0
FADE_IN_MS = 10
FADE_OUT_MS = 300


def prepare(source: Path, cache_dir: Path, ff: FFmpeg, *, channels: int, sample_rate: int) -> Path:
    """A trimmed, faded WAV of `source` at the programme's rate and channels (cached by content)."""
    if not source.is_file():
        raise InputMediaError("jingle not found", str(source))
    key = key_of({"src": sha256_file(source), "ch": channels, "sr": sample_rate, "rev": 1})
    out = cache_dir / f"jingle-{key}.wav"
    if out.is_file():
        if whole_wav(out, channels, sample_rate):
            return out
        out.unlink()  # truncated (a full disk) or damaged: what the cache holds is checked, then made again
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_output(cache_dir / f"decoded-{key}.wav") as decoded:
        ff.run(["-i", str(source), "-vn", "-ac", str(channels), "-ar", str(sample_rate),
                "-c:a", "pcm_s16le", "-f", "wav", "-y", str(decoded)], path=str(source))
        clip = AudioSegment.from_wav(str(decoded))
    if len(clip) > MAX_JINGLE_S * 1000:
        raise InputMediaError(f"jingle too long: {len(clip) / 1000:.1f} s (at most {MAX_JINGLE_S:g} s)",
                              str(source))
    clip = shape(clip)
    if len(clip) < 100:
        raise InputMediaError("jingle is silent", str(source))
    with atomic_output(out) as tmp:
        clip.export(str(tmp), format="wav")
    return out


def shape(clip: AudioSegment, threshold_dbfs: float = -50.0) -> AudioSegment:
    """Cut leading/trailing silence and fade the ends so the jingle meets speech cleanly."""
    start = detect_leading_silence(clip, silence_threshold=threshold_dbfs)
    end = len(clip) - detect_leading_silence(clip.reverse(), silence_threshold=threshold_dbfs)
    clip = clip[start:end]
    return clip.fade_in(min(FADE_IN_MS, len(clip) // 4)).fade_out(min(FADE_OUT_MS, len(clip) // 4))


def whole_wav(path: Path, channels: int, sample_rate: int) -> bool:
    """Whether a cached WAV is whole: the layout asked for, some frames, and every frame its header
    promises actually in the file."""
    try:
        with wave.open(str(path), "rb") as w:
            ok = (w.getnchannels(), w.getframerate()) == (channels, sample_rate) and w.getnframes() > 0
            frames = w.getnframes() * w.getnchannels() * w.getsampwidth()
        return ok and path.stat().st_size >= frames + 44
    except (OSError, EOFError, wave.Error):
        return False
