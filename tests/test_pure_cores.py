"""Unit tests of pure cores with no media: MP3 chunk planning and frame cutting, the gapless
header, loudness gain solving, trim planning and block integration, chapter spans, ffmetadata."""

from __future__ import annotations

import math

import pytest

from media_tool import loudness, mp3split
from media_tool.stages.tag import chapter_spans, ffmetadata

FRAME = mp3split.FRAME


# -- mp3split ------------------------------------------------------------------------------------
def test_short_programme_is_one_chunk():
    total = FRAME * (mp3split.MIN_CHUNK_FRAMES - 1)
    assert mp3split.plan_chunks(total, (0, total), 4) == [mp3split.Chunk(0, total, 0, None)]


def test_chunks_tile_the_programme_on_frame_boundaries():
    total = FRAME * 9000 + 517  # not a whole number of frames
    chunks = mp3split.plan_chunks(total, (0, total), 3)
    assert len(chunks) == 3
    assert chunks[0].lo == 0 and chunks[-1].hi == total and chunks[-1].count is None
    kept_start = 0
    for c in chunks:
        start = c.lo + c.first * FRAME  # first kept sample of this chunk
        assert start == kept_start and start % FRAME == 0
        if c.count is not None:
            kept_start = start + c.count * FRAME
            assert c.hi == kept_start + mp3split.POSTROLL_FRAMES * FRAME  # runs past its end
        if c.lo:
            assert c.first == mp3split.PREROLL_FRAMES  # a second of pre-roll, dropped
    assert sum(c.count for c in chunks[:-1]) * FRAME < total


def test_cuts_stay_inside_the_allowed_region():
    total = FRAME * 12000
    region = (FRAME * 7000, total)  # e.g. a long intro jingle: no cut before sample 7000*1152
    chunks = mp3split.plan_chunks(total, region, 4)
    for c in chunks[1:]:
        assert c.lo + c.first * FRAME >= region[0] + (mp3split.PREROLL_FRAMES + 1) * FRAME


def _frame(bitrate_index: int = 9, padding: int = 0, fill: int = 0) -> bytes:
    """A syntactically valid MPEG-1 Layer III frame (128 kb/s, 44.1 kHz by default)."""
    header = bytes([0xFF, 0xFB, (bitrate_index << 4) | (padding << 1), 0xC4])
    size = mp3split.frame_length(header)
    return header + bytes([fill]) * (size - 4)


def test_frame_length_follows_the_header():
    assert mp3split.frame_length(_frame()[:4]) == 417
    assert mp3split.frame_length(_frame(padding=1)[:4]) == 418
    assert mp3split.frame_length(b"ID3\x03") == 0
    assert mp3split.frame_length(bytes([0xFF, 0xFB, 0xF0, 0])) == 0  # bad bit rate index


def test_frame_cutter_keeps_the_asked_frames_from_any_pieces():
    frames = [_frame(fill=i) for i in range(10)]
    data = b"".join(frames)
    cutter = mp3split.FrameCutter(first=3, count=4)
    out = b"".join(cutter.feed(data[i:i + 100]) for i in range(0, len(data), 100))
    cutter.finish()
    assert out == b"".join(frames[3:7])


def test_frame_cutter_refuses_damage():
    cutter = mp3split.FrameCutter(0, None)
    with pytest.raises(ValueError, match="frame sync"):
        cutter.feed(_frame() + b"\x00\x01\x02\x03")
    short = mp3split.FrameCutter(0, 5)
    short.feed(_frame() * 2)
    with pytest.raises(ValueError, match="2 of 5"):
        short.finish()
    tail = mp3split.FrameCutter(0, None)
    tail.feed(_frame() + _frame()[:10])
    with pytest.raises(ValueError, match="trailing"):
        tail.finish()


def test_crc16_arc_check_value():
    assert mp3split.crc16_arc(b"123456789") == 0xBB3D  # the catalogue's check value for CRC-16/ARC


def _info_frame(frames: int) -> bytearray:
    """An Info frame as LAME writes it: tag at offset 36, frame count, LAME extension at +120."""
    f = bytearray(_frame())
    f[36:40] = b"Info"
    f[40:44] = (0x0F).to_bytes(4, "big")
    f[44:48] = frames.to_bytes(4, "big")
    f[36 + 120:36 + 124] = b"LAME"
    return f


def test_set_gapless_writes_delay_padding_and_crc():
    samples = 100 * FRAME - mp3split.ENCODER_DELAY - 300
    mp3 = _info_frame(100) + bytearray(_frame())
    assert mp3split.set_gapless(mp3, samples)
    lame = 36 + 120
    word = int.from_bytes(mp3[lame + 21:lame + 24], "big")
    assert word >> 12 == mp3split.ENCODER_DELAY and word & 0xFFF == 300
    assert int.from_bytes(mp3[lame + 34:lame + 36], "big") == mp3split.crc16_arc(bytes(mp3[:lame + 34]))


def test_set_gapless_skips_an_id3_tag_and_refuses_nonsense():
    tag = bytearray(b"ID3\x03\x00\x00\x00\x00\x00\x05") + bytearray(5)
    mp3 = tag + _info_frame(10)
    assert mp3split.set_gapless(mp3, 10 * FRAME - mp3split.ENCODER_DELAY - 10)
    assert not mp3split.set_gapless(_info_frame(10), 20 * FRAME)  # more samples than frames hold
    assert not mp3split.set_gapless(bytearray(_frame()), 100)  # no Info tag


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


# -- tag ----------------------------------------------------------------------------------------------
def test_chapter_spans_end_where_the_next_begins():
    assert chapter_spans([(0.0, "A"), (30.0, "B"), (90.0, "C")], 120.0) == (
        (0.0, 30.0, "A"), (30.0, 90.0, "B"), (90.0, 120.0, "C"))
    # A chapter starting past the end is dropped; one running past it is cut at the end.
    assert chapter_spans([(0.0, "A"), (50.0, "B"), (200.0, "C")], 100.0) == ((0.0, 50.0, "A"), (50.0, 100.0, "B"))


def test_ffmetadata_escapes_and_uses_milliseconds():
    text = ffmetadata(((0.0, 61.5, "Intro; a=b #1"), (61.5, 70.0, "Back\\slash")))
    assert text.splitlines() == [";FFMETADATA1", "[CHAPTER]", "TIMEBASE=1/1000", "START=0", "END=61500",
                                 "title=Intro\\; a\\=b \\#1", "[CHAPTER]", "TIMEBASE=1/1000", "START=61500",
                                 "END=70000", "title=Back\\\\slash"]
