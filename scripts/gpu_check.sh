#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and media-tool installed (pip install -e ".[ray]"): one transcription,
# one translation and the search embeddings of 20 000 lines on CUDA, each also on the CPU, with their
# speeds, as a GPU worker would run them (and the embeddings' agreement across the two devices).
#   bash scripts/gpu_check.sh            (uses .venv/bin/python when there is one)
set -euo pipefail
cd "$(dirname "$0")/.."
py=python3
[ -x .venv/bin/python ] && py=.venv/bin/python
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
exec "$py" - <<'PY'
import time
from pathlib import Path

import ctranslate2

from media_tool.engines import e5, llm
from media_tool.engines.models import user_cache
from media_tool.engines.translators import LocalTranslator
from media_tool.engines.translation import segment_requests
from media_tool.engines.whisper import load_engine
from media_tool.media.audio import SAMPLE_RATE, decode_audio, speech_regions
from media_tool.media.ffmpeg import FFmpeg
from media_tool.model.glossary import Glossary

gpus = ctranslate2.get_cuda_device_count()
print(f"CTranslate2 {ctranslate2.__version__}: {gpus} CUDA device(s)")
if not gpus:
    raise SystemExit("no CUDA device: nothing to check")
audio = decode_audio(Path("tests/fixtures/mandarin-long.opus"), FFmpeg.discover())
speech, seconds = speech_regions(audio), len(audio) / SAMPLE_RATE
texts = [line for line in Path("tests/fixtures/english.txt").read_text().split(".") if line.strip()][:16]
requests = segment_requests([t.strip() + "." for t in texts], "en", "zh", Glossary())
lines = [t.strip() for t in texts] * 1250
vectors = {}
for device in ("cuda", "cpu"):
    t0 = time.monotonic()
    engine = load_engine("faster-whisper", "base", user_cache(), device=device)
    loaded = time.monotonic() - t0
    t0 = time.monotonic()
    run = engine.run(audio, language="zh", task="transcribe", prompt=None, speech=speech)
    took = time.monotonic() - t0
    print(f"whisper base on {device}: load {loaded:.1f} s, {seconds:.0f} s of Mandarin in {took:.2f} s "
          f"(realtime factor {took / seconds:.3f}), {len(run.segments)} segments: {run.segments[0].text[:30]}")
    t0 = time.monotonic()
    translator = LocalTranslator(llm.LocalModel(llm.model_dir(user_cache()), device=device))
    loaded = time.monotonic() - t0
    t0 = time.monotonic()
    out = translator.translate_requests(requests)
    took = time.monotonic() - t0
    print(f"translation model on {device}: load {loaded:.1f} s, {len(requests)} English sentences into Chinese in "
          f"{took:.2f} s ({len(requests) / took:.1f} sentences/s): {out[0][:30]}")
    embedder = e5.E5(user_cache(), device=device)
    t0 = time.monotonic()
    vectors[device] = embedder.passage(lines[:2000] if device == "cpu" else lines)
    took = time.monotonic() - t0
    n = len(vectors[device])
    print(f"embeddings on {device}: {n} lines in {took:.2f} s ({n / took:.0f} lines/s)")
cos = (vectors["cuda"][:2000] * vectors["cpu"]).sum(axis=1)
print(f"embeddings, cuda against cpu: cosine min {cos.min():.4f}, mean {cos.mean():.4f} (want > 0.99)")
PY
