"""Benchmark: media-tool normalize against a plain ffmpeg transcode and ffmpeg-normalize, in one run.

    python scripts/bench_normalize.py [--input SPEECH.wav] [--minutes 30] [--memory-hours 3]
    python scripts/bench_normalize.py --denoise [--minutes 30]

Times (a) `ffmpeg -i in.wav -c:a libmp3lame -b:a 128k out.mp3`, (b) `media-tool normalize` to the
same format, (c) ffmpeg-normalize `-nt ebu -t -16 -tp -1` to the same format when installed;
prints the ratios and each output's loudness (ffmpeg's ebur128 meter, true peak oversampled).
Then reports the peak memory of media-tool (its whole process tree, sampled) on a 3-hour input.
Targets: media-tool <= 1.6x the plain transcode, >= 5x faster than ffmpeg-normalize, output
within +-0.5 LU of -16 LUFS and <= -1.0 dBTP, peak memory < 300 MB.

`--denoise` instead makes a noisy laptop-like mono recording (the speech plus pink noise, a 50 Hz
hum and a fan's band noise: 0 dB SNR over the whole file), runs `media-tool normalize` on it with
and without `--denoise`, sampling the process tree's memory, and reports STOI (pystoi; `pip install pystoi`)
of each output against the clean speech over its first minute. Targets: 30 minutes in <= 3
minutes (>= 10x realtime), peak memory <= 600 MB, STOI up by >= 0.03, and clean speech (its first
two minutes) through `--denoise` at STOI >= 0.97.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TEXT = ("Social protection systems help people cope with illness, unemployment and old age. "
        "Pensions, sick leave and unemployment insurance are the pillars of these systems, and "
        "practitioners in China and abroad share their experience of building them. ") * 8


def make_speech(path: Path, seconds: float, tmp: Path) -> None:
    """Looped espeak-ng speech at about -24 LUFS, 44.1 kHz stereo (slightly different channels)."""
    unit = tmp / "unit.wav"
    if not unit.exists():
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(unit), TEXT], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(unit), "-t", str(seconds),
                    "-af", "aresample=44100,pan=stereo|c0=c0|c1=0.85*c0,volume=-4dB", "-c:a", "pcm_s16le",
                    str(path)], check=True)


def make_noisy(clean: Path, noisy: Path, seconds: float, tmp: Path) -> None:
    """`clean`: the speech as one mono channel at 48 kHz; `noisy`: it with a laptop's noise added."""
    unit = tmp / "unit.wav"
    if not unit.exists():
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(unit), TEXT], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(unit), "-t", str(seconds),
                    "-af", "aresample=48000,volume=-6dB", "-ac", "1", "-c:a", "pcm_f32le", str(clean)], check=True)
    noise = (f"anoisesrc=color=pink:amplitude=0.2:sample_rate=48000:duration={seconds}[pink];"
             f"sine=frequency=50:sample_rate=48000:duration={seconds},volume=0.05[hum];"
             f"anoisesrc=color=brown:amplitude=0.2:sample_rate=48000:duration={seconds},"
             f"bandpass=f=300:width_type=q:w=1[fan];")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(clean), "-filter_complex",
                    noise + "[0:a][pink][hum][fan]amix=inputs=4:normalize=0[out]", "-map", "[out]",
                    "-ac", "1", "-c:a", "pcm_s16le", str(noisy)], check=True)


def stoi_of(clean: Path, out: Path, seconds: float = 60.0) -> float:
    """STOI of a normalized output against the clean speech, over the first `seconds` (aligned by
    cross-correlation: the encoder may shift the start by a few milliseconds)."""
    import numpy as np
    from pystoi import stoi

    def pcm(path: Path) -> np.ndarray:
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-t", str(seconds + 1), "-ac", "1",
                              "-ar", "16000", "-f", "f32le", "-"], capture_output=True, check=True).stdout
        return np.frombuffer(raw, np.float32)

    ref, got = pcm(clean), pcm(out)
    n = int(seconds * 16000)
    reach = 3200  # 0.2 s either way
    lag = int(np.argmax(np.correlate(got[16000 - reach:32000 + reach], ref[16000:32000], mode="valid"))) - reach
    got = np.concatenate([np.zeros(max(0, -lag), np.float32), got[max(0, lag):]])
    return float(stoi(ref[:n], got[:n], 16000, extended=False))


def denoise_run(args, tmp: Path, media_tool: list[str]) -> int:
    seconds = args.minutes * 60
    clean, noisy = tmp / "clean.wav", tmp / "noisy.wav"
    make_noisy(clean, noisy, seconds, tmp)
    print(f"input: {args.minutes:g} min of mono speech with pink noise, hum and fan noise "
          f"({measure(noisy)[0]:.1f} LUFS)\n")
    rows = []
    for name, extra in (("normalize", []), ("normalize --denoise", ["--denoise"])):
        out = tmp / f"{len(rows)}.mp3"
        secs, pss, _, _ = peak_memory([*media_tool, "normalize", str(noisy), "-o", str(out), *extra])
        rows.append((name, secs, pss, stoi_of(clean, out), *measure(out)))
    noisy_stoi = stoi_of(clean, noisy)
    excerpt = tmp / "clean-excerpt.wav"  # clean speech must come through --denoise unharmed
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(clean), "-t", "120", str(excerpt)], check=True)
    subprocess.run([*media_tool, "normalize", str(excerpt), "-o", str(tmp / "clean.mp3"), "--denoise"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clean_stoi = stoi_of(clean, tmp / "clean.mp3")
    print(f"{'what':22} {'seconds':>8} {'x realtime':>10} {'peak MB':>8} {'STOI':>6} {'LUFS':>6} {'dBTP':>6}")
    print(f"{'(the noisy input)':22} {'':>8} {'':>10} {'':>8} {noisy_stoi:6.3f}")
    for name, secs, pss, st, i, tp in rows:
        print(f"{name:22} {secs:8.1f} {seconds / secs:10.1f} {pss:8.0f} {st:6.3f} {i:6.1f} {tp:6.1f}")
    (_, _, _, plain, *_), (_, secs, pss, den, *_) = rows
    print(f"\n--denoise: {seconds / secs:.1f}x realtime (target >= 10x), peak {pss:.0f} MB (target <= 600), "
          f"STOI {plain:.3f} -> {den:.3f} ({den - plain:+.3f}; target >= +0.03); clean speech through "
          f"--denoise: STOI {clean_stoi:.3f} (target >= 0.97)")
    return 0


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measure(path: Path) -> tuple[float, float]:
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
                          "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    summary = err[err.rindex("Summary:"):]
    return (float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary)[1]),
            float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)[1]))


def tree_memory_kb(root: int) -> tuple[int, int, int]:
    """Memory (kB) of a process and all its descendants: summed PSS, summed RSS, largest RSS.

    PSS (proportional set size) charges each shared page once, split among the processes
    sharing it, so it is the tree's real footprint; summed RSS counts the ffmpeg libraries
    once per process and overstates it.
    """
    pss = rss_total = largest = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rss = int(re.search(r"VmRSS:\s+(\d+)", status)[1]) if "VmRSS" in status else 0
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            pss += int(re.search(r"^Pss:\s+(\d+)", rollup, re.M)[1])
            for task in Path(f"/proc/{pid}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError, TypeError):
            continue
        rss_total += rss
        largest = max(largest, rss)
    return pss, rss_total, largest


def peak_memory(cmd: list[str]) -> tuple[float, float, float, float]:
    """Run `cmd`, sampling its process tree; returns seconds and peak PSS, RSS-sum, single-RSS MB."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0, 0, 0]

    def sample() -> None:
        while proc.poll() is None:
            now = tree_memory_kb(proc.pid)
            peak[:] = [max(a, b) for a, b in zip(peak, now)]
            time.sleep(0.05)

    t = threading.Thread(target=sample)
    t.start()
    proc.wait()
    t.join()
    if proc.returncode:
        raise SystemExit(f"{cmd} failed with exit {proc.returncode}")
    return (time.perf_counter() - t0, *(k / 1024 for k in peak))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", type=Path, help="a speech recording to use instead of synthesising one")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--memory-hours", type=float, default=3.0, help="0 skips the memory run")
    ap.add_argument("--memory-only", action="store_true", help="skip the timing comparison")
    ap.add_argument("--denoise", action="store_true", help="time and score noise reduction instead")
    args = ap.parse_args()
    media_tool = [sys.executable, "-m", "media_tool"]
    with tempfile.TemporaryDirectory(prefix="bench-normalize-") as tmp:
        tmp = Path(tmp)
        if args.denoise:
            return denoise_run(args, tmp, media_tool)
        src = args.input
        if args.memory_only:
            args.minutes = 0.5
        if src is None:
            src = tmp / "speech.wav"
            make_speech(src, args.minutes * 60, tmp)
        print(f"input: {src} ({measure(src)[0]:.1f} LUFS), {args.minutes:g} min")
        rows = []
        plain = timed(["ffmpeg", "-y", "-i", str(src), "-c:a", "libmp3lame", "-b:a", "128k", str(tmp / "plain.mp3")])
        rows.append(("plain ffmpeg transcode", plain, tmp / "plain.mp3"))
        ours = timed([*media_tool, "normalize", str(src), "-o", str(tmp / "ours.mp3")])
        rows.append(("media-tool normalize", ours, tmp / "ours.mp3"))
        fn = shutil.which("ffmpeg-normalize") or (
            str(Path(sys.executable).with_name("ffmpeg-normalize"))
            if Path(sys.executable).with_name("ffmpeg-normalize").exists() else None)
        theirs = None
        if fn:
            theirs = timed([fn, str(src), "-nt", "ebu", "-t", "-16", "-tp", "-1", "-c:a", "libmp3lame",
                            "-b:a", "128k", "-ar", "44100", "-o", str(tmp / "theirs.mp3"), "-f"])
            rows.append(("ffmpeg-normalize (ebu)", theirs, tmp / "theirs.mp3"))
        print(f"\n{'what':26} {'seconds':>8} {'LUFS':>7} {'dBTP':>6}")
        for name, secs, out in rows:
            i, tp = measure(out)
            print(f"{name:26} {secs:8.1f} {i:7.1f} {tp:6.1f}")
        i, tp = measure(tmp / "ours.mp3")
        print(f"\nmedia-tool / plain transcode: {ours / plain:.2f}x  (target <= 1.6x)")
        if theirs:
            print(f"ffmpeg-normalize / media-tool: {theirs / ours:.1f}x faster  (target >= 5x)")
        else:
            print("ffmpeg-normalize not installed: pip install ffmpeg-normalize to compare")
        print(f"loudness: {i:.1f} LUFS (target -16 +-0.5), true peak {tp:.1f} dBTP (limit -1.0): "
              f"{'ok' if abs(i + 16) <= 0.5 and tp <= -1.0 else 'OUT OF BOUNDS'}")
        for p in tmp.glob("*.mp3"):
            p.unlink()
        if args.memory_hours > 0:
            long = tmp / "long.wav"
            make_speech(long, args.memory_hours * 3600, tmp)
            if src != args.input:
                src.unlink()
            secs, pss, rss, largest = peak_memory([*media_tool, "normalize", str(long), "-o", str(tmp / "long.mp3")])
            print(f"\n{args.memory_hours:g} h input: {secs:.1f} s; peak memory of the whole process tree "
                  f"{pss:.0f} MB PSS (target < 300 MB); summed RSS {rss:.0f} MB counts shared ffmpeg "
                  f"libraries once per process; largest single process {largest:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
