"""A back catalogue built on this machine and on a Ray head with the same CPUs: Ray's overhead.

A synthetic catalogue (default 8 episodes of 2 minutes, English and Mandarin alternating, cut from the
committed speech fixtures) is built twice from scratch: once locally, once from a copy with
`--ray` against a real head started with `--num-cpus` equal to this machine's cores, on loopback in a
private network namespace (root; see ENVIRONMENT.md). Each build has its own empty translation cache
(the models are shared). Then a no-op rebuild on the cluster. Prints the wall times, the ratio, and
the drivers' peak memory. Target: ratio <= 1.15, no-op rebuild under 5 s, cluster driver under 500 MB.

Usage: python scripts/bench_cluster.py [--episodes 8] [--seconds 120] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import RayHead, small_show  # noqa: E402

PEAK = ("import atexit, json, runpy, sys\nout = sys.argv.pop(1)\n"
        "atexit.register(lambda: open(out, 'w').write(json.dumps(int(open('/proc/self/status').read()"
        ".split('VmHWM:')[1].split()[0]) / 1024)))\nsys.argv[0] = 'media-tool'\nrunpy.run_module('media_tool', run_name='__main__')\n")


def timed(cmd: list[str], env: dict, popen=None) -> float:
    t0 = time.monotonic()
    p = (popen or subprocess.Popen)(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    if p.returncode != 0:
        sys.exit(f"build failed ({p.returncode}): {err[-2000:]}")
    report = json.loads(out)
    if any(e["failed"] for e in report["episodes"]):
        sys.exit(f"an episode failed: {[e['error'] for e in report['episodes'] if e['failed']]}")
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--keep", type=Path, help="leave the two built shows here")
    args = ap.parse_args()
    if why := RayHead.usable():
        sys.exit(why)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-cluster-"))
    episodes = [(f"ep-{i:02d}-{'zh' if i % 2 == 0 else 'en'}", "zh" if i % 2 == 0 else "en", args.seconds)
                for i in range(1, args.episodes + 1)]
    models = Path(os.environ.get("MEDIA_TOOL_CACHE") or Path.home() / ".cache" / "media-tool") / "models"
    shows, envs = {}, {}
    for kind in ("local", "ray"):
        shows[kind] = small_show(work / kind / "show", episodes)
        cache = work / kind / "cache"
        cache.mkdir()
        if models.is_dir():
            (cache / "models").symlink_to(models)
        envs[kind] = {**os.environ, "MEDIA_TOOL_CACHE": str(cache), "RAY_USAGE_STATS_ENABLED": "0"}
    cpus = os.cpu_count() or 1
    print(f"{args.episodes} episodes of {args.seconds:g} s, {cpus} CPUs, in {work}")
    peak = {k: work / k / "peak.json" for k in shows}
    build = [sys.executable, "-c", PEAK]
    local_s = timed(build + [str(peak["local"]), "build", "--show", str(shows["local"]), "--json"], envs["local"])
    print(f"local build:         {local_s:7.1f} s, driver peak {json.loads(peak['local'].read_text()):.0f} MB")
    head = RayHead(cpus=cpus)
    try:
        cmd = build + [str(peak["ray"]), "build", "--show", str(shows["ray"]), "--json", "--ray", head.address]
        ray_s = timed(cmd, envs["ray"], head.popen)
        print(f"cluster build:       {ray_s:7.1f} s, driver peak {json.loads(peak['ray'].read_text()):.0f} MB")
        noop_s = timed(cmd, envs["ray"], head.popen)
        print(f"no-op rebuild (ray): {noop_s:7.1f} s (target < 5 s)")
    finally:
        head.stop()
    same = all((shows["local"] / p.relative_to(shows["ray"])).read_bytes() == p.read_bytes()
               for p in (shows["ray"] / "transcripts").rglob("*") if p.is_file())
    print(f"ratio cluster/local: {ray_s / local_s:7.2f} (target <= 1.15); transcripts identical: {same}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
