"""How much two explanation methods agree on which electrodes matter (seed 003's statistics).

For each pair of methods, per window, on the per-electrode attributions a and b:
- Pearson and Spearman correlation of a and b;
- top-k overlap |top_k(a) ∩ top_k(b)| / k (by value: the electrodes pushing hardest for the class);
- the distance between barycentres and between spreads of the normalised distributions
  p = |a| / Σ|a| over the electrode index 0..N−1 (mean Σ p_n·n and std), i.e. "where on the ring"
  and "how concentrated" each method puts the evidence. Absolute values because IG/LIME/Shapley
  attributions can be negative and a distribution needs non-negative mass.
Windows where a method's attribution is constant (correlation undefined) are left out of that
statistic's mean, and counted.
"""

from __future__ import annotations

import csv
import io
import json
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

STATISTICS = ("pearson", "spearman", "topk_overlap", "barycentre_distance", "spread_distance")


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=1) / den, np.nan)


def _rowwise_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _rowwise_pearson(stats.rankdata(a, axis=1), stats.rankdata(b, axis=1))


def topk_overlap(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """(windows,) share of the k highest-attributed electrodes the two methods have in common."""
    ta = np.argsort(-a, axis=1, kind="stable")[:, :k]
    tb = np.argsort(-b, axis=1, kind="stable")[:, :k]
    return np.array([len(set(x) & set(y)) / k for x, y in zip(ta, tb, strict=True)])


def barycentre_spread(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(windows,) mean and std of the electrode index under p = |a| / Σ|a| (NaN when Σ|a| = 0)."""
    m = np.abs(a)
    s = m.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(s > 0, m / s, np.nan)
    idx = np.arange(a.shape[1])
    mu = (p * idx).sum(axis=1)
    sd = np.sqrt((p * (idx - mu[:, None]) ** 2).sum(axis=1))
    return mu, sd


def pair_statistics(a: np.ndarray, b: np.ndarray, k: int = 3) -> dict[str, np.ndarray]:
    """Per-window statistics of two (windows, electrodes) attribution arrays."""
    mu_a, sd_a = barycentre_spread(a)
    mu_b, sd_b = barycentre_spread(b)
    return {"pearson": _rowwise_pearson(a, b), "spearman": _rowwise_spearman(a, b),
            "topk_overlap": topk_overlap(a, b, k), "barycentre_distance": np.abs(mu_a - mu_b),
            "spread_distance": np.abs(sd_a - sd_b)}


def agreement_table(channels: dict[str, np.ndarray], k: int = 3) -> list[dict[str, Any]]:
    """One row per method pair: mean/std of each statistic over windows.

    Each row also holds the correlation of the methods' mean attributions over the set (the
    aggregated view).
    """
    rows = []
    for m1, m2 in combinations(list(channels), 2):
        a, b = np.asarray(channels[m1], float), np.asarray(channels[m2], float)
        per = pair_statistics(a, b, k)
        row: dict[str, Any] = {"method_a": m1, "method_b": m2, "windows": int(len(a)), "k": k}
        for name, v in per.items():
            ok = np.isfinite(v)
            row[f"{name}_mean"] = float(v[ok].mean()) if ok.any() else float("nan")
            row[f"{name}_std"] = float(v[ok].std()) if ok.any() else float("nan")
            row[f"{name}_undefined"] = int((~ok).sum())
        ma, mb = a.mean(axis=0), b.mean(axis=0)
        row["pearson_of_means"] = float(_rowwise_pearson(ma[None], mb[None])[0])
        row["spearman_of_means"] = float(_rowwise_spearman(ma[None], mb[None])[0])
        rows.append(row)
    return rows


def write_table(rows: list[dict[str, Any]], json_path: str | Path | None, csv_path: str | Path | None,
                overwrite: bool = False) -> None:
    """The agreement table as JSON (list of rows) and CSV (one line per pair), written through ``io.outputs``."""
    from myoxai.io.outputs import write_text

    if json_path:
        write_text(json_path, json.dumps(rows, indent=2), overwrite=overwrite)
    if csv_path and rows:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        write_text(csv_path, buf.getvalue(), overwrite=overwrite)


def correlation_matrix(rows: list[dict[str, Any]], methods: list[str], stat: str = "pearson_mean") -> np.ndarray:
    """Symmetric (methods × methods) matrix of one statistic (1 on the diagonal)."""
    idx = {m: i for i, m in enumerate(methods)}
    mat = np.eye(len(methods))
    for r in rows:
        i, j = idx[r["method_a"]], idx[r["method_b"]]
        mat[i, j] = mat[j, i] = r[stat]
    return mat
