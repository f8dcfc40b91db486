"""The Motion Test's PNG summary: per-gesture bars (times, completion rate) and the confusion during prompts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np


def write_motion_figure(doc: dict[str, Any], path: str | Path, *, overwrite: bool = False,
                        inputs: Iterable[str | Path | None] = ()) -> Path:
    """Draw the summary of a ``myoxai motion-test`` JSON document into ``path`` (Agg, via ``io.outputs``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(doc["gestures"])
    g = doc["gestures"]

    def values(key: str) -> np.ndarray:
        return np.array([np.nan if g[n][key] is None else g[n][key] for n in names], float)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), gridspec_kw={"width_ratios": [1.3, 1, 1.2]})
    x = np.arange(len(names))
    axes[0].bar(x - 0.2, values("selection_time_s"), 0.4, label="selection")
    axes[0].bar(x + 0.2, values("completion_time_s"), 0.4, label=f"completion (K={doc['k_correct']})")
    axes[0].axhline(doc["hold_limit_s"], color="k", lw=0.8, ls="--", label="hold limit")
    axes[0].set_ylabel("seconds from prompt")
    axes[0].set_title("time per gesture (mean over trials that reached it)")
    axes[0].legend(fontsize=8)
    axes[1].bar(x - 0.2, values("completion_rate"), 0.4, label="completion rate")
    axes[1].bar(x + 0.2, values("realtime_accuracy"), 0.4, label="real-time accuracy")
    axes[1].set_ylim(0, 1.05)
    axes[1].set_title(f"overall: completion {_pct(doc['completion_rate'])}, accuracy {_pct(doc['realtime_accuracy'])}")
    axes[1].legend(fontsize=8, loc="lower left")
    for ax in axes[:2]:
        ax.set_xticks(x, names, rotation=35, ha="right", fontsize=8)
    conf = doc["confusion"]
    counts = np.asarray(conf["counts"], float)
    rows = [i for i, c in enumerate(conf["columns"][:-1]) if c in names]
    cm = counts[rows]
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    axes[2].imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    axes[2].set_xticks(range(len(conf["columns"])), conf["columns"], rotation=45, ha="right", fontsize=7)
    axes[2].set_yticks(range(len(rows)), [conf["columns"][i] for i in rows], fontsize=8)
    axes[2].set_xlabel("decision")
    axes[2].set_ylabel("prompted gesture")
    axes[2].set_title("decisions during prompts (row share)")
    fig.tight_layout()
    from myoxai.io.outputs import save_figure

    try:
        save_figure(fig, path, overwrite=overwrite, inputs=inputs, dpi=110)
    finally:
        plt.close(fig)
    return Path(path)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.0f} %"
