"""MP3 splitting for parallel LAME: chunk plans, frame cutting, the gapless header (pure)."""

from __future__ import annotations

import pytest

from media_tool.stages.normalize import mp3split

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

