"""The speaker leveler's pure core: its meter against pyloudnorm, the gains it plans and the envelope
that carries them (pauses untouched, ramps, limits)."""

from __future__ import annotations

import numpy as np
import pyloudnorm

from media_tool.stages.normalize import leveler

RATE = 16000


def tone(seconds: float, db: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (10 ** (db / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_the_meter_is_bs1770_at_16_khz():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(10 * RATE) * 0.05).astype(np.float32) * np.repeat(rng.uniform(0.2, 1, 100), RATE // 10)
    ours = leveler.gated_lufs(leveler.block_powers(leveler.k_weighted(x), [(0, 10)]))
    assert abs(ours - pyloudnorm.Meter(RATE).integrated_loudness(x.astype(np.float64))) <= 0.2


def test_voices_meet_at_the_level_of_all_speech_and_pauses_keep_0_db():
    a, b, pause = tone(6, -20, 300), tone(6, -32, 500), np.zeros(2 * RATE, np.float32)
    x = np.concatenate([a, pause, b, pause, a])
    turns = ((0, 6, "A"), (8, 14, "B"), (16, 22, "A"))
    regions = ((0, 6), (8, 14), (16, 22))
    levels = leveler.plan(x, regions, turns)
    gains = {v.name: v.gain_db for v in levels.voices}
    measured = {v.name: v.before_lufs for v in levels.voices}
    assert abs((measured["A"] - measured["B"]) - 12) <= 0.5
    assert abs((measured["A"] + gains["A"]) - (measured["B"] + gains["B"])) <= 0.1
    assert abs(gains["A"]) <= 0.5 < gains["B"]  # 12 dB apart: the relative gate hears the host alone
    env, scale = leveler.envelope(levels, 22.0)
    db = 20 * np.log10(env) - scale  # the gain each moment gets, before the scale
    ms = lambda s: int(s * leveler.ENVELOPE_RATE)  # noqa: E731
    assert abs(db[ms(7)]) < 1e-3 and abs(db[ms(15)]) < 1e-3  # the pauses: 0 dB
    assert abs(db[ms(11)] - gains["B"]) < 1e-3 and abs(db[ms(3)] - gains["A"]) < 1e-3
    edge = db[ms(8) - ms(0.1):ms(8) + ms(0.1)]  # a 50 ms ramp, no step
    assert np.max(np.abs(np.diff(edge))) < gains["B"] / 40 and env.max() == 1.0


def test_a_gain_has_a_limit_and_a_voice_heard_too_briefly_keeps_0_db():
    x = np.concatenate([tone(6, -10), tone(6, -60), tone(1, -40)])
    levels = leveler.plan(x, ((0, 6), (6, 12), (12, 13)), ((0, 6, "A"), (6, 12, "B"), (12, 13, "C")))
    gains = {v.name: v.gain_db for v in levels.voices}
    assert gains["B"] == leveler.MAX_GAIN_DB and gains["C"] == 0.0
    assert next(v for v in levels.voices if v.name == "C").before_lufs is None


def test_a_region_no_turn_covers_goes_to_the_nearest_voice():
    spans = leveler.voice_spans(((0.0, 5.0, "A"), (9.0, 14.0, "B")), ((0.0, 5.0), (5.6, 6.0), (9.0, 14.0)))
    assert spans["A"] == [(0.0, 5.0), (5.6, 6.0)] and spans["B"] == [(9.0, 14.0)]
