"""Typed settings, passed explicitly to the stages that need them (never global)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class AudioSettings:
    """How a recording becomes a published file; every field is a podcast.toml [audio] key."""

    target_lufs: float = -16.0        # stereo programme (Apple Podcasts, AES TD1004)
    target_lufs_mono: float = -19.0   # mono plays 3 dB louder on two speakers
    true_peak: float = -1.0           # dBTP ceiling of the published file
    mp3_bitrate: int = 128            # kb/s, constant bit rate, stereo
    mp3_bitrate_mono: int = 64
    aac_bitrate: int = 128            # M4A and the MP4 video's audio, stereo
    aac_bitrate_mono: int = 64
    sample_rate: int = 44100
    m4a: bool = False                 # also publish an M4A/AAC file for audio episodes
    trim_silence: bool = True         # cut leading and trailing silence (audio-only episodes)
    silence_threshold_db: float = -50.0
    intro: str | None = None          # jingle played before audio-only episodes (show-relative)
    outro: str | None = None
    limiter_margin_db: float = 1.0    # sample-peak ceiling below true_peak, room for codec overshoot
    denoise: bool = False             # DeepFilterNet3 noise reduction first (audio-only episodes)
    denoise_limit_db: float = 30.0    # at most this much noise attenuation (keeps rooms sounding natural)
    level_speakers: bool = True       # every voice at one level where an episode names two people or more

    def target_for(self, channels: int) -> float:
        """The integrated loudness target for a programme with this many channels."""
        return self.target_lufs_mono if channels == 1 else self.target_lufs

    def mp3_kbps(self, channels: int) -> int:
        return self.mp3_bitrate_mono if channels == 1 else self.mp3_bitrate

    def aac_kbps(self, channels: int) -> int:
        return self.aac_bitrate_mono if channels == 1 else self.aac_bitrate

    def with_overrides(self, overrides: dict) -> "AudioSettings":
        return replace(self, **overrides) if overrides else self

    def to_dict(self) -> dict:
        return asdict(self)


AUDIO_FIELDS = {f.name: f for f in fields(AudioSettings)}
AUDIO_BOUNDS = {"target_lufs": (-40, -5), "target_lufs_mono": (-40, -5), "true_peak": (-9, 0),
                "silence_threshold_db": (-90, -20), "limiter_margin_db": (0, 3), "denoise_limit_db": (6, 100)}
"""The range each number of [audio] must lie in (integers: bit rates 32-320 kb/s, sample rate 44100 or 48000)."""


ENGINES = ("faster-whisper", "openai-whisper")
"""Whisper engines, by the name podcast.toml and --engine use."""

TRANSLATORS = ("local", "human", "openai", "argos")
"""Machine translation engines: the offline model (the default), none (people only), a chat endpoint, argos."""
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TranscriptionSettings:
    """podcast.toml [transcription]: which Whisper, which model, which languages to publish."""

    engine: str = "faster-whisper"
    model: str = "base"                  # multilingual Whisper base, shipped offline; "tiny.en" is English only
    languages: tuple[str, ...] = ("zh", "en")
    speaker_names: bool = True           # SRT, bilingual SRT and MP3 lyrics start `Name: ` where the voice changes
    device: str = "auto"                 # faster-whisper on auto (CUDA where there is one, float16), cpu or cuda


@dataclass(frozen=True)
class TranslationSettings:
    """podcast.toml [translation]."""

    engine: str = "local"                 # local (offline model) | human (people only) | openai | argos
    url: str | None = None                # e.g. https://api.openai.com/v1 (chat/completions is appended)
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"   # the key is read from this variable, never stored
    whisper_translate: bool = False       # Mandarin -> English by Whisper's translate task instead
    device: str = "auto"                  # where the local model runs: auto (CUDA where there is one), cpu, cuda
    batch: int = 40
    timeout_s: float = 60.0


@dataclass(frozen=True)
class PublishSettings:
    """podcast.toml [publish]: where `media-tool publish` puts the built site."""

    to: str | None = None                 # a folder, sftp://user@host[:port]/path, user@host:path, s3://bucket/prefix
    endpoint_url: str | None = None       # for S3-compatible stores (Aliyun OSS, Tencent COS, MinIO)
    key_file: str | None = None           # an SSH key file (else the SSH agent and ~/.ssh keys)


@dataclass(frozen=True)
class SiteSettings:
    """podcast.toml [site]: the listeners' pages. `root` is the edition at the site's root (default:
    the show's language; the other edition is under zh/ or en/); `subscribe` the producer's links
    per platform (Apple Podcasts, 小宇宙, ...), each with its name, shown before the raw feeds."""

    root: str | None = None
    subscribe: tuple[tuple[str, str, str | None], ...] = ()  # (name, url, language or None for both)


@dataclass(frozen=True)
class ClusterSettings:
    """podcast.toml [cluster]: build the model stages on a Ray cluster (`media-tool build --ray` and
    $MEDIA_TOOL_RAY_ADDRESS come first)."""

    address: str | None = None           # HOST:PORT of a running Ray head, "local" (in-process), or "off"
    workers: int | None = None           # model workers (default: one per GPU, else one per node)


@dataclass(frozen=True)
class SearchSettings:
    """podcast.toml [search]: where the index lives."""

    backend: str = "sqlite"              # sqlite (embedded, .media-tool/search.sqlite3) | postgres
    dsn_env: str = "MEDIA_TOOL_PG_DSN"   # the PostgreSQL connection string is read from this variable
