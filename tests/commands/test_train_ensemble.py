"""``myoxai train --ensemble K`` → model file → the live engine (exact Shapley ring) and Quick adapt run on it."""

from __future__ import annotations

import numpy as np
import pytest

from myoxai.config import DEFAULT_CONFIG
from myoxai.dsp import process_signal
from myoxai.io import write_recording

from conftest import decisions_to_the_end, one_line_error


@pytest.fixture(scope="module")
def ensemble_file(tmp_path_factory, bundled):
    from myoxai.cli import main

    folder = tmp_path_factory.mktemp("ens")
    write_recording(folder / "b.xdf", bundled.slice(3000, 9000))  # rest and flexion, 30 s
    out = folder / "ens.safetensors"
    assert main(["train", "--data", str(folder / "b.xdf"), "--model", "allconvnet", "--ensemble", "2",
                 "--epochs", "2", "--no-progress", "--out", str(out)]) == 0
    return out, bundled.slice(3000, 9000)


def test_train_saves_an_ensemble_the_engine_runs_with_exact_shapley(ensemble_file):
    from myoxai.engine import Engine
    from myoxai.live.setup import EngineOptions, build_engine
    from myoxai.models import load_model, predict_proba
    from myoxai.models.ensemble import EnsembleModel
    from myoxai.sources.replay import ReplaySource

    path, rec = ensemble_file
    model = load_model(path, expect_config=None)
    assert isinstance(model, EnsembleModel) and len(model.members) == 2
    assert model.description["training"]["ensemble"] == 2 and "drift_reference" in model.description
    engine, _ = build_engine(EngineOptions(model=path, speed=0, drift=False))
    engine.stop()  # ``myoxai live --model FILE`` builds its engine on the ensemble
    part = rec.slice(0, 400)
    decisions = decisions_to_the_end(Engine(ReplaySource(part, speed=0, chunk=7), model, DEFAULT_CONFIG, vote=1))
    offline = process_signal(part.samples, DEFAULT_CONFIG).spectrograms.astype(np.float32)
    np.testing.assert_allclose(np.stack([d.probabilities for d in decisions]), predict_proba(model, offline),
                               atol=2e-5)
    np.testing.assert_allclose(decisions[0].phi.sum(axis=1), decisions[0].total, atol=1e-6)  # efficiency


def test_quick_adapt_runs_on_the_ensemble(ensemble_file):
    from myoxai.live.quick_adapt import checked_quick_adapt
    from myoxai.models import load_model
    from myoxai.models.ensemble import EnsembleModel

    path, rec = ensemble_file
    model = load_model(path, expect_config=None)
    x = process_signal(rec.samples * 1.3, DEFAULT_CONFIG).spectrograms.astype(np.float32)
    result = checked_quick_adapt(model, x)
    assert isinstance(result.candidate, EnsembleModel) and result.candidate is not model
    assert result.report.renormalized and len(result.report.prototype_supports) == model.n_classes
    for adapted, original in zip(result.candidate.members, model.members, strict=True):  # each member adapted
        assert not np.allclose(adapted.logits(x[:50]), original.logits(x[:50]))


def test_train_refuses_an_ensemble_of_lda(capsys, tmp_path, bundled_path):
    one_line_error(capsys, ["train", "--data", str(bundled_path), "--model", "lda", "--ensemble", "3", "--out",
                            str(tmp_path / "m.safetensors")], "torch model")
