"""Numbers a reviewer can trust: cache keys that see the code, seeds and statistics over subjects, a fair LDA,
and options a protocol would ignore refused."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from scipy import stats as sps

from myoxai.errors import MyoxaiError
from myoxai.evaluation import stats
from myoxai.evaluation.fingerprint import code_fingerprint, registry_fingerprint, source_hash
from myoxai.evaluation.plan import EvalOptions, plan


# ---------------------------------------------------------------- cache keys
def test_source_hash_sees_any_edit_of_the_package(tmp_path):
    from myoxai.evaluation.fingerprint import PACKAGE

    copy = tmp_path / "myoxai"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_hash(copy) == source_hash(PACKAGE) == code_fingerprint()["sources"]
    features = copy / "dsp" / "features.py"
    features.write_text(features.read_text().replace("np.mean(np.abs(w), axis=1)", "np.mean(np.abs(w), axis=1) * 2"))
    assert source_hash(copy) != source_hash(PACKAGE)


def _lda_cell(kanoga_root):
    from myoxai.evaluation import protocols
    from myoxai.evaluation.cells import GridContext
    from myoxai.models import TrainSettings

    cell = protocols.kanoga_intra_day([1], [1], ["lda"])[0]
    settings = TrainSettings(epochs=1, seed=0, threads=1)
    return cell, GridContext("kanoga", str(kanoga_root), 0, 1, settings, settings.to_dict())


def test_a_changed_feature_recomputes_the_cell_and_no_change_recomputes_nothing(kanoga_root, tmp_path,
                                                                               monkeypatch):
    from myoxai.dsp import features
    from myoxai.evaluation import cells as cells_mod
    from myoxai.evaluation.executor import run_grid

    cell, context = _lda_cell(kanoga_root)
    first = run_grid([cell], context, cache_dir=tmp_path, progress=False)
    again = run_grid([cell], context, cache_dir=tmp_path, progress=False)
    assert not first.cells[0]["cached"] and again.cells[0]["cached"]  # a rerun after no change computes nothing
    assert again.records == first.records and again.records[0]["seed"] == 0

    before = registry_fingerprint()
    original = features.FEATURES["mav"]
    monkeypatch.setitem(features.FEATURES, "mav", lambda w: original(w) ** 0.5)  # the cell's LDA uses MAV
    assert registry_fingerprint() != before
    monkeypatch.setattr(cells_mod, "_MEMO", type(cells_mod._MEMO)())  # windows memoised with the old features
    changed = run_grid([cell], context, cache_dir=tmp_path, progress=False)
    assert not changed.cells[0]["cached"]  # the key saw the new function
    assert changed.records[0]["accuracy"] != first.records[0]["accuracy"]
    assert len(list(tmp_path.glob("*.json"))) == 2  # both results kept, each under its own key


def test_the_report_names_cells_written_by_other_code(kanoga_root, tmp_path):
    import json

    from myoxai.evaluation.executor import run_grid

    cell, context = _lda_cell(kanoga_root)
    run_grid([cell], context, cache_dir=tmp_path, progress=False)
    (stored,) = tmp_path.glob("*.json")
    entry = json.loads(stored.read_text())
    entry["code"] = {"sources": "0123456789abcdef"}
    (tmp_path / "other.json").write_text(json.dumps(entry))
    result = run_grid([cell], context, cache_dir=tmp_path, progress=False)
    assert result.cells[0]["cached"] and result.foreign_cache == {"0123456789abcdef": 1}


def test_several_seeds_run_every_cell_once_per_seed(kanoga_root, tmp_path):
    from dataclasses import replace

    from myoxai.evaluation.executor import run_grid

    cell, context = _lda_cell(kanoga_root)
    contexts = [replace(context, seed=s, settings=replace(context.settings, seed=s)) for s in (0, 1)]
    result = run_grid([cell], contexts, cache_dir=tmp_path, progress=False)
    assert [r["seed"] for r in result.records] == [0, 1] and len({c["id"] for c in result.cells}) == 2


# ---------------------------------------------------------------- statistics over subjects
def _records(rng, shift: dict[str, float], subjects=6, days=4, seeds=(0, 1, 2)):
    out = []
    for s in range(subjects):
        base = rng.uniform(0.6, 0.8)
        for d in range(days):
            for seed in seeds:
                for method, delta in shift.items():
                    acc = base + delta + rng.normal(0, 0.01)
                    out.append({"dataset": "kanoga", "protocol": "inter-day", "subject": s + 1, "model": "m",
                                "adapt": method, "seed": seed, "train": {"variant": "fixed"},
                                "test": {"day": d + 2, "split": "x", "n_windows": 100},
                                "accuracy": acc, "balanced_accuracy": acc, "macro_f1": acc})
    return out


def test_comparison_pairs_subjects_and_uses_scipy():
    recs = _records(np.random.default_rng(0), {"none": 0.0, "a": 0.05, "b": 0.0, "c": -0.02})
    out = stats.compare(recs, "none", metrics=("accuracy",), resamples=2000)
    rows = {c["method"]: c for c in out["comparisons"]}
    assert set(rows) == {"a", "b", "c"}
    a = rows["a"]
    assert a["n_subjects"] == 6 and a["seeds"] == [0, 1, 2]
    assert a["ci95"][0] < a["mean_difference"] < a["ci95"][1] and a["ci95"][0] > 0.03
    diffs = np.array([a["per_subject_difference"][str(s)] for s in range(1, 7)])
    assert a["tests"][0]["p"] == pytest.approx(sps.wilcoxon(diffs).pvalue)
    assert a["tests"][0]["test"].startswith("Wilcoxon") and a["tests"][0]["n"] == 6
    assert rows["b"]["ci95"][0] < 0 < rows["b"]["ci95"][1]
    ps = [rows[m]["tests"][0]["p"] for m in ("a", "b", "c")]
    assert [rows[m]["tests"][0]["p_holm"] for m in ("a", "b", "c")] == pytest.approx(stats.holm(ps))
    (fried,) = out["friedman"]
    assert fried["n"] == 6 and fried["test"] == "Friedman" and 0 <= fried["p"] < 0.05


def test_holm_and_the_subject_bootstrap():
    assert stats.holm([0.01, 0.04, 0.03, None]) == pytest.approx([0.03, 0.06, 0.06, None], nan_ok=True)
    lo, hi = stats.hierarchical_bootstrap([np.array([x]) for x in (0.1, 0.2, 0.3, 0.4)], 2000)
    assert 0.1 <= lo < 0.25 < hi <= 0.4


def test_seeds_are_averaged_within_a_subject_first():
    recs = [{"subject": 1, "seed": 0, "accuracy": 0.5}, {"subject": 1, "seed": 0, "accuracy": 0.7},
            {"subject": 1, "seed": 1, "accuracy": 0.9}]
    assert stats.subject_means(recs, "accuracy") == {1: pytest.approx(0.75)}


# ---------------------------------------------------------------- the LDA's dead-zone
def test_lda_dead_zone_comes_from_the_training_rest_noise_and_is_stored(tmp_path):
    from myoxai.models import build_model, load_model, save_model

    rng = np.random.default_rng(0)
    rest = rng.normal(0, 3.0, (40, 50, 8))  # raw-int8-like rest noise, sd 3
    move = rng.normal(0, 20.0, (40, 50, 8))
    x, y = np.concatenate([rest, move]).astype(np.float32), np.repeat([0, 1], 40)
    lda = build_model("lda", 2).fit(x, y)
    dz = lda.feature_set.params["zc"]["deadzone"]
    assert dz == pytest.approx(3.0, rel=0.05) and lda.feature_set.params["ssc"]["deadzone"] == dz
    loaded = load_model(save_model(lda, tmp_path / "lda.safetensors", ("rest", "fist")))
    assert loaded.feature_set.params["zc"]["deadzone"] == dz
    np.testing.assert_allclose(loaded.logits(x), lda.logits(x))
    with pytest.raises(ValueError, match="resolve_features"):
        build_model("lda", 2).fit(None, y, features=np.zeros((80, 3)))


# ---------------------------------------------------------------- options a protocol would ignore
@pytest.mark.parametrize("options, message", [
    ({"dataset": "myo-armband", "protocol": "inter-subject", "adapt": ["quick"]}, "--adapt"),
    ({"dataset": "kanoga", "protocol": "intra-day", "incremental_every": 3}, "--incremental-every"),
    ({"dataset": "kanoga", "protocol": "inter-day", "align": ["on"]}, "--align"),
    ({"dataset": "kanoga", "protocol": "inter-day", "model_cache": "x"}, "--model-cache"),
    ({"dataset": "kanoga", "protocol": "inter-day", "seeds": [1, 1]}, "distinct"),
])
def test_ignored_options_are_refused(tmp_path, options, message):
    with pytest.raises(MyoxaiError, match=message):
        plan(EvalOptions(root=tmp_path, **options))


def test_kanoga_subjects_take_ranges(kanoga_root):
    from myoxai.evaluation.plan import _kanoga_subjects

    assert _kanoga_subjects(EvalOptions("kanoga", kanoga_root, "inter-day", subjects=["1-3", "5"])) == [1, 2, 3, 5]
    with pytest.raises(MyoxaiError, match="--subjects"):
        _kanoga_subjects(EvalOptions("kanoga", kanoga_root, "inter-day", subjects=["one"]))


def test_adapt_with_several_models_refuses(kanoga_root):
    with pytest.raises(MyoxaiError, match="run once per model"):
        plan(EvalOptions("kanoga", kanoga_root, "inter-day", models=["allconvnet", "spectrogram-convnet"],
                         adapt=["none", "quick"], subjects=["1"], days=[2]))


def test_adapt_epochs_and_patience_reach_the_recalibration_settings(kanoga_root):
    grid = plan(EvalOptions("kanoga", kanoga_root, "inter-day", models=["spectrogram-convnet"], subjects=["1"],
                            days=[2], adapt=["none", "scadann+quick"], adapt_epochs=500, adapt_patience=10))
    recal = grid.contexts[0].settings.recal
    assert (recal.max_epochs, recal.patience) == (500, 10)
    assert grid.contexts[0].settings_key != plan(EvalOptions(  # and the cell cache key sees them
        "kanoga", kanoga_root, "inter-day", models=["spectrogram-convnet"], subjects=["1"], days=[2],
        adapt=["none", "scadann+quick"], adapt_epochs=500)).contexts[0].settings_key
    with pytest.raises(MyoxaiError, match="--adapt-patience"):
        plan(EvalOptions("kanoga", kanoga_root, "intra-day", models=["lda"], subjects=["1"], days=[1],
                         adapt_patience=10))


def test_adapt_takes_every_torch_spectrogram_model_and_refuses_the_others(kanoga_root):
    from myoxai.models import SPECTROGRAM_MODELS

    assert set(SPECTROGRAM_MODELS) == {"spectrogram-convnet", "allconvnet", "ring-tower"}
    for name in SPECTROGRAM_MODELS:  # ring-tower too: its tower is electrode-equivariant, its head a linear layer
        grid = plan(EvalOptions("kanoga", kanoga_root, "inter-day", models=[name], adapt=["none", "default"],
                                subjects=["1"], days=[2]))
        assert grid.contexts[0].settings.model == name
    for name in ("lda", "scatnet"):
        with pytest.raises(MyoxaiError, match="one torch spectrogram model"):
            plan(EvalOptions("kanoga", kanoga_root, "inter-day", models=[name], adapt=["none", "quick"], subjects=["1"],
                             days=[2]))


def test_myo_armband_participants_are_asserted_by_name(tmp_path):
    for group, names in (("PreTrainingDataset", ["Female0"]), ("EvaluationDataset", ["Male0", "Someone"])):
        for n in names:
            (tmp_path / group / n / "training0").mkdir(parents=True)
    with pytest.raises(MyoxaiError, match="exactly the paper's"):
        plan(EvalOptions("myo-armband", tmp_path, "inter-subject", models=["lda"]))


# ---------------------------------------------------------------- the published LDA baseline
@pytest.mark.slow
def test_myo_armband_readme_lda_reproduces_the_published_baseline(myo_armband_root, tmp_path):
    """The dataset README's LDA: 92.3 % with one cycle, 98.2 % with four (within 0.5 points)."""
    import json

    from myoxai.cli import main

    out = tmp_path / "lda.json"
    assert main(["eval", "--dataset", "myo-armband", "--root", str(myo_armband_root), "--protocol", "inter-subject",
                 "--models", "lda", "--trials-per-gesture", "1,4", "--json", str(out), "--no-progress"]) == 0
    rows = {r["variant"]: r for r in json.loads(out.read_text())["summary"]}
    assert len(rows["lda-k1"]["subjects"]) == 17
    assert abs(100 * rows["lda-k1"]["accuracy"] - 92.3) < 0.5
    assert abs(100 * rows["lda-k4"]["accuracy"] - 98.2) < 0.5


def test_the_report_names_the_signal_config_the_run_used(myo_armband_root, tmp_path):
    """``--signal paper`` (52/5 windows, no high-pass) is what the JSON says, not the app's default."""
    import json

    from myoxai.cli import main
    from myoxai.config import SIGNAL_CONFIGS

    out = tmp_path / "paper.json"
    assert main(["eval", "--dataset", "myo-armband", "--root", str(myo_armband_root), "--protocol", "inter-subject",
                 "--models", "lda", "--trials-per-gesture", "1", "--participants", "Female0", "--signal", "paper",
                 "--json", str(out), "--no-progress"]) == 0
    report = json.loads(out.read_text())
    assert report["signal_config"] == SIGNAL_CONFIGS["paper"].to_dict() != SIGNAL_CONFIGS["default"].to_dict()
    assert report["signal_config"]["window"] == 52 and report["signal_config"]["highpass_hz"] == 0


# ---------------------------------------------------------------- drift validation
def test_within_subject_spearman_beside_the_confidence_baseline():
    from myoxai.evaluation.drift_validation import within_subject

    rng = np.random.default_rng(0)
    rows = [{"subject": s, "accuracy_change": c, "max_softmax": 0.8 + c + rng.normal(0, 0.01),
             "score": rng.normal()} for s in range(4) for c in rng.uniform(-0.3, 0, 20)]
    out = within_subject(rows, {"drift score": [r["score"] for r in rows],
                                "max-softmax baseline": [-r["max_softmax"] for r in rows]}, resamples=300)
    base, score = out["max-softmax baseline"], out["drift score"]
    assert base["spearman_mean_over_subjects"] < -0.9 and base["ci95"][1] < -0.8
    assert score["ci95"][0] < 0 < score["ci95"][1] and len(score["per_subject"]) == 4
    assert out["drift score minus max-softmax baseline"]["ci95"][0] > 0.5  # the baseline is far better here


def test_the_code_fingerprint_is_the_same_in_every_process():
    """Keys must match between the process that wrote a cache and the one that reads it (string hashing
    is randomised per process, and frozenset constants would otherwise print in another order)."""
    import os
    import subprocess
    import sys

    code = "from myoxai.evaluation.fingerprint import cache_identity; print(cache_identity())"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in (1, 2)}
    assert len(outs) == 1
