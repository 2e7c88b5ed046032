"""`media-tool build --ray`: the model stages on a real Ray head (started in a network namespace of the
test's own, loopback only), against a local build of the same show.

One cluster build is interrupted twice: its driver is killed with -9 after the first episode's
translation is kept, and on the re-run its model worker is killed while it translates. The outputs
must still equal the local build's, nothing finished is redone, and the driver never loads a model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import RayHead, cli, model_cache_without_translations, small_show

pytestmark = pytest.mark.slow

WHY_NOT = RayHead.usable()
EPISODES = [("ep-1-en", "en", 12.0), ("ep-2-zh", "zh", 10.0)]
DRIVER = ("import atexit, json, runpy, sys\n"
          "out = sys.argv.pop(1)\n"
          "peak = lambda: int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024\n"
          "atexit.register(lambda: open(out, 'w').write(json.dumps({'peak_mb': peak(), 'ray': 'ray' in sys.modules})))\n"
          "sys.argv[0] = 'media-tool'\n"
          "runpy.run_module('media_tool', run_name='__main__')\n")
"""`media-tool ARGS`, writing at exit the process's own peak memory (VmHWM: since it started, not what
the forking test process held, which ru_maxrss would count) and whether it imported Ray."""


def cluster_show(dest: Path) -> Path:
    """The test's show: its Mandarin episode names two people, so its speaker turns are looked for too."""
    show = small_show(dest, EPISODES)
    with open(show / "episodes" / EPISODES[1][0] / "episode.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[people]]\nname = "李华"\nrole = "host"\n\n[[people]]\nname = "王芳"\nrole = "guest"\n')
    return show


def driver(show: Path, facts: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", DRIVER, str(facts), "build", "--show", str(show), "--json", *args]


def published(show: Path) -> dict[str, bytes]:
    """Every transcript file, and the feeds without their build date."""
    out = {str(p.relative_to(show)): p.read_bytes() for p in sorted((show / "transcripts").rglob("*")) if p.is_file()}
    for feed in sorted((show / "feed").glob("feed*.xml")):
        out[feed.name] = b"\n".join(line for line in feed.read_bytes().splitlines() if b"lastBuildDate" not in line)
    return out


def keys(show: Path) -> dict:
    state = json.loads((show / ".media-tool" / "state.json").read_text())
    return {(slug, stage): rec["key"] for slug, stages in state["episodes"].items() for stage, rec in stages.items()}


def done_stages(show: Path) -> set[tuple[str, str]]:
    path = show / ".media-tool" / "state.json"
    if not path.is_file():
        return set()
    try:
        state = json.loads(path.read_text())
    except ValueError:
        return set()
    return {(slug, stage) for slug, stages in state["episodes"].items() for stage, rec in stages.items()
            if rec.get("status") == "done"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """A model cache with the machine's models and no translations yet: both builds translate."""
    return model_cache_without_translations(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def local(tmp_path_factory, cache) -> dict:
    show = cluster_show(tmp_path_factory.mktemp("local") / "show")
    facts = show.parent / "facts.json"
    p = subprocess.run(driver(show, facts), capture_output=True, text=True, timeout=600,
                       env={**os.environ, "MEDIA_TOOL_CACHE": str(cache)})
    assert p.returncode == 0, p.stderr[-3000:]
    return {"show": show, "report": json.loads(p.stdout), "facts": json.loads(facts.read_text())}


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    """The Ray head, its workers with a model cache of their own (no translation another test made):
    the worker must really translate, to be killed while it does."""
    if WHY_NOT:
        pytest.skip(WHY_NOT)
    workers_cache = model_cache_without_translations(tmp_path_factory.mktemp("workers-cache"))
    h = RayHead(cpus=2, env={"MEDIA_TOOL_CACHE": str(workers_cache)})
    yield h
    h.stop()


@pytest.fixture(scope="module")
def on_cluster(tmp_path_factory, head, cache, local) -> dict:
    """The same show built with --ray: driver killed -9 once, then a model worker killed once."""
    show = cluster_show(tmp_path_factory.mktemp("ray") / "show")
    env = {"MEDIA_TOOL_CACHE": str(tmp_path_factory.mktemp("ray-cache"))}  # the driver loads no model
    first = (EPISODES[0][0], "translate")
    p = head.popen(driver(show, show.parent / "killed.json", "--ray", head.address), env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while first not in done_stages(show) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert p.poll() is None, f"the build ended before it could be killed: {p.stderr.read()[-2000:]}"
    p.send_signal(signal.SIGKILL)
    p.wait()
    kept = done_stages(show)

    killed: list[int] = []

    def kill_translating_worker():  # the worker's process is titled by the call it runs
        while not killed and time.monotonic() < deadline:
            found = subprocess.run(["pgrep", "-f", "ray::ModelWorker.translate"], capture_output=True, text=True)
            pids = [int(x) for x in found.stdout.split()]
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_translating_worker, daemon=True)
    watcher.start()
    facts = show.parent / "facts.json"
    p = head.popen(driver(show, facts, "--ray", head.address), env=env, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=600)
    killed.append(0)  # stops the watcher if it found nothing
    watcher.join()
    assert p.returncode == 0, err[-3000:]
    return {"show": show, "kept": kept, "report": json.loads(out), "facts": json.loads(facts.read_text()),
            "killed": killed[:-1], "env": env}


def test_a_cluster_build_publishes_what_a_local_build_does(local, on_cluster):
    assert published(on_cluster["show"]) == published(local["show"])
    assert keys(on_cluster["show"]) == keys(local["show"])  # the same cache keys: either build's records serve


def test_the_model_stages_ran_on_the_workers_and_the_driver_loaded_no_model(local, on_cluster):
    stages = {(e["slug"], k): v for e in on_cluster["report"]["episodes"] for k, v in e["stages"].items()}
    ran = {k: v["where"] for k, v in stages.items() if v["status"] == "done"}
    assert ran[(EPISODES[1][0], "transcribe")].startswith("ray:127.0.0.1")
    assert ran[(EPISODES[1][0], "translate")].startswith("ray:127.0.0.1")
    assert ran[(EPISODES[1][0], "speakers")].startswith("ray:127.0.0.1")  # the voice encoder too
    assert ran[(EPISODES[1][0], "normalize")] == "here"  # ffmpeg work stays with the show folder
    assert on_cluster["facts"]["ray"] and not local["facts"]["ray"]  # no Ray without --ray
    assert on_cluster["facts"]["peak_mb"] < 500, on_cluster["facts"]
    assert local["facts"]["peak_mb"] > 1000, local["facts"]  # the local driver did hold the models


def test_a_killed_driver_resumes_without_redoing_finished_stages(on_cluster):
    kept = on_cluster["kept"]
    assert (EPISODES[0][0], "translate") in kept
    statuses = {(e["slug"], k): v["status"] for e in on_cluster["report"]["episodes"] for k, v in e["stages"].items()}
    assert {k for k, s in statuses.items() if s == "skipped"} == kept
    assert all(statuses[k] == "done" for k in statuses if k not in kept)


def test_a_killed_worker_is_retried_and_the_build_goes_on(on_cluster):
    assert on_cluster["killed"], "no worker was seen translating"
    assert not any(e["failed"] for e in on_cluster["report"]["episodes"])


def test_a_no_op_rebuild_on_the_cluster_starts_no_worker(head, on_cluster):
    show = on_cluster["show"]
    facts = show.parent / "noop.json"
    p = head.popen(driver(show, facts, "--ray", head.address), env=on_cluster["env"], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err[-2000:]
    report = json.loads(out)
    assert {s["status"] for e in report["episodes"] for s in e["stages"].values()} == {"skipped"}
    assert report["cluster"] == {"address": head.address, "workers": 1, "started": False}


def test_an_address_where_no_head_listens_fails_in_one_line(tmp_path, head):
    show = small_show(tmp_path / "show", EPISODES[:1])
    p = head.popen([sys.executable, "-m", "media_tool", "build", "--show", str(show), "--ray", "127.0.0.1:1"],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=60)
    lines = [line for line in err.splitlines() if line.strip()]
    assert p.returncode == 1 and len(lines) == 1, err
    assert "--ray 127.0.0.1:1: no Ray head answers there" in lines[0]
    assert not (show / "feed").exists()


def test_a_malformed_address_is_a_usage_error(tmp_path):
    show = small_show(tmp_path / "show", EPISODES[:1])
    p = cli("build", "--show", str(show), "--ray", "nowhere")
    assert p.returncode == 2 and "--ray: expected HOST:PORT" in p.stderr, p.stderr
