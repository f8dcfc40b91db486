"""Figures of explanations (matplotlib, Agg backend: files only, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from myoxai.io.outputs import save_figure


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def heatmap(matrix: np.ndarray, rows: Sequence[str], cols: Sequence[str], title: str, path: str | Path,
            diverging: bool = True, fmt: str = "{:.2f}") -> Path:
    """Annotated heat map (e.g. the Shapley matrix, or method × method correlations)."""
    plt = _pyplot()
    m = np.asarray(matrix, dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(cols), 1.2 + 0.38 * len(rows)))
    lim = np.nanmax(np.abs(m)) if np.isfinite(m).any() else 1.0
    im = ax.imshow(m, cmap="RdBu_r" if diverging else "viridis", vmin=-lim if diverging else None,
                   vmax=lim if diverging else None, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    if m.size <= 400:
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                if np.isfinite(m[i, j]):
                    ax.text(j, i, fmt.format(m[i, j]), ha="center", va="center", fontsize=7)
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return Path(path)


def gesture_bars(matrix: np.ndarray, gestures: Sequence[str], path: str | Path, title: str) -> Path:
    """One small bar chart of φ per electrode for each gesture."""
    plt = _pyplot()
    n = len(gestures)
    cols = min(6, n)
    rws = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rws, cols, figsize=(2.2 * cols, 1.8 * rws), sharey=True, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        v = np.nan_to_num(matrix[i])
        ax.bar(np.arange(1, len(v) + 1), v, color=np.where(v >= 0, "tab:red", "tab:blue"))
        ax.set_title(gestures[i], fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return Path(path)


def interaction_grid(matrices: np.ndarray, gestures: Sequence[str], path: str | Path, title: str) -> Path:
    """One electrode × electrode heat map of pairwise interactions per gesture, on one symmetric colour scale."""
    plt = _pyplot()
    m = np.asarray(matrices, dtype=float)
    n = len(gestures)
    cols = min(6, n)
    rws = int(np.ceil(n / cols))
    lim = float(np.nanmax(np.abs(m))) if np.isfinite(m).any() and np.nanmax(np.abs(m)) > 0 else 1.0
    fig, axes = plt.subplots(rws, cols, figsize=(2.1 * cols + 0.8, 2.1 * rws + 0.4), squeeze=False)
    im = None
    ticks = range(m.shape[-1])
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        im = ax.imshow(m[i], cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xticks(ticks, [str(k + 1) for k in ticks], fontsize=6)
        ax.set_yticks(ticks, [str(k + 1) for k in ticks], fontsize=6)
        ax.set_title(gestures[i], fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    if im is not None:
        fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6)
    save_figure(fig, path)
    plt.close(fig)
    return Path(path)
