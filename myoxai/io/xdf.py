"""XDF recordings: a crash-safe chunk writer with LabRecorder's chunk structure, and a reader via pyxdf.

Why our own writer: LabRecorder (and its PyPI bindings) record *LSL streams*; myoxai also writes
recordings that never pass through LSL (dataset conversion, the calibration wizard, a Myo read
directly). The writer emits the same chunk sequence LabRecorder does — FileHeader, StreamHeader,
Samples, ClockOffset, Boundary (every 10 s), StreamFooter — and every chunk goes to the OS as soon
as it is written, with an fsync at least once per second, so a crash loses at most the last second.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import struct
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from myoxai.io.outputs import GrowingOutput
from myoxai.io.recording import Recording
from myoxai.io.xdf_reader import _load_streams, read_recording  # noqa: F401 - re-exported
from myoxai.io.xdf_scan import EMG_TYPE, MARKER_TYPE

log = logging.getLogger(__name__)

_BOUNDARY = bytes([0x43, 0xA5, 0x46, 0xDC, 0xCB, 0xF5, 0x41, 0x0F,
                   0xB3, 0x0E, 0xD5, 0x46, 0x73, 0x83, 0xCB, 0xE4])
_TAG_FILE_HEADER, _TAG_STREAM_HEADER, _TAG_SAMPLES, _TAG_CLOCK, _TAG_BOUNDARY, _TAG_FOOTER = 1, 2, 3, 4, 5, 6
_FORMATS = {"float32": "<f4", "double64": "<f8", "int8": "<i1", "int16": "<i2", "int32": "<i4", "int64": "<i8"}
EMG_CHANNEL_LABELS = tuple(f"emg{i}" for i in range(1, 9))


def _varlen(n: int) -> bytes:
    if n < 256:
        return b"\x01" + struct.pack("<B", n)
    if n < 2**32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


class XdfWriter:
    """Append-only XDF file writer; use as a context manager so footers are written on close.

    The file is created exclusively; with ``overwrite`` it is written beside the target and
    replaces it only on a clean ``close`` (``io.outputs.GrowingOutput``). ``file`` is where the
    bytes are now.
    """

    BOUNDARY_EVERY_S = 10.0
    FSYNC_EVERY_S = 1.0

    def __init__(self, path: str | Path, overwrite: bool = False, inputs: Iterable[str | Path | None] = (),
                 provenance: bool = False) -> None:
        self.output = GrowingOutput(path, overwrite=overwrite, inputs=inputs)
        self.path = self.output.target
        self.provenance = provenance  # the host name goes into stream headers only when asked for
        self._f: BinaryIO = self.output.file
        self.failed = False  # a write failed (disk full…): the file holds whole chunks up to there
        self.bytes_written = 0
        self._streams: dict[int, dict[str, Any]] = {}
        self._last_boundary = self._last_sync = time.monotonic()
        self._f.write(b"XDF:")
        # the recording time, as LabRecorder writes it: `myoxai eval --dataset recordings` orders sessions by it
        when = datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
        self._chunk(_TAG_FILE_HEADER, f'<?xml version="1.0"?><info><version>1.0</version><datetime>{when}</datetime>'
                    '</info>'.encode())

    # -- low level -------------------------------------------------------------------------
    def _chunk(self, tag: int, content: bytes) -> None:
        """Write one chunk; an ``OSError`` (disk full) marks the writer failed and propagates.

        The caller says how much was kept (``bytes_written`` counts whole chunks that reached
        the OS); a later partial chunk is dropped by the reader like a crash's.
        """
        body = struct.pack("<H", tag) + content
        data = _varlen(len(body)) + body
        try:
            self._f.write(data)
            self._f.flush()  # whole chunk to the OS: a killed process leaves only complete chunks
            now = time.monotonic()
            if now - self._last_sync >= self.FSYNC_EVERY_S:
                os.fsync(self._f.fileno())
                self._last_sync = now
        except OSError:
            self.failed = True
            raise
        self.bytes_written += len(data)
        if now - self._last_boundary >= self.BOUNDARY_EVERY_S and tag != _TAG_BOUNDARY:
            self._last_boundary = now
            self._chunk(_TAG_BOUNDARY, _BOUNDARY)

    # -- streams ---------------------------------------------------------------------------
    def add_stream(self, name: str, type: str, channel_count: int, nominal_srate: float,
                   channel_format: str = "float32", source_id: str = "", desc: ET.Element | None = None) -> int:
        """Declare a stream; returns its id for ``write_samples``."""
        if channel_format != "string" and channel_format not in _FORMATS:
            raise ValueError(f"unsupported channel format {channel_format}")
        sid = len(self._streams) + 1
        info = ET.Element("info")
        for tag, text in (("name", name), ("type", type), ("channel_count", str(channel_count)),
                          ("nominal_srate", repr(float(nominal_srate))), ("channel_format", channel_format),
                          ("source_id", source_id), ("version", "1.1"), ("created_at", repr(time.time())),
                          ("uid", uuid.uuid4().hex), ("session_id", "default"),
                          ("hostname", os.uname().nodename if self.provenance else "")):
            ET.SubElement(info, tag).text = text
        info.append(desc if desc is not None else ET.Element("desc"))
        xml = b'<?xml version="1.0"?>' + ET.tostring(info, encoding="utf-8")
        self._chunk(_TAG_STREAM_HEADER, struct.pack("<I", sid) + xml)
        self._streams[sid] = {"format": channel_format, "channels": channel_count, "count": 0,
                              "first": None, "last": None, "offsets": []}
        return sid

    def write_samples(self, stream_id: int, timestamps: np.ndarray, values: Any) -> None:
        """Append samples (n × channels numbers, or n lists of strings) with their timestamps."""
        st = self._streams[stream_id]
        ts = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        n = ts.shape[0]
        if n == 0:
            return
        head = struct.pack("<I", stream_id) + _varlen(n)
        if st["format"] == "string":
            parts = []
            for t, row in zip(ts, values, strict=True):
                parts.append(b"\x08" + struct.pack("<d", t))
                for s in ([row] if isinstance(row, str) else row):
                    raw = s.encode("utf-8")
                    parts.append(_varlen(len(raw)) + raw)
            body = b"".join(parts)
        else:
            vals = np.asarray(values, dtype=_FORMATS[st["format"]]).reshape(n, st["channels"])
            rec = np.empty(n, dtype=[("flag", "u1"), ("t", "<f8"), ("v", vals.dtype, (st["channels"],))])
            rec["flag"], rec["t"], rec["v"] = 8, ts, vals
            body = rec.tobytes()
        self._chunk(_TAG_SAMPLES, head + body)
        st["count"] += n
        st["first"] = ts[0] if st["first"] is None else st["first"]
        st["last"] = ts[-1]

    def write_clock_offset(self, stream_id: int, collection_time: float, offset: float) -> None:
        """Record an LSL clock offset measurement (as LabRecorder does every few seconds)."""
        self._chunk(_TAG_CLOCK, struct.pack("<Idd", stream_id, collection_time, offset))
        self._streams[stream_id]["offsets"].append((collection_time, offset))

    @property
    def file(self) -> Path:
        """Where the bytes are: the target, or its temporary neighbour until a clean close replaces the target."""
        return self.output.path

    def close(self, keep_aside: bool = False) -> None:
        """Write a boundary and every stream's footer, close the file and, when replacing, move it over the target.

        After a failed write (or with ``keep_aside``) the file is only closed: a replacement stays
        under its temporary name (``file``) and the old target is left intact.
        """
        if self._f.closed:
            return
        try:
            if not self.failed:
                self._write_footers()
                os.fsync(self._f.fileno())
        except OSError:
            self.failed = True
            raise
        finally:
            with contextlib.suppress(OSError):  # after a failed write the buffer cannot be flushed either
                self._f.close()
            if not self.failed and not keep_aside:
                self.output.commit()

    def discard(self) -> None:
        """Close and delete the new file (nothing worth keeping); an old target stays as it was."""
        with contextlib.suppress(OSError):
            self._f.close()
        self.output.discard()

    def _write_footers(self) -> None:
        self._chunk(_TAG_BOUNDARY, _BOUNDARY)
        for sid, st in self._streams.items():
            info = ET.Element("info")
            ET.SubElement(info, "first_timestamp").text = repr(float(st["first"] or 0.0))
            ET.SubElement(info, "last_timestamp").text = repr(float(st["last"] or 0.0))
            ET.SubElement(info, "sample_count").text = str(st["count"])
            offs = ET.SubElement(info, "clock_offsets")
            for t, v in st["offsets"]:
                o = ET.SubElement(offs, "offset")
                ET.SubElement(o, "time").text, ET.SubElement(o, "value").text = repr(t), repr(v)
            self._chunk(_TAG_FOOTER, struct.pack("<I", sid) + b'<?xml version="1.0"?>'
                        + ET.tostring(info, encoding="utf-8"))

    def __enter__(self) -> XdfWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(keep_aside=exc_type is not None)  # an error mid-write never replaces an old file


def emg_stream_desc(n_channels: int = 8, units: str = "a.u.", meta: dict[str, Any] | None = None) -> ET.Element:
    """The ``<desc>`` of a Myo EMG stream, shared by the XDF writer and the LSL outlet."""
    desc = ET.Element("desc")
    chans = ET.SubElement(desc, "channels")
    for i in range(n_channels):
        ch = ET.SubElement(chans, "channel")
        ET.SubElement(ch, "label").text = f"emg{i + 1}"
        ET.SubElement(ch, "type").text = EMG_TYPE
        ET.SubElement(ch, "unit").text = units
    acq = ET.SubElement(desc, "acquisition")
    ET.SubElement(acq, "manufacturer").text = "Thalmic Labs"
    ET.SubElement(acq, "model").text = "Myo"
    if meta:
        ET.SubElement(ET.SubElement(desc, "myoxai"), "meta").text = json.dumps(meta, default=str)
    return desc


def private_meta(meta: dict[str, Any] | None, provenance: bool = False) -> dict[str, Any] | None:
    """``meta`` without this machine's paths: an absolute path (alone or after ``kind:``) becomes its file name.

    Recordings and streams are shared; the folder layout of the recording machine (user names,
    projects) is not theirs to carry unless the user asks for ``--provenance``.
    """
    if meta is None or provenance:
        return meta

    def strip(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        kind, sep, rest = v.partition(":")
        if sep and not os.path.isabs(v) and (os.path.isabs(rest) or rest.startswith("~")):
            return f"{kind}:{Path(rest).name}"
        return Path(v).name if os.path.isabs(v) or v.startswith("~") else v

    return {k: strip(v) for k, v in meta.items()}


def marker_stream_desc(class_names: tuple[str, ...]) -> ET.Element:
    """``<desc>`` of the gesture marker stream: the class list, so label indices survive a round trip."""
    desc = ET.Element("desc")
    classes = ET.SubElement(desc, "classes")
    for name in class_names:
        ET.SubElement(classes, "class").text = name
    return desc


class EmgXdfRecorder:
    """An EMG stream plus a gesture-marker stream in one crash-safe XDF file."""

    def __init__(self, path: str | Path, fs: float, class_names: tuple[str, ...] = (), n_channels: int = 8,
                 units: str = "a.u.", meta: dict[str, Any] | None = None, source_id: str = "myoxai",
                 overwrite: bool = False, inputs: Iterable[str | Path | None] = (), provenance: bool = False) -> None:
        self.writer = XdfWriter(path, overwrite=overwrite, inputs=inputs, provenance=provenance)
        meta = private_meta(meta, provenance)
        self.class_names = tuple(class_names)
        self.emg = self.writer.add_stream("myoxai-emg", EMG_TYPE, n_channels, fs, "float32", source_id,
                                          emg_stream_desc(n_channels, units, meta))
        self.markers = self.writer.add_stream("myoxai-markers", MARKER_TYPE, 1, 0.0, "string",
                                              source_id + "-markers", marker_stream_desc(self.class_names))
        self._next_clock: float | None = None

    CLOCK_EVERY_S = 5.0

    @property
    def path(self) -> Path:
        """The file being written."""
        return self.writer.path

    @property
    def samples_written(self) -> int:
        """EMG samples in the file so far."""
        return int(self.writer._streams[self.emg]["count"])

    def append(self, samples: np.ndarray, timestamps: np.ndarray, clock_offset: float = 0.0) -> None:
        """Append EMG samples; every 5 s of data also logs a clock offset per stream, as LabRecorder does.

        ``clock_offset`` is the LSL time correction of the source (0 for sources stamped locally).
        """
        ts = np.asarray(timestamps, dtype=np.float64)
        if ts.size == 0:
            return
        if self._next_clock is None or ts[-1] >= self._next_clock:
            for sid in (self.emg, self.markers):
                self.writer.write_clock_offset(sid, float(ts[-1]), clock_offset)
            self._next_clock = float(ts[-1]) + self.CLOCK_EVERY_S
        self.writer.write_samples(self.emg, ts, samples)

    def marker(self, timestamp: float, text: str) -> None:
        """Write a marker ``text`` at ``timestamp`` into the marker stream."""
        self.writer.write_samples(self.markers, [timestamp], [text])

    def close(self, keep_aside: bool = False) -> None:
        """Write the footers and close the file (replacing an old target unless the write failed or ``keep_aside``)."""
        self.writer.close(keep_aside)

    def __enter__(self) -> EmgXdfRecorder:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(keep_aside=exc_type is not None)


def write_recording(path: str | Path, rec: Recording, overwrite: bool = False, chunk_s: float = 1.0,
                    inputs: Iterable[str | Path | None] = ()) -> None:
    """Write a Recording as EMG + marker streams (markers at every label change)."""
    meta = {k: v for k, v in rec.meta.items() if k != "parts"}
    with EmgXdfRecorder(path, rec.fs, rec.class_names, rec.n_channels, str(rec.meta.get("units", "a.u.")),
                        meta, overwrite=overwrite, inputs=inputs) as out:
        try:
            for start, _stop, label in rec.segments():
                name = rec.class_names[label] if 0 <= label < len(rec.class_names) else "unlabeled"
                out.marker(float(rec.timestamps[start]), name)
            step = max(1, int(chunk_s * rec.fs))
            for i in range(0, len(rec), step):
                out.append(rec.samples[i:i + step], rec.timestamps[i:i + step])
        except BaseException:  # a whole-file write completes or leaves nothing new (an old file stays)
            out.writer.discard()
            raise
