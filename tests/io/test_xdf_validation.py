"""The XDF reader checks structure before it allocates, and refuses non-finite samples and bad rates."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from myoxai.errors import MyoxaiError
from myoxai.io import Recording, read_recording, write_recording
from myoxai.io.xdf import XdfWriter
from myoxai.io.xdf_scan import scan_xdf


def _samples_chunk(sid: int, n: int, payload: bytes) -> bytes:
    body = struct.pack("<H", 3) + struct.pack("<I", sid) + b"\x01" + bytes([n]) + payload
    return b"\x04" + struct.pack("<I", len(body)) + body


def _file_with_stream(path, channel_count, srate, samples: bytes = b"", n: int = 1, fmt="float32"):
    with XdfWriter(path) as w:
        sid = w.add_stream("emg", "EMG", channel_count, srate, fmt)
        w._f.write(_samples_chunk(sid, n, samples))


def test_huge_declared_channel_count_is_refused_before_allocating(tmp_path):
    f = tmp_path / "huge.xdf"
    _file_with_stream(f, 900_000_000, 200.0, b"\x08" + bytes(8 + 32))
    assert f.stat().st_size < 2000
    with pytest.raises(MyoxaiError, match="channel count '900000000' is not a whole number in 1-64"):
        read_recording(f)


def test_zero_rate_is_refused_not_divided_by(tmp_path):
    f = tmp_path / "zero.xdf"
    with XdfWriter(f) as w:
        sid = w.add_stream("emg", "EMG", 8, 0.0)
        w.write_samples(sid, np.arange(100) / 200.0, np.zeros((100, 8)))
    with pytest.raises(MyoxaiError, match="sampling rate 0.0 Hz is not a number from"):
        read_recording(f)


def test_samples_that_do_not_fit_their_chunk_are_refused(tmp_path):
    f = tmp_path / "short.xdf"
    _file_with_stream(f, 8, 200.0, b"\x08" + bytes(8 + 32), n=200)  # claims 200 samples, holds 1
    with pytest.raises(MyoxaiError, match="200 samples of stream 'emg' do not fit"):
        read_recording(f)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_name_stream_and_index(tmp_path, bad):
    values = np.zeros((300, 8), np.float32)
    values[123, 4] = bad
    f = tmp_path / "nan.xdf"
    write_recording(f, Recording(values, np.arange(300) / 200.0, 200.0))
    with pytest.raises(MyoxaiError, match=r"stream 'myoxai-emg': sample 123, channel 5 is"):
        read_recording(f)


def test_damage_in_the_middle_is_an_error_but_a_cut_tail_is_not(tmp_path):
    f = tmp_path / "ok.xdf"
    write_recording(f, Recording(np.ones((2000, 8), np.float32), np.arange(2000) / 200.0, 200.0), chunk_s=0.5)
    data = bytearray(f.read_bytes())
    layout = scan_xdf(f)
    assert layout.streams[1].samples == 2000 and not layout.truncated
    mid = bytearray(data)
    pos = len(data) // 2
    # find a chunk start near the middle by scanning our own layout: corrupt a length byte
    from myoxai.io import xdf_scan

    starts, p = [], 4
    while p < len(data):
        nb = data[p]
        length = int.from_bytes(data[p + 1:p + 1 + nb], "little")
        starts.append(p)
        p += 1 + nb + length
    pos = min(starts, key=lambda s: abs(s - len(data) // 2))
    mid[pos] = 7  # not a valid length-field size
    (tmp_path / "mid.xdf").write_bytes(bytes(mid))
    with pytest.raises(MyoxaiError, match=f"damaged at byte {pos}"):
        read_recording(tmp_path / "mid.xdf")
    (tmp_path / "tail.xdf").write_bytes(bytes(data[:pos + 5]))
    assert 0 < len(read_recording(tmp_path / "tail.xdf")) < 2000
    assert xdf_scan.scan_xdf(tmp_path / "tail.xdf").truncated


def test_folder_and_device_given_as_xdf(tmp_path):
    d = tmp_path / "d.xdf"
    d.mkdir()
    with pytest.raises(MyoxaiError, match="is a folder"):
        read_recording(d)
    link = tmp_path / "zero.xdf"
    link.symlink_to("/dev/zero")
    with pytest.raises(MyoxaiError, match="not a regular file"):
        read_recording(link)
