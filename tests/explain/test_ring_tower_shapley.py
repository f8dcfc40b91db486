"""RingTowerNet: exact Shapley by structure equals the 256-forward-pass definition, shap and shapiq."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_toys import spectrograms
from hypothesis import given, settings
from hypothesis import strategies as st
from test_shapley import brute_force_phi

from myoxai.explain import ChannelShapley
from myoxai.explain.methods import explainer_factory
from myoxai.models import build_model, load_model, save_model

torch.set_num_threads(1)
SETTINGS = settings(max_examples=10, deadline=None)


def ring_tower(seed: int = 0, **kwargs) -> torch.nn.Module:
    model = build_model("ring-tower", 5, seed=seed, **kwargs)
    model.fit_standardizer(spectrograms(32, seed=seed + 100).numpy())
    return model.eval()


@pytest.mark.parametrize("kwargs", [{}, {"ring": (16,)}, {"ring": (8, 8, 8), "tower": (12,)}, {"ring": ()},
                                    {"log_input": True}])
def test_structure_path_equals_plain_and_brute_force(kwargs):
    model = ring_tower(1, **kwargs)
    x = spectrograms(3, seed=2)
    cs = ChannelShapley(model, chunk=2)
    assert cs.path == "structure"
    plain = cs.coalition_logits(x, plain=True)
    assert (cs.coalition_logits(x) - plain).abs().max() < 1e-5 * max(1.0, float(plain.abs().max()))
    want = brute_force_phi(model, x[1], torch.zeros_like(x[1]))
    assert np.abs(cs.explain(x).phi_prob[1] - want).max() < 1e-6


def test_structure_path_with_a_rest_baseline():
    model = ring_tower(3)
    base = spectrograms(1, seed=7)[0]
    x = spectrograms(2, seed=8)
    cs = ChannelShapley(model, baseline=base.numpy())
    assert cs.path == "structure"
    assert np.abs(cs.explain(x).phi_prob[0] - brute_force_phi(model, x[0], base)).max() < 1e-6


def test_an_input_rotation_turns_the_structure_path_off():
    model = ring_tower(4)
    model.set_input_rotation(0.5)
    assert model.shapley_coalitions(torch.zeros(4, 8, 10), torch.ones(256, 8, dtype=torch.bool)) is None
    assert ChannelShapley(model).path != "structure"


def test_the_engine_factory_takes_the_structure_path():
    explainer = explainer_factory("shapley", chunk=8)(ring_tower(5), __import__("myoxai.config").config.DEFAULT_CONFIG)
    assert explainer.shapley.path == "structure"


def _coalition_game(model, x: torch.Tensor):
    def f(z: np.ndarray) -> np.ndarray:
        keep = torch.as_tensor(np.asarray(z) > 0.5).reshape(len(z), 1, -1, 1)
        with torch.no_grad():
            return torch.softmax(model(torch.where(keep, x[None], torch.zeros(()))).double(), -1).numpy()
    return f


def test_agrees_with_shap_and_shapiq_exact():
    import shap
    import shapiq

    model = ring_tower(6)
    x = spectrograms(3, seed=11)
    res = ChannelShapley(model).explain(x)
    for i in range(len(x)):
        f = _coalition_game(model, x[i])
        sv = shap.explainers.Exact(f, shap.maskers.Independent(np.zeros((1, 8)), max_samples=1))(
            np.ones((1, 8)), silent=True)
        assert np.abs(sv.values[0].T - res.phi_prob[i]).max() <= 1e-5
        c = int(res.f_all[i].argmax())
        iv = shapiq.ExactComputer(lambda z, f=f, c=c: f(z)[:, c], n_players=8)(index="SV", order=1)
        assert np.abs(iv.get_n_order_values(1) - res.phi_prob[i, c]).max() <= 1e-5


@SETTINGS
@given(seed=st.integers(0, 10_000), k=st.integers(1, 3))
def test_efficiency(seed, k):
    r = ChannelShapley(ring_tower(seed % 50)).explain(spectrograms(k, seed=seed))
    assert np.abs(r.phi_prob.sum(-1) - r.total).max() < 1e-6
    assert np.abs(r.phi_logit.sum(-1) - r.total_logit).max() < 1e-5


@SETTINGS
@given(seed=st.integers(0, 10_000), silent=st.integers(0, 7))
def test_null_player(seed, silent):
    x = spectrograms(2, seed=seed)
    x[:, :, silent] = 0.0  # equal to the baseline: no coalition changes with it
    r = ChannelShapley(ring_tower(seed % 50)).explain(x)
    assert np.abs(r.phi_prob[..., silent]).max() < 1e-6
    assert np.abs(r.phi_logit[..., silent]).max() < 1e-5


@SETTINGS
@given(seed=st.integers(0, 10_000), pair=st.sampled_from([(0, 1), (2, 6), (3, 7)]))
def test_symmetry(seed, pair):
    # made permutation invariant: one standardiser for all electrodes, ring kernels that only see their
    # own position and a head that weighs positions alike; two electrodes with equal input are then alike
    model = ring_tower(seed % 50, ring=(4,))
    model.standardize.mean.fill_(0.01)
    model.standardize.std.fill_(0.02)
    with torch.no_grad():
        model.ring[0].weight[:, :, [0, 2]] = 0.0
        w = model.head.weight.view(model.n_classes, -1, 8)
        w[:] = w.mean(dim=2, keepdim=True)
    x = spectrograms(1, seed=seed)
    x[:, :, pair[1]] = x[:, :, pair[0]]
    r = ChannelShapley(model).explain(x)
    assert np.abs(r.phi_prob[0, :, pair[0]] - r.phi_prob[0, :, pair[1]]).max() < 1e-6


def test_rotation_is_a_circular_permutation_of_the_embeddings():
    model = ring_tower(8)
    model.standardize.mean.fill_(0.01)
    model.standardize.std.fill_(0.02)  # electrode-independent, so shifting the input shifts the patches
    x = spectrograms(2, seed=3)
    with torch.no_grad():
        emb = model.embed(x)
        assert torch.allclose(model.embed(torch.roll(x, 3, dims=2)), torch.roll(emb, 3, dims=1), atol=1e-6)
        ring = model.ring(emb.transpose(1, 2))
        assert torch.allclose(model.ring(torch.roll(emb, 3, dims=1).transpose(1, 2)), torch.roll(ring, 3, dims=2),
                              atol=1e-5)


def test_model_file_round_trip(tmp_path):
    model = ring_tower(9, ring=(16, 8))
    path = tmp_path / "rt.safetensors"
    save_model(model, path, [f"g{i}" for i in range(5)])
    back = load_model(path)
    x = spectrograms(4, seed=1).numpy()
    assert back.name == "ring-tower" and back.init_args["ring"] == [16, 8]
    assert np.array_equal(back.logits(x), model.logits(x))
    assert ChannelShapley(back).path == "structure"
