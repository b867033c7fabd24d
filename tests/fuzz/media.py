"""Bad uploads, made for real: a tiny H.264 MP4 (and its raw Annex B stream) whose sequence
parameter set is rewritten to claim another frame size, an MP4 with only audio, files of other
kinds. The SPS is re-encoded bit for bit, only its two size fields changed, so the decoder
really believes the claim and the slices that follow still parse against it."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction

import av
import numpy as np

MB = 16  # an H.264 macroblock is 16 pixels square


def tiny_clip(
    *, width: int = 64, height: int = 48, frames: int = 30, fps: int = 15, container: str = "mp4"
) -> bytes:
    """A small real H.264 clip (High profile, from libx264), in an MP4 or as a raw stream."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        ramp = np.linspace(0, 255, width, dtype=np.uint8)
        for index in range(frames):
            image = np.zeros((height, width, 3), np.uint8)
            image[..., 0] = np.roll(ramp, index)
            image[..., 1] = index * 8 % 256
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def audio_only_mp4(seconds: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as output:
        stream = output.add_stream("aac", rate=48_000)
        stream.layout = "mono"
        samples = int(48_000 * seconds)
        tone = np.sin(np.arange(samples) / 10).astype(np.float32)[None, :]
        for start in range(0, samples, 1024):
            frame = av.AudioFrame.from_ndarray(
                tone[:, start : start + 1024], format="fltp", layout="mono"
            )
            frame.sample_rate = 48_000
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def png(width: int = 8, height: int = 8) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


# H.264 bit-level rewriting ----------------------------------------------------------------------


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.bits = "".join(f"{byte:08b}" for byte in data)
        self.at = 0

    def u(self, n: int) -> int:
        value = int(self.bits[self.at : self.at + n], 2)
        self.at += n
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bits[self.at] == "0":
            zeros += 1
            self.at += 1
        return self.u(zeros + 1) - 1

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)


def _ue(value: int) -> str:
    code = f"{value + 1:b}"
    return "0" * (len(code) - 1) + code


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _escape(rbsp: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def resized_sps(nal: bytes, width: int, height: int) -> bytes:
    """The SPS NAL unit `nal` claiming `width` x `height` (multiples of 16), all else kept."""
    bits = _Bits(_unescape(nal))
    bits.u(8)  # NAL header
    profile = bits.u(8)
    bits.u(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        if bits.ue() == 3:  # chroma_format_idc
            bits.u(1)
        bits.ue(), bits.ue()  # bit depths
        bits.u(1)
        assert bits.u(1) == 0, "scaling matrices are not rewritten"
    bits.ue()  # log2_max_frame_num_minus4
    if (poc_type := bits.ue()) == 0:
        bits.ue()
    elif poc_type == 1:
        bits.u(1), bits.se(), bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue(), bits.u(1)  # max_num_ref_frames, gaps allowed
    before = bits.bits[: bits.at]
    bits.ue(), bits.ue()  # the two size fields being replaced
    after = bits.bits[bits.at :].rstrip("0")  # up to the rbsp stop bit, which is kept
    body = before + _ue(width // MB - 1) + _ue(height // MB - 1) + after
    body += "0" * (-len(body) % 8)
    return _escape(int(body, 2).to_bytes(len(body) // 8, "big"))


def annexb_claiming(width: int, height: int) -> bytes:
    """A raw H.264 stream (no container) whose SPS claims `width` x `height`."""
    stream = tiny_clip(container="h264")
    units = stream.split(b"\x00\x00\x01")
    out = []
    for unit in units:
        if unit and unit[0] & 0x1F == 7:
            trailing_zero = unit.endswith(b"\x00")
            unit = resized_sps(unit.rstrip(b"\x00"), width, height) + (
                b"\x00" if trailing_zero else b""
            )
        out.append(unit)
    return b"\x00\x00\x01".join(out)


_CONTAINERS = {b"moov": 8, b"trak": 8, b"mdia": 8, b"minf": 8, b"stbl": 8, b"stsd": 16, b"avc1": 86}


def mp4_claiming(width: int, height: int) -> bytes:
    """The tiny MP4 with its SPS, sample entry and track header all claiming `width` x
    `height` (the 16-bit box fields saturate at 65535)."""
    data = bytearray(tiny_clip())
    path = _path_to(data, b"avcC", 0, len(data), [])
    assert path, "no avcC box"
    *ancestors, avcc = path
    start = avcc + 8
    sps_length = struct.unpack(">H", data[start + 6 : start + 8])[0]
    old = bytes(data[start + 8 : start + 8 + sps_length])
    new = resized_sps(old, width, height)
    data[start + 6 : start + 8 + sps_length] = struct.pack(">H", len(new)) + new
    grow = len(new) - len(old)
    for box in [*ancestors, avcc]:
        size = struct.unpack(">I", data[box : box + 4])[0]
        data[box : box + 4] = struct.pack(">I", size + grow)
        if data[box + 4 : box + 8] == b"avc1":
            data[box + 32 : box + 36] = struct.pack(">HH", min(width, 65535), min(height, 65535))
    tkhd = data.find(b"tkhd") - 4
    data[tkhd + 84 : tkhd + 92] = struct.pack(
        ">II", min(width, 65535) << 16, min(height, 65535) << 16
    )
    assert data.find(b"mdat") < data.find(b"moov"), "chunk offsets would move"
    return bytes(data)


def _path_to(data: bytearray, kind: bytes, start: int, end: int, trail: list[int]) -> list[int]:
    at = start
    while at + 8 <= end:
        size, box = struct.unpack(">I4s", data[at : at + 8])
        if box == kind:
            return [*trail, at]
        if box in _CONTAINERS:
            found = _path_to(data, kind, at + _CONTAINERS[box], at + size, [*trail, at])
            if found:
                return found
        at += max(size, 8)
    return []


def remuxed_claiming(width: int, height: int, container: str) -> bytes:
    """The raw stream of `annexb_claiming` copied, undecoded, into another container (mpegts,
    matroska): formats that FFmpeg probes differently from MP4."""
    source = io.BytesIO(annexb_claiming(width, height))
    output = io.BytesIO()
    with (
        av.open(source, options={"max_pixels": str(64 * 64)}) as raw,
        av.open(output, "w", format=container) as out,
    ):
        video = raw.streams.video[0]
        copied = out.add_stream_from_template(video)
        frame = 0
        for packet in raw.demux(video):
            if packet.size == 0:
                continue  # the demuxer's final empty packet
            packet.stream = copied
            packet.time_base = Fraction(1, 15)
            packet.pts = packet.dts = frame
            frame += 1
            out.mux(packet)
    return output.getvalue()
