"""Loudness solving and metering arithmetic (pure): the gain with a limiter, trimming, BS.1770 gating."""

from __future__ import annotations

import math

import pytest

from media_tool.media import loudness


# -- loudness --------------------------------------------------------------------------------------
def test_solve_gain_linear_and_limited():
    # Below the limiter, loudness follows gain one for one.
    assert loudness.solve_gain([(10.0, -20.0)], -16.0, 40.0) == pytest.approx(14.0)
    # A secant through the two points nearest the target.
    assert loudness.solve_gain([(10.0, -17.0), (12.0, -16.0), (20.0, -13.0)], -15.5, 40.0) == pytest.approx(13.0)
    # Never past the maximum gain; a flat curve stops at the larger measured gain.
    assert loudness.solve_gain([(0.0, -50.0)], -16.0, 20.0) == 20.0
    assert loudness.solve_gain([(10.0, -17.0), (12.0, -16.99)], -16.0, 40.0) == 12.0


def test_plan_trim_keeps_air_and_refuses_to_trim_to_nothing():
    assert loudness.plan_trim([(0.0, 2.0), (58.0, None)], 60.0) == (1.75, 58.25)
    assert loudness.plan_trim([(10.0, 11.0)], 60.0) == (0.0, 60.0)  # silence only in the middle
    assert loudness.plan_trim([(0.0, 59.6)], 60.0) == (0.0, 60.0)    # nearly all silence


def test_integrated_from_blocks_gates_like_bs1770():
    assert loudness.integrated_from_blocks([-20.0] * 50) == pytest.approx(-20.0)
    # Blocks under the absolute gate (-70) and more than 10 LU under the mean are left out.
    assert loudness.integrated_from_blocks([-20.0] * 50 + [-80.0] * 50 + [-40.0] * 50) == pytest.approx(-20.0)
    # Two levels within 10 LU: the power mean, not the arithmetic mean.
    expected = 10 * math.log10((10 ** (-2.0) + 10 ** (-2.6)) / 2)
    assert loudness.integrated_from_blocks([-20.0, -26.0] * 20) == pytest.approx(expected)
    assert loudness.integrated_from_blocks([-90.0] * 10) == loudness.SILENT_LUFS



def test_an_output_still_off_its_target_is_reported():
    """An M4A at -19.4 LUFS against -19 (mono) after the last encode is said, the MP3 on target is not."""
    from media_tool.stages.normalize.core import misses

    level = loudness.Loudness(-19.0, 5.0, -2.0, "true")
    files = [loudness.FileLoudness("a.mp3", "mp3", -19.05, 5.0, -1.6),
             loudness.FileLoudness("a.m4a", "m4a", -19.4, 5.0, -1.5),
             loudness.FileLoudness("a.mp4", "mp4", -18.9, 5.0, -0.7)]
    report = loudness.LoudnessReport(level, level, -19.0, -1.0, 3.0, 0.1, 1, 10.0, 10.0, None, 3, 1.0, files)
    said = misses(report)
    assert said == ("M4A is at -19.4 LUFS, 0.4 LU below the target -19 after 3 encodes",
                    "MP4 peaks at -0.7 dBTP, over the limit -1")
