"""The explainer registry: one entry makes a method usable by ``myoxai explain --methods`` and by the engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from myoxai.errors import MyoxaiError
from myoxai.explain.attribution import Attribution, as_batch, as_targets
from myoxai.explain.explainer import Explainer
from myoxai.explain.methods import EXPLAINERS, attribute_all, build_method, explainer_factory
from myoxai.explain.shapley import ChannelShapley
from myoxai.explain.shapley_method import ShapleyMethod

from conftest import decisions_to_the_end

torch.set_num_threads(1)


class ElectrodeEnergy(Explainer):
    """A toy method: each electrode's mean absolute input, times (target class + 1)."""

    def __init__(self, model: torch.nn.Module, scale: float = 1.0) -> None:
        self.model = model.eval()
        self.scale = scale

    def attribute(self, x, target=None) -> Attribution:
        x = as_batch(x)
        t = as_targets(target, self.model, x).numpy()
        energy = x.abs().double().movedim(2, -1).flatten(1, -2).mean(dim=1).numpy()
        return Attribution("toy", self.scale * energy * (t[:, None] + 1))


def expected_phi(x: np.ndarray, n_classes: int, scale: float = 1.0) -> np.ndarray:
    energy = np.abs(np.moveaxis(x.astype(np.float64), 2, -1)).reshape(len(x), -1, x.shape[2]).mean(axis=1)
    return scale * energy[:, None, :] * (np.arange(n_classes)[None, :, None] + 1)


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(EXPLAINERS, "toy", ElectrodeEnergy)
    return "toy"


@pytest.fixture(scope="module")
def tiny_model():
    from myoxai.models import build_model

    model = build_model("allconvnet", 4, seed=0, channels=(4, 4, 4, 8))
    model.fit_standardizer(np.random.default_rng(0).gamma(1.0, 1.0, (64, 4, 8, 10)).astype(np.float32))
    return model.eval()


def test_registered_explainer_runs_in_attribute_all(toy, tiny_model):
    x = np.random.default_rng(1).gamma(1.0, 1.0, (10, 4, 8, 10)).astype(np.float32)
    target = np.arange(10) % 4
    out = attribute_all(tiny_model, x, target, [toy], (4, 8, 10), {toy: {"scale": 2.0}}, batch=3)
    phi = expected_phi(x, 4, 2.0)
    np.testing.assert_allclose(out[toy].channels, phi[np.arange(10), target])


def test_unknown_method_is_one_user_error(tiny_model):
    with pytest.raises(MyoxaiError, match="toy"):
        build_method("toy", tiny_model, (4, 8, 10))
    with pytest.raises(MyoxaiError, match="choose from shapley"):
        explainer_factory("occlusion")


def test_default_explain_decisions_asks_attribute_per_class(toy, tiny_model):
    x = np.random.default_rng(2).gamma(1.0, 1.0, (5, 4, 8, 10)).astype(np.float32)
    res = build_method(toy, tiny_model, (4, 8, 10)).explain_decisions(x)
    with torch.no_grad():
        proba = torch.softmax(tiny_model(torch.as_tensor(x)).double(), dim=1).numpy()
    np.testing.assert_allclose(res.probabilities, proba, atol=1e-6)
    np.testing.assert_allclose(res.phi, expected_phi(x, 4))
    np.testing.assert_allclose(res.total, res.phi.sum(-1))


def test_shapley_decisions_equal_channel_shapley(tiny_model):
    from myoxai.config import DEFAULT_CONFIG

    x = np.random.default_rng(3).gamma(1.0, 1.0, (6, 4, 8, 10)).astype(np.float32)
    made = explainer_factory("shapley", chunk=8)(tiny_model, DEFAULT_CONFIG)
    assert isinstance(made, ShapleyMethod)
    res, ref = made.explain_decisions(x), ChannelShapley(tiny_model, chunk=8).explain(x)
    np.testing.assert_array_equal(res.probabilities, ref.f_all)
    np.testing.assert_array_equal(res.phi, ref.phi_prob)
    np.testing.assert_array_equal(res.total, ref.total)


def test_factory_gives_no_explainer_for_lda():
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.models import build_model

    assert explainer_factory("shapley")(build_model("lda", 3), DEFAULT_CONFIG) is None


def test_engine_publishes_a_registered_explainers_attributions(toy):
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp import process_signal
    from myoxai.engine import Engine
    from myoxai.live.bundled import BUNDLED_MODEL, held_out_recording
    from myoxai.models import load_model
    from myoxai.sources.replay import ReplaySource

    model = load_model(BUNDLED_MODEL)
    rec = held_out_recording().slice(0, 400)
    engine = Engine(ReplaySource(rec, speed=0, chunk=13), model, vote=1, explainer=explainer_factory(toy))
    assert isinstance(engine.active.explainer, ElectrodeEnergy)
    decisions = decisions_to_the_end(engine)
    offline = process_signal(rec.samples, DEFAULT_CONFIG)
    assert len(decisions) == len(offline) > 0
    phi = np.stack([d.phi for d in decisions])
    np.testing.assert_allclose(phi, expected_phi(offline.spectrograms.astype(np.float32), model.n_classes),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.stack([d.total for d in decisions]), phi.sum(-1))


def test_explain_command_runs_a_registered_method(toy, tmp_path, bundled_path, bundled, capsys):
    from myoxai.cli import main
    from myoxai.explain.data import labelled_windows
    from myoxai.models import TrainSettings, build_model, save_model, train_model

    x, y = labelled_windows([bundled])
    model = build_model("allconvnet", len(bundled.class_names), seed=0, channels=(4, 4, 4, 8))
    train_model(model, x[::8], y[::8], TrainSettings(epochs=1, seed=0))
    path = save_model(model, tmp_path / "tiny.safetensors", bundled.class_names)
    out = tmp_path / "ex.json"
    assert main(["explain", "--model", str(path), "--data", str(bundled_path), "--max-windows", "16",
                 "--methods", f"shapley,{toy}", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["ms_per_window"]) == {"shapley", toy}
    assert len(report["agreement"]) == 1
    assert f"shapley/{toy}" in capsys.readouterr().out
