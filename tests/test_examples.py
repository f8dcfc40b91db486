"""Every script in examples/ runs on the bundled data (LSL loopback-only, as in every test) and says what it did."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO

EXAMPLES = REPO / "examples"


def _run(script: str, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO), LSLAPICFG=str(REPO / "tests" / "lsl_loopback.cfg"))
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=240, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_every_example_has_a_test():
    tested = {"record_train_classify.py", "live_callback.py", "stream_decisions_lsl.py",
              "libemg_convert_explain.py", "evaluate_own_sessions.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


@pytest.mark.slow
def test_record_train_classify(tmp_path):
    out = _run("record_train_classify.py", "--epochs", "2", "--out", str(tmp_path))
    assert (tmp_path / "session.xdf").is_file() and (tmp_path / "model.safetensors").is_file()
    accuracy = float(out.split("accuracy on the other 96 s: ")[1].split()[0])
    assert accuracy > 0.5  # 8 gestures: chance is 0.125


def test_live_callback():
    out = _run("live_callback.py", "--seconds", "3")
    assert out.strip().splitlines()[-1].startswith("60 decisions: ")
    assert " ch" in out.splitlines()[0]  # each line names the electrodes with the largest Shapley values


@pytest.mark.slow
def test_stream_decisions_over_lsl():
    out = _run("stream_decisions_lsl.py", "--seconds", "3")
    assert "receiver: connected to myoxai-decisions" in out
    got = int(out.split("the receiver got ")[1].split()[0])
    assert got > 0


def test_libemg_convert_explain():
    out = _run("libemg_convert_explain.py", "--windows", "80")
    accuracy = float(out.split("explained windows: ")[1].split()[0])
    assert accuracy > 0.5 and "fist" in out


@pytest.mark.parametrize("own", [False, True])
def test_evaluate_own_sessions(tmp_path, own):
    args = []
    if own:  # a folder of sessions as `record` leaves them
        from myoxai.io import read_recording, write_recording
        from myoxai.live.bundled import split_bundled

        held_out = split_bundled(read_recording(REPO / "recordings" / "myo_readings_12548-1.xdf"))[1]
        (tmp_path / "p01").mkdir()
        write_recording(tmp_path / "p01" / "s1.xdf", held_out)
        args = [str(tmp_path)]
    out = _run("evaluate_own_sessions.py", *args)
    accuracy = float(out.split("accuracy ")[1].split()[0])
    assert accuracy > 0.9  # the bundled model on the part of its recording it never saw: 0.951


def test_evaluate_own_sessions_with_a_protocol(tmp_path):
    from myoxai.io import read_recording, write_recording

    (tmp_path / "p01").mkdir()  # one session: rest and 3 gestures, each held 3 times (the bundled recording's start)
    write_recording(tmp_path / "p01" / "s1.xdf", read_recording(REPO / "recordings" / "myo_readings_12548-1.xdf")
                    .slice(0, 24000))
    out = _run("evaluate_own_sessions.py", str(tmp_path), "--protocol", "intra-day")
    row = next(line for line in out.splitlines() if line.startswith("| recordings"))
    assert "intra-session" in row and "| lda |" in row
