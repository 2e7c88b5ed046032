"""Shared fixtures: real media made with espeak-ng and ffmpeg, and copies of the sample show,
as given and as built (built once per session: most tests start from a built show)."""

from __future__ import annotations

import os
from pathlib import Path

# On an Intel CPU the suite runs CTranslate2 on Intel MKL, set before media_tool is imported. media_tool
# defaults to oneDNN to keep a user's peak memory under 2.5 GB, and `scripts/bench_translate.py` measures that.
# On Intel, MKL translates about twice as fast at batch 1: with oneDNN the suite took 17.8 and 21.8 minutes on
# 2 cores, against 12.4 with MKL earlier the same day. On AMD, MKL takes its slow generic path: the mixed
# `transcribe` of the sample interview took 539 s with MKL against 110 s with oneDNN (AMD EPYC, 2 cores,
# one run each), and the whole suite 63 minutes in CI. The model, the code and the checks are the same
# either way. Children inherit it: CLI runs and the Ray head.


def _intel_cpu() -> bool:
    try:
        return "GenuineIntel" in Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False


if _intel_cpu():
    os.environ.setdefault("CT2_USE_MKL", "1")


def _session_cache() -> Path:
    """A model cache of this test session's own ($MEDIA_TOOL_CACHE, set before media_tool is imported;
    children inherit it): no translation, punctuation or embedding an earlier run left can make a test
    pass. Only the converted models are linked in (they are weights, not answers: converting them again
    would cost minutes and prove nothing the conversion tests do not)."""
    import tempfile

    real = Path(os.environ.get("MEDIA_TOOL_CACHE") or Path.home() / ".cache" / "media-tool")
    (real / "models").mkdir(parents=True, exist_ok=True)
    mine = Path(tempfile.mkdtemp(prefix="media-tool-test-cache-"))
    (mine / "models").symlink_to(real / "models")
    os.environ["MEDIA_TOOL_CACHE"] = str(mine)
    return mine


SESSION_CACHE = _session_cache()
os.environ["MEDIA_TOOL_KEEP_MODELS"] = "1"  # in this process each model loads once (`helpers.run_here`)
STRICT = os.environ.get("MEDIA_TOOL_STRICT_TESTS") == "1"
"""Set by .ci/run: a test skipped for want of something installed is a failure there, not a pass."""

import pytest  # noqa: E402
from helpers import ROOT, SPEECH, build_json, copy_show, ffmpeg, sh


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """Test recordings: quiet, loud, hot, mono, stereo, 48 kHz, a video with speech."""
    d = tmp_path_factory.mktemp("media")
    raw = d / "speech.wav"
    sh("espeak-ng", "-v", "en-us", "-s", "165", "-w", str(raw), SPEECH * 2)
    out: dict[str, Path] = {"raw": raw}

    def make(name: str, af: str, *extra: str) -> None:
        out[name] = d / name
        ffmpeg("-i", str(raw), "-af", af, *extra, str(out[name]))

    stereo = "aresample=44100,pan=stereo|c0=c0|c1=0.9*c0"
    # Quiet: about -30 LUFS, as from a distant microphone.
    make("quiet.wav", f"{stereo},volume=-11dB")
    # Loud: peaks at -0.1 dBFS (espeak normalizes), about -18 LUFS.
    make("loud.wav", stereo)
    # Hot: compressed and pushed to about -11 LUFS with peaks clipping at 0 dBFS: needs cutting.
    make("hot.wav", f"{stereo},acompressor=threshold=-30dB:ratio=8:makeup=8,volume=4dB,alimiter=limit=0.999:level=false")
    make("mono.wav", "aresample=44100,volume=-4dB")
    make("stereo48k.flac", "aresample=48000,pan=stereo|c0=c0|c1=0.8*c0,volume=-6dB")
    make("speech.mp3", f"{stereo},volume=-8dB", "-c:a", "libmp3lame", "-b:a", "96k")
    out["video.mp4"] = d / "video.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15", "-i", str(raw), "-shortest",
           "-af", "aresample=48000,pan=stereo|c0=c0|c1=c0,volume=-10dB",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
           str(out["video.mp4"]))
    return out


@pytest.fixture()
def sample_show(tmp_path) -> Path:
    """A private copy of the repository's sample show, not built."""
    return copy_show(ROOT, tmp_path / "show")


@pytest.fixture(scope="session")
def built_template(tmp_path_factory) -> tuple[Path, dict]:
    """The sample show built once per session (two jobs), and the first build's report."""
    show = copy_show(ROOT, tmp_path_factory.mktemp("template") / "show")
    code, report = build_json(show, "--jobs", "2")
    assert code == 0, report
    return show, report


@pytest.fixture()
def built_show(built_template, tmp_path) -> Path:
    """A private copy of the built sample show (state, feed, transcripts, index and all)."""
    return copy_show(built_template[0], tmp_path / "show")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (each test opens its own pages in it); a test that
    needs a clean slate clears the site's storage itself."""
    import shutil

    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("needs Debian's chromium and chromium-driver (.ci/run installs them)")
    from test_serve import _chromium

    driver = _chromium()
    yield driver
    driver.quit()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under MEDIA_TOOL_STRICT_TESTS=1 (CI) a skip is a failure that says what is missing: a machine
    that lacks a dependency must not pass the tests that need it."""
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under MEDIA_TOOL_STRICT_TESTS=1 (CI installs everything): {reason}"


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(SESSION_CACHE, ignore_errors=True)
