"""Agreement statistics between explanation methods, Shapley matrices and contribution ratios."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from myoxai.errors import MyoxaiError
from myoxai.explain.agreement import (
    agreement_table,
    barycentre_spread,
    correlation_matrix,
    pair_statistics,
    topk_overlap,
    write_table,
)
from myoxai.explain.figures import gesture_bars, heatmap
from myoxai.explain.matrix import contribution_ratios, normalise_rows, shapley_matrix


def test_identical_methods_agree_perfectly():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20, 8))
    s = pair_statistics(a, a, k=3)
    assert np.allclose(s["pearson"], 1) and np.allclose(s["spearman"], 1)
    assert np.allclose(s["topk_overlap"], 1)
    assert np.allclose(s["barycentre_distance"], 0) and np.allclose(s["spread_distance"], 0)
    # a positive rescaling changes nothing; a sign flip reverses the correlations
    s2 = pair_statistics(a, 3 * a + 0.0, k=3)
    assert np.allclose(s2["pearson"], 1)
    assert np.allclose(pair_statistics(a, -a)["pearson"], -1)


def test_hand_computed_values():
    a = np.array([[0, 0, 0, 0, 0, 0, 0, 1.0]])
    b = np.array([[1.0, 0, 0, 0, 0, 0, 0, 0]])
    mu, sd = barycentre_spread(np.vstack([a, b, np.ones((1, 8))]))
    assert np.allclose(mu, [7, 0, 3.5]) and np.allclose(sd[:2], 0) and np.isclose(sd[2], np.std(np.arange(8)))
    assert pair_statistics(a, b)["barycentre_distance"][0] == 7
    x = np.array([[5, 4, 3, 2, 1, 0, 0, 0.0]])
    y = np.array([[5, 4, 0, 0, 0, 0, 0, 3.0]])
    assert np.allclose(topk_overlap(x, y, 3), 2 / 3)
    pear = pair_statistics(x, y)["pearson"][0]
    assert np.isclose(pear, np.corrcoef(x[0], y[0])[0, 1])


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (5, 8), elements=st.floats(-5, 5)), arrays(np.float64, (5, 8), elements=st.floats(-5, 5)))
def test_statistics_bounds(a, b):
    s = pair_statistics(a, b, k=2)
    for key in ("pearson", "spearman"):
        v = s[key][np.isfinite(s[key])]
        assert (np.abs(v) <= 1 + 1e-9).all()
    assert ((s["topk_overlap"] >= 0) & (s["topk_overlap"] <= 1)).all()
    d = s["barycentre_distance"][np.isfinite(s["barycentre_distance"])]
    assert ((d >= 0) & (d <= 7)).all()


def test_table_files_and_matrix(tmp_path):
    rng = np.random.default_rng(1)
    base = rng.normal(size=(30, 8))
    channels = {"shapley": base, "ig": base + 0.1 * rng.normal(size=base.shape), "lime": rng.normal(size=base.shape),
                "const": np.ones((30, 8))}
    rows = agreement_table(channels, k=3)
    assert len(rows) == 6
    r = next(r for r in rows if (r["method_a"], r["method_b"]) == ("shapley", "ig"))
    r2 = next(r for r in rows if (r["method_a"], r["method_b"]) == ("shapley", "lime"))
    assert r["pearson_mean"] > 0.9 > abs(r2["pearson_mean"]) and r["topk_overlap_mean"] > r2["topk_overlap_mean"]
    rc = next(r for r in rows if r["method_b"] == "const")
    assert rc["pearson_undefined"] == 30 and np.isnan(rc["pearson_mean"])
    write_table(rows, tmp_path / "a.json", tmp_path / "a.csv")
    assert json.loads((tmp_path / "a.json").read_text())[0]["method_a"] == "shapley"
    with open(tmp_path / "a.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 6
    mat = correlation_matrix(rows, list(channels))
    assert mat.shape == (4, 4) and mat[0, 1] == mat[1, 0] == r["pearson_mean"]
    png = heatmap(mat, list(channels), list(channels), "agreement", tmp_path / "h.png")
    assert png.stat().st_size > 1000


def test_shapley_matrix_and_ratios(tmp_path):
    phi = np.array([[1.0, 0, 0, 0], [3.0, 0, 0, 0], [0, 2.0, -1.0, 0]])
    labels = np.array([0, 0, 2])
    m, counts = shapley_matrix(phi, labels, n_classes=3)
    assert np.allclose(m[0], [2, 0, 0, 0]) and np.isnan(m[1]).all() and np.allclose(m[2], [0, 2, -1, 0])
    assert counts.tolist() == [2, 0, 1]
    assert np.allclose(normalise_rows(m[[0, 2]]), [[1, 0, 0, 0], [0, 2 / 3, -1 / 3, 0]])
    w = contribution_ratios(np.array([[0.2, 0.6, -0.4, 0.0], [-1.0, -1.0, -2.0, 0.0]]))
    assert np.allclose(w, [[0.25, 0.75, 0, 0], [0.25, 0.25, 0.25, 0.25]])
    assert np.allclose(w.sum(-1), 1) and (w >= 0).all()
    assert gesture_bars(m, ["rest", "a", "b"], tmp_path / "bars.png", "phi").stat().st_size > 1000
    with pytest.raises(MyoxaiError):
        shapley_matrix(phi, labels[:2], 3)
