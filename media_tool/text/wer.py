"""Text normalised the usual way before a word error rate (benchmarks and tests measure with it)."""

from __future__ import annotations

import re


def normalize_for_wer(text: str) -> str:
    """Lower case, no punctuation, numbers as written: the usual text normalization before WER."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())
