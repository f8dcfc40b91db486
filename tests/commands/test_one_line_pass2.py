"""Issue 24 items 11-14: what used to be a traceback is one line naming the file."""

from __future__ import annotations

import builtins
import errno

import numpy as np
import pytest

from myoxai.errors import MyoxaiError
from myoxai.io import myo_readings
from myoxai.io.kanoga import available_subjects
from myoxai.io.xdf import XdfWriter

from conftest import one_line_error


def _xdf(path, ts) -> None:
    with XdfWriter(path) as w:
        sid = w.add_stream("emg", "EMG", 8, 200.0)
        w.write_samples(sid, ts, np.zeros((len(ts), 8)))


@pytest.mark.parametrize("jump, words", [(1e13, "jump forward"), (-1000.0, "go back")])
def test_timestamp_extremes_are_refused_by_replay(tmp_path, capsys, jump, words):  # item 11, minor
    f = tmp_path / "gap.xdf"
    _xdf(f, np.r_[np.arange(400) / 200.0, 2.0 + jump + np.arange(400) / 200.0])
    one_line_error(capsys, ["replay", str(f), "--speed", "50"], words)


def test_a_name_too_long_is_one_line(tmp_path, capsys, bundled_path):  # item 12
    long = tmp_path / ("a" * 5000 + ".xdf")
    one_line_error(capsys, ["info", str(long)], "cannot read", "too long")
    one_line_error(capsys, ["record", str(long), "--source", f"replay:{bundled_path}"], "cannot write", "too long")


def test_an_unreadable_file_is_one_line(tmp_path, capsys, monkeypatch, bundled_path):  # item 13
    f = tmp_path / "locked.xdf"
    f.write_bytes(bundled_path.read_bytes())
    real_open = builtins.open

    def refuse(file, *a, **k):  # root reads everything; simulate a file without read permission
        if str(file) == str(f):
            raise PermissionError(errno.EACCES, "Permission denied", str(f))
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", refuse)
    one_line_error(capsys, ["info", str(f)], "cannot read", "Permission denied")


def test_unicode_digits_in_names_are_not_numbers(tmp_path):  # item 14
    (tmp_path / "sub²").mkdir()
    (tmp_path / "sub3").mkdir()
    assert available_subjects(tmp_path) == [3]
    f = tmp_path / "².txt"
    f.write_text("0,0,0,0,0,0,0,0,0\n")
    with pytest.raises(MyoxaiError, match="expected a file named 0.txt"):
        myo_readings.load_file(f)
