"""``myoxai eval`` as a grid of cells: same records sequentially, on --workers and on --scheduler; a killed
run resumes from its cache; a failed cell is recorded and the grid goes on. Dask binds to 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from myoxai.cli import main

GRID = ["--dataset", "kanoga", "--subjects", "1", "--days", "1", "--protocol", "intra-day", "--models",
        "lda,allconvnet", "--epochs", "1", "--no-progress"]  # 4 folds × 2 models = 8 cells


def _eval(root: Path, out: Path, *extra: str, grid: list[str] = GRID) -> tuple[int, dict]:
    rc = main(["eval", "--root", str(root), *grid, "--json", str(out), *extra])
    return rc, json.loads(out.read_text())


@pytest.fixture(scope="module")
def sequential(kanoga_root, tmp_path_factory) -> dict:
    rc, report = _eval(kanoga_root, tmp_path_factory.mktemp("seq") / "seq.json")
    assert rc == 0
    return report


def test_sequential_report_schema_seeds_and_cache(sequential, kanoga_root, tmp_path):
    from myoxai.evaluation.cells import derive_seed

    assert set(sequential) >= {"myoxai", "command", "settings", "seeds", "execution", "records", "summary", "cells",
                               "failed_cells", "summary_markdown"}
    assert sequential["execution"]["mode"] == "sequential" and not sequential["failed_cells"]
    cells, recs = sequential["cells"], sequential["records"]
    assert len(cells) == 8 and len(recs) == 8 and not any(c["cached"] for c in cells)
    assert len({c["seed"] for c in cells}) == 8  # every cell its own seed ...
    for r in recs:  # ... derived from the run seed and what the cell trains
        key = {"dataset": "kanoga", "subject": 1, "model": r["model"],
               "train": {k: v for k, v in r["train"].items() if k not in ("n_windows", "seed", "epochs_run")}}
        assert r["train"]["seed"] == derive_seed(0, key)
    assert not any("seconds" in r or "seconds" in r["train"] for r in recs)  # records hold no wall-clock time
    assert len(list(Path(sequential["execution"]["cache"]).glob("*.json"))) == 8
    # an existing report is not overwritten silently
    out = tmp_path / "x.json"
    out.write_text("{}")
    assert main(["eval", "--root", str(kanoga_root), *GRID, "--json", str(out)]) == 2
    assert out.read_text() == "{}"


@pytest.mark.slow
def test_workers_give_the_sequential_records(sequential, kanoga_root, tmp_path):
    rc, report = _eval(kanoga_root, tmp_path / "w.json", "--workers", "2")
    assert rc == 0
    assert report["execution"]["mode"] == "workers" and report["execution"]["workers"] == 2
    assert report["execution"]["dashboard"].startswith("http://127.0.0.1:")
    assert report["records"] == sequential["records"]
    assert [c["seed"] for c in report["cells"]] == [c["seed"] for c in sequential["cells"]]


@pytest.fixture(scope="module")
def cluster():
    """A running Dask cluster of 2 worker processes on the loopback interface."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        yield cluster


@pytest.mark.slow
def test_scheduler_address_runs_the_same_cells(sequential, kanoga_root, tmp_path, cluster, capsys):
    rc, report = _eval(kanoga_root, tmp_path / "s.json", "--scheduler", cluster.scheduler_address)
    assert rc == 0 and report["execution"]["mode"] == "scheduler" and report["execution"]["workers"] == 2
    assert report["records"] == sequential["records"]
    # workers whose torch thread count differs from --threads would give other numbers: refused up front
    assert main(["eval", "--root", str(kanoga_root), *GRID, "--json", str(tmp_path / "t.json"), "--threads", "2",
                 "--scheduler", cluster.scheduler_address]) == 2
    assert "OMP_NUM_THREADS=2" in capsys.readouterr().err


def test_scheduler_that_is_not_there_is_a_user_error(kanoga_root, tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = main(["eval", "--root", str(kanoga_root), *GRID, "--json", str(tmp_path / "n.json"),
               "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert rc == 2 and "cannot connect" in capsys.readouterr().err


def test_killed_run_resumes_without_recomputing_finished_cells(sequential, kanoga_root, tmp_path):
    out = tmp_path / "k.json"
    cache = tmp_path / "k.cells"
    proc = subprocess.Popen([sys.executable, "-m", "myoxai", "eval", "--root", str(kanoga_root), *GRID,
                             "--json", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while len(list(cache.glob("*.json"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p.stem: p.stat().st_mtime_ns for p in cache.glob("*.json")}
    assert 2 <= len(finished) < 8, f"the run should be killed midway, {len(finished)} of 8 cells were cached"
    assert not out.exists() and not list(cache.glob(".*.tmp"))  # nothing half-written

    rc, report = _eval(kanoga_root, out)
    assert rc == 0
    cached = {c["id"] for c in report["cells"] if c["cached"]}
    assert cached == set(finished)
    assert {p.stem: p.stat().st_mtime_ns for p in cache.glob("*.json") if p.stem in finished} == finished
    assert report["records"] == sequential["records"]


@pytest.fixture()
def small_copy(kanoga_root, tmp_path) -> Path:
    """Days 1 and 2 of subject 1 in a folder of its own (so the test may damage them)."""
    src = next(p for p in (kanoga_root / "data" / "sub1", kanoga_root / "sub1") if p.is_dir())
    for day in ("day1", "day2"):
        shutil.copytree(src / day, tmp_path / "kanoga" / "sub1" / day)
    return tmp_path / "kanoga"


def test_failed_cells_are_listed_the_grid_goes_on_and_the_cache_follows_the_data(small_copy, tmp_path):
    grid = ["--dataset", "kanoga", "--subjects", "1", "--days", "1-2", "--protocol", "intra-day", "--models", "lda",
            "--no-progress"]
    bad = small_copy / "sub1" / "day2" / "D2M5T3.csv"
    good = bad.read_text()
    bad.write_text("99" + good[good.index(","):])  # far outside the dataset's range: the loader refuses it
    out = tmp_path / "f.json"
    code = ("import sys; from myoxai.cli import main; rc = main(sys.argv[1:]); "
            "print('dask imported:', 'dask' in sys.modules); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, "eval", "--root", str(small_copy), *grid, "--json", str(out)],
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert proc.returncode == 1, proc.stderr
    assert "dask imported: False" in proc.stdout  # the sequential path never imports Dask
    assert proc.stderr.count("D2M5T3.csv") >= 4 and "4 cell(s) failed" in proc.stderr
    report = json.loads(out.read_text())
    assert len(report["failed_cells"]) == 4 and all("far outside" in c["error"] for c in report["failed_cells"])
    assert len(report["records"]) == 4 and {r["test"]["day"] for r in report["records"]} == {1}

    bad.write_text(good)  # repaired: day 1 comes from the cache, the failed day-2 cells run now
    rc, report = _eval(small_copy, out, "--overwrite", grid=grid)
    assert rc == 0 and len(report["records"]) == 8
    assert {(c["label"].split()[-1], c["cached"]) for c in report["cells"]} == {("1", True), ("2", False)}

    day1 = small_copy / "sub1" / "day1" / "D1M1T1.csv"  # other content, same name: those cells run again
    day1.write_text(day1.read_text().replace("-", "", 1))
    rc, report = _eval(small_copy, out, "--overwrite", grid=grid)
    assert rc == 0
    assert {(c["label"].split()[-1], c["cached"]) for c in report["cells"]} == {("1", False), ("2", True)}


@pytest.mark.slow
def test_adaptation_cells_are_identical_on_a_cluster(sequential, kanoga_root, tmp_path, cluster):
    """One cell per subject-day; the calibration model is memoised per process, so where it is trained
    must not matter."""
    grid = ["--dataset", "kanoga", "--subjects", "1", "--days", "2,3", "--protocol", "inter-day", "--models",
            "spectrogram-convnet", "--channels", "4,8,8", "--epochs", "2", "--adapt", "none,dann", "--adapt-epochs",
            "1", "--splits", "12", "--no-progress"]
    rc, seq = _eval(kanoga_root, tmp_path / "a.json", grid=grid)
    assert rc == 0 and [c["label"] for c in seq["cells"]] == ["adapt kanoga s1 day 2", "adapt kanoga s1 day 3"]
    rc, par = _eval(kanoga_root, tmp_path / "b.json", "--scheduler", cluster.scheduler_address, grid=grid)
    assert rc == 0 and par["records"] == seq["records"]
    assert set(seq) == set(sequential)  # one schema for every protocol
    r = seq["records"][1]
    assert (r["adapt"], r["test"]["day"], r["test"]["trials"], r["train"]["days"]) == ("dann", 2, [3, 4], [1])


@pytest.mark.slow
def test_bench_eval_grid_reports_speedup_overhead_and_equality(kanoga_root, tmp_path):
    out = tmp_path / "bench.json"
    assert main(["bench", "eval-grid", "--root", str(kanoga_root), "--subjects", "1", "--days", "1", "--models", "lda",
                 "--json", str(out)]) == 0
    results = {b["name"]: b for b in json.loads(out.read_text())["benchmarks"]}
    assert results["eval_grid.records_identical"]["value"] == 1.0
    assert results["eval_grid.speedup"]["value"] > 0 and results["eval_grid.sequential_seconds"]["params"]["cells"] == 4
    assert len(results["eval_grid.speedup"]["params"]["loadavg_1min"]) == 3
    assert results["eval_grid.sequential.cell_cpu_seconds"]["value"] > 0


def test_adaptation_cells_per_subject_day_and_per_subject_for_cross_day_methods(monkeypatch):
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation import adaptation

    cells = adaptation.kanoga_cells([1, 2], [9, 2], ["none", "dann"], ["12", "34"])
    assert [(c.params["subject"], c.params["days"], c.reads) for c in cells] == [
        (1, [2], [[1, 1], [1, 2]]), (1, [9], [[1, 1], [1, 9]]), (2, [2], [[2, 1], [2, 2]]), (2, [9], [[2, 1], [2, 9]])]
    assert len({c.seed(0) for c in cells}) == 4
    monkeypatch.setattr(adaptation, "CROSS_DAY_METHODS", ("dann",))  # a method that carries state across days
    cells = adaptation.kanoga_cells([1], [2, 9], ["none", "dann"])
    assert [(c.params["days"], c.params["methods"]) for c in cells] == [([2], ["none"]), ([9], ["none"]),
                                                                       ([2, 9], ["dann"])]
    with pytest.raises(MyoxaiError, match="day 1 is the calibration day"):
        adaptation.kanoga_cells([1], [1, 2], ["none"])
    from myoxai.evaluation.adaptation_myo import myo_readings_cells

    sessions = myo_readings_cells([(7, 1), (7, 2), (7, 3), (8, 1)], ["none"])
    assert [(c.params["subject"], c.params["sessions"]) for c in sessions] == [(7, [2]), (7, [3])]


def test_within_day_protocols_train_without_the_day_to_day_augmentation():
    """Intra-day / intra-session models are scored in the session they were trained in; inter-day ones are not."""
    from myoxai.evaluation import protocols
    from myoxai.models.recipes import DAY_TO_DAY, recipe

    assert recipe("spectrogram-convnet")[1].augment == DAY_TO_DAY
    assert recipe("spectrogram-convnet", within_day=True)[1].augment is None
    intra = protocols.kanoga_intra_day([1], [1], ["spectrogram-convnet"])
    inter = protocols.kanoga_inter_day([1], [1, 2], ["spectrogram-convnet"])
    session = protocols.myo_readings_intra_session([(10000, 1)], ["spectrogram-convnet"])
    assert {c.params["protocol"] for c in intra + session} <= set(protocols.WITHIN_DAY)
    assert not {c.params["protocol"] for c in inter} & set(protocols.WITHIN_DAY)
