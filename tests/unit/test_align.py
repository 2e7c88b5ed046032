"""Aligning another timeline's words onto a transcript's segments (`align_by_time`): the bisecting
search must choose exactly what the definition chooses, on timelines with gaps and overlaps."""

from __future__ import annotations

import random

from media_tool.text.transcripts import Segment, Transcript, _pieces, align_by_time


def by_definition(source: Transcript, other: list[Segment]) -> list[str]:
    """Each word to the segment spoken at its moment whose middle is nearest; in a pause, to the
    segment its cue overlaps longest; if the cue overlaps none, the nearest middle (ties: earlier)."""
    texts: list[list[str]] = [[] for _ in source.segments]
    segs = source.segments
    mids = [(s.start + s.end) / 2 for s in segs]
    for seg in other:
        words = _pieces(seg.text)
        overlap = [min(seg.end, s.end) - max(seg.start, s.start) for s in segs]
        for k, word in enumerate(words):
            t = seg.start + (seg.end - seg.start) * (k + 0.5) / max(1, len(words))
            spoken = [i for i, s in enumerate(segs) if s.start <= t <= s.end]
            if spoken:
                best = min(spoken, key=lambda i: (abs(mids[i] - t), i))
            elif max(overlap) > 0:
                best = min(range(len(segs)), key=lambda i: (-overlap[i], i))
            else:
                best = min(range(len(segs)), key=lambda i: (abs(mids[i] - t), i))
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


def test_a_cue_that_starts_in_a_pause_keeps_its_first_word():
    """A person's cue begins a breath before the turn it translates: its first word, spoken (by
    proportion) in the pause nearer the previous turn's middle, still belongs to its own turn."""
    source = Transcript("zh", (Segment(16.8, 19.14, "长期护理保险是怎么运作的？"),
                               Segment(20.02, 27.86, "Workers and employers pay a small contribution.")))
    other = [Segment(16.75, 19.2, "How does long-term care insurance work?"),
             Segment(19.8, 27.9, "Workers and employers pay a small contribution, and people who need help "
                                 "every day receive care at home or in a care centre.")]
    got = [s.text for s in align_by_time(source, other, "en", "human").segments]
    assert got == [other[0].text, other[1].text]
