"""The command line: the foundation commands work on the bundled recording; user mistakes print one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from myoxai.cli import main
from myoxai.io import read_recording

from conftest import REPO


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "myoxai", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO)


def test_info_on_bundled(bundled_path, capsys):
    assert main(["info", str(bundled_path)]) == 0
    out = capsys.readouterr().out
    assert "48000 x 8 channels" in out and "240.00 s" in out and "fist" in out


def test_replay_prints_live_lines(bundled_path, capsys):
    assert main(["replay", str(bundled_path), "--speed", "max", "--seconds", "30", "--every", "0"]) == 0
    out = capsys.readouterr().out
    assert "windows/s" in out and "samples/s" in out
    assert "done: 6000 samples, 596 windows" in out


def test_convert_session_folder(myo_readings_root, tmp_path, capsys):
    session = myo_readings_root / "_readings_right_hand" / "12548-1"
    out = tmp_path / "s.xdf"
    assert main(["convert", str(session), str(out), "--seconds-per-file", "30"]) == 0
    converted, ref = read_recording(out), read_recording(REPO / "recordings" / "myo_readings_12548-1.xdf")
    np.testing.assert_array_equal(converted.samples, ref.samples)  # the bundled file is reproducible
    np.testing.assert_array_equal(converted.labels, ref.labels)
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["info", "does-not-exist.xdf"], "does not exist"),
    (["replay", "recordings/LICENSE-myo-readings"], "unknown file type"),
    (["convert", "recordings/myo_readings_12548-1.xdf", "out.txt"], "must end in .xdf"),
])
def test_user_mistakes_one_line_exit_2(args, message):
    proc = _run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_option_exit_2():
    proc = _run("replay", "recordings/myo_readings_12548-1.xdf", "--speed", "fast")
    assert proc.returncode == 2 and "speed must be a number" in proc.stderr


def test_bench_dsp_schema(tmp_path):
    out = tmp_path / "bench.json"
    assert main(["bench", "dsp", "--json", str(out), "--repeat", "1"]) == 0
    report = json.loads(out.read_text())
    assert {"platform", "python", "cpus", "myoxai"} <= set(report["machine"])
    names = {b["name"] for b in report["benchmarks"]}
    assert {"dsp.stream.realtime_factor", "dsp.batch.realtime_factor", "dsp.stream_vs_batch.max_abs_diff"} <= names
    for b in report["benchmarks"]:
        assert set(b) == {"name", "value", "unit", "params"} and isinstance(b["value"], float)
    diff = next(b for b in report["benchmarks"] if b["name"] == "dsp.stream_vs_batch.max_abs_diff")
    assert diff["value"] <= 1e-12


def test_models_help_names_every_registered_model(capsys):
    from myoxai.cli import build_parser
    from myoxai.models import MODEL_NAMES

    with pytest.raises(SystemExit):
        build_parser().parse_args(["eval", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert all(f"{name}," in out or f"{name} (" in out for name in MODEL_NAMES), out
