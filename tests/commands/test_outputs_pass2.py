"""Issue 24, items 1-5 and 17: every output through the one safe writer; `record` exclusive and atomic on replace."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys

import pytest

from myoxai.cli import main
from myoxai.errors import MyoxaiError
from myoxai.io import outputs, read_recording, write_recording

from conftest import REPO, one_line_error


@pytest.fixture(scope="module")
def small_xdf(tmp_path_factory, bundled):
    path = tmp_path_factory.mktemp("rec") / "b.xdf"
    write_recording(path, bundled.slice(3000, 9000))
    return path


def test_bench_json_never_replaces_its_input(small_xdf, capsys):  # item 1
    before = small_xdf.read_bytes()
    for extra in ([], ["--overwrite"]):
        one_line_error(capsys, ["bench", "dsp", "--data", str(small_xdf), "--json", str(small_xdf), *extra],
                       "also an input")
    assert small_xdf.read_bytes() == before


def test_drift_json_equal_to_the_model_is_refused_even_with_overwrite(tmp_path, capsys):  # item 2
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"weights")
    one_line_error(capsys, ["drift", "--model", str(model), "--json", str(model), "--overwrite"], "also an input")
    assert model.read_bytes() == b"weights"


@pytest.mark.parametrize("command", [["drift"], ["motion-test"]])
def test_json_into_a_missing_folder_or_a_folder_fails_before_the_run(tmp_path, capsys, command):  # item 3
    one_line_error(capsys, [*command, "--json", str(tmp_path / "nope" / "r.json")], "does not exist")
    one_line_error(capsys, [*command, "--json", str(tmp_path)], "is a folder")


def test_bad_counts_are_one_line(capsys, tmp_path):  # item 17
    one_line_error(capsys, ["explain", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "d"),
                            "--lime-samples", "-1"], "--lime-samples")
    one_line_error(capsys, ["drift", "--shapley-windows", "-1"], "--shapley-windows")


def test_two_recorders_racing_for_one_path_cannot_share_it(tmp_path, monkeypatch):  # item 4
    out = tmp_path / "r.xdf"
    real = outputs.check_output

    def check_then_other_recorder_creates(path, **kw):  # both recorders pass the check before either creates
        checked = real(path, **kw)
        out.write_bytes(b"XDF:the other recorder")
        return checked

    monkeypatch.setattr(outputs, "check_output", check_then_other_recorder_creates)
    with pytest.raises(MyoxaiError, match="created by another program"):
        outputs.GrowingOutput(out)
    assert out.read_bytes() == b"XDF:the other recorder"


def _run_limited(args: list[str], limit: int) -> subprocess.CompletedProcess:
    def limits() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "myoxai", *args], capture_output=True, text=True, timeout=180,
                          cwd=REPO, preexec_fn=limits, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.mark.timeout(180)
def test_record_overwrite_on_a_full_disk_keeps_the_old_file(bundled_path, small_xdf, tmp_path):  # item 5
    old = tmp_path / "old.xdf"
    old.write_bytes(small_xdf.read_bytes())
    proc = _run_limited(["record", str(old), "--overwrite", "--source", f"replay:{bundled_path}", "--speed", "max"],
                        150_000)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert old.read_bytes() == small_xdf.read_bytes()  # the old recording is intact
    partial = [p for p in tmp_path.iterdir() if p != old]
    assert len(partial) == 1 and partial[0].name in proc.stderr and "unchanged" in proc.stderr, proc.stderr
    kept = int(re.search(r"the (\d+) samples", proc.stderr).group(1))
    assert len(read_recording(partial[0])) == kept > 1000


def test_record_overwrite_replaces_on_a_clean_stop(bundled_path, small_xdf, tmp_path, bundled):
    old = tmp_path / "old.xdf"
    old.write_bytes(small_xdf.read_bytes())
    assert main(["record", str(old), "--overwrite", "--source", f"replay:{bundled_path}", "--speed", "max"]) == 0
    assert len(read_recording(old)) == len(bundled)
    assert [p.name for p in tmp_path.iterdir()] == ["old.xdf"]


def _emg_header(path) -> tuple[str, dict]:
    import json

    import pyxdf

    streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)
    info = next(s["info"] for s in streams if s["info"]["name"][0] == "myoxai-emg")
    meta = json.loads(info["desc"][0]["myoxai"][0]["meta"][0])
    return (info.get("hostname") or [None])[0] or "", meta


def test_recordings_carry_no_host_name_or_absolute_path_unless_asked(bundled_path, tmp_path):  # item 22
    out = tmp_path / "p.xdf"
    assert main(["record", str(out), "--source", f"replay:{bundled_path}", "--speed", "max", "--seconds", "1"]) == 0
    host, meta = _emg_header(out)
    assert host == "" and meta["source"] == f"replay:{bundled_path.name}"
    assert str(bundled_path.parent).encode() not in out.read_bytes()
    out2 = tmp_path / "q.xdf"
    assert main(["record", str(out2), "--source", f"replay:{bundled_path}", "--speed", "max", "--seconds", "1",
                 "--provenance"]) == 0
    host, meta = _emg_header(out2)
    assert host == os.uname().nodename and meta["source"] == f"replay:{bundled_path}"


def test_decision_log_never_appends_to_a_recording(small_xdf):
    before = small_xdf.read_bytes()
    with pytest.raises(MyoxaiError, match="not a log"):
        outputs.open_log(small_xdf, "classes")
    assert small_xdf.read_bytes() == before
