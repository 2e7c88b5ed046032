"""media-tool: raw recordings in, a published bilingual podcast out."""

import os

__version__ = "0.1.0"

# CTranslate2 (Whisper and the translation model) on an Intel CPU defaults to MKL, which packs every
# int8 weight at load while the unpacked copy is still held: the translation model's load peaks at
# 3.0 GB, then settles at 1.76 GB. oneDNN loads it in 1.53 GB, no peak. Measured with
# `scripts/bench_translate.py --minutes 2` (1 run each): transcribe + translate peak 4025 -> 2507 MB,
# realtime factor 0.44 -> 0.49; Whisper alone 26.9 -> 23.3 s. Set before CTranslate2 first runs;
# CT2_USE_MKL=1 in the environment chooses MKL again.
os.environ.setdefault("CT2_USE_MKL", "0")
