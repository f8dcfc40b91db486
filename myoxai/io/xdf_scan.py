"""Walk an XDF file's chunks and check its structure before anything allocates for it.

pyxdf trusts what a file declares: a stream header claiming 900 million channels makes it
allocate gigabytes for a 1 kB file, and a Samples chunk shorter than its sample count makes it
read into the next chunk. This scan reads only chunk headers, stream headers and the sample
layout, so its memory is bounded by the largest chunk, and refuses anything pyxdf would
misread: a channel count outside 1-64, an unknown channel format, a negative or non-finite
rate, samples for an undeclared stream, a chunk whose content does not match its length. A file
that merely ends in a partial chunk (a crash while writing) is accepted up to its last whole
chunk; damage in the middle of a file is an error.
"""

from __future__ import annotations

import math
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.io.validate import MIN_RATE_HZ, check_channel_count, check_file_size

MAX_XDF_BYTES = 4_000_000_000
"""Largest XDF myoxai reads (about 130 h of Myo EMG); pyxdf holds a whole file in memory."""
MAX_HEADER_BYTES = 1_000_000
"""Largest stream header/footer XML accepted (LabRecorder's are a few kB)."""
EMG_TYPE = "EMG"
MARKER_TYPE = "Markers"
MAX_DECODED_SAMPLES = 10_000_000
"""Most samples myoxai decodes from one file (14 h at 200 Hz; pyxdf decodes 0.3-1 M samples/s, so < 40 s)."""
_SIZES = {"float32": 4, "double64": 8, "int8": 1, "int16": 2, "int32": 4, "int64": 8}
TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK, TAG_BOUNDARY, TAG_FOOTER = 1, 2, 3, 4, 5, 6


@dataclass
class StreamLayout:
    """What a stream header declares, checked."""

    name: str
    type: str
    channels: int
    fs: float
    format: str
    samples: int = 0


@dataclass
class XdfLayout:
    """The result of a scan: the streams by id, and how many bytes form whole chunks."""

    streams: dict[int, StreamLayout] = field(default_factory=dict)
    complete_bytes: int = 0
    size: int = 0

    @property
    def truncated(self) -> bool:
        """True when the file ends in a partial chunk (its last write was cut)."""
        return self.complete_bytes < self.size


def _damaged(path: Path, pos: int, what: str) -> MyoxaiError:
    return MyoxaiError(f"{path} is damaged at byte {pos}: {what}; the file cannot be read reliably "
                       "(re-record it, or restore it from a copy)")


def _varlen(buf: bytes, pos: int) -> tuple[int, int] | None:
    """(value, next position) of the variable-length integer at ``pos``, or None if it does not fit."""
    if pos >= len(buf) or buf[pos] not in (1, 4, 8):
        return None
    n = buf[pos]
    if pos + 1 + n > len(buf):
        return None
    return int.from_bytes(buf[pos + 1:pos + 1 + n], "little"), pos + 1 + n


def header_fields(path: Path, pos: int, xml: bytes) -> dict[str, str]:
    """The top-level fields of a stream header's ``<info>``, each stated once.

    The one header parser: the scan, the reader and ``myoxai info`` take the channel count, rate,
    format, name and type from here. A field stated twice is refused, since pyxdf keeps the
    first value and a dict the last — a 374-byte file could then pass the checks with 8 channels
    and be read with 64 million.
    """
    try:
        info = ET.fromstring(xml.decode("utf-8", "replace"))
    except ET.ParseError as exc:
        raise _damaged(path, pos, f"unreadable stream header ({exc})") from None
    if info.tag != "info":
        raise _damaged(path, pos, "stream header lacks its <info> element")
    fields: dict[str, str] = {}
    for child in info:
        if child.tag in fields:
            raise _damaged(path, pos, f"the stream header states <{child.tag}> twice")
        fields[child.tag] = (child.text or "").strip()
    return fields


def _stream_header(path: Path, pos: int, xml: bytes) -> StreamLayout:
    text = header_fields(path, pos, xml)
    missing = [k for k in ("channel_count", "nominal_srate", "channel_format") if k not in text]
    if missing:
        raise _damaged(path, pos, f"stream header lacks {missing}")
    name = text.get("name", "")
    where = f"{path}, stream '{name}'"
    fmt = text["channel_format"]
    if fmt != "string" and fmt not in _SIZES:
        raise MyoxaiError(f"{where}: unknown channel format {fmt!r}; expected one of {sorted(_SIZES)} or string")
    channels = check_channel_count(text["channel_count"], where)
    try:
        fs = float(text["nominal_srate"])
    except ValueError:
        fs = math.nan
    if not math.isfinite(fs) or fs < 0 or 0 < fs < MIN_RATE_HZ:
        raise MyoxaiError(f"{where}: nominal rate {text['nominal_srate']!r} is not 0 (irregular) or a number "
                          f">= {MIN_RATE_HZ:g} Hz; the header is damaged")
    return StreamLayout(name, text.get("type", ""), channels, fs, fmt)


def _sample_count(path: Path, pos: int, st: StreamLayout, body: bytes) -> int:
    """Samples in a Samples chunk's body (after the stream id), checking they fill it exactly."""
    got = _varlen(body, 0)
    if got is None:
        raise _damaged(path, pos, f"bad sample count in stream '{st.name}'")
    n, p = got
    if st.format != "string":
        value_bytes = st.channels * _SIZES[st.format]
        rest = len(body) - p
        if n * (1 + value_bytes) > rest or n * (9 + value_bytes) < rest:
            raise _damaged(path, pos, f"{n} samples of stream '{st.name}' do not fit its {rest}-byte chunk")
        for stride, stamped in ((9 + value_bytes, True), (1 + value_bytes, False)):
            if n and rest == n * stride:  # uniform: every sample stamped, or none
                flags = np.frombuffer(body, np.uint8, count=n * stride, offset=p)[::stride]
                if bool((flags != 0).all() if stamped else not flags.any()):
                    return n
        for _ in range(n):  # mixed stamped/unstamped samples: walk them
            if p >= len(body):
                raise _damaged(path, pos, f"stream '{st.name}': samples overrun their chunk")
            p += 1 + (8 if body[p] else 0) + value_bytes
    else:
        for _ in range(n):
            if p >= len(body):
                raise _damaged(path, pos, f"stream '{st.name}': samples overrun their chunk")
            p += 1 + (8 if body[p] else 0)
            for _ch in range(st.channels):
                got = _varlen(body, p)
                if got is None:
                    raise _damaged(path, pos, f"stream '{st.name}': bad string length")
                p = got[1] + got[0]
    if p != len(body):
        raise _damaged(path, pos, f"stream '{st.name}': {len(body) - p} bytes left over after {n} samples")
    return n


def _read_chunk_head(f: BinaryIO, size: int, pos: int) -> tuple[int, int, int] | None:
    """(bytes of the length field, content length, tag) of the chunk at ``pos``.

    None when the chunk runs past the end of the file; a content length of -1 when its length
    field is invalid.
    """
    nb = f.read(1)
    if not nb:
        return None
    if nb[0] not in (1, 4, 8):
        return (0, -1, -1)
    raw = f.read(nb[0])
    if len(raw) < nb[0]:
        return None
    length = int.from_bytes(raw, "little")
    if pos + 1 + nb[0] + length > size:
        return None
    tag = f.read(2)
    if len(tag) < 2:
        return None
    return 1 + nb[0], length, struct.unpack("<H", tag)[0]


def scan_xdf(path: str | Path) -> XdfLayout:
    """Check the structure of the XDF file at ``path`` (magic, chunks, stream headers, sample layout)."""
    path = Path(path)
    size = check_file_size(path, MAX_XDF_BYTES, "an XDF recording")
    out = XdfLayout(size=size)
    with open(path, "rb") as f:
        if f.read(4) != b"XDF:":
            raise MyoxaiError(f"{path} is not an XDF file (no XDF: magic); record or convert it with myoxai")
        pos = 4
        while pos < size:
            head = _read_chunk_head(f, size, pos)
            if head is None:
                break  # partial last chunk: a write cut by a crash
            head_len, length, tag = head
            if length == -1:
                f.seek(pos)
                if not any(f.read(1 << 16)):  # zero padding at the end, as a crash can leave
                    break
                raise _damaged(path, pos, "invalid chunk length")
            if length < 2:
                raise _damaged(path, pos, "chunk shorter than its tag")
            body_len = length - 2
            if tag in (TAG_STREAM_HEADER, TAG_FOOTER) and not 4 <= body_len <= MAX_HEADER_BYTES + 4:
                raise _damaged(path, pos, f"stream header/footer of {body_len} bytes")
            if tag == TAG_CLOCK and body_len != 20:
                raise _damaged(path, pos, "clock-offset chunk of the wrong size")
            if tag == TAG_FILE_HEADER and body_len > MAX_HEADER_BYTES:
                raise _damaged(path, pos, "file header too large")
            if tag in (TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK, TAG_FOOTER):
                if body_len < 4:
                    raise _damaged(path, pos, "chunk too short for a stream id")
                (sid,) = struct.unpack("<I", f.read(4))
                if tag == TAG_STREAM_HEADER:
                    if sid in out.streams:
                        raise _damaged(path, pos, f"stream {sid} declared twice")
                    out.streams[sid] = _stream_header(path, pos, f.read(body_len - 4))
                elif sid not in out.streams:
                    raise _damaged(path, pos, f"data for stream {sid}, which has no header")
                elif tag == TAG_SAMPLES:
                    st = out.streams[sid]
                    st.samples += _sample_count(path, pos, st, f.read(body_len - 4))
            pos += head_len + length
            f.seek(pos)
            out.complete_bytes = pos
        if out.complete_bytes == 0:
            out.complete_bytes = 4
    return out

