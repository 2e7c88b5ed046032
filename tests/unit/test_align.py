"""Aligning another timeline's words onto a transcript's segments (`align_by_time`): the bisecting
search must choose exactly what the definition chooses, on timelines with gaps and overlaps."""

from __future__ import annotations

import random

from media_tool.text.transcripts import Segment, Transcript, _pieces, align_by_time


def by_definition(source: Transcript, other: list[Segment]) -> list[str]:
    """Each word to the segment spoken at its moment whose middle is nearest, else the nearest middle."""
    texts: list[list[str]] = [[] for _ in source.segments]
    mids = [(s.start + s.end) / 2 for s in source.segments]
    for seg in other:
        words = _pieces(seg.text)
        for k, word in enumerate(words):
            t = seg.start + (seg.end - seg.start) * (k + 0.5) / max(1, len(words))
            best = min(range(len(source.segments)), key=lambda i: (
                0 if source.segments[i].start <= t <= source.segments[i].end else 1, abs(mids[i] - t)))
            texts[best].append(word)
    return [" ".join(w) for w in texts]


def test_alignment_chooses_what_the_definition_chooses():
    rng = random.Random(3)
    for _ in range(400):
        t, segs = 0.0, []
        for _ in range(rng.randint(1, 30)):  # gaps, touching and overlapping segments, long ones
            t += rng.choice([0, 0.5, 1, 2, 3])
            segs.append(Segment(t, t + rng.choice([0.5, 1, 2, 4, 8]), "x"))
        u, other = 0.0, []
        for i in range(rng.randint(1, 20)):
            u += rng.choice([0, 1, 2])
            other.append(Segment(u, u + rng.choice([1, 2, 5]), " ".join(f"w{i}_{k}" for k in range(rng.randint(1, 6)))))
        source = Transcript("en", tuple(segs))
        assert [s.text for s in align_by_time(source, other, "zh", "test").segments] == by_definition(source, other)
