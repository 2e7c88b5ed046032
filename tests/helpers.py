"""Test helpers: running real tools, and an independent loudness meter.

The meter used to check outputs is not the one that chose the gain: integrated loudness comes
from pyloudnorm (its own BS.1770 implementation, in numpy) on the decoded file, and true peak
from ffmpeg's ebur128 filter on the file as a listener's decoder sees it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyloudnorm
import soundfile

ROOT = Path(__file__).resolve().parent.parent

SPEECH = (
    "Social protection systems help people cope with illness, unemployment and old age. "
    "Pensions, sick leave and unemployment insurance are the pillars of these systems. "
    "Practitioners in China and abroad share what worked for them, and what did not. "
    "Coverage matters most: a benefit that reaches nobody protects nobody. "
)


def sh(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stderr


def ffmpeg(*args: str) -> None:
    sh("ffmpeg", "-v", "error", "-y", *args)


def integrated_lufs(path: Path) -> float:
    """Integrated loudness by pyloudnorm on the decoded file (independent of ffmpeg's meter)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # never beside the file: it may be the shared built template
        wav = Path(tmp) / "check.wav"
        ffmpeg("-i", str(path), "-map", "0:a:0", "-c:a", "pcm_f32le", str(wav))
        data, rate = soundfile.read(str(wav), dtype="float64")
    return float(pyloudnorm.Meter(rate).integrated_loudness(data))


def true_peak_dbtp(path: Path) -> float:
    """True peak by ffmpeg's ebur128 (4x oversampled) on the decoded file."""
    text = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0",
                           "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
                          capture_output=True, text=True, check=True).stderr
    return float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf)", text)[1])


def probe_streams(path: Path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                          "-show_format", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def loudness_ok(path: Path, target: float) -> tuple[float, float]:
    i, tp = integrated_lufs(path), true_peak_dbtp(path)
    print(f"{path.name}: {i:.2f} LUFS, {tp:.2f} dBTP")
    assert abs(i - target) <= 0.5, f"{path.name}: integrated {i:.2f} LUFS, target {target}"
    assert tp <= -1.0, f"{path.name}: true peak {tp:.2f} dBTP"
    return i, tp


def model_cache_without_translations(d: Path) -> Path:
    """`d` as a model cache (MEDIA_TOOL_CACHE) holding this machine's converted models and no
    translations yet, so what a test runs translates for real."""
    # imported here, after conftest has set the environment
    from media_tool.engines.models import user_cache

    d.mkdir(parents=True, exist_ok=True)
    if (user_cache() / "models").is_dir():
        (d / "models").symlink_to(user_cache() / "models")
    return d


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`media-tool ARGS` as a user runs it, in a child process: for what the command line itself
    promises (exit codes, one-line errors, no traceback, signals, a process's memory)."""
    env = {k: v for k, v in os.environ.items() if k != "MEDIA_TOOL_KEEP_MODELS"}  # a user's process
    return subprocess.run([sys.executable, "-m", "media_tool", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600, env=env)


def run_here(*args: str) -> subprocess.CompletedProcess:
    """`media-tool ARGS` run by the same `main` in this process (stdout, stderr and the exit code as a
    child's would be), the models kept loaded between runs ($MEDIA_TOOL_KEEP_MODELS, set by conftest):
    for the many builds whose claim is what a build makes, not how a process behaves."""
    import contextlib
    import io

    from media_tool.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(["media-tool", *args], code, out.getvalue(), err.getvalue())


def build_json(show: Path, *extra: str) -> tuple[int, dict]:
    """`media-tool build --json` (in this process, see `run_here`): its exit code and its report."""
    p = run_here("build", "--show", str(show), "--json", *extra)
    assert p.stdout, p.stderr
    return p.returncode, json.loads(p.stdout)


def statuses(report: dict, stages=("probe", "normalize")) -> dict[str, dict[str, str]]:
    """slug -> stage -> done/skipped/failed, for the stages asked about."""
    return {e["slug"]: {k: v["status"] for k, v in e["stages"].items() if k in stages}
            for e in report["episodes"]}


def copy_show(src: Path, dest: Path) -> Path:
    """The sample show's inputs (or a whole built show, state and all) copied to `dest`. The
    repository itself is never copied whole, whatever it holds (a virtualenv, the quick start's build
    state): only the inputs of its show, as in a fresh clone."""
    if src.resolve() != ROOT.resolve() and (src / ".media-tool").is_dir():
        shutil.copytree(src, dest, symlinks=True)
        return dest
    dest.mkdir()
    for name in ("podcast.toml", "cover.jpg", "glossary.csv"):
        if (src / name).is_file():
            shutil.copy(src / name, dest / name)
    for name in ("episodes", "jingles", "transcripts"):
        shutil.copytree(src / name, dest / name)
    for built in (dest / "transcripts").rglob("*"):  # only what a person supplied, as in a fresh clone
        if built.is_file() and not built.name.startswith("human."):
            built.unlink()
    return dest


def small_show(dest: Path, episodes: list[tuple[str, str, float]]) -> Path:
    """A show of short episodes cut from the committed speech fixtures: (slug, language, seconds) each,
    English from fixtures/english.opus and Mandarin from fixtures/mandarin.opus (looped for longer
    ones), titles and notes in both languages, so no stage waits on anything but the recording."""
    fixtures = ROOT / "tests" / "fixtures"
    (dest / "episodes").mkdir(parents=True)
    (dest / "podcast.toml").write_text(
        'title = { en = "Cluster test", zh = "集群测试" }\n'
        'description = { en = "Short episodes.", zh = "短节目。" }\n'
        'author = "Test"\nowner = { name = "Team", email = "team@example.org" }\nlanguage = "en"\n'
        'base_url = "https://podcast.example.org"\nguid = "4c1b3b52-0d3e-5b5c-9d0a-3f6d1f2f7a10"\n'
        'categories = ["Education"]\n', encoding="utf-8")
    for n, (slug, lang, seconds) in enumerate(episodes, 1):
        ep = dest / "episodes" / slug
        ep.mkdir()
        src = fixtures / ("mandarin.opus" if lang == "zh" else "english.opus")
        ffmpeg("-stream_loop", "-1", "-i", str(src), "-t", f"{seconds:g}", "-ac", "1", "-c:a", "flac",
               str(ep / "recording.flac"))
        (ep / "episode.toml").write_text(
            f'title = {{ en = "Episode {n}", zh = "第{n}集" }}\nnumber = {n}\n'
            f'date = 2026-01-{n:02d}T09:00:00Z\nlanguage = "{lang}"\nsource = "recording.flac"\n', encoding="utf-8")
        (ep / "notes.md").write_text(f"Episode {n}.\n\n第{n}集。\n", encoding="utf-8")
    return dest


class RayHead:
    """A real Ray head for tests and benches, on loopback inside a network namespace of its own (Ray
    otherwise reports the machine's outside address and probes a public DNS server): `run` starts
    commands inside that namespace, where the head is at `address`. Stopped by killing its process."""

    def __init__(self, cpus: int = 2, env: dict | None = None):
        import os
        import random
        import time

        # A port of its own: `ray start` refuses one that another head on this machine uses, even in
        # another namespace (it looks at the processes). Token auth off on both sides, whatever
        # ~/.ray holds (a `--ray local` run writes a token there, and a head would then want it).
        self.port = random.Random().randrange(20000, 40000)
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled", **(env or {})}
        ray = Path(sys.executable).with_name("ray")
        self.proc = subprocess.Popen(
            ["unshare", "--net", "bash", "-c", f"ip link set lo up && exec {ray} start --head --node-ip-address "
             f"127.0.0.1 --port {self.port} --num-cpus {cpus} --include-dashboard false --disable-usage-stats "
             "--block"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        try:
            for _ in range(300):  # the GCS listens within seconds
                if self.proc.poll() is not None:
                    raise RuntimeError(f"ray head exited: {self.proc.stderr.read().decode()[-2000:]}")
                if subprocess.run(self.prefix() + ["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{self.port}"],
                                  capture_output=True).returncode == 0:
                    break
                time.sleep(0.2)
            else:
                raise RuntimeError("ray head did not start in 60 s")
            # The head answers before its raylet takes work: one real connection waits for that.
            p = subprocess.run(self.prefix() + [sys.executable, "-c", f"import ray; ray.init(address='{self.address}', "
                                                "log_to_driver=False); ray.shutdown()"], env=self.env,
                               capture_output=True, text=True, timeout=120)
            if p.returncode != 0:
                raise RuntimeError(f"cannot join the test's ray head: {p.stderr[-2000:]}")
        except BaseException:
            self.stop()  # never left running for the rest of the session
            raise

    def prefix(self) -> list[str]:
        return ["nsenter", "-t", str(self.proc.pid), "-n"]

    def popen(self, args: list[str], **kw) -> subprocess.Popen:
        return subprocess.Popen(self.prefix() + args, env={**self.env, **kw.pop("env", {})}, **kw)

    def stop(self) -> None:
        import os
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    @staticmethod
    def usable() -> str | None:
        """Why no head can be started here (None: it can)."""
        import importlib.util
        import os

        if importlib.util.find_spec("ray") is None:
            return 'Ray is not installed (pip install -e ".[ray]")'
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"):
            return "a private network namespace needs root, unshare and nsenter"
        return None


def search_hits(show: Path, query: str, *extra: str) -> list[dict]:
    """`media-tool search QUERY --json` run in this process (the embedding model loads once for all
    the queries of a session, not once per query as a child process would)."""
    import contextlib
    import io

    from media_tool.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["search", query, "--show", str(show), "--json", *extra])
    assert code == 0, buf.getvalue()
    return json.loads(buf.getvalue())


class ChatEndpoint:
    """Mixin for a `BaseHTTPRequestHandler` speaking the chat-completions protocol on loopback: a
    subclass's `answer(body)` gives the assistant's content for each POSTed request."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        data = json.dumps({"choices": [{"message": {"content": self.answer(body)}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


_LINK = re.compile(r"""(?:href|src|url|poster|data-src)\s*=\s*["']([^"'#?]+)""", re.IGNORECASE)
_XML_LINK = re.compile(r"<(?:link|guid|podcast:chapters[^>]*url)[^>]*>\s*([^<\s]+)\s*<", re.IGNORECASE)


def linked_before(feed_dir: Path, order: list[str], base_url: str) -> list[tuple[str, str]]:
    """Each (page or feed, link) where a file of the site that it links to would go up after it, if
    the files of `feed_dir` were sent in `order`: what a listener could meet mid-upload. Links are read
    from the files themselves (absolute under `base_url`, or relative to the file), independently of
    the order the upload code chose. Pages that link to one another cannot all go first, so a link from
    one page to another is not counted; nor a link to a feed, which goes up last by design (a page
    that links to it finds the feed published before)."""
    from urllib.parse import unquote, urljoin

    from media_tool.commands.upload import is_feed

    site = set(order)
    sent: set[str] = set()
    base = base_url.rstrip("/") + "/"
    out = []
    for rel in order:
        if rel.endswith((".html", ".xml", ".json", ".vtt", ".js", ".css")):
            text = (feed_dir / rel).read_text(encoding="utf-8", errors="replace")
            for link in _LINK.findall(text) + _XML_LINK.findall(text):
                url = urljoin(base + rel, unquote(link.strip()))
                if not url.startswith(base):
                    continue
                target = url[len(base):] or "index.html"
                if target.endswith("/") or target + "/index.html" in site:
                    target = target.rstrip("/") + "/index.html" if target.rstrip("/") else "index.html"
                if target in site and target not in sent and not target.endswith(".html") and not is_feed(target):
                    out.append((rel, target))
        sent.add(rel)
    return out


def psnr(a: Path, b: Path, at: float, crop: str) -> float:
    """PSNR (dB) of one region of the frame at `at` seconds in two videos."""
    graph = f"[0:v]{crop}[x];[1:v]{crop}[y];[x][y]psnr"
    err = subprocess.run(["ffmpeg", "-hide_banner", "-ss", str(at), "-i", str(a), "-ss", str(at), "-i", str(b),
                          "-filter_complex", graph, "-frames:v", "1", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    value = re.search(r"average:(\S+)", err)[1]
    return 99.0 if value == "inf" else float(value)
