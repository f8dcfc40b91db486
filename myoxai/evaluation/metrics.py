"""Window-level scores of one trained-and-tested pair, and the summary over subjects."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np


def scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, Any]:
    """Accuracy, balanced accuracy and macro-F1 over the classes present in ``y_true``, plus the confusion matrix.

    Confusion rows are true classes, columns predictions (all ``n_classes``).
    """
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    present = cm.sum(axis=1) > 0
    tp = np.diag(cm).astype(np.float64)
    recall = tp[present] / cm.sum(axis=1)[present]
    predicted = cm.sum(axis=0)[present]
    precision = np.divide(tp[present], predicted, out=np.zeros_like(recall), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(recall), where=denom > 0)
    return {"accuracy": float(tp.sum() / max(cm.sum(), 1)), "balanced_accuracy": float(recall.mean()),
            "macro_f1": float(f1.mean()), "confusion": cm.tolist()}


def variant_of(record: dict[str, Any]) -> str:
    """The training variant of an evaluation record ("" for the plain recipe)."""
    return str(record["train"].get("variant", ""))


def summarize(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd over subjects of each subject's score, per (dataset, protocol, model, adapt, variant).

    A subject's score: per run seed the mean over its records, then the mean over seeds
    (``stats.subject_means``). Inter-day protocols are also summarised per armband position of the
    test day. A metric that some records of a group lack is left out of that group's row.
    """
    from myoxai.evaluation.stats import subject_means

    groups: dict[tuple, dict[Any, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        key = (r["dataset"], r["protocol"], r["model"], r["adapt"], variant_of(r))
        groups[key + ("all",)][r["subject"]].append(r)
        if r["protocol"] in ("inter-day", "inter-session") and r["test"].get("position"):
            groups[key + (r["test"]["position"],)][r["subject"]].append(r)
    out = []
    for (dataset, protocol, model, adapt, variant, position), by_subject in sorted(groups.items(), key=str):
        row: dict[str, Any] = {"dataset": dataset, "protocol": protocol, "model": model, "adapt": adapt,
                               "variant": variant, "position": position, "subjects": sorted(by_subject, key=str),
                               "n_records": sum(len(v) for v in by_subject.values()),
                               "seeds": sorted({r.get("seed", 0) for rs in by_subject.values() for r in rs})}
        for metric in ("accuracy", "balanced_accuracy", "macro_f1"):
            if any(metric not in r for rs in by_subject.values() for r in rs):
                continue  # e.g. adaptation records that carry accuracy only
            means = subject_means([r for rs in by_subject.values() for r in rs], metric)
            per_subject = np.array([means[s] for s in by_subject])
            row[metric] = float(per_subject.mean())
            row[f"{metric}_sd"] = float(per_subject.std(ddof=1)) if len(per_subject) > 1 else 0.0
            row[f"{metric}_per_subject"] = {str(s): float(v) for s, v in zip(by_subject, per_subject, strict=True)}
        out.append(row)
    return out


def summary_markdown(summary: list[dict[str, Any]], stats: dict[str, Any] | None = None) -> str:
    """The ``summarize`` rows over all positions as a Markdown table (percent, mean ± sd over subjects).

    With ``stats`` (``stats.compare``), the comparisons with the reference follow, one table per metric.
    """
    lines = ["| dataset | protocol | model | adapt | variant | subjects | seeds | records | accuracy | "
             "balanced acc. | macro-F1 |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in summary:
        if row["position"] != "all":
            continue
        cells = [f"{100 * row[m]:.1f} ± {100 * row[m + '_sd']:.1f}" if m in row else "–"
                 for m in ("accuracy", "balanced_accuracy", "macro_f1")]
        lines.append(f"| {row['dataset']} | {row['protocol']} | {row['model']} | {row['adapt']} | {row['variant']} | "
                     f"{len(row['subjects'])} | {','.join(map(str, row['seeds']))} | {row['n_records']} | "
                     + " | ".join(cells) + " |")
    if stats:
        from myoxai.evaluation.stats import METRICS, comparison_markdown

        lines += ["", *(t + "\n" for t in (comparison_markdown(stats, m) for m in METRICS) if t)]
    return "\n".join(lines).rstrip()
