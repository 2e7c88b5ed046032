"""What a recording holds (duration, streams, codecs) and whether it is usable: values and parsers, pure."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from media_tool.errors import InputMediaError

MIN_DURATION_S = 1.0
"""Shorter than this cannot be loudness-measured (EBU R128 gates on 400 ms blocks) or be an episode."""


@dataclass(frozen=True)
class AudioStream:
    index: int
    codec: str
    channels: int
    sample_rate: int
    start_time: float = 0.0
    duration: float = 0.0


@dataclass(frozen=True)
class VideoStream:
    index: int
    codec: str
    width: int
    height: int


@dataclass(frozen=True)
class MediaInfo:
    """The facts about one recording that later stages decide on."""

    path: str
    format_name: str
    duration: float
    size: int
    audio: AudioStream | None
    video: VideoStream | None

    @property
    def has_video(self) -> bool:
        return self.video is not None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MediaInfo":
        audio = AudioStream(**d["audio"]) if d.get("audio") else None
        video = VideoStream(**d["video"]) if d.get("video") else None
        return cls(path=d["path"], format_name=d["format_name"], duration=d["duration"],
                   size=d["size"], audio=audio, video=video)


def parse_ffprobe(path: str, size: int, data: dict) -> MediaInfo:
    """Turn ffprobe's JSON into MediaInfo, picking the first audio and first real video stream."""
    fmt = data.get("format", {})
    audio = video = None
    for s in data.get("streams", []):
        kind = s.get("codec_type")
        if kind == "audio" and audio is None:
            audio = AudioStream(index=int(s.get("index", 0)), codec=s.get("codec_name", "?"),
                                channels=int(s.get("channels") or 0),
                                sample_rate=int(s.get("sample_rate") or 0),
                                start_time=_float(s.get("start_time")),
                                duration=_float(s.get("duration")))
        elif (kind == "video" and video is None
              and not s.get("disposition", {}).get("attached_pic")):
            rotation = next((_float(d.get("rotation")) for d in s.get("side_data_list") or ()
                             if isinstance(d, dict) and "rotation" in d), _float((s.get("tags") or {}).get("rotate")))
            video = _upright(VideoStream(index=int(s.get("index", 0)), codec=s.get("codec_name", "?"),
                                         width=int(s.get("width") or 0), height=int(s.get("height") or 0)), rotation)
    durations = [_float(fmt.get("duration"))] + [_float(s.get("duration")) for s in data.get("streams", [])]
    return MediaInfo(path=path, format_name=fmt.get("format_name", "?"),
                     duration=max(durations), size=size, audio=audio, video=video)


_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #0:(\d+)(?:\[\w+\])?(?:\(\w+\))?: (Audio|Video): (\w+)([^\n]*)")


def parse_ffmpeg_banner(path: str, size: int, stderr: str) -> MediaInfo:
    """Read MediaInfo from `ffmpeg -i` output, for machines whose ffmpeg came without ffprobe."""
    m = _DURATION.search(stderr)
    duration = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) if m else 0.0
    fm = re.search(r"Input #0, ([\w,]+), from", stderr)
    audio = video = None
    for sm in _STREAM.finditer(stderr):
        index, kind, codec, rest = int(sm[1]), sm[2], sm[3], sm[4]
        if kind == "Audio" and audio is None:
            rate = re.search(r"(\d+) Hz", rest)
            audio = AudioStream(index=index, codec=codec, channels=_channels(rest),
                                sample_rate=int(rate[1]) if rate else 0)
        elif kind == "Video" and video is None and "attached pic" not in rest:
            dims = re.search(r", (\d{2,5})x(\d{2,5})", rest)
            after = stderr[sm.end():].split("Stream #", 1)[0]
            turned = re.search(r"rotation of (-?[\d.]+) degrees", after)
            video = _upright(VideoStream(index=index, codec=codec, width=int(dims[1]) if dims else 0,
                                         height=int(dims[2]) if dims else 0), float(turned[1]) if turned else 0.0)
    return MediaInfo(path=path, format_name=fm[1] if fm else "?", duration=duration, size=size,
                     audio=audio, video=video)


def _upright(video: VideoStream, rotation: float) -> VideoStream:
    """The picture as players show it (and ffmpeg decodes it: it turns a phone's portrait video
    upright), so a 1920x1080 stream turned 90 degrees is 1080 wide and 1920 high."""
    if round(rotation) % 180 == 90 or round(rotation) % 180 == -90:
        return VideoStream(index=video.index, codec=video.codec, width=video.height, height=video.width)
    return video


def _channels(desc: str) -> int:
    named = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "7.1": 8}
    for part in desc.split(","):
        part = part.strip().split("(")[0]
        if part in named:
            return named[part]
        m = re.fullmatch(r"(\d+) channels", part)
        if m:
            return int(m[1])
    return 0


def check_usable(info: MediaInfo, *, min_duration: float = MIN_DURATION_S) -> None:
    """Reject recordings no stage can use, with the reason a producer can act on."""
    if info.audio is None:
        raise InputMediaError("no audio stream (nothing to normalize or transcribe)", info.path)
    if info.audio.channels <= 0 or info.audio.sample_rate <= 0:
        raise InputMediaError("audio stream has no channels or sample rate", info.path)
    if info.duration <= 0:
        raise InputMediaError("zero duration", info.path)
    if info.duration < min_duration:
        raise InputMediaError(f"too short: {info.duration:.2f} s (minimum {min_duration:g} s)", info.path)


def reason(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if not lines:
        return "no message"
    last = lines[-1]
    return last.split(": ", 1)[-1] if ": " in last else last


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0
