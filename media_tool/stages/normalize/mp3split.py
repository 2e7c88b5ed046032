"""Encoding one MP3 on several cores: the pure part (where to cut, which frames to keep).

LAME is single-threaded and is the slowest step of a publish, so a long programme is cut at
MP3 frame boundaries into chunks encoded at once. Each chunk after the first starts a
second early (pre-roll) so its encoder and limiter have settled, and its pre-roll frames
are dropped; every encoder has the same delay, so with chunk starts on 1152-sample
multiples the kept frames line up exactly. Encoders run without the bit reservoir, so a
frame never borrows bytes from a frame that belonged to another chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

FRAME = 1152          # samples per MPEG-1 Layer III frame
PREROLL_FRAMES = 40   # about 1 s at 44.1 kHz: the limiter and the psychoacoustic model settle
POSTROLL_FRAMES = 4   # a chunk runs a little past its end so its last kept frame is whole
MIN_CHUNK_FRAMES = 2000  # about 52 s: shorter chunks are not worth a second process


@dataclass(frozen=True)
class Chunk:
    """One encoder's share: programme samples [lo, hi) in, frames [first, first+count) kept."""

    lo: int
    hi: int
    first: int
    count: int | None  # None: keep to the end


def plan_chunks(total: int, region: tuple[int, int], n: int) -> list[Chunk]:
    """Cut `total` programme samples into up to `n` chunks whose joins fall inside `region`.

    `region` is where cutting is allowed (the speech, not a jingle). Returns one chunk
    (the whole programme) when it is too short to be worth splitting.
    """
    n = max(1, min(n, total // (FRAME * MIN_CHUNK_FRAMES)))
    lo_ok = region[0] + (PREROLL_FRAMES + 1) * FRAME
    hi_ok = region[1] - (POSTROLL_FRAMES + 1) * FRAME
    cuts = []
    for k in range(1, n):
        b = round(k * total / n / FRAME) * FRAME
        if lo_ok <= b <= hi_ok and (not cuts or b - cuts[-1] >= FRAME * MIN_CHUNK_FRAMES // 2):
            cuts.append(b)
    bounds = [0, *cuts, total]
    chunks = []
    for k in range(len(bounds) - 1):
        start, end = bounds[k], bounds[k + 1]
        last = k == len(bounds) - 2
        lo = start - (PREROLL_FRAMES * FRAME if k else 0)
        hi = total if last else end + POSTROLL_FRAMES * FRAME
        chunks.append(Chunk(lo=lo, hi=hi, first=(start - lo) // FRAME,
                            count=None if last else (end - start) // FRAME))
    return chunks


_BITRATES = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
_RATES = [44100, 48000, 32000]


def frame_length(header: bytes) -> int:
    """Bytes in the MPEG-1 Layer III frame starting with `header`, or 0 if it is not one."""
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xFE) != 0xFA:
        return 0
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if bitrate_index in (0, 15) or rate_index == 3:
        return 0
    padding = (header[2] >> 1) & 1
    return 144 * _BITRATES[bitrate_index] * 1000 // _RATES[rate_index] + padding


class FrameCutter:
    """Fed an encoder's raw MP3 bytes in any pieces, returns only the frames in [first, first+count)."""

    def __init__(self, first: int, count: int | None):
        self.first, self.count = first, count
        self.index = 0
        self.kept = 0
        self._buf = bytearray()

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        pos = 0
        while len(self._buf) - pos >= 4:
            size = frame_length(bytes(self._buf[pos:pos + 4]))
            if size == 0:
                raise ValueError(f"lost MP3 frame sync at frame {self.index}")
            if len(self._buf) - pos < size:
                break
            if self.index >= self.first and (self.count is None or self.kept < self.count):
                out += self._buf[pos:pos + size]
                self.kept += 1
            self.index += 1
            pos += size
        del self._buf[:pos]
        return bytes(out)

    def finish(self) -> None:
        if self._buf:
            raise ValueError(f"{len(self._buf)} trailing bytes after the last MP3 frame")
        if self.count is not None and self.kept != self.count:
            raise ValueError(f"chunk produced {self.kept} of {self.count} frames")


ENCODER_DELAY = 576
"""Samples LAME puts before the audio; the Info frame tells gapless decoders to drop them."""


def crc16_arc(data: bytes) -> int:
    """CRC-16/ARC (polynomial 0xA001 reflected), the checksum of LAME's Info tag."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def set_gapless(mp3: bytearray, samples: int) -> bool:
    """Write encoder delay and padding into the file's LAME Info tag (fixing its CRC).

    A stream copy of joined chunks gets an Info frame without them; with them, players
    drop the encoder's padding and the file has exactly `samples` samples, as one encode does.
    """
    start = 0
    if mp3[:3] == b"ID3":
        start = 10 + ((mp3[6] << 21) | (mp3[7] << 14) | (mp3[8] << 7) | mp3[9])
    size = frame_length(bytes(mp3[start:start + 4]))
    frame = mp3[start:start + size]
    at = max(frame.find(b"Info"), frame.find(b"Xing"))
    if size == 0 or at < 0 or len(frame) < at + 156:
        return False
    frames = int.from_bytes(frame[at + 8:at + 12], "big")
    padding = frames * FRAME - ENCODER_DELAY - samples
    if not 0 <= padding < 4096:
        return False
    lame = start + at + 120
    mp3[lame + 21:lame + 24] = ((ENCODER_DELAY << 12) | padding).to_bytes(3, "big")
    crc_at = lame + 34
    mp3[crc_at:crc_at + 2] = crc16_arc(bytes(mp3[start:crc_at])).to_bytes(2, "big")
    return True
