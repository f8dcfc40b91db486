"""LibEMG's offline layout: folders written here by hand (as LibEMG's docs describe them) read back; XDF round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myoxai.cli import main
from myoxai.errors import MyoxaiError
from myoxai.io import read_recording
from myoxai.io.libemg import read_session, write_session
from myoxai.io.open import open_recording
from myoxai.io.recording import Recording, synth_timestamps
from myoxai.io.xdf import write_recording


def make_libemg_session(folder, n_reps=3, n_classes=3, n=120, seed=0, names=None, old_names=False, floats=False):
    """A LibEMG session folder written the way LibEMG's screen-guided training does: one CSV per rep and class."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for rep in range(n_reps):
        for cls in range(n_classes):
            x = rng.normal(0, 0.2, (n, 8)) if floats else rng.integers(-128, 128, (n, 8))
            data[rep, cls] = x
            name = f"C_{cls}_R_{rep}.csv" if old_names else f"R_{rep}_C_{cls}_EMG.csv"
            with open(folder / name, "w") as f:
                for row in x:
                    f.write(",".join(repr(float(v)) if floats else str(int(v)) for v in row) + "\n")
    if names:
        (folder / "collection_details.json").write_text(json.dumps(
            {"num_motions": n_classes, "num_reps": n_reps, "classes": names,
             "class_map": {str(i): c for i, c in enumerate(names)}, "time": "2026-01-01T10:00:00"}))
    return data


def test_reads_int8_session_with_class_names(tmp_path):
    data = make_libemg_session(tmp_path / "s", names=["rest", "open", "close"])
    rec = read_session(tmp_path / "s")
    assert rec.class_names == ("rest", "open", "close") and rec.fs == 200.0 and rec.n_channels == 8
    assert rec.meta["units"] == "raw int8" and len(rec) == 3 * 3 * 120
    # collection order: repetition, then class; labels per file; parts carry the repetition
    np.testing.assert_array_equal(rec.samples[:120], data[0, 0])
    np.testing.assert_array_equal(rec.samples[120:240], data[0, 1])
    assert list(rec.labels[::120]) == [0, 1, 2] * 3
    assert [m["repetition"] for _, m in rec.meta["parts"]] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert np.all(np.diff(rec.timestamps) > 0)


def test_reads_old_names_floats_and_no_metadata(tmp_path):
    data = make_libemg_session(tmp_path / "s", n_reps=2, n_classes=2, old_names=True, floats=True)
    rec = open_recording(tmp_path / "s")  # open_recording recognises the folder
    assert rec.class_names == ("class_0", "class_1") and rec.meta["units"] == "a.u."
    np.testing.assert_array_equal(rec.samples[120:240], data[0, 1].astype(np.float32))


def test_class_map_keys_that_are_not_ascii_numbers_are_ignored(tmp_path):
    make_libemg_session(tmp_path / "s", n_reps=1, n_classes=2)
    # "²" and "١" pass str.isdigit; int() refuses the first and reads the second as 1
    (tmp_path / "s" / "collection_details.json").write_text(json.dumps(
        {"class_map": {"0": "rest", "\u00b2": "squared", "\u0661": "arabic one"}}))
    assert read_session(tmp_path / "s").class_names == ("rest", "class_1")


def test_bad_files_are_user_errors(tmp_path):
    make_libemg_session(tmp_path / "s", n_reps=1, n_classes=1)
    (tmp_path / "s" / "R_1_C_0_EMG.csv").write_text("1,2,3\n")
    with pytest.raises(MyoxaiError, match="expected 8 comma-separated values"):
        read_session(tmp_path / "s")
    (tmp_path / "e").mkdir()
    with pytest.raises(MyoxaiError, match="no LibEMG repetition files"):
        read_session(tmp_path / "e")
    (tmp_path / "s" / "R_1_C_0_EMG.csv").unlink()
    (tmp_path / "s" / "collection_details.json").write_text("{not json")
    with pytest.raises(MyoxaiError, match="not readable JSON"):
        read_session(tmp_path / "s")


def _labelled_recording(raw: bool) -> Recording:
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1, 0, 2, 0, 1, 0, 2], 150)
    x = rng.integers(-128, 128, (len(labels), 8)) if raw else rng.normal(0, 0.3, (len(labels), 8))
    return Recording(x, synth_timestamps(len(labels), 200.0, t0=1234.5), 200.0, labels, ("rest", "fist", "open"),
                     {"subject": "p01", "session": 2})


@pytest.mark.parametrize("raw", [True, False])
def test_xdf_to_libemg_to_xdf_is_lossless(tmp_path, raw):
    write_recording(tmp_path / "a.xdf", _labelled_recording(raw))
    original = read_recording(tmp_path / "a.xdf")
    assert main(["export", str(tmp_path / "a.xdf"), str(tmp_path / "lib"), "--format", "libemg"]) == 0
    assert sorted(p.name for p in (tmp_path / "lib").iterdir())[:3] == ["R_0_C_0_EMG.csv", "R_0_C_1_EMG.csv",
                                                                         "R_0_C_2_EMG.csv"]
    assert main(["convert", str(tmp_path / "lib"), str(tmp_path / "b.xdf")]) == 0
    back = read_recording(tmp_path / "b.xdf")
    np.testing.assert_array_equal(back.samples, original.samples)
    np.testing.assert_array_equal(back.labels, original.labels)
    np.testing.assert_allclose(back.timestamps, original.timestamps, rtol=0, atol=1e-9)
    assert back.class_names == original.class_names and back.fs == original.fs
    assert back.meta["subject"] == "p01" and back.meta["session"] == 2


def test_export_refuses_unlabelled_and_full_folders(tmp_path, capsys):
    rec = _labelled_recording(True)
    rec.labels[:100] = -1
    report = write_session(rec, tmp_path / "lib")
    assert report["unlabeled_samples"] == 100 and report["files"] == 8
    with pytest.raises(MyoxaiError, match="already holds files"):
        write_session(rec, tmp_path / "lib")
    rec.labels = None
    with pytest.raises(MyoxaiError, match="no gesture labels"):
        write_session(rec, tmp_path / "other")
