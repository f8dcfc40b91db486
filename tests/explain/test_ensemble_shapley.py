"""Exact channel Shapley of an ensemble: its φ is the mean of the members' φ, and the members path is exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from myoxai.explain import ChannelShapley
from myoxai.models.ensemble import build_ensemble


@pytest.fixture(scope="module")
def ensemble():
    """Three untrained but standardised members (random weights are enough for an identity)."""
    rng = np.random.default_rng(1)
    x = rng.gamma(1.0, 1.0, (64, 4, 8, 10)).astype(np.float32)
    ens = build_ensemble("allconvnet", 5, 3, seed=11, channels=(4, 6, 6, 8))
    for m in ens.members:
        m.fit_standardizer(x * np.float32(1 + rng.random()))
    return ens.eval(), x[:6]


def direct_phi(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """φ (k, classes, 8) of the probability from the 256 coalitions' forward passes and the Shapley formula."""
    import math

    n = 8
    out = np.zeros((len(x), 5, n))
    with torch.no_grad():
        for w, window in enumerate(torch.as_tensor(x)):
            masks = [[(s >> e) & 1 for e in range(n)] for s in range(2 ** n)]
            keep = torch.tensor(masks, dtype=torch.bool)[:, None, :, None]
            value = torch.softmax(model(torch.where(keep, window[None], torch.zeros(()))).double(), -1).numpy()
            for s in range(2 ** n):
                size = bin(s).count("1")
                for e in range(n):
                    if not (s >> e) & 1:
                        weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                        out[w, :, e] += weight * (value[s | (1 << e)] - value[s])
    return out


def test_members_path_is_chosen_and_exact(ensemble):
    ens, x = ensemble
    fast, plain = ChannelShapley(ens), ChannelShapley(ens, fast=False)
    assert fast.path == "members" and plain.path == "plain"
    assert all(p != "plain" for p in fast._fast.member_paths)  # every member on its own fast path
    np.testing.assert_allclose(fast.coalition_logits(x).numpy(), plain.coalition_logits(x).numpy(), atol=1e-5)


def test_phi_is_the_members_mean_and_the_direct_computation(ensemble):
    ens, x = ensemble
    res = ChannelShapley(ens).explain(x)
    members = [ChannelShapley(m).explain(x) for m in ens.members]
    np.testing.assert_allclose(res.phi_prob, np.mean([r.phi_prob for r in members], axis=0), atol=1e-6)
    np.testing.assert_allclose(res.f_all, np.mean([r.f_all for r in members], axis=0), atol=1e-6)
    np.testing.assert_allclose(res.phi_prob, direct_phi(ens, x), atol=1e-6)
    np.testing.assert_allclose(res.phi_prob.sum(axis=2), res.f_all - res.f_empty, atol=1e-9)  # efficiency
