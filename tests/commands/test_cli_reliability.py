"""Issue 11 defects, each reproduced through the command line: exit 0 or 2, no traceback, no file destroyed.

Refusals run ``myoxai.cli.main`` in-process (``cli``: the same parser, error handling and exit code
as the console script, without paying a Python + torch start-up per case); what needs a process of
its own (a file-size limit as a full disk, SIGTERM) runs ``python -m myoxai`` (``_run``).
``cli`` is the shared fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from myoxai.io import Recording, read_recording, write_recording

from conftest import REPO


def _run(*args: str, limit_file_bytes: int | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    def limits() -> None:
        if limit_file_bytes is not None:  # a "full disk": writes beyond this size fail with EFBIG
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run([sys.executable, "-m", "myoxai", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, preexec_fn=limits, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def _one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith(("WARNING", "usage:", " "))]
    assert len(lines) == 1, proc.stderr
    for f in fragments:
        assert f in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def small_xdf(tmp_path_factory, bundled):
    path = tmp_path_factory.mktemp("rec") / "b.xdf"
    write_recording(path, bundled.slice(3000, 9000))  # rest and flexion
    return path


def test_train_refuses_to_write_the_model_over_its_input(small_xdf, cli):
    before = small_xdf.read_bytes()
    for extra in ([], ["--overwrite"]):
        proc = cli("train", "--data", str(small_xdf), "--model", "lda", "--out", str(small_xdf), *extra)
        _one_line_error(proc, "also an input")
    assert small_xdf.read_bytes() == before


def test_train_refuses_an_existing_output_without_overwrite(small_xdf, tmp_path, cli):
    out = tmp_path / "m.safetensors"
    out.write_bytes(b"an older model")
    _one_line_error(cli("train", "--data", str(small_xdf), "--model", "lda", "--out", str(out)), "exists")
    assert out.read_bytes() == b"an older model"
    proc = cli("train", "--data", str(small_xdf), "--model", "lda", "--out", str(out), "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[8:9] == b"{" and sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_train_into_an_unwritable_place_is_one_line(small_xdf, cli):
    _one_line_error(cli("train", "--data", str(small_xdf), "--model", "lda", "--out", "/proc/m.safetensors"),
                    "cannot write /proc/m.safetensors")


@pytest.mark.parametrize(("fs", "channels", "message"), [(1000.0, 8, "sampled at 1000 Hz"), (200.0, 7, "7 channels")])
def test_recordings_that_do_not_fit_the_pipeline_are_refused(tmp_path, fs, channels, message, cli):
    n = 4000
    rng = np.random.default_rng(0)
    rec = Recording(rng.standard_normal((n, channels)).astype(np.float32), np.arange(n) / fs, fs,
                    np.repeat([0, 1], n // 2), ("rest", "fist"))
    path = tmp_path / "odd.xdf"
    write_recording(path, rec)
    for args in (["train", "--data", str(path), "--model", "lda", "--out", str(tmp_path / "m.safetensors")],
                 ["replay", str(path), "--speed", "max"]):
        _one_line_error(cli(*args), message)
    assert not (tmp_path / "m.safetensors").exists()


def test_recording_shorter_than_a_window_says_so(tmp_path, cli):
    path = tmp_path / "short.xdf"
    write_recording(path, Recording(np.zeros((30, 8), np.float32), np.arange(30) / 200.0, 200.0))
    _one_line_error(cli("replay", str(path), "--speed", "max"), "fewer than one 50-sample window")


@pytest.mark.parametrize(("args", "message"), [
    (["replay", "recordings/myo_readings_12548-1.xdf", "--speed", "nan"], "speed must be a positive number"),
    (["replay", "recordings/myo_readings_12548-1.xdf", "--seconds", "-1"], "seconds must be a positive number"),
    (["replay", "recordings/myo_readings_12548-1.xdf", "--chunk", "0"], "must be at least 1"),
    (["record", "x.xdf", "--source", "replay:recordings/myo_readings_12548-1.xdf", "--seconds", "inf"],
     "seconds must be a positive number"),
])
def test_nonsense_numbers_are_refused(args, message, cli):
    proc = cli(*args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_convert_on_a_full_disk_leaves_no_half_file(small_xdf, tmp_path):
    out = tmp_path / "c.xdf"
    proc = _run("convert", str(small_xdf), str(out), limit_file_bytes=60_000)
    _one_line_error(proc, f"cannot write {out}", "nothing was written")
    assert list(tmp_path.iterdir()) == []  # neither the output nor a temporary


def test_convert_refuses_its_input_and_existing_outputs(small_xdf, tmp_path, cli):
    _one_line_error(cli("convert", str(small_xdf), str(small_xdf), "--overwrite"), "also an input")
    out = tmp_path / "c.xdf"
    out.write_bytes(b"keep me")
    _one_line_error(cli("convert", str(small_xdf), str(out)), "exists")
    assert out.read_bytes() == b"keep me"


def test_record_on_a_full_disk_keeps_what_it_wrote_and_says_so(bundled_path, tmp_path):
    out = tmp_path / "r.xdf"
    proc = _run("record", str(out), "--source", f"replay:{bundled_path}", "--speed", "max",
                limit_file_bytes=150_000)
    _one_line_error(proc, f"cannot write {out}", "recorded before it are kept")
    kept = int(re.search(r"the (\d+) samples", proc.stderr).group(1))
    assert len(read_recording(out)) == kept > 1000


def test_record_from_a_missing_device_leaves_no_file(tmp_path, cli):
    out = tmp_path / "nope.xdf"
    proc = cli("record", str(out), "--source", "myo:/dev/ttyNOPE", "--seconds", "3")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists()
    proc = cli("record", str(out), "--source", "myo:/dev/ttyNOPE", "--seconds", "3")  # the retry is not told "exists"
    assert "exists" not in proc.stderr


@pytest.mark.timeout(120)
def test_sigterm_during_record_writes_the_footers(bundled_path, tmp_path):
    out = tmp_path / "term.xdf"
    proc = subprocess.Popen([sys.executable, "-m", "myoxai", "record", str(out), "--source",
                             f"replay:{bundled_path}", "--speed", "5"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while (not out.exists() or out.stat().st_size < 20000) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert b"<sample_count>" in out.read_bytes() and len(read_recording(out)) > 0


def test_model_that_is_a_device_or_folder_is_named(tmp_path, cli):
    link = tmp_path / "m.safetensors"
    link.symlink_to("/dev/zero")
    _one_line_error(cli("explain", "--model", str(link), "--data", "recordings/myo_readings_12548-1.xdf"),
                    "not a regular file")
    _one_line_error(cli("explain", "--model", str(tmp_path), "--data", "recordings/myo_readings_12548-1.xdf"),
                    "is a folder")


def test_train_on_a_full_disk_says_which_file(small_xdf, tmp_path):
    out = tmp_path / "m.safetensors"
    proc = _run("train", "--data", str(small_xdf), "--model", "lda", "--out", str(out), limit_file_bytes=4000)
    _one_line_error(proc, f"cannot write {out}", "nothing was written")
    assert list(tmp_path.iterdir()) == []


def test_eval_refuses_an_existing_report_before_any_work(tmp_path, cli):
    report = tmp_path / "r.json"
    report.write_text("{}")
    t0 = time.monotonic()
    proc = cli("eval", "--dataset", "kanoga", "--root", str(tmp_path), "--protocol", "intra-day",
                "--json", str(report))
    _one_line_error(proc, "exists")
    assert report.read_text() == "{}" and time.monotonic() - t0 < 60
    figures = tmp_path / "figs"
    figures.mkdir()
    (figures / "old.png").write_bytes(b"png")
    _one_line_error(cli("eval", "--dataset", "kanoga", "--root", str(tmp_path), "--protocol", "intra-day",
                         "--json", str(tmp_path / "new.json"), "--figures", str(figures)), "already holds files")


def test_explain_matches_gestures_by_name(tmp_path, cli):
    from myoxai.models import build_model, save_model

    model = build_model("allconvnet", 2, seed=0, channels=(4, 4, 4, 4))
    path = save_model(model, tmp_path / "two.safetensors", ("rest", "flexion"))
    proc = cli("explain", "--model", str(path), "--data", "recordings/myo_readings_12548-1.xdf",
                "--methods", "shapley", "--max-windows", "16")
    _one_line_error(proc, "contains gestures", "'fist'", "model does not know")
