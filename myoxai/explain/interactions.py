"""Pairwise Shapley interaction indices of the electrodes, from the 2^N coalition values Shapley already has.

For players i ≠ j the Shapley interaction index (Grabisch & Roubens 1999) is

    I_ij = Σ_{S ⊆ N∖{i,j}} |S|!(N−|S|−2)!/(N−1)! · [f(S∪{i,j}) − f(S∪{i}) − f(S∪{j}) + f(S)]

Every term is one of the 2^N coalition values, so all N(N−1)/2 indices are one fixed linear map of
them: ``I = f(coalitions) @ W`` with W (2^N × pairs) built once — no extra forward pass. Positive
I_ij: the two electrodes together add more than each alone (synergy); negative: redundancy.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def electrode_pairs(n_players: int) -> tuple[tuple[int, int], ...]:
    """The (i, j), i < j, pairs in the order of the interaction columns: (0, 1), (0, 2), …, (N−2, N−1)."""
    return tuple((i, j) for i in range(n_players) for j in range(i + 1, n_players))


def interaction_weights(n_players: int) -> np.ndarray:
    """(2^N, pairs) float64 W with I = f(coalitions) @ W (exact pairwise Shapley interaction indices).

    Row T, column (i, j): with S = T ∖ {i, j}, the weight |S|!(N−|S|−2)!/(N−1)! signed + when T holds
    both or neither of i, j and − when it holds exactly one.
    """
    masks = ((np.arange(2**n_players)[:, None] >> np.arange(n_players)) & 1).astype(bool)  # coalition_masks
    pairs = np.array(electrode_pairs(n_players))
    a, b = masks[:, pairs[:, 0]], masks[:, pairs[:, 1]]  # (2^N, pairs)
    s = masks.sum(axis=1)[:, None] - a - b  # |T ∖ {i, j}|
    fact = math.factorial
    w = np.array([fact(k) * fact(n_players - k - 2) / fact(n_players - 1) for k in range(n_players - 1)])
    return np.where(a == b, 1.0, -1.0) * w[s]


def pair_matrix(values: np.ndarray, n_players: int = 8, diagonal: float = np.nan) -> np.ndarray:
    """(..., N, N) symmetric matrix of pairwise values (..., pairs); the diagonal is ``diagonal``."""
    v = np.asarray(values, dtype=np.float64)
    out = np.full((*v.shape[:-1], n_players, n_players), diagonal)
    pairs = np.array(electrode_pairs(n_players))
    out[..., pairs[:, 0], pairs[:, 1]] = v
    out[..., pairs[:, 1], pairs[:, 0]] = v
    return out


def strongest_pairs(values: np.ndarray, k: int = 3, n_players: int = 8) -> list[tuple[int, int, float]]:
    """The ``k`` pairs (i, j, I_ij) of one decision with the largest |I_ij|, strongest first."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    order = np.argsort(-np.abs(v), kind="stable")[:k]
    pairs = electrode_pairs(n_players)
    return [(pairs[i][0], pairs[i][1], float(v[i])) for i in order]
