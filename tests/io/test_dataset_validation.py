"""Dataset text readers: size bounded before reading, missing gesture files refused, dropped lines honest."""

from __future__ import annotations

import numpy as np
import pytest

from myoxai.errors import MyoxaiError
from myoxai.io import kanoga, myo_readings
from myoxai.io.open import open_recording


def _session(folder, files=range(8), n=400):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for g in files:
        rows = np.column_stack([rng.integers(-128, 128, (n, 8)), np.full(n, g)])
        (folder / f"{g}.txt").write_text("\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return folder


def test_sparse_huge_text_file_is_refused_before_reading(tmp_path):
    s = _session(tmp_path / "1-1", files=[0])
    with open(s / "0.txt", "r+b") as f:
        f.truncate(2_000_000_000)  # sparse: the reader must not try to hold it
    with pytest.raises(MyoxaiError, match="2000.0 MB, more than a myo-readings gesture file can be"):
        open_recording(s / "0.txt")


def test_session_missing_gesture_files_is_refused(tmp_path):
    s = _session(tmp_path / "1-1", files=[0, 3])
    with pytest.raises(MyoxaiError, match=r"lacks gesture file\(s\) 1.txt, 2.txt, 4.txt"):
        open_recording(s)
    assert len(open_recording(s / "3.txt")) == 400


def test_binary_junk_in_a_text_file_names_the_file(tmp_path):
    s = _session(tmp_path / "1-1", files=[0])
    (s / "0.txt").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(MyoxaiError, match=r"0\.txt, byte 0: not text"):
        open_recording(s / "0.txt")


def test_skip_bad_lines_applies_to_long_term_trials_and_keeps_timestamps_honest(tmp_path):
    rows = np.random.default_rng(1).uniform(-1, 1, (300, 8))
    lines = [",".join(f"{v:.5f}" for v in r) for r in rows]
    lines[99] = "1,2,3"
    f = tmp_path / "D1M2T1.csv"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(MyoxaiError, match="line 100.*--skip-bad-lines"):
        open_recording(f)
    rec = open_recording(f, strict=False)
    assert len(rec) == 299 and rec.meta["dropped_lines"] == [100]
    assert np.isclose(np.diff(rec.timestamps).max(), 2 / kanoga.FS)  # the hole stays visible
    f.write_text("\n".join(lines[:250]) + "\n")
    with pytest.raises(MyoxaiError, match="expected 300"):
        open_recording(f, strict=False)


def test_myo_readings_dropped_line_keeps_its_time_slot(tmp_path):
    s = _session(tmp_path / "1-1", files=[2], n=100)
    lines = (s / "2.txt").read_text().splitlines()
    lines[10] = lines[10] + "," + lines[11]  # two samples fused on one line, as in one real file
    (s / "2.txt").write_text("\n".join(lines) + "\n")
    rec = myo_readings.load_file(s / "2.txt", strict=False)
    assert len(rec) == 99 and rec.meta["dropped_lines"] == [11]
    assert np.isclose(rec.timestamps[10] - rec.timestamps[9], 2 / myo_readings.FS)


@pytest.mark.parametrize("value", ["3.5_46487e-02", "١٢", "0x10", "1e5e5"])
def test_numbers_python_float_takes_but_a_dataset_never_holds_are_refused(tmp_path, value):
    """Found by fuzzing: float() accepts underscores and non-ASCII digits, numpy does not."""
    rows = np.random.default_rng(1).uniform(-1, 1, (300, 8))
    lines = [",".join(f"{v:.5f}" for v in r) for r in rows]
    lines[5] = value + lines[5][lines[5].index(","):]
    f = tmp_path / "D1M2T1.csv"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(MyoxaiError, match="line 6: non-numeric value"):
        kanoga.load_trial(f)
    assert len(kanoga.load_trial(f, strict=False)) == 299
