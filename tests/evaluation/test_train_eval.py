"""End to end: `myoxai train` on real data, a held-out evaluation, the eval command and the LDA baseline."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from myoxai.cli import main
from myoxai.config import DEFAULT_CONFIG
from myoxai.evaluation.metrics import scores

torch.set_num_threads(1)


def split_by_time(rec, train_fraction=2 / 3):
    """Each labeled 30 s gesture part of the bundled recording: first 2/3 to train, the rest to test."""
    from myoxai.io import concatenate

    parts = [p for p, _ in rec.meta["parts"]] if "parts" in rec.meta else None
    n = len(rec)
    bounds = parts + [n] if parts else list(range(0, n + 1, n // 8))
    train, test = [], []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        cut = a + int((b - a) * train_fraction)
        train.append(rec.slice(a, cut))
        test.append(rec.slice(cut, b))
    return concatenate(train), concatenate(test)


@pytest.mark.parametrize("model", ["lda", "allconvnet"])
def test_cli_train_then_held_out_accuracy_beats_chance(tmp_path, bundled, model):
    from myoxai.evaluation.data import recording_windows
    from myoxai.io import write_recording
    from myoxai.models import load_model, predict

    train, test = split_by_time(bundled)
    train_path = tmp_path / "calibration.xdf"
    write_recording(train_path, train)
    out = tmp_path / "model.safetensors"
    assert main(["train", "--data", str(train_path), "--model", model, "--out", str(out), "--epochs", "6",
                 "--no-progress"]) == 0
    loaded = load_model(out)
    assert loaded.class_names == bundled.class_names
    data = recording_windows(test, DEFAULT_CONFIG)
    s = scores(data.y, predict(loaded, data.inputs(loaded.input_kind)), len(data.class_names))
    assert s["balanced_accuracy"] > 0.5, s  # chance is 1/8


def test_cli_train_reports_bad_input(tmp_path, capsys, bundled_path):
    assert main(["train", "--data", str(bundled_path), "--model", "nope", "--out", str(tmp_path / "m")]) == 2
    assert "choose one of" in capsys.readouterr().err


def test_lda_within_day_matches_dataset_baseline(tmp_path, kanoga_root):
    """README: flat 22-class LDA, within day, leave-one-trial-out, days 1-5, subject 1 → 84.4 %."""
    out = tmp_path / "lda.json"
    assert main(["eval", "--dataset", "kanoga", "--root", str(kanoga_root), "--subjects", "1", "--days", "1-5",
                 "--protocol", "intra-day", "--models", "lda", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    recs = report["records"]
    assert len(recs) == 20 and {r["test"]["trials"][0] for r in recs} == {1, 2, 3, 4}
    for r in recs[:4]:
        assert set(r) >= {"dataset", "subject", "protocol", "model", "adapt", "train", "test", "accuracy",
                          "balanced_accuracy", "macro_f1", "confusion"}
        assert r["adapt"] == "none" and r["test"]["day"] == 1 and r["test"]["position"] == "N"
        assert np.asarray(r["confusion"]).sum() == 22 * 26
        assert r["test"]["trials"][0] not in r["train"]["trials"]
    acc = 100 * np.mean([r["accuracy"] for r in recs])
    assert abs(acc - 84.4) <= 2.0, acc


def test_inter_day_protocol_structure(tmp_path, kanoga_root):
    out = tmp_path / "inter.json"
    figs = tmp_path / "figs"
    assert main(["eval", "--dataset", "kanoga", "--root", str(kanoga_root), "--subjects", "1", "--days", "1-3",
                 "--protocol", "inter-day", "--models", "lda", "--json", str(out), "--figures", str(figs)]) == 0
    recs = json.loads(out.read_text())["records"]
    fixed = [r for r in recs if r["train"]["variant"] == "fixed"]
    inc = [r for r in recs if r["train"]["variant"] == "incremental"]
    assert [r["test"]["day"] for r in fixed] == [2, 3] and all(r["train"]["days"] == [1] for r in fixed)
    assert [(r["train"]["days"], r["test"]["day"]) for r in inc] == [([1], 2), ([1, 2], 3)]
    assert [r["test"]["position"] for r in fixed] == ["I", "O"]
    assert all(r["accuracy"] > 0.1 for r in recs)  # chance 1/22
    assert (figs / "inter-day_accuracy_vs_day.png").stat().st_size > 1000


def test_adapters_see_no_test_labels(kanoga_root, monkeypatch):
    from dataclasses import replace

    from myoxai.evaluation import protocols
    from myoxai.evaluation.cells import GridContext
    from myoxai.evaluation.executor import run_grid
    from myoxai.models import TrainSettings

    seen = []

    def spy(model, train, test, settings):
        seen.append(test.y.copy())
        return model

    monkeypatch.setitem(protocols.ADAPTERS, "spy", spy)
    cells = [replace(c, params={**c.params, "adapt": ["none", "spy"]})
             for c in protocols.kanoga_inter_day([1], [1, 2], ["lda"], incremental_models=[])]
    context = GridContext("kanoga", str(kanoga_root), 0, 1, TrainSettings(), {})
    recs = run_grid(cells, context, progress=False).records
    assert [r["adapt"] for r in recs] == ["none", "spy"]
    assert recs[0]["accuracy"] == recs[1]["accuracy"]
    assert seen and all((y == -1).all() for y in seen)
