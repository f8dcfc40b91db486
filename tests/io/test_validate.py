"""The shared validation helpers in myoxai.io.validate."""

from __future__ import annotations

import numpy as np
import pytest

from myoxai.config import DEFAULT_CONFIG
from myoxai.errors import MyoxaiError
from myoxai.io.validate import (
    check_channel_count,
    check_file_size,
    check_finite,
    check_rate,
    check_signal_fits,
    label_index_map,
)


@pytest.mark.parametrize("bad", [0, -1, 65, 900_000_000, "8x", 2.5, None, "nan"])
def test_channel_count_out_of_range_is_refused(bad):
    with pytest.raises(MyoxaiError, match="channel count"):
        check_channel_count(bad, "f.xdf")


def test_channel_count_accepts_numbers_and_numeric_text():
    assert check_channel_count("8", "x") == 8 and check_channel_count(64, "x") == 64


@pytest.mark.parametrize("bad", [0, -200, "nan", float("inf"), "abc", 1e9])
def test_rate_must_be_positive_and_finite(bad):
    with pytest.raises(MyoxaiError, match="sampling rate"):
        check_rate(bad, "f.xdf")


def test_non_finite_sample_is_named_by_index_and_channel():
    a = np.zeros((10, 8), np.float32)
    a[7, 2] = np.nan
    a[9, 0] = np.inf
    with pytest.raises(MyoxaiError, match=r"stream 'emg': sample 7, channel 3 is nan \(2 samples"):
        check_finite(a, "f.xdf, stream 'emg'")
    check_finite(np.zeros((3, 8)), "ok")


def test_file_size_refuses_devices_folders_and_huge_files(tmp_path):
    with pytest.raises(MyoxaiError, match="not a regular file"):
        check_file_size("/dev/zero", 10, "a model file")
    with pytest.raises(MyoxaiError, match="is a folder"):
        check_file_size(tmp_path, 10, "a model file")
    f = tmp_path / "0.txt"
    with open(f, "wb") as fh:
        fh.truncate(2_000_000)  # sparse: no disk used
    with pytest.raises(MyoxaiError, match="2.0 MB, more than"):
        check_file_size(f, 1_000_000, "a gesture file")
    assert check_file_size(f, 3_000_000, "x") == 2_000_000


def test_signal_must_fit_the_config():
    check_signal_fits(200.0, 8, DEFAULT_CONFIG, "r")
    with pytest.raises(MyoxaiError, match="1000 Hz"):
        check_signal_fits(1000.0, 8, DEFAULT_CONFIG, "r")
    with pytest.raises(MyoxaiError, match="7 channels"):
        check_signal_fits(200.0, 7, DEFAULT_CONFIG, "r")


def test_labels_map_by_name_and_unknown_gestures_are_refused():
    m = label_index_map(("rest", "fist", "flexion"), ("flexion", "rest", "fist"), [0, 1, 2], "r")
    assert m.tolist() == [1, 2, 0]
    with pytest.raises(MyoxaiError, match=r"gestures \['fist'\]"):
        label_index_map(("rest", "fist"), ("rest", "flexion"), [0, 1], "r")
    assert label_index_map(("rest", "fist"), ("rest",), [0], "r").tolist() == [0, -1]
    with pytest.raises(MyoxaiError, match="no class names"):
        label_index_map((), ("rest",), [0], "r")
