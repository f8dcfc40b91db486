"""PNG figures of an evaluation: accuracy per test day and summed confusion matrices (matplotlib, Agg)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.io.outputs import save_figure


def write_figures(records: list[dict[str, Any]], class_names: tuple[str, ...], out_dir: str | Path) -> list[Path]:
    """Write accuracy-vs-day (inter-day protocols) and one confusion matrix per (protocol, model, variant)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    curves: dict[tuple, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    confusions: dict[tuple, np.ndarray] = {}
    for r in records:
        key = (r["protocol"], r["model"], r["adapt"], r["train"].get("variant", ""))
        if r["protocol"] in ("inter-day", "inter-session"):
            curves[key][int(r["test"]["day"])].append(r["accuracy"])
        cm = np.asarray(r["confusion"])
        confusions[key] = confusions.get(key, 0) + cm
    by_protocol: dict[str, list[tuple]] = defaultdict(list)
    for key in curves:
        by_protocol[key[0]].append(key)
    for protocol, keys in by_protocol.items():
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for key in sorted(keys):
            days = sorted(curves[key])
            ax.plot(days, [100 * np.mean(curves[key][d]) for d in days], marker="o", ms=3,
                    label=" ".join(k for k in key[1:] if k and k != "none"))
        ax.set_xlabel("test day" if protocol == "inter-day" else "test session")
        ax.set_ylabel("window accuracy (%) — mean over subjects")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title(f"{protocol}: accuracy per test day")
        path = out / f"{protocol}_accuracy_vs_day.png"
        fig.tight_layout()
        save_figure(fig, path)
        plt.close(fig)
        written.append(path)
    for key, cm in confusions.items():
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        fig, ax = plt.subplots(figsize=(6.5, 5.5))
        im = ax.imshow(norm, vmin=0, vmax=1, cmap="viridis")
        ticks = np.arange(len(class_names))
        short = [n[:10] for n in class_names]
        ax.set_xticks(ticks, short, rotation=90, fontsize=6)
        ax.set_yticks(ticks, short, fontsize=6)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(" ".join(k for k in key if k and k != "none"), fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
        fig.tight_layout()
        path = out / ("confusion_" + "_".join(k for k in key if k).replace("/", "-") + ".png")
        save_figure(fig, path)
        plt.close(fig)
        written.append(path)
    return written
