"""Normalization's core: measured linear gain plus a peak limiter, encoded to CBR MP3, M4A or MP4.

Everything is streamed through ffmpeg so hours of audio never sit in Python:
1. scan: integrated loudness, sample peak and silences of the source (one decode, split
   across cores for long files), and a check that the whole file decodes;
2. plan, on excerpts measured in parallel: the loudness the limiter takes away (solved for
   with two trial gains) and the loudness each output's codec adds or removes;
3. encode: one producer ffmpeg decodes, trims, adds jingles, applies gain and the limiter and
   feeds every encoder through pipes (long MP3s in chunks on every core);
4. meter: every encoded stream is measured as it is written; a miss is encoded again.
"""

from __future__ import annotations

import os
import shutil
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from media_tool.errors import InputMediaError, ToolError, UsageError
from media_tool.media import loudness, verify
from media_tool.media.ffmpeg import FFmpeg
from media_tool.media.info import MediaInfo
from media_tool.media.loudness import FileLoudness, Loudness, LoudnessReport
from media_tool.media.probe import probe
from media_tool.model.settings import AudioSettings
from media_tool.stages.normalize import denoise, leveler, mp3split
from media_tool.store.files import atomic_output, scratch

REVISION = 2
"""Bump when the audio this stage produces changes for the same inputs (invalidates caches)."""
DENOISE_REVISION = 2
"""The same for episodes with `denoise` on only (2: chunks on every core; videos denoised too)."""

TOLERANCE_LU = 0.3
"""Re-encode when the metered output misses the target by more than this (the standard allows 0.5)."""

MAX_GAIN_DB = 40.0
KINDS = {".mp3": "mp3", ".m4a": "m4a", ".mp4": "mp4", ".m4v": "mp4"}


@dataclass(frozen=True)
class Target:
    """One file to write."""

    path: Path
    kind: str  # "mp3" | "m4a" | "mp4"

    @classmethod
    def for_path(cls, path: Path | str) -> "Target":
        path = Path(path)
        kind = KINDS.get(path.suffix.lower())
        if kind is None:
            raise UsageError(f"cannot tell the output format from the extension "
                             f"(use one of {', '.join(KINDS)})", str(path))
        return cls(path, kind)


@dataclass(frozen=True)
class Plan:
    """Everything an encode needs, decided before it starts (a pure value)."""

    stream_index: int
    channels: int
    sample_rate: int
    gain_db: float
    ceiling_db: float
    trim: tuple[float, float] | None = None
    intro: tuple[Path, float] | None = None   # (prepared WAV, its gain in dB)
    outro: tuple[Path, float] | None = None
    audio_offset: float = 0.0
    source_seconds: float = 0.0
    tweaks: tuple[tuple[str, "Tweak"], ...] = ()  # per output kind, applied in its encoder


@dataclass(frozen=True)
class Window:
    """The stretch of the programme one producer makes: where the recording starts, how many
    samples of it (after resampling) to take, and whether the jingles are included."""

    start: float = 0.0
    samples: int | None = None
    intro: bool = True
    outro: bool = True


def whole(plan: Plan) -> Window:
    """The window of the full programme: the trimmed recording between its jingles."""
    if plan.trim is None:
        return Window()
    return Window(start=plan.trim[0], samples=round((plan.trim[1] - plan.trim[0]) * plan.sample_rate))


@dataclass(frozen=True)
class Tweak:
    """One output's own correction, applied in its encoder: codec loudness loss and overshoot.

    Codecs differ (LAME at 128k, AAC at 64k mono) in how much loudness they lose and how far
    their peaks overshoot the limiter, so each output gets a small gain and, if needed, a
    lower ceiling of its own.
    """

    gain_db: float = 0.0
    ceiling_db: float | None = None


# -- pure: filter graphs and argument lists ------------------------------------------------
ENCODED = {"mp3": "mp3", "m4a": "adts", "mp4": "adts"}
"""The elementary-stream format (muxer) each output's audio is piped to its meter in."""
DEMUXER = {"mp3": "mp3", "adts": "aac"}


def _fmt(channels: int, sample_rate: int) -> str:
    layout = "mono" if channels == 1 else "stereo"
    return f"aresample={sample_rate},aformat=sample_fmts=flt:channel_layouts={layout}"


def limiter(ceiling_db: float) -> str:
    """A look-ahead peak limiter at `ceiling_db`, delay-compensated so audio stays in sync."""
    return (f"alimiter=limit={10 ** (ceiling_db / 20):.6f}:attack=5:release=50"
            ":level=false:latency=true")


def producer_args(source: Path, plan: Plan, urls: list[str], *, window: Window | None = None,
                  meter: bool = False) -> list[str]:
    """The producer ffmpeg: decode, cut, jingles, gain, limiter, one raw output per encoder."""
    w = window or whole(plan)
    args = ["-ss", f"{w.start:.6f}"] if w.start > 0 else []
    args += ["-i", str(source)]
    fmt = _fmt(plan.channels, plan.sample_rate)
    main = f"[0:{plan.stream_index}]{fmt}"
    if w.samples is not None:
        main += f",atrim=end_sample={w.samples}"
    graph = [f"{main},volume={plan.gain_db:.3f}dB[main]"]
    parts = ["[main]"]
    jingles = [(j, at) for j, at in ((plan.intro if w.intro else None, 0), (plan.outro if w.outro else None, 1)) if j]
    for n, ((jingle, gain), at) in enumerate(jingles):
        args += ["-i", str(jingle)]
        graph.append(f"[{n + 1}:a]{fmt},volume={gain:.3f}dB[j{n}]")
        parts.insert(0 if at == 0 else len(parts), f"[j{n}]")
    prog = "[main]"
    if len(parts) > 1:
        graph.append(f"{''.join(parts)}concat=n={len(parts)}:v=0:a=1[prog]")
        prog = "[prog]"
    outs = [f"[o{i}]" for i in range(len(urls))]
    tail = f"{prog}{limiter(plan.ceiling_db)}"
    if meter:
        tail += "," + loudness.ebur128_filter("sample")
    tail += f",asplit={len(urls)}{''.join(outs)}" if len(urls) > 1 else outs[0]
    graph.append(tail)
    args += ["-filter_complex", ";".join(graph)]
    for out, url in zip(outs, urls):
        args += ["-map", out, "-f", "f32le", url]
    return args


def tee_escape(path: str) -> str:
    """Escape a file name for ffmpeg's tee muxer, whose list syntax gives |[]:\\' meaning."""
    return "".join("\\" + c if c in "\\'|[]:" else c for c in path)


def consumer_args(kind: str, plan: Plan, settings: AudioSettings, source: Path,
                  video_index: int | None, file: Path | None) -> list[str]:
    """One encoder ffmpeg: raw PCM on stdin in; `file` (if any) and the encoded audio on stdout out.

    The tee muxer writes the real file (seekable, so MP3 gets its Info header and MP4 its
    faststart) and a copy of the audio packets to stdout, where a meter decodes them.
    """
    raw = ["-f", "f32le", "-ar", str(plan.sample_rate), "-ac", str(plan.channels)]
    if kind == "mp3":
        # No bit reservoir: frames stand alone, so chunks encoded apart join cleanly.
        codec = ["-c:a", "libmp3lame", "-b:a", f"{settings.mp3_kbps(plan.channels)}k", "-reservoir", "0"]
        slave = "[f=mp3:id3v2_version=3:write_id3v1=0]"
    else:
        codec = ["-c:a", "aac", "-b:a", f"{settings.aac_kbps(plan.channels)}k"]
        slave = "[f=ipod:movflags=+faststart]" if kind == "m4a" else "[f=mp4:movflags=+faststart]"
    tweak = dict(plan.tweaks).get(kind, Tweak())
    chain = [f"volume={tweak.gain_db:.2f}dB"] if abs(tweak.gain_db) >= 0.05 else []
    if tweak.ceiling_db is not None:
        chain.append(limiter(tweak.ceiling_db))
    if chain:
        codec = ["-af", ",".join(chain), *codec]
    if file is None:  # bare encoded frames to stdout, for a meter or a chunked encode
        bare = ["-id3v2_version", "0", "-write_xing", "0"] if kind == "mp3" else []
        return [*raw, "-i", "pipe:0", "-map", "0:a", *codec, "-f", ENCODED[kind], *bare, "pipe:1"]
    if kind == "mp4":
        assert video_index is not None
        offset = ["-itsoffset", f"{plan.audio_offset:.6f}"] if plan.audio_offset > 0.0005 else []
        inputs = ["-i", str(source), *offset, *raw, "-i", "pipe:0", "-map", f"0:{video_index}",
                  "-map", "1:a", "-c:v", "copy"]
    else:
        inputs = [*raw, "-i", "pipe:0", "-map", "0:a"]
    outs = f"{slave}{tee_escape(str(file))}|[f={ENCODED[kind]}:select=a]pipe\\:1"
    return [*inputs, *codec, "-f", "tee", "-y", outs]


def meter_args(kind: str, sample_rate: int, frames: bool = False) -> list[str]:
    """A meter ffmpeg reading an encoder's audio packets on stdin: what a listener will hear."""
    return ["-f", DEMUXER[ENCODED[kind]], "-i", "pipe:0", "-filter_complex",
            loudness.meter_graph(sample_rate, frames), "-f", "null", "-"]


def _metered(path: Path, kind: str, lines: list[str]) -> FileLoudness:
    loud = loudness.parse_ebur128(lines)
    return FileLoudness(str(path), kind, loud.integrated, loud.lra, loudness.parse_true_peak(lines))


# -- the edge: running the passes ------------------------------------------------------------
class _Phases:
    """Maps each pass's seconds-done onto one 0..1 progress for the caller."""

    def __init__(self, callback, duration: float):
        self.callback, self.duration = callback, max(duration, 1e-6)
        self.base, self.weight = 0.0, 0.0

    def start(self, base: float, weight: float) -> None:
        self.base, self.weight = base, weight
        self(0.0)

    def __call__(self, seconds: float) -> None:
        if self.callback:
            self.callback(min(1.0, self.base + self.weight * min(1.0, seconds / self.duration)))


CODEC_TEST_S = 60.0
"""Length of the codec test: enough speech for a stable gated loudness, cheap to encode."""

LIMITER_EXCERPTS = 8
"""At most this many excerpts of a long recording are limited on trial, each LIMITER_EXCERPT_S long."""
LIMITER_EXCERPT_S = 15.0


def _limiter_loss(ff: FFmpeg, info: MediaInfo, plan: Plan, span: tuple[float, float],
                  gains: list[float]) -> list[float]:
    """Loudness (LU) the limiter takes away at each gain, measured on excerpts spread over the
    recording (all of it when short): the loss follows the peak-to-loudness ratio of the
    speech, which excerpts sample well at a fraction of a full pass's cost."""
    length = span[1] - span[0]
    k = max(1, min(LIMITER_EXCERPTS, int(length // (4 * LIMITER_EXCERPT_S))))
    pieces = [(span[0], length)] if k == 1 else [
        (span[0] + (i + 0.5) * length / k - LIMITER_EXCERPT_S / 2, LIMITER_EXCERPT_S) for i in range(k)]
    inputs, labels = [], []
    for i, (start, dur) in enumerate(pieces):
        inputs += ["-ss", f"{start:.3f}", "-t", f"{dur:.3f}", "-i", info.path]
        labels.append(f"[{i}:{plan.stream_index}]")
    fmt = _fmt(plan.channels, plan.sample_rate)
    joined = "".join(f"{lab}{fmt}[x{i}];" for i, lab in enumerate(labels))
    joined += "".join(f"[x{i}]" for i in range(len(labels))) + f"concat=n={len(labels)}:v=0:a=1"

    def measure(gain: float | None) -> float:
        chain = f",volume={gain:.3f}dB,{limiter(plan.ceiling_db)}" if gain is not None else ""
        # -vn: only the audio; an attached picture that does not decode must not fail the measurement.
        res = ff.run([*inputs, "-filter_complex", f"{joined}{chain},{loudness.ebur128_filter('sample')}",
                      "-vn", "-sn", "-dn", "-f", "null", "-"], path=info.path)
        return loudness.parse_ebur128(res.stderr_lines).integrated

    with ThreadPoolExecutor(2) as pool:
        plain, *limited = pool.map(measure, [None, *gains])
    return [max(0.0, plain + g - lim) for g, lim in zip(gains, limited)]


def _codec_test(ff: FFmpeg, info: MediaInfo, plan: Plan, kind: str, settings: AudioSettings,
                span: tuple[float, float]) -> tuple[float, float]:
    """How much loudness the codec adds or takes away (LU), and how far its true peak lands
    above the limiter's ceiling (dB), measured on an excerpt.

    Lossy encoders drop quiet high-frequency detail that K-weighting counts, often 0.2-0.5 LU
    for speech at podcast bit rates; a normalizer that ignores it publishes files below target.
    """
    length = min(CODEC_TEST_S, span[1] - span[0])
    start = span[0] + max(0.0, (span[1] - span[0] - length) / 2)
    test = Window(start=start, samples=round(length * plan.sample_rate), intro=False, outro=False)
    piped = ff.pipeline(lambda urls: producer_args(Path(info.path), plan, urls, window=test, meter=True),
                        [consumer_args(kind, plan, settings, Path(info.path), None, None)],
                        [meter_args(kind, plan.sample_rate)], path=info.path)
    before = loudness.parse_ebur128(piped.producer.stderr_lines).integrated
    after = _metered(Path(), kind, piped.meters[0].stderr_lines)
    if before <= loudness.SILENT_LUFS or after.integrated <= loudness.SILENT_LUFS:
        return 0.0, 0.0
    return round(after.integrated - before, 2), round(after.true_peak - plan.ceiling_db, 2)


def normalize(info: MediaInfo, targets: list[Target], settings: AudioSettings, ff: FFmpeg, *,
              intro: Path | None = None, outro: Path | None = None, trim: bool | None = None,
              progress=None, picture: Path | None = None) -> LoudnessReport:
    """Normalize one probed recording into every target file; files appear only when complete.

    The first target is the one held to the loudness target exactly (the feed's enclosure);
    the others share its gain. Video sources are never trimmed and get no jingles, so the
    MP4 and the MP3 share one timeline. `picture`: where an MP4's video stream is copied from
    when `info.path` holds only the sound (a denoised recording); default `info.path`.
    """
    started = time.monotonic()
    assert info.audio is not None and targets
    video_index = info.video.index if info.video else None
    if any(t.kind == "mp4" for t in targets) and video_index is None:
        raise UsageError("an MP4 output needs a source with a video stream", info.path)
    channels = 1 if info.audio.channels == 1 else 2
    target = settings.target_for(channels)
    ceiling = settings.true_peak - settings.limiter_margin_db
    trim = settings.trim_silence if trim is None else trim
    if info.has_video:
        trim, intro, outro = False, None, None
    phases = _Phases(progress, info.duration)

    phases.start(0.0, 0.15)
    scan = loudness.scan(info.path, ff, stream_index=info.audio.index, sample_rate=settings.sample_rate,
                         channels=channels, silence_db=settings.silence_threshold_db if trim else None,
                         progress=phases, duration=info.duration, parts=os.cpu_count() or 1)
    _check_complete(info, scan)
    if scan.loudness.integrated <= loudness.SILENT_LUFS:
        raise InputMediaError("silent: no audible programme to normalize", info.path)
    span = loudness.plan_trim(scan.silences, scan.decoded_seconds) if trim else (0.0, scan.decoded_seconds)
    plan = Plan(stream_index=info.audio.index, channels=channels, sample_rate=settings.sample_rate,
                gain_db=target - scan.loudness.integrated, ceiling_db=ceiling,
                trim=None if span == (0.0, scan.decoded_seconds) else span,
                audio_offset=info.audio.start_time if info.has_video else 0.0,
                source_seconds=scan.decoded_seconds)

    # Codec loss and, where peaks will hit the limiter, limiter loss: measured in parallel.
    phases.start(0.15, 0.1)
    limited = scan.loudness.peak + plan.gain_db > ceiling
    gains = [plan.gain_db, plan.gain_db + 2.0] if limited else []
    kinds = list(dict.fromkeys(t.kind for t in targets))
    with ThreadPoolExecutor(2) as pool:
        tests = [pool.submit(_codec_test, ff, info, plan, k, settings, span) for k in kinds]
        losses = _limiter_loss(ff, info, plan, span, gains) if gains else []
        codec = dict(zip(kinds, (t.result() for t in tests)))
    # The whole recording's limited loudness at each trial gain, from its measured loudness.
    measured = [scan.loudness.integrated + g - loss for g, loss in zip(gains, losses)]
    delta = codec[targets[0].kind][0]
    plan = replace(plan, tweaks=tuple((k, _first_tweak(codec[k], delta, plan.ceiling_db, settings.true_peak))
                                      for k in kinds))
    if limited:
        gain = loudness.solve_gain(list(zip(gains, measured)), target - delta, MAX_GAIN_DB)
    else:
        gain = plan.gain_db - delta
    plan = replace(plan, gain_db=gain, intro=_jingle(ff, intro, plan, target - delta),
                   outro=_jingle(ff, outro, plan, target - delta))

    encodes = 0
    while True:
        encodes += 1
        phases.start(0.25, 0.75)
        files, seconds = _encode(ff, info, plan, targets, settings, video_index, phases, picture)
        corrected = _correct(plan, files, target, settings.true_peak)
        if corrected is None or encodes >= 3:
            break
        plan = corrected
    phases(info.duration)
    primary = files[0]
    return LoudnessReport(input=scan.loudness,
                  output=Loudness(primary.integrated, primary.lra, primary.true_peak, "true"),
                  target_lufs=target, true_peak_limit=settings.true_peak, gain_db=round(plan.gain_db, 2),
                  codec_delta_lu=delta, channels=channels, input_seconds=round(scan.decoded_seconds, 3),
                  output_seconds=round(seconds, 3), trimmed=plan.trim, encodes=encodes,
                  seconds=round(time.monotonic() - started, 2), files=files,
                  timeline_offset=round(_wav_samples(plan.intro[0] if plan.intro else None) / plan.sample_rate
                                        - (plan.trim[0] if plan.trim else 0.0), 3))


def denoised(ff: FFmpeg, info: MediaInfo, dest: Path, *, channels: int, limit_db: float, display: str,
             progress=None, channel=None) -> MediaInfo:
    """`info`'s recording with its noise reduced into the WAV `dest`, probed: what `normalize` then
    reads the sound from."""
    denoise.denoise_file(ff, Path(info.path), dest, channels=channels, limit_db=limit_db, display=display,
                         progress=progress, channel=channel)
    return _sound_of(ff, info, dest)


def _sound_of(ff: FFmpeg, info: MediaInfo, wav: Path) -> MediaInfo:
    """The WAV `wav` made from `info`'s sound, probed. A video keeps its picture (pass its recording
    as `picture`) and its timeline: the new sound starts where the recording's did."""
    made = probe(str(wav), ff)
    if info.has_video and info.audio is not None and made.audio is not None:
        return replace(info, path=made.path, audio=replace(made.audio, start_time=info.audio.start_time))
    return made


def normalize_recording(ff: FFmpeg, info: MediaInfo, targets: list[Target], settings: AudioSettings, *,
                        denoise_to: Path, display: str, intro: Path | None = None, outro: Path | None = None,
                        progress=None, denoise_channel=None,
                        levels: leveler.Levels | None = None) -> tuple[LoudnessReport, tuple[str, ...]]:
    """The whole normalize sequence the build and `media-tool normalize` share: noise reduction first
    where `settings.denoise` asks (into the WAV `denoise_to`), then the speaker leveler where `levels`
    holds two voices or more (a WAV beside `denoise_to`, deleted after), then `normalize`. Returns the
    report (with each voice's loudness before and after) and why the noise was not reduced, if it
    could not be."""
    notices: tuple[str, ...] = ()
    picture = Path(info.path) if info.has_video else None
    channels = 1 if info.audio is not None and info.audio.channels == 1 else 2
    if settings.denoise:
        if why := denoise.unavailable():
            notices = (why,)
        else:
            info = denoised(ff, info, denoise_to, channels=channels, limit_db=settings.denoise_limit_db,
                            display=display, progress=(lambda f: progress(0.5 * f)) if progress else None,
                            channel=denoise_channel)
    leveled = levels is not None and sum(v.before_lufs is not None for v in levels.voices) >= 2
    with scratch(denoise_to, "leveled") as level_to:
        if leveled:
            leveler.level_file(ff, info, levels, level_to, channels=channels, sample_rate=settings.sample_rate,
                               display=display)
            info = _sound_of(ff, info, level_to)
        result = normalize(info, targets, settings, ff, progress=progress, picture=picture, intro=intro, outro=outro)
    if leveled:
        result = replace(result, voices=leveler.heard_after(ff, targets[0].path, levels, result.timeline_offset))
    return replace(result, denoised=settings.denoise and not notices), notices + misses(result)


def misses(report: LoudnessReport) -> tuple[str, ...]:
    """One line for each output still off its target after the last encode (every file is metered,
    the M4A and the MP4 as much as the MP3), so a near miss is heard of, not hidden."""
    out = []
    for f in report.files:
        off = f.integrated - report.target_lufs
        if abs(off) > TOLERANCE_LU:
            out.append(f"{f.kind.upper()} is at {f.integrated:.1f} LUFS, {abs(off):.1f} LU "
                       f"{'above' if off > 0 else 'below'} the target {report.target_lufs:g} after {report.encodes} "
                       f"encodes{'' if abs(off) <= 0.5 else ' (outside the 0.5 LU the standard allows)'}")
        if f.true_peak > report.true_peak_limit:
            out.append(f"{f.kind.upper()} peaks at {f.true_peak:.1f} dBTP, over the limit {report.true_peak_limit:g}")
    return tuple(out)


def _encode(ff, info, plan, targets, settings, video_index, phases,
            picture: Path | None = None) -> tuple[list[FileLoudness], float]:
    """Write every target: MP3s split across cores where long enough, the rest in one pipeline."""
    files: dict[int, FileLoudness] = {}
    rest, seconds = [], 0.0
    n = max(2, os.cpu_count() or 1)
    for i, t in enumerate(targets):
        done = _encode_mp3_split(ff, info, plan, t, settings, phases, n) if t.kind == "mp3" else None
        if done is None:
            rest.append((i, t))
        else:
            files[i], seconds = done
    if rest:
        progress = [0.0]

        def seen(s: float) -> None:
            progress[0] = max(progress[0], s)
            phases(s)

        with ExitStack() as stack:
            tmps = [stack.enter_context(atomic_output(t.path)) for _, t in rest]
            consumers = [consumer_args(t.kind, plan, settings, picture or Path(info.path), video_index, tmp)
                         for tmp, (_, t) in zip(tmps, rest)]
            piped = ff.pipeline(lambda urls: producer_args(Path(info.path), plan, urls), consumers,
                                [meter_args(t.kind, plan.sample_rate) for _, t in rest], progress=seen,
                                path=info.path)
            for (i, t), m in zip(rest, piped.meters):
                files[i] = _metered(t.path, t.kind, m.stderr_lines)
            seconds = progress[0]
            for tmp, (_, t) in zip(tmps, rest):
                verify.media_file(ff, tmp, seconds=seconds, video=t.kind == "mp4", display=str(t.path))
    return [files[i] for i in range(len(targets))], seconds


def _wav_samples(path: Path | None) -> int:
    if path is None:
        return 0
    with wave.open(str(path), "rb") as w:
        return w.getnframes()


def _encode_mp3_split(ff: FFmpeg, info: MediaInfo, plan: Plan, target: Target, settings: AudioSettings,
                      phases, n: int) -> tuple[FileLoudness, float] | None:
    """Encode one MP3 as chunks on `n` cores, joined frame-exactly; None if too short to split."""
    sr = plan.sample_rate
    intro = _wav_samples(plan.intro[0]) if plan.intro else 0
    outro = _wav_samples(plan.outro[0]) if plan.outro else 0
    w = whole(plan)
    main = w.samples if w.samples is not None else round((plan.source_seconds - w.start) * sr)
    total = intro + main + outro
    chunks = mp3split.plan_chunks(total, (intro, intro + main), n)
    if len(chunks) < 2:
        return None
    source = Path(info.path)
    encoder = consumer_args("mp3", plan, settings, source, None, None)
    meter = meter_args("mp3", sr, frames=True)
    done = [0.0] * len(chunks)

    def one(k: int, chunk: mp3split.Chunk, part: Path):
        last = k == len(chunks) - 1
        lo, hi = max(chunk.lo, intro), min(chunk.hi, intro + main)
        window = Window(start=w.start + (lo - intro) / sr,
                        samples=None if last and w.samples is None else hi - lo,
                        intro=k == 0, outro=last)
        cutter = mp3split.FrameCutter(chunk.first, chunk.count)

        def seen(s: float) -> None:
            done[k] = s
            phases(sum(done))

        with open(part, "wb") as fh:
            try:
                piped = ff.relay(lambda url: producer_args(source, plan, [url], window=window), encoder, meter,
                                 cutter.feed, fh.write, progress=seen, path=info.path)
                cutter.finish()
            except ValueError as exc:
                raise ToolError(f"chunked MP3 encode went wrong: {exc}", info.path) from exc
        return piped.meters[0]

    with ExitStack() as stack:
        parts = [stack.enter_context(scratch(target.path, str(k))) for k in range(len(chunks))]
        joined = stack.enter_context(scratch(target.path, "joined"))
        with ThreadPoolExecutor(len(chunks)) as pool:
            meters = list(pool.map(one, range(len(chunks)), chunks, parts))
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        final = stack.enter_context(atomic_output(target.path))
        # A stream copy adds what a whole-file encode has: the ID3v2.3 header and the Info frame.
        ff.run(["-f", "mp3", "-i", str(joined), "-c", "copy", "-id3v2_version", "3", "-write_id3v1", "0",
                "-f", "mp3", "-y", str(final)], path=info.path)
        with open(final, "r+b") as fh:  # the Info frame sits in the first few kilobytes
            head = bytearray(fh.read(1 << 16))
            if mp3split.set_gapless(head, total):
                fh.seek(0)
                fh.write(head)
        verify.media_file(ff, final, seconds=total / sr, video=False, display=str(target.path))
    momentary, short = [], []
    for m in meters:
        mo, sh = loudness.parse_frame_log(m.stderr_lines)
        momentary += mo
        short += sh
    peak = max(loudness.parse_true_peak(m.stderr_lines) for m in meters)
    return (FileLoudness(str(target.path), "mp3", round(loudness.integrated_from_blocks(momentary), 2),
                         round(loudness.lra_from_short_term(short), 1), peak), total / sr)


def _first_tweak(test: tuple[float, float], primary_delta: float, ceiling: float,
                 true_peak: float) -> Tweak:
    """An output's tweak from its codec test: match the primary's loudness, keep under the peak limit."""
    delta, overshoot = test
    gain = primary_delta - delta
    allowed = true_peak - 0.2 - ceiling  # the overshoot the limiter's margin already absorbs
    excess = overshoot + gain - allowed
    return Tweak(gain_db=round(gain, 2), ceiling_db=round(ceiling - excess, 2) if excess > 0 else None)


def _correct(plan: Plan, files: list[FileLoudness], target: float, true_peak: float) -> Plan | None:
    """The plan for another encode if any file missed the target or the peak limit, else None."""
    off_primary = target - files[0].integrated
    gain = plan.gain_db + (off_primary if abs(off_primary) > TOLERANCE_LU else 0.0)
    tweaks = dict(plan.tweaks)
    redo = abs(off_primary) > TOLERANCE_LU
    for f in files:
        t = tweaks.get(f.kind, Tweak())
        off = target - f.integrated
        if f is not files[0] and abs(off) > TOLERANCE_LU:
            t = replace(t, gain_db=round(t.gain_db + off - (gain - plan.gain_db), 2))
            redo = True
        over = f.true_peak - (true_peak - 0.05)
        if over > 0:
            t = replace(t, ceiling_db=round((t.ceiling_db if t.ceiling_db is not None else plan.ceiling_db)
                                            - over - 0.2, 2))
            redo = True
        tweaks[f.kind] = t
    return replace(plan, gain_db=min(MAX_GAIN_DB, gain), tweaks=tuple(tweaks.items())) if redo else None


def _jingle(ff: FFmpeg, path: Path | None, plan: Plan, target: float) -> tuple[Path, float] | None:
    """A prepared jingle and the gain that puts it at the programme's target loudness."""
    if path is None:
        return None
    found = loudness.scan(str(path), ff, stream_index=0, sample_rate=plan.sample_rate,
                          channels=plan.channels)
    if found.loudness.integrated <= loudness.SILENT_LUFS:
        raise InputMediaError("jingle is silent", str(path))
    return path, min(MAX_GAIN_DB, target - found.loudness.integrated)


def _check_complete(info: MediaInfo, scan: loudness.Scan) -> None:
    """A truncated file decodes to less than its header promises, often with decoder errors."""
    expected = info.audio.duration if info.audio and info.audio.duration > 0 else info.duration
    missing = expected - scan.decoded_seconds
    if missing > max(0.5, 0.02 * expected):
        raise InputMediaError(f"truncated or damaged: decoded {scan.decoded_seconds:.1f} s of "
                              f"{expected:.1f} s", info.path)
    if scan.decode_errors > 3:
        raise InputMediaError(f"damaged: {scan.decode_errors} decoding errors", info.path)


