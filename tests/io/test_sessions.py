"""A lab's own sessions: people and sessions found in both layouts, ordered by recording time; repetitions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myoxai.cli import main
from myoxai.errors import MyoxaiError
from myoxai.io.libemg import write_session
from myoxai.io.recording import Recording, synth_timestamps
from myoxai.io.sessions import find_sessions, repetitions, xdf_datetime
from myoxai.io.xdf import write_recording
from myoxai.testing.bled112_emulator import Bled112Emulator


def _rec(seed: int) -> Recording:
    labels = np.repeat([0, 1, 0, 2, 0, 1, 0, 2], 100)
    x = np.random.default_rng(seed).integers(-128, 128, (len(labels), 8))
    return Recording(x, synth_timestamps(len(labels), 200.0), 200.0, labels, ("rest", "fist", "open"))


def _stamp(path, when: str) -> None:
    """Give an XDF file another recording time (same length, so the file stays valid)."""
    data = path.read_bytes()
    old = xdf_datetime(path).encode()
    assert len(when) == len(old)
    path.write_bytes(data.replace(old, when.encode(), 1))


def test_xdf_sessions_are_ordered_by_recording_time(tmp_path):
    for person, names in {"p01": ["b", "a", "c"], "p02": ["x"]}.items():
        (tmp_path / person).mkdir()
        for i, name in enumerate(names):
            write_recording(tmp_path / person / f"{name}.xdf", _rec(i))
    assert xdf_datetime(tmp_path / "p02" / "x.xdf")[:2] == "20"  # myoxai's writer records the time
    _stamp(tmp_path / "p01" / "b.xdf", "2020-01-01T10:00:00+0000")
    _stamp(tmp_path / "p01" / "a.xdf", "2020-01-02T10:00:00+0000")
    _stamp(tmp_path / "p01" / "c.xdf", "2019-12-31T10:00:00+0000")
    found = find_sessions(tmp_path, "recordings")
    assert [s.path.name for s in found["p01"]] == ["c.xdf", "b.xdf", "a.xdf"]
    assert [s.index for s in found["p01"]] == [1, 2, 3] and list(found) == ["p01", "p02"]
    rec = found["p01"][0].load()
    assert rec.meta["person"] == "p01" and rec.meta["session"] == 1


def test_repetitions_count_each_gestures_runs():
    rec = _rec(0)
    reps = repetitions(rec)
    assert list(reps[::100]) == [0, 0, 1, 0, 2, 1, 3, 1]  # rest runs 0..3, fist 0,1, open 0,1


def test_libemg_tree_keeps_file_repetitions_and_collection_time(tmp_path):
    for k, when in enumerate(["2024-05-02T09:00:00", "2024-05-01T09:00:00"]):
        folder = tmp_path / "alice" / f"s{k}"
        write_session(_rec(k), folder)
        meta = json.loads((folder / "collection_details.json").read_text())
        meta["time"] = when
        (folder / "collection_details.json").write_text(json.dumps(meta))
    found = find_sessions(tmp_path, "libemg")
    assert [s.path.name for s in found["alice"]] == ["s1", "s0"]
    rec = found["alice"][0].load()
    assert sorted(set(repetitions(rec))) == [0, 1, 2, 3]


def test_empty_or_wrong_roots_are_user_errors(tmp_path):
    with pytest.raises(MyoxaiError, match="one folder per person"):
        find_sessions(tmp_path, "recordings")
    with pytest.raises(MyoxaiError, match="not a folder"):
        find_sessions(tmp_path / "missing", "libemg")


@pytest.mark.timeout(60)
def test_a_session_recorded_from_the_emulated_dongle_is_found_in_order(tmp_path):
    (tmp_path / "p01").mkdir()
    with Bled112Emulator() as emu:
        assert main(["record", str(tmp_path / "p01" / "s.xdf"), "--source", f"myo:{emu.port}", "--seconds", "1"]) == 0
    assert xdf_datetime(tmp_path / "p01" / "s.xdf") is not None
    (session,) = find_sessions(tmp_path, "recordings")["p01"]
    assert len(session.load()) >= 100
