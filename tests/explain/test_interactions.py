"""Pairwise Shapley interaction indices: the fixed linear map equals brute force and shapiq's exact SII."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from explain_toys import TinyConvNet, spectrograms
from hypothesis import given, settings
from hypothesis import strategies as st

from myoxai.explain import ChannelShapley, coalition_masks
from myoxai.explain.interactions import electrode_pairs, interaction_weights, pair_matrix, strongest_pairs

torch.set_num_threads(1)


def brute_force_sii(value, n: int) -> np.ndarray:
    """I_ij by the definition, ``value(frozenset) -> float``, pairs in ``electrode_pairs`` order."""
    out = []
    for i, j in electrode_pairs(n):
        rest = [p for p in range(n) if p not in (i, j)]
        total = 0.0
        for size in range(len(rest) + 1):
            w = math.factorial(size) * math.factorial(n - size - 2) / math.factorial(n - 1)
            for s in itertools.combinations(rest, size):
                s = frozenset(s)
                total += w * (value(s | {i, j}) - value(s | {i}) - value(s | {j}) + value(s))
        out.append(total)
    return np.array(out)


def _table_game(values: np.ndarray):
    n = int(np.log2(len(values)))
    return lambda s: values[sum(1 << p for p in s)] if n else 0.0


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_linear_map_equals_brute_force(n, seed):
    v = np.random.default_rng(seed).normal(size=2**n)
    assert np.abs(v @ interaction_weights(n) - brute_force_sii(_table_game(v), n)).max() < 1e-12


def test_known_games():
    masks = coalition_masks(8).astype(float)
    additive = masks @ np.arange(1.0, 9.0)
    assert np.abs(additive @ interaction_weights(8)).max() < 1e-12  # no interaction in an additive game
    both = masks[:, 2] * masks[:, 5]  # pays 1 only when electrodes 3 and 6 are both present
    inter = both @ interaction_weights(8)
    k = electrode_pairs(8).index((2, 5))
    assert inter[k] == pytest.approx(1.0) and np.abs(np.delete(inter, k)).max() < 1e-12


def test_agrees_with_shapiq_exact_sii():
    import shapiq

    v = np.random.default_rng(3).normal(size=256)
    game = lambda z: v[(np.asarray(z).astype(int) << np.arange(8)).sum(1)]  # noqa: E731
    iv = shapiq.ExactComputer(game, n_players=8)(index="SII", order=2)
    ours = v @ interaction_weights(8)
    theirs = np.array([iv[(i, j)] for i, j in electrode_pairs(8)])
    assert np.abs(ours - theirs).max() < 1e-10


def test_shapley_result_carries_the_interactions_of_a_model():
    import shapiq

    model = TinyConvNet(seed=2).eval()
    x = spectrograms(2, seed=5)
    cs = ChannelShapley(model)
    res = cs.explain(x)
    assert res.inter_prob.shape == (2, res.f_all.shape[1], 28)
    coal = torch.softmax(cs.coalition_logits(x, plain=True).double(), -1).numpy()  # (k, 256, C)
    c = int(res.f_all[0].argmax())
    want = brute_force_sii(_table_game(coal[0, :, c]), 8)
    assert np.abs(res.inter_prob[0, c] - want).max() < 1e-6
    iv = shapiq.ExactComputer(lambda z: coal[0, (np.asarray(z).astype(int) << np.arange(8)).sum(1), c],
                              n_players=8)(index="SII", order=2)
    assert np.abs(res.inter_prob[0, c] - [iv[p] for p in electrode_pairs(8)]).max() <= 1e-5


def test_pair_matrix_and_strongest():
    v = np.zeros(28)
    v[electrode_pairs(8).index((1, 4))] = -0.3
    v[electrode_pairs(8).index((0, 7))] = 0.2
    m = pair_matrix(v)
    assert m[1, 4] == m[4, 1] == -0.3 and np.isnan(m[3, 3]) and np.nansum(np.abs(m)) == pytest.approx(1.0)
    assert strongest_pairs(v, 2) == [(1, 4, -0.3), (0, 7, 0.2)]
