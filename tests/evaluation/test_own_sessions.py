"""`myoxai eval --dataset recordings|libemg`: all three protocols (and --adapt) on sessions generated in both layouts.

The data: three people × two sessions cut from the bundled real recording (each session a different
stretch of every gesture, 3 repetitions each), so the models have real EMG to learn from; LDA keeps it fast.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from myoxai.cli import main
from myoxai.io import read_recording
from myoxai.io.libemg import write_session
from myoxai.io.recording import concatenate
from myoxai.io.xdf import write_recording
from myoxai.testing.bled112_emulator import Bled112Emulator

from conftest import BUNDLED

REP_S = 1.5  # seconds per repetition


def _session(rec, offset_s: float, gestures=(0, 1, 2, 7), reps: int = 3):
    """Repetitions of each gesture cut from the bundled recording's 30-s gesture files, rep-major as LibEMG records."""
    parts = []
    for r in range(reps):
        for g in gestures:
            # in each 30-s file the gesture is held during 5-10 s, 15-20 s, 25-30 s; rest during 0-5 s etc.
            start = g * 30.0 + (0.0 if g == 0 else 5.0) + offset_s + r * REP_S
            a = int(start * rec.fs)
            part = rec.slice(a, a + int(REP_S * rec.fs))
            part.labels = np.full(len(part), g)
            parts.append(part)
    out = concatenate(parts)
    out.meta.pop("parts")
    return out


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    rec = read_recording(BUNDLED)
    root = tmp_path_factory.mktemp("own")
    for layout in ("recordings", "libemg"):
        for p, person in enumerate(["ann", "bob", "cid"]):
            for k in range(2):
                s = _session(rec, offset_s=0.2 + 0.1 * p + 0.1 * k)
                if layout == "recordings":
                    (root / layout / person).mkdir(parents=True, exist_ok=True)
                    write_recording(root / layout / person / f"session{k + 1}.xdf", s)
                else:
                    write_session(s, root / layout / person / f"s{k + 1}")
    return root


def _eval(tmp_path, root, *args):
    out = tmp_path / "eval.json"
    assert main(["eval", "--root", str(root), "--json", str(out), "--models", "lda", *args]) == 0
    return json.loads(out.read_text())


@pytest.mark.parametrize("layout", ["recordings", "libemg"])
@pytest.mark.parametrize("protocol", ["intra-day", "inter-day", "inter-subject"])
def test_protocols_run_on_both_layouts(tmp_path, trees, layout, protocol):
    report = _eval(tmp_path, trees / layout, "--dataset", layout, "--protocol", protocol)
    records = report["records"]
    assert records and report["class_names"][:2] == ["rest", "flexion"]
    people = {r["subject"] for r in records}
    assert people == {"ann", "bob", "cid"}
    if protocol == "intra-day":  # leave-one-repetition-out: 3 folds × 2 sessions × 3 people
        assert len(records) == 18 and {tuple(r["test"]["trials"]) for r in records} == {(0,), (1,), (2,)}
    elif protocol == "inter-day":
        assert len(records) == 3 and all(r["test"]["session"] == 2 for r in records)
    else:
        assert len(records) == 6
    assert np.mean([r["accuracy"] for r in records]) > 0.5  # 4 gestures: chance 0.25


@pytest.mark.parametrize("layout", ["recordings", "libemg"])
def test_inter_session_with_adapt(tmp_path, trees, layout):
    report = _eval(tmp_path, trees / layout, "--dataset", layout, "--protocol", "inter-day", "--models",
                   "allconvnet", "--adapt", "none,renorm", "--epochs", "2", "--subjects", "ann")
    records = report["records"]
    assert {r["adapt"] for r in records} == {"none", "renorm"}
    assert all(r["test"]["split"].startswith("adapt on repetitions 0-0") and r["n_test"] > 0 for r in records)


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_a_session_recorded_through_the_emulated_dongle_is_evaluated(tmp_path):
    """Two sessions recorded with `record` from the emulated BLED112, which streams a short labelled session (4
    gestures × 2 repetitions × 0.6 s, looped); the labels are added as the wizard's markers would give them."""
    bundled = read_recording(BUNDLED)
    root = tmp_path / "lab"
    (root / "dan").mkdir(parents=True)
    for k in (1, 2):
        played = _session(bundled, offset_s=0.3 * k, reps=2)
        played = concatenate([played.slice(a, a + int(0.6 * played.fs))
                              for a in range(0, len(played), int(REP_S * played.fs))])
        raw = tmp_path / f"raw{k}.xdf"
        with Bled112Emulator(samples=played.samples) as emu:
            assert main(["record", str(raw), "--source", f"myo:{emu.port}", "--seconds", "5"]) == 0
            _g, truth, _t = emu.delivered_truth()
        rec = read_recording(raw)
        np.testing.assert_array_equal(rec.samples, truth[:len(rec)])
        # where in the looped session the stream began: its labels are the session's from there on
        n = len(played)
        off = next(i for i in range(n) if np.array_equal(rec.samples[:40], np.resize(
            np.roll(played.samples, -i, axis=0), (40, 8))))
        rec.labels = np.resize(np.roll(played.labels, -off), len(rec))
        np.testing.assert_array_equal(rec.samples, np.resize(np.roll(played.samples, -off, axis=0), rec.samples.shape))
        rec.class_names = played.class_names
        write_recording(root / "dan" / f"s{k}.xdf", rec, overwrite=True)
    report = _eval(tmp_path, root, "--dataset", "recordings", "--protocol", "inter-day")
    (record,) = report["records"]
    assert record["subject"] == "dan" and record["test"]["session"] == 2 and record["test"]["n_windows"] > 0
    assert 0.0 <= record["accuracy"] <= 1.0
