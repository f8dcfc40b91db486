"""Live path: NaN samples never reach the model, gestures match by name, the decision log is a safe output."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from myoxai.engine import Engine
from myoxai.io.recording import Recording
from myoxai.live.setup import load_live_model
from myoxai.sources.replay import ReplaySource

from conftest import REPO, decisions_to_the_end


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    e = {**os.environ, **(env or {})}
    e = {k: v for k, v in e.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "myoxai", *args], capture_output=True, text=True, timeout=240,
                          cwd=REPO, env=e)


@pytest.mark.timeout(240)
def test_nan_samples_from_a_live_source_are_a_gap_never_a_nan_decision(bundled):
    part = bundled.slice(6000, 8000)
    samples = part.samples.copy()
    samples[500:510] = np.nan  # ten NaN samples, as in the issue
    rec = Recording(samples, part.timestamps, part.fs, part.labels, part.class_names, dict(part.meta))
    source = ReplaySource(rec, speed=0, chunk=10)
    engine = Engine(source, load_live_model(None), explain=True)
    decisions = decisions_to_the_end(engine, 120)  # a non-looping replay: the engine finishes by itself
    assert len(decisions) > 150
    for d in decisions:
        assert np.isfinite(d.probabilities).all() and np.isfinite(d.confidence)
        assert d.phi is not None and np.isfinite(d.phi).all()
    st = engine.status()
    assert st.gaps == 1 and st.samples_lost == 10
    assert source.status().samples_nonfinite == 10
    assert sum(d.after_gap for d in decisions) == 1


def test_live_refuses_a_model_without_the_recordings_gestures(tmp_path, cli):
    from myoxai.models import build_model, save_model

    path = save_model(build_model("allconvnet", 2, seed=0, channels=(4, 4, 4, 4)), tmp_path / "two.safetensors",
                      ("rest", "flexion"))
    proc = cli("live", "--headless", "--model", str(path), "--source", "replay:recordings/myo_readings_12548-1.xdf",
                "--speed", "max", "--seconds", "2", "--no-shapley")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "that the model does not know" in proc.stderr and "fist" in proc.stderr


def test_live_log_is_a_safe_output(tmp_path, cli):
    log = tmp_path / "d.jsonl"
    log.write_text("earlier session\n")
    base = ["live", "--headless", "--source", "replay:recordings/myo_readings_12548-1.xdf", "--speed", "max",
            "--seconds", "1", "--no-shapley"]
    proc = cli(*base, "--log", str(log))
    assert proc.returncode == 2 and "exists" in proc.stderr and log.read_text() == "earlier session\n"
    proc = cli(*base, "--log", "recordings/myo_readings_12548-1.xdf", "--overwrite")
    assert proc.returncode == 2 and "also an input" in proc.stderr
    proc = cli(*base, "--log", str(log), "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().startswith('{"classes"')


def test_unreachable_display_is_exit_2_not_134():
    proc = _run("live", "--quit-after", "2", env={"DISPLAY": ":97", "QT_QPA_PLATFORM": None, "WAYLAND_DISPLAY": None})
    assert proc.returncode == 2 and "cannot open a window on display ':97'" in proc.stderr


def test_live_on_a_recording_shorter_than_a_window_says_so(tmp_path, cli):
    from myoxai.io import write_recording

    path = tmp_path / "short.xdf"
    write_recording(path, Recording(np.zeros((30, 8), np.float32), np.arange(30) / 200.0, 200.0))
    proc = cli("live", "--headless", "--source", f"replay:{path}", "--speed", "max", "--no-shapley")
    assert proc.returncode == 2 and "less than one 50-sample window" in proc.stderr, proc.stderr


def test_live_from_a_missing_dongle_is_one_line(cli):
    proc = cli("live", "--headless", "--source", "myo:/dev/ttyNOPE", "--seconds", "2", "--no-shapley")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "cannot open /dev/ttyNOPE" in proc.stderr
