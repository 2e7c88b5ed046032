"""The one runner for ffmpeg and ffprobe.

Every call to an ffmpeg binary goes through here: binary discovery, argument lists (never
a shell string), progress parsed from `-progress`, stderr kept for parsing and for errors,
and producer/consumer pipelines that spread one decode over several encoders on other cores.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from media_tool.errors import MediaToolError, ToolError, disk_error

SecondsDoneFn = Callable[[float], None]
"""Called with the seconds of media processed so far."""

_MAX_KEPT_LINES = 200_000


@dataclass(frozen=True)
class Completed:
    """What a finished run left behind: its stderr lines and, if asked, its stdout bytes."""

    stderr_lines: list[str]
    stdout: bytes = b""


@dataclass(frozen=True)
class FFmpeg:
    """Located ffmpeg (and ffprobe where one exists) plus the version that keys caches."""

    ffmpeg: str
    ffprobe: str | None
    version: str = field(default="")

    @classmethod
    def discover(cls, ffmpeg: str | None = None, ffprobe: str | None = None) -> "FFmpeg":
        """Find ffmpeg on PATH, else the static build shipped by the imageio-ffmpeg wheel."""
        ffmpeg = ffmpeg or os.environ.get("MEDIA_TOOL_FFMPEG") or shutil.which("ffmpeg")
        if ffmpeg is None:
            try:
                import imageio_ffmpeg
            except ImportError as exc:  # pragma: no cover - depends on the machine
                raise ToolError("ffmpeg not found on PATH and imageio-ffmpeg is not installed") from exc
            ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
            ffprobe = ffprobe or None
        else:
            ffprobe = ffprobe or os.environ.get("MEDIA_TOOL_FFPROBE") or _sibling_ffprobe(ffmpeg)
        if ffprobe is not None and not (os.path.isfile(ffprobe) and os.access(ffprobe, os.X_OK)):
            ffprobe = None  # e.g. MEDIA_TOOL_FFPROBE=none: probe with `ffmpeg -i` instead
        try:
            out = subprocess.run([ffmpeg, "-hide_banner", "-version"], capture_output=True,
                                 check=True, timeout=30).stdout.decode("utf-8", "replace")
        except (OSError, subprocess.SubprocessError) as exc:
            raise ToolError(f"cannot run ffmpeg at {ffmpeg}: {exc}") from exc
        version = out.splitlines()[0] if out else "ffmpeg unknown"
        return cls(ffmpeg=ffmpeg, ffprobe=ffprobe, version=version)

    # -- single runs -------------------------------------------------------------------
    def run(self, args: Sequence[str], *, progress: SecondsDoneFn | None = None,
            path: str | None = None, capture_stdout: bool = False) -> Completed:
        """Run ffmpeg with `args`; raise ToolError (naming `path`) if it fails."""
        cmd = [self.ffmpeg, "-nostdin", "-hide_banner", "-nostats"]
        if progress is not None and not capture_stdout:
            cmd += ["-progress", "pipe:1"]
        cmd += harden(args)
        proc = _Proc(cmd, stdout_progress=progress if not capture_stdout else None,
                     capture_stdout=capture_stdout)
        proc.wait()
        if proc.returncode != 0:
            raise _tool_error(proc, path)
        return Completed(proc.stderr_lines(), proc.stdout_bytes())

    def probe(self, path: str) -> Completed:
        """Run ffprobe's JSON dump of format and streams; stdout holds the JSON."""
        assert self.ffprobe, "callers check for ffprobe first"
        cmd = [self.ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
               "-protocol_whitelist", "file", "-format_whitelist", MEDIA_DEMUXERS,
               path if path.startswith("file:") else f"file:{path}"]
        proc = _Proc(cmd, capture_stdout=True)
        proc.wait()
        if proc.returncode != 0:
            raise _tool_error(proc, path)
        return Completed(proc.stderr_lines(), proc.stdout_bytes())

    def run_tolerant(self, args: Sequence[str]) -> tuple[int, Completed]:
        """Run ffmpeg and return its exit code instead of raising (for probing by ffmpeg -i)."""
        cmd = [self.ffmpeg, "-nostdin", "-hide_banner", *harden(args)]
        proc = _Proc(cmd)
        proc.wait()
        return proc.returncode, Completed(proc.stderr_lines())

    # -- pipelines ---------------------------------------------------------------------
    def pipeline(self, producer: Callable[[list[str]], list[str]],
                 consumers: Sequence[list[str]], meters: Sequence[list[str] | None] = (), *,
                 progress: SecondsDoneFn | None = None, path: str | None = None) -> Piped:
        """Run one producer ffmpeg whose outputs feed consumer ffmpegs through OS pipes.

        `producer` receives one `pipe:N` URL per consumer and returns its arguments; each
        consumer reads its pipe as stdin. Where `meters[i]` is given, consumer i's stdout
        (its encoded stream) is read by that meter ffmpeg, so the file is measured as it is
        written. The producer decodes and filters once while encoders run on other cores.
        """
        meters = list(meters) + [None] * (len(consumers) - len(meters))
        pipes = [os.pipe() for _ in consumers]
        urls = [f"pipe:{w}" for _, w in pipes]
        started: list[_Proc] = []
        workers: list[_Proc] = []
        gauges: list[_Proc | None] = []
        try:
            for (r, _), args, meter in zip(pipes, consumers, meters):
                cmd = [self.ffmpeg, "-hide_banner", "-nostats", *harden(args)]
                worker = _Proc(cmd, stdin=r, raw_stdout=meter is not None)
                started.append(worker)
                workers.append(worker)
                gauge = None
                if meter is not None:
                    gauge = _Proc([self.ffmpeg, "-hide_banner", "-nostats", *meter],
                                  stdin=worker.take_stdout())
                    worker.take_stdout().close()  # only the meter may hold the read end
                    started.append(gauge)
                gauges.append(gauge)
            cmd = [self.ffmpeg, "-nostdin", "-hide_banner", "-nostats"]
            if progress is not None:
                cmd += ["-progress", "pipe:1"]
            cmd += harden(producer(urls))
            head = _Proc(cmd, stdout_progress=progress, pass_fds=[w for _, w in pipes])
        except BaseException:
            for p in started:
                p.kill()
            raise
        finally:
            for r, w in pipes:
                os.close(r)
                os.close(w)
        _wait_all([head, *started])
        # A failed encoder makes the producer fail with a broken pipe: report the cause first.
        _raise_first_failure([*workers, head, *started], path)
        return Piped(Completed(head.stderr_lines()), [Completed(p.stderr_lines()) for p in workers],
                     [Completed(g.stderr_lines()) if g else None for g in gauges])


    def relay(self, producer: Callable[[str], list[str]], encoder: list[str], meter: list[str],
              keep: Callable[[bytes], bytes], sink: Callable[[bytes], None], *,
              progress: SecondsDoneFn | None = None, path: str | None = None) -> Piped:
        """producer | encoder | (Python: keep, sink) | meter, all streaming.

        Python sits between the encoder and its meter so it can choose which encoded bytes
        are kept (`keep`), store them (`sink`) and have exactly those measured.
        """
        r, w = os.pipe()
        started: list[_Proc] = []
        try:
            enc = _Proc([self.ffmpeg, "-hide_banner", "-nostats", *harden(encoder)], stdin=r, raw_stdout=True)
            started.append(enc)
            gauge = _Proc([self.ffmpeg, "-hide_banner", "-nostats", *meter], stdin=subprocess.PIPE)
            started.append(gauge)
            cmd = [self.ffmpeg, "-nostdin", "-hide_banner", "-nostats"]
            if progress is not None:
                cmd += ["-progress", "pipe:1"]
            head = _Proc([*cmd, *harden(producer(f"pipe:{w}"))], stdout_progress=progress, pass_fds=[w])
            started.insert(0, head)
        except BaseException:
            for p in started:
                p.kill()
            raise
        finally:
            os.close(r)
            os.close(w)
        try:
            source, dest = enc.take_stdout(), gauge.stdin()
            try:
                for data in iter(lambda: source.read(1 << 16), b""):
                    kept = keep(data)
                    if kept:
                        sink(kept)
                        dest.write(kept)
            except BrokenPipeError:
                pass  # the meter died; its exit code below says why
            finally:
                source.close()
                try:
                    dest.close()
                except BrokenPipeError:
                    pass
        except BaseException:
            for p in started:
                p.kill()
            raise
        _wait_all(started)
        _raise_first_failure([enc, head, gauge], path)
        return Piped(Completed(head.stderr_lines()), [Completed(enc.stderr_lines())], [Completed(gauge.stderr_lines())])


@dataclass(frozen=True)
class Piped:
    """Results of a pipeline: the producer, each consumer, and each consumer's meter."""

    producer: Completed
    consumers: list[Completed]
    meters: list[Completed | None]


def _wait_all(procs: list["_Proc"]) -> None:
    """Wait for every process; on interruption, kill them all rather than leave orphans."""
    try:
        for p in procs:
            p.wait()
    except BaseException:
        for p in procs:
            p.kill()
        raise


def _raise_first_failure(procs: list["_Proc"], path: str | None) -> None:
    for p in procs:
        if p.returncode != 0:
            raise _tool_error(p, path)


def _sibling_ffprobe(ffmpeg: str) -> str | None:
    candidate = os.path.join(os.path.dirname(ffmpeg), "ffprobe")
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which("ffprobe")


_DISK_MESSAGES = {"No space left on device": errno.ENOSPC, "Read-only file system": errno.EROFS,
                  "Disk quota exceeded": errno.EDQUOT}


def _tool_error(proc: "_Proc", path: str | None) -> MediaToolError:
    tail = proc.stderr_tail()
    for words, code in _DISK_MESSAGES.items():  # a full disk is the producer's problem, not a tool's
        if words in tail:
            # Our outputs are always hidden .part files: name the folder being written.
            found = (re.search(r"([^|\]\s]*)/\.[^/|]*\.part-", a) for a in proc.cmd)
            folder = next((m.group(1).removeprefix("file:") for m in found if m), None)
            return disk_error(OSError(code, words), folder or path)
    last = next((line for line in reversed(tail.splitlines()) if line.strip()), "")
    name = os.path.basename(proc.cmd[0])
    return ToolError(f"{name} failed (exit {proc.returncode}): {last or 'no message'}",
                     path=path, command=proc.cmd, stderr_tail=tail)


MEDIA_DEMUXERS = ("wav,w64,flac,mp3,mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,ogg,aac,aiff,avi,caf,wv,asf,mpegts,"
                  "amr,au,tta,ape,mpeg,flv,dsf,dts,ac3,eac3,truehd,mlp,s16le,f32le")
"""Demuxers of real recordings. Not playlists (hls, dash), scripts (concat, ffconcat) or devices
(lavfi), which a hostile file could use to read other files or the network."""


def filter_path(path) -> str:
    """A file name as one value of an ffmpeg filter graph (its : , ' [ ] \\ escaped)."""
    return "".join("\\" + c if c in "\\:',[];" else c for c in str(path))


def harden(args: Sequence[str]) -> list[str]:
    """Every file input opened through the file protocol only and, unless our own code named its
    format with -f, a demuxer of a real media format; `file:` before the path, so a name that
    starts with '-' is never read as an option. Pipes (`pipe:N`) are ours and left as they are."""
    out: list[str] = []
    forced = False
    it = iter(args)
    for a in it:
        if a == "-f":
            out += [a, next(it)]
            forced = True
            continue
        if a == "-i":
            src = next(it)
            if src.startswith("pipe:"):
                out += [a, src]
            else:
                out += ["-protocol_whitelist", "file"]
                if not forced:
                    out += ["-format_whitelist", MEDIA_DEMUXERS]
                out += [a, src if src.startswith("file:") else f"file:{src}"]
            forced = False
            continue
        out.append(a)
    return out


class _Proc:
    """A child process whose stderr (and progress on stdout) is drained by threads.

    Draining in threads keeps a chatty ffmpeg from blocking on a full pipe.
    """

    def __init__(self, cmd: list[str], *, stdin: int | None = None,
                 stdout_progress: SecondsDoneFn | None = None, capture_stdout: bool = False,
                 raw_stdout: bool = False, pass_fds: Sequence[int] = ()):
        self.cmd = cmd
        self._lines: list[str] = []
        self._tail: deque[str] = deque(maxlen=400)
        self._stdout = bytearray()
        want_stdout = stdout_progress is not None or capture_stdout or raw_stdout
        try:
            self._p = subprocess.Popen(
                cmd, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE if want_stdout else subprocess.DEVNULL,
                stderr=subprocess.PIPE, pass_fds=tuple(pass_fds))
        except OSError as exc:
            raise ToolError(f"cannot start {cmd[0]}: {exc}", command=cmd) from exc
        self._threads = [threading.Thread(target=self._drain_stderr, daemon=True)]
        if stdout_progress is not None:
            self._threads.append(threading.Thread(target=self._drain_progress,
                                                  args=(stdout_progress,), daemon=True))
        elif capture_stdout:
            self._threads.append(threading.Thread(target=self._drain_stdout, daemon=True))
        for t in self._threads:
            t.start()

    def _drain_stderr(self) -> None:
        assert self._p.stderr is not None
        for raw in self._p.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self._tail.append(line)
            if len(self._lines) < _MAX_KEPT_LINES:
                self._lines.append(line)

    def _drain_progress(self, progress: SecondsDoneFn) -> None:
        assert self._p.stdout is not None
        for raw in self._p.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                progress(max(0, int(value)) / 1e6)

    def _drain_stdout(self) -> None:
        assert self._p.stdout is not None
        for chunk in iter(lambda: self._p.stdout.read(65536), b""):
            self._stdout += chunk

    def stdin(self):
        assert self._p.stdin is not None
        return self._p.stdin

    def take_stdout(self):
        """Hand this process's stdout pipe to another process (the parent keeps no reader)."""
        assert self._p.stdout is not None
        return self._p.stdout

    def wait(self) -> None:
        self._p.wait()
        for t in self._threads:
            t.join()

    def kill(self) -> None:
        if self._p.poll() is None:
            self._p.kill()
        self.wait()

    @property
    def returncode(self) -> int:
        return self._p.returncode

    def stderr_lines(self) -> list[str]:
        if len(self._lines) < _MAX_KEPT_LINES:
            return list(self._lines)
        return self._lines + list(self._tail)  # the summary lines live at the very end

    def stderr_tail(self, n: int = 20) -> str:
        return "\n".join(list(self._tail)[-n:])

    def stdout_bytes(self) -> bytes:
        return bytes(self._stdout)
