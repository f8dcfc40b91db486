"""XDF files written by myoxai are read back by pyxdf exactly, and survive a SIGKILL of the writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from myoxai.errors import MyoxaiError
from myoxai.io import Recording, read_recording, write_recording
from myoxai.io.xdf import XdfWriter


def test_roundtrip_shapes_timestamps_markers(bundled, tmp_path):
    part = bundled.slice(10000, 16000)
    out = tmp_path / "part.xdf"
    write_recording(out, part)
    streams, header = pyxdf.load_xdf(str(out), dejitter_timestamps=False)
    assert header["info"]["version"] == ["1.0"]
    by_type = {s["info"]["type"][0]: s for s in streams}
    emg, markers = by_type["EMG"], by_type["Markers"]
    info = emg["info"]
    assert info["channel_count"] == ["8"] and float(info["nominal_srate"][0]) == 200.0
    desc = info["desc"][0]
    assert [c["label"][0] for c in desc["channels"][0]["channel"]] == [f"emg{i}" for i in range(1, 9)]
    assert desc["acquisition"][0]["manufacturer"] == ["Thalmic Labs"] and desc["acquisition"][0]["model"] == ["Myo"]
    assert emg["time_series"].shape == (6000, 8) and emg["time_series"].dtype == np.float32
    np.testing.assert_array_equal(emg["time_series"], part.samples)
    np.testing.assert_array_equal(emg["time_stamps"], part.timestamps)
    assert int(emg["footer"]["info"]["sample_count"][0]) == 6000
    segs = part.segments()
    assert [m[0] for m in markers["time_series"]] == [part.class_names[s[2]] for s in segs]
    np.testing.assert_array_equal(markers["time_stamps"], [part.timestamps[s[0]] for s in segs])
    back = read_recording(out)
    np.testing.assert_array_equal(back.labels, part.labels)
    assert back.class_names == part.class_names and back.meta["subject"] == "12548"


def test_unlabeled_recording_and_no_overwrite(tmp_path):
    rec = Recording(np.ones((400, 8), np.float32), np.arange(400) / 200.0, 200.0)
    out = tmp_path / "u.xdf"
    write_recording(out, rec)
    assert read_recording(out).labels is None
    with pytest.raises(MyoxaiError, match="exists"):
        write_recording(out, rec)
    assert read_recording(out).samples.shape == (400, 8)  # untouched


def test_reader_errors(tmp_path):
    (tmp_path / "junk.xdf").write_bytes(b"hello world")
    with pytest.raises(MyoxaiError, match="not an XDF file"):
        read_recording(tmp_path / "junk.xdf")
    with XdfWriter(tmp_path / "markers_only.xdf") as w:
        sid = w.add_stream("m", "Markers", 1, 0, "string")
        w.write_samples(sid, [1.0], ["go"])
    with pytest.raises(MyoxaiError, match="no EMG stream"):
        read_recording(tmp_path / "markers_only.xdf")


def test_truncated_file_reads_its_complete_chunks(bundled, tmp_path):
    out = tmp_path / "t.xdf"
    write_recording(out, bundled.slice(0, 4000), chunk_s=0.5)
    data = out.read_bytes()
    cut = tmp_path / "cut.xdf"
    cut.write_bytes(data[: len(data) * 2 // 3 + 7])  # mid-chunk, like a crash during a write
    back = read_recording(cut)
    assert 0 < len(back) < 4000 and len(back) % 100 == 0
    np.testing.assert_array_equal(back.samples, bundled.samples[: len(back)])


@pytest.mark.timeout(120)
def test_sigkill_loses_at_most_the_last_second(bundled_path, tmp_path):
    out, progress = tmp_path / "killed.xdf", tmp_path / "progress"
    child = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_xdf_writer_child.py")),
                              str(bundled_path), str(out), str(progress)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if progress.exists() and int(progress.read_text()) >= 3000:
                break
            time.sleep(0.05)
        else:
            pytest.fail("writer child made no progress")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        written = int(progress.read_text())
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    back = read_recording(out)
    src = read_recording(bundled_path)
    # every chunk the child reported as appended is in the file, exactly (the limit is 1 s = 200 samples)
    assert len(back) >= written - 200
    np.testing.assert_array_equal(back.samples, src.samples[: len(back)])
    np.testing.assert_array_equal(back.timestamps, src.timestamps[: len(back)])
    assert back.class_names == src.class_names and back.labels is not None
