"""Both real datasets load from their unpacked folders; bad files give one clear error naming file and line."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from myoxai.errors import MyoxaiError
from myoxai.io import kanoga, myo_readings
from myoxai.io.open import open_recording


def test_kanoga_trials_load_with_metadata(kanoga_root):
    recs = kanoga.load_kanoga(kanoga_root, [1], [1, 2], motions=[1, 8], trials=[1, 4])
    assert len(recs) == 8
    r = recs[-1]
    assert r.samples.shape == (300, 8) and r.samples.dtype == np.float32
    assert (r.meta["day"], r.meta["motion"], r.meta["trial"], r.meta["position"]) == (2, 8, 4, "I")
    assert set(r.labels) == {7} and r.class_names[7] == "hand close" and len(r.class_names) == 22
    assert r.meta["highpass_hz"] == 15.0
    assert np.abs(r.samples).max() < 2.0
    # rest is much quieter than hand close (the dataset's documented scale)
    rest = recs[0].samples
    assert np.sqrt(np.mean(rest**2)) < np.sqrt(np.mean(r.samples**2))


def test_kanoga_positions_follow_dataset_readme():
    assert [kanoga.position_of_day(d) for d in (1, 2, 3, 11, 21, 30)] == ["N", "I", "O", "O", "O", "O"]
    assert kanoga.POSITIONS.count("N") + kanoga.POSITIONS.count("I") + kanoga.POSITIONS.count("O") == 30


def test_kanoga_corrupt_and_missing_files(kanoga_root, tmp_path):
    day = tmp_path / "sub1" / "day1"
    day.mkdir(parents=True)
    src = kanoga_root / "data" / "sub1" / "day1" / "D1M2T1.csv"
    lines = src.read_text().splitlines()
    lines[41] = "0.1,0.2,abc,0.1,0.1,0.1,0.1,0.1"
    (day / "D1M2T1.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(MyoxaiError, match=r"D1M2T1\.csv, line 42: non-numeric"):
        kanoga.load_trial(day / "D1M2T1.csv")
    (day / "D1M2T1.csv").write_text("\n".join(src.read_text().splitlines()[:250]) + "\n")
    with pytest.raises(MyoxaiError, match="250 rows, expected 300"):
        kanoga.load_trial(day / "D1M2T1.csv")
    with pytest.raises(MyoxaiError, match="D1M3T1.csv"):
        kanoga.load_kanoga(tmp_path, [1], [1], motions=[3], trials=[1])
    with pytest.raises(MyoxaiError, match="no folder sub7"):
        kanoga.load_kanoga(tmp_path, [7], [1])


def test_myo_readings_session_loads_continuous(myo_readings_root):
    folder = myo_readings_root / "_readings_right_hand" / "12345-2"
    rec = myo_readings.load_session(folder)
    assert rec.n_channels == 8 and len(rec) > 8 * 11000
    assert rec.class_names == myo_readings.CLASS_NAMES
    assert set(np.unique(rec.labels)) == set(range(8))
    assert rec.samples.min() >= -128 and rec.samples.max() <= 127
    np.testing.assert_allclose(np.diff(rec.timestamps), 1 / 200, atol=1e-9)
    # within a gesture file the label alternates every ~5 s (1000 samples)
    segs = [s for s in rec.segments() if s[2] == 3]
    assert all(900 <= stop - start <= 1100 for start, stop, _ in segs)
    assert len(myo_readings.session_dirs(myo_readings_root)) == 30


def test_myo_readings_real_corrupt_line_is_named_then_skippable(myo_readings_root):
    bad = myo_readings_root / "_readings_right_hand" / "19999-2" / "2.txt"
    with pytest.raises(MyoxaiError, match=r"2\.txt, line 12322: expected 9 comma-separated values, found 17"):
        myo_readings.load_file(bad)
    rec = myo_readings.load_file(bad, strict=False)
    assert rec.meta["dropped_lines"] == [12322]
    assert len(rec) == 14213 - 1


def test_myo_readings_rejects_out_of_range_and_wrong_labels(myo_readings_root, tmp_path):
    session = tmp_path / "55555-1"
    shutil.copytree(myo_readings_root / "_readings_right_hand" / "12345-1", session)
    f = session / "4.txt"
    lines = f.read_text().splitlines()
    lines[99] = "300,1,1,1,1,1,1,1,0"
    f.write_text("\n".join(lines))
    with pytest.raises(MyoxaiError, match=r"4\.txt, line 100: EMG values must be integers in -128…127"):
        open_recording(session)
    lines[99] = "3,1,1,1,1,1,1,1,6"
    f.write_text("\n".join(lines))
    with pytest.raises(MyoxaiError, match=r"4\.txt, line 100: label 6 not in \[0, 4\]"):
        myo_readings.load_file(f)


def test_open_recording_errors(tmp_path):
    with pytest.raises(MyoxaiError, match="does not exist"):
        open_recording(tmp_path / "missing.xdf")
    (tmp_path / "notes.pdf").write_text("x")
    with pytest.raises(MyoxaiError, match="unknown file type"):
        open_recording(tmp_path / "notes.pdf")
    with pytest.raises(MyoxaiError, match="neither"):
        open_recording(tmp_path)
