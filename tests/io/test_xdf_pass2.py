"""Issue 24 items 6, 10, 15 and the minor XDF ones: one header parser, bounded decoding, no copy in $TMPDIR."""

from __future__ import annotations

import errno
import struct
import tempfile
import time

import numpy as np
import pytest
import pyxdf

from myoxai.cli import main
from myoxai.errors import MyoxaiError
from myoxai.io import read_recording, write_recording, xdf_reader
from myoxai.io.xdf import XdfWriter


def _header_chunk(sid: int, fields: str) -> bytes:
    xml = f'<?xml version="1.0"?><info>{fields}<desc/></info>'.encode()
    body = struct.pack("<H", 2) + struct.pack("<I", sid) + xml
    return b"\x04" + struct.pack("<I", len(body)) + body


def _file(path, fields: str) -> None:
    with XdfWriter(path) as w:
        w._f.write(_header_chunk(1, fields))


@pytest.mark.parametrize("field, first, second", [
    ("channel_count", "64000000", "8"), ("nominal_srate", "1e-300", "200"), ("channel_format", "string", "float32")])
def test_a_header_field_stated_twice_is_refused(tmp_path, capsys, field, first, second):  # item 6
    values = {"name": "emg", "type": "EMG", "channel_count": "8", "nominal_srate": "200", "channel_format": "float32"}
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in values.items() if k != field)
    f = tmp_path / "dup.xdf"
    _file(f, fields + f"<{field}>{first}</{field}><{field}>{second}</{field}>")
    assert main(["info", str(f)]) == 2
    assert f"states <{field}> twice" in capsys.readouterr().err


def test_pyxdf_keeps_the_first_of_two_fields_so_a_dict_would_disagree(tmp_path):
    """Why duplicates are an error: pyxdf reads the first value, a dict of the children the last."""
    f = tmp_path / "names.xdf"
    _file(f, "<name>first</name><name>second</name><type>X</type><channel_count>1</channel_count>"
             "<nominal_srate>0</nominal_srate><channel_format>string</channel_format>")
    streams, _ = pyxdf.load_xdf(str(f))
    assert streams[0]["info"]["name"] == ["first", "second"]


def test_a_truncated_file_is_read_without_a_copy_in_tmpdir(tmp_path, bundled, monkeypatch):  # item 15
    f = tmp_path / "cut.xdf"
    write_recording(f, bundled.slice(0, 2000), chunk_s=0.25)
    f.write_bytes(f.read_bytes()[:-37])  # a crash mid-chunk
    def full(*a, **k):  # $TMPDIR is full: the reader must not need it
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full)
    monkeypatch.setattr(tempfile, "mkstemp", full)
    rec = read_recording(f)
    assert 1500 < len(rec) <= 2000


def test_many_distinct_markers_are_labelled_in_linear_time(tmp_path):  # item 10
    f = tmp_path / "markers.xdf"
    n = 60_000
    with XdfWriter(f) as w:
        emg = w.add_stream("emg", "EMG", 8, 200.0)
        mk = w.add_stream("markers", "Markers", 1, 0.0, "string")
        w.write_samples(emg, np.arange(n) / 200.0, np.zeros((n, 8)))
        w.write_samples(mk, np.arange(n) / 200.0, [f"m{i}" for i in range(n)])
    t0 = time.monotonic()
    rec = read_recording(f)
    assert len(rec.class_names) == n and rec.labels[-1] == n - 1
    assert time.monotonic() - t0 < 30


def test_sample_count_is_capped_before_decoding_and_other_streams_are_skipped(tmp_path, monkeypatch):  # item 10
    f = tmp_path / "junk.xdf"
    with XdfWriter(f) as w:
        junk = w.add_stream("junk", "Misc", 1, 200.0, "int8")
        emg = w.add_stream("emg", "EMG", 8, 200.0)
        w.write_samples(junk, np.arange(50_000) / 200.0, np.zeros((50_000, 1)))
        w.write_samples(emg, np.arange(400) / 200.0, np.zeros((400, 8)))
    decoded = []
    real = pyxdf.pyxdf._read_chunk3
    monkeypatch.setattr(pyxdf.pyxdf, "_read_chunk3", lambda fh, s: decoded.append(s.nchns) or real(fh, s))
    assert len(read_recording(f)) == 400
    assert decoded == [8]  # the junk stream was skipped, not decoded
    monkeypatch.setattr(xdf_reader, "MAX_DECODED_SAMPLES", 300)
    with pytest.raises(MyoxaiError, match="400 samples, more than myoxai reads"):
        read_recording(f)


def test_absurd_rates_and_xdfz_are_one_line(tmp_path, capsys):  # minor items
    f = tmp_path / "tiny.xdf"
    with XdfWriter(f) as w:
        sid = w.add_stream("emg", "EMG", 8, 1e-300)
        w.write_samples(sid, np.arange(10) / 200.0, np.zeros((10, 8)))
    assert main(["info", str(f)]) == 2
    assert "nominal rate" in capsys.readouterr().err
    z = tmp_path / "a.xdfz"
    z.write_bytes(b"\x1f\x8b")
    assert main(["info", str(z)]) == 2
    assert "decompress it" in capsys.readouterr().err
