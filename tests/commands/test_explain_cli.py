"""``myoxai explain`` on the bundled real recording, and ``myoxai bench shapley`` (values, never timings)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from myoxai.cli import main

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, bundled):
    from myoxai.explain.data import labelled_windows
    from myoxai.models import TrainSettings, build_model, save_model, train_model

    x, y = labelled_windows([bundled])
    model = build_model("allconvnet", len(bundled.class_names), seed=0, channels=(8, 8, 8, 16))
    train_model(model, x[::4], y[::4], TrainSettings(epochs=2, seed=0))
    path = tmp_path_factory.mktemp("m") / "tiny.safetensors"
    save_model(model, path, bundled.class_names)
    return path


def test_explain_command(model_file, bundled_path, tmp_path, capsys):
    out = tmp_path / "ex.json"
    rc = main(["explain", "--model", str(model_file), "--data", str(bundled_path), "--max-windows", "16",
               "--lime-samples", "40", "--ig-steps", "10", "--json", str(out), "--figures", str(tmp_path / "fig")])
    assert rc == 0
    report = json.loads(out.read_text())
    assert report["windows"] == 16 and set(report["ms_per_window"]) == {"shapley", "ig", "gradshap", "lime", "gradcam"}
    assert len(report["agreement"]) == 10
    sh = report["shapley"]
    assert len(sh["matrix_true_class"]) == len(sh["class_names"]) and sh["efficiency_max_error"] < 1e-5
    present = [row for row in sh["contribution_ratios"] if row is not None]
    assert all(np.isclose(sum(r), 1) for r in present)
    with open(out.with_suffix(".csv")) as fh:
        assert len(list(csv.DictReader(fh))) == 10
    figs = {p.name for p in (tmp_path / "fig").iterdir()}
    assert {"agreement_pearson.png", "shapley_matrix.png", "shapley_bars.png", "gradcam_mean.png"} <= figs
    assert "shapley/lime" in capsys.readouterr().out


def test_explain_records_its_baseline(model_file, bundled_path, tmp_path):
    reports = {}
    for baseline in ("zero", "rest"):
        out = tmp_path / f"{baseline}.json"
        assert main(["explain", "--model", str(model_file), "--data", str(bundled_path), "--max-windows", "16",
                     "--methods", "shapley", "--baseline", baseline, "--json", str(out)]) == 0
        reports[baseline] = json.loads(out.read_text())["shapley"]
    assert reports["zero"]["baseline"] == "zero" and "-mean/std" in reports["zero"]["absent_electrode"]
    assert reports["rest"]["baseline"] == "rest" and "rest windows" in reports["rest"]["absent_electrode"]
    assert reports["rest"]["efficiency_max_error"] < 1e-5
    assert reports["rest"]["matrix_true_class"] != reports["zero"]["matrix_true_class"]


def test_explain_bad_input(model_file, bundled_path, tmp_path, capsys):
    args = ["explain", "--model", str(model_file), "--data", str(bundled_path)]
    assert main([*args, "--methods", "shapley,occlusion"]) == 2
    assert "occlusion" in capsys.readouterr().err
    assert main(["explain", "--model", str(tmp_path / "none.safetensors"), "--data", str(bundled_path)]) == 2


@pytest.mark.parametrize(("model", "path"), [pytest.param("allconvnet", "rowlocal", marks=pytest.mark.slow),
                                             ("ring-tower", "structure")])
def test_bench_shapley_values_agree(tmp_path, model, path):
    out = tmp_path / "b.json"
    rc = main(["bench", "shapley", "--model", model, "--windows", "3", "--compare-windows", "2", "--batch", "4",
               "--json", str(out)])
    assert rc == 0
    res = {r["name"]: r for r in json.loads(out.read_text())["benchmarks"]}
    # a NaN difference stays NaN (and fails here) rather than reading as exact
    assert 0 < res["shapley.shap_exact.max_abs_diff"]["value"] <= 1e-5
    assert 0 < res["shapley.shapiq_exact.max_abs_diff"]["value"] <= 1e-5
    assert res["shapley.ours_fast.batch1_p99"]["params"]["path"] == path


def test_explain_writes_interaction_matrices(model_file, bundled_path, tmp_path):
    from myoxai.explain import ChannelShapley
    from myoxai.explain.data import labelled_windows
    from myoxai.io.open import open_recording
    from myoxai.models import load_model

    folder, out = tmp_path / "inter", tmp_path / "ex.json"
    assert main(["explain", "--model", str(model_file), "--data", str(bundled_path), "--max-windows", "16",
                 "--methods", "ig", "--ig-steps", "4", "--interactions", str(folder), "--json", str(out)]) == 0
    with open(folder / "interactions.csv") as fh:
        rows = list(csv.DictReader(fh))
    report = json.loads(out.read_text())["interactions"]
    present = [g for g, n in enumerate(report["windows_per_gesture"]) if n]
    assert len(rows) == 28 * len(present) and (folder / "interactions.png").stat().st_size > 0
    # the CSV's first gesture equals the mean over its windows of the exact interactions, recomputed here
    model = load_model(model_file)
    x, y = labelled_windows([open_recording(bundled_path)])
    names = list(model.class_names)
    g = names.index(rows[0]["gesture"])
    assert all(r["gesture"] == rows[0]["gesture"] for r in rows[:28])
    from myoxai.explain.report import _select
    from myoxai.io.validate import label_index_map

    rec = open_recording(bundled_path)
    y = label_index_map(rec.class_names, model.class_names, np.unique(y), "data")[y]
    xs, ys = _select(x, y, 16, 0)
    res = ChannelShapley(model).explain(xs[ys == g])
    want = res.inter_prob[:, g].mean(axis=0)
    assert np.allclose([float(r["interaction"]) for r in rows[:28]], want, atol=1e-5)
    assert main(["explain", "--model", str(model_file), "--data", str(bundled_path), "--max-windows", "16",
                 "--methods", "ig", "--interactions", str(folder)]) == 2  # a folder with files: refused
