"""``eval --ensemble K``: K reaches cache keys, records and the calibration variant; K=1 changes nothing."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from myoxai.evaluation import adaptation
from myoxai.evaluation.plan import EvalOptions, plan

from conftest import one_line_error
from conftest import tiny_adapt_context as context

ADAPT = {"protocol": "inter-day", "models": ["spectrogram-convnet"], "subjects": ["1"], "days": [3],
         "adapt": ["none", "default", "calibrate-35s"]}


@pytest.fixture
def hashed(monkeypatch):
    from myoxai.evaluation import data

    monkeypatch.setattr(data, "unit_hash", lambda dataset, root, unit: f"{dataset}{unit}")


def keys(grid) -> list[str]:
    from myoxai.evaluation import executor

    return executor.cell_keys(grid.cells, grid.contexts[0])


@pytest.mark.parametrize("options", [ADAPT, {"protocol": "intra-day", "models": ["allconvnet"], "subjects": ["1"],
                                             "days": [1]}])
def test_cache_keys_see_k_and_seeds_do_not(hashed, tmp_path, options):
    one = plan(EvalOptions("kanoga", tmp_path, **options))
    default = plan(EvalOptions("kanoga", tmp_path, **options, ensemble=1))
    three = plan(EvalOptions("kanoga", tmp_path, **options, ensemble=3))
    assert keys(one) == keys(default)
    assert "ensemble" not in one.contexts[0].settings_key and "ensemble" not in str(one.cells[0].params)
    assert set(keys(one)).isdisjoint(keys(three))
    assert [c.seed(0) for c in one.cells] == [c.seed(0) for c in three.cells]  # paired: the same seeds


def test_unsupported_combinations_are_refused_in_one_line(capsys, tmp_path):
    base = ["eval", "--dataset", "kanoga", "--root", str(tmp_path), "--subjects", "1", "--json",
            str(tmp_path / "out.json"), "--ensemble", "3"]
    one_line_error(capsys, [*base, "--protocol", "intra-day", "--models", "lda"], "torch model")
    one_line_error(capsys, [*base, "--protocol", "inter-day", "--models", "allconvnet"], "--ensemble does not apply")
    one_line_error(capsys, [*base, "--protocol", "inter-day", "--models", "spectrogram-convnet", "--days", "3",
                            "--adapt", "none,scadann"], "--adapt scadann adapts one network")
    one_line_error(capsys, [*base, "--protocol", "inter-day", "--models", "spectrogram-convnet", "--days", "3",
                            "--adapt", "default", "--pretrain", "others"], "--ensemble does not apply")


def test_kanoga_cell_records_say_k_and_member_zero_is_the_single_calibration(monkeypatch, tmp_path):
    from test_calibration_days import fake_day

    monkeypatch.setattr(adaptation, "kanoga_day", fake_day)
    models = []
    real = adaptation.run_methods

    def spy(model, *args, **kwargs):
        models.append(model)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(adaptation, "run_methods", spy)
    (cell,) = adaptation.kanoga_cells([1], [3], ["none", "default", "calibrate-35s"])
    single = context(str(tmp_path))
    ens = replace(single, settings=replace(single.settings, ensemble=2),
                  settings_key=replace(single.settings, ensemble=2).to_dict())
    one = adaptation.run_kanoga_cell(cell.params, single, 0)["records"]
    two = adaptation.run_kanoga_cell(cell.params, ens, 0)["records"]
    assert all("ensemble" not in r and r["train"]["variant"] == "fixed" for r in one)
    assert all(r["ensemble"] == 2 and r["train"]["variant"] == "fixed+ensemble2" for r in two)
    assert [r["adapt"] for r in two] == ["none", "default", "calibrate-35s"]
    assert len(two[1]["members"]) == 2 and "rotation_shift" in two[1]
    x = fake_day(None, 1, 3)["x"]
    np.testing.assert_array_equal(models[1].members[0].logits(x), models[0].logits(x))
