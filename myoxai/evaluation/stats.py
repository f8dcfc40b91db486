"""Uncertainty of an evaluation: methods against a named reference, paired over subjects.

Subjects (participants) are the independent units; days (sessions, test sets) within a subject
are not. So every statistic here works on per-subject values: for each subject, the records of a
seed are averaged over its days, then the seeds are averaged. For each condition (dataset,
protocol, calibration size, …) and each method:

- mean ± sd over subjects (``summarize``'s rows);
- the difference to the reference method with a 95 % percentile bootstrap interval that resamples
  subjects and, within each drawn subject, its days (two levels; with one test set per subject it is
  the plain subject bootstrap of ``scipy.stats.bootstrap``);
- a paired two-sided Wilcoxon signed-rank test over subjects (``scipy.stats.wilcoxon``), Holm-corrected
  over the methods compared with the same reference;
- with three or more methods measured on the same subjects, the Friedman test
  (``scipy.stats.friedmanchisquare``), as Côté-Allard et al. report.

The hierarchical resampling and Holm's step-down are written here because scipy has neither.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

METRICS = ("accuracy", "balanced_accuracy", "macro_f1")
RESAMPLES = 10_000
_COUNTS = {"n_windows", "n_adapt", "n_test"}


def arm(record: dict[str, Any], by_adapt: bool) -> tuple[tuple[str, ...], str]:
    """(condition, method) of a record: what must match for a paired comparison, and what is compared.

    ``by_adapt`` (an ``--adapt`` run): the methods are the adaptation methods of one model. Otherwise a
    record with a calibration size k compares "model kind" (e.g. "allconvnet transfer", "lda") at each k,
    and any other record compares models within its training variant.
    """
    train = record["train"]
    variant = str(train.get("variant", ""))
    k = train.get("trials_per_gesture")
    base = (record["dataset"], record["protocol"])
    if by_adapt:
        return base + (record["model"], str(record["test"].get("split", "")), variant), str(record["adapt"])
    if k is not None:
        kind = variant.replace(f"-k{k}", "")
        return base + (f"k={k}",), record["model"] if kind == record["model"] else f"{record['model']} {kind}"
    return base + (variant,), record["model"]


def _unit(record: dict[str, Any]) -> str:
    """The test set within a subject (a day, a session, a trial fold), as stable text."""
    return json.dumps({k: v for k, v in record["test"].items() if k not in _COUNTS}, sort_keys=True, default=str)


def per_subject(records: Sequence[dict[str, Any]], metric: str) -> dict[Any, dict[str, float]]:
    """{subject: {unit: value averaged over seeds}} of records that carry ``metric``."""
    cells: dict[Any, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if metric in r:
            cells[r["subject"]][_unit(r)].append(float(r[metric]))
    return {s: {u: float(np.mean(v)) for u, v in units.items()} for s, units in cells.items()}


def subject_means(records: Sequence[dict[str, Any]], metric: str) -> dict[Any, float]:
    """Each subject's value: per seed the mean over its test sets, then the mean over seeds."""
    by: dict[Any, dict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if metric in r:
            by[r["subject"]][r.get("seed", 0)].append(float(r[metric]))
    return {s: float(np.mean([np.mean(v) for v in seeds.values()])) for s, seeds in by.items()}


def hierarchical_bootstrap(diffs: list[np.ndarray], resamples: int = RESAMPLES, seed: int = 0
                           ) -> tuple[float, float]:
    """95 % percentile interval of the mean over subjects of each subject's mean day difference.

    ``diffs``: one array of day differences per subject. Each resample draws subjects with replacement
    and, for every drawn subject, its days with replacement.
    """
    from scipy.stats import bootstrap

    if all(len(d) == 1 for d in diffs):
        one = np.array([d[0] for d in diffs])
        if np.ptp(one) == 0:
            return float(one[0]), float(one[0])
        res = bootstrap((one,), np.mean, n_resamples=resamples, method="percentile", random_state=seed)
        return float(res.confidence_interval.low), float(res.confidence_interval.high)
    rng = np.random.default_rng(seed)
    day_means = np.empty((len(diffs), resamples))
    for i, d in enumerate(diffs):  # each subject's mean over a resample of its days, for every resample
        day_means[i] = d[rng.integers(0, len(d), (resamples, len(d)))].mean(axis=1)
    pick = rng.integers(0, len(diffs), (resamples, len(diffs)))
    stats = day_means[pick, np.arange(resamples)[:, None]].mean(axis=1)
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return float(lo), float(hi)


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None stays None)."""
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    order = sorted(idx, key=lambda i: pvalues[i])
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * float(pvalues[i])))
        out[i] = running
    return out


def wilcoxon(diffs: np.ndarray) -> dict[str, Any]:
    """Two-sided Wilcoxon signed-rank test of per-subject differences (p None when every difference is 0)."""
    from scipy.stats import wilcoxon as scipy_wilcoxon

    out: dict[str, Any] = {"test": "Wilcoxon signed-rank, two-sided, paired over subjects", "n": int(len(diffs))}
    if len(diffs) < 2 or not np.any(diffs != 0):
        return {**out, "statistic": None, "p": None, "note": "fewer than 2 subjects or no difference"}
    res = scipy_wilcoxon(diffs)
    return {**out, "statistic": float(res.statistic), "p": float(res.pvalue)}


def _condition_text(cond: tuple[str, ...]) -> str:
    return " ".join(c for c in cond if c)


def compare(records: Sequence[dict[str, Any]], reference: str | None, metrics: Sequence[str] = METRICS,
            resamples: int = RESAMPLES) -> dict[str, Any]:
    """Every method against ``reference`` in every condition, and Friedman over the methods of a condition.

    Returns ``{"reference", "comparisons": [...], "friedman": [...]}``; each comparison names its
    condition, method, metric, n subjects, seeds, mean difference, 95 % interval and its tests.
    """
    from scipy.stats import friedmanchisquare

    by_adapt = any(r["adapt"] != "none" for r in records)
    groups: dict[tuple, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        cond, method = arm(r, by_adapt)
        groups[cond][method].append(r)
    out: dict[str, Any] = {"reference": reference, "resamples": resamples,
                           "interval": "95 % percentile bootstrap; resamples subjects, then days within subjects",
                           "comparisons": [], "friedman": []}
    for cond, methods in sorted(groups.items()):
        for metric in metrics:
            values = {m: per_subject(rs, metric) for m, rs in methods.items()}
            values = {m: v for m, v in values.items() if v}
            if reference in values:
                family = []
                ref = values[reference]
                for method, v in sorted(values.items()):
                    if method == reference:
                        continue
                    subjects = sorted(set(v) & set(ref), key=str)
                    diffs = [np.array([v[s][u] - ref[s][u] for u in sorted(set(v[s]) & set(ref[s]))])
                             for s in subjects]
                    keep = [i for i, d in enumerate(diffs) if len(d)]
                    subjects, diffs = [subjects[i] for i in keep], [diffs[i] for i in keep]
                    if not subjects:
                        continue
                    per = np.array([d.mean() for d in diffs])
                    lo, hi = hierarchical_bootstrap(diffs, resamples) if len(subjects) > 1 else (per[0], per[0])
                    family.append({"condition": _condition_text(cond), "method": method, "reference": reference,
                                   "metric": metric, "n_subjects": len(subjects),
                                   "seeds": sorted({r.get("seed", 0) for r in methods[method]}),
                                   "mean_difference": float(per.mean()), "ci95": [lo, hi],
                                   "per_subject_difference": {str(s): float(d) for s, d in zip(subjects, per,
                                                                                                strict=True)},
                                   "tests": [wilcoxon(per)]})
                for c, p in zip(family, holm([c["tests"][0]["p"] for c in family]), strict=True):
                    c["tests"][0]["p_holm"] = p
                    c["tests"][0]["holm_family"] = len(family)
                out["comparisons"] += family
            means = {m: subject_means(methods[m], metric) for m in values}
            common = sorted(set.intersection(*(set(v) for v in means.values())), key=str) if means else []
            if len(means) >= 3 and len(common) >= 2:
                arrays = [np.array([means[m][s] for s in common]) for m in sorted(means)]
                try:
                    res = friedmanchisquare(*arrays)
                    stat, p = float(res.statistic), float(res.pvalue)
                except ValueError:
                    stat, p = None, None
                out["friedman"].append({"condition": _condition_text(cond), "metric": metric, "test": "Friedman",
                                        "n": len(common), "methods": sorted(means), "statistic": stat,
                                        "p": None if p is None or np.isnan(p) else p})
    return out


def default_reference(records: Sequence[dict[str, Any]]) -> str | None:
    """``none`` for an ``--adapt`` run, else ``lda`` when it was run, else no comparison."""
    if any(r["adapt"] != "none" for r in records):
        return "none"
    return "lda" if any(r["model"] == "lda" for r in records) else None


def comparison_markdown(stats: dict[str, Any], metric: str = "accuracy") -> str:
    """The comparisons of ``metric`` as a Markdown table (points), with the Friedman tests below it."""
    rows = [c for c in stats["comparisons"] if c["metric"] == metric]
    if not rows:
        return ""
    lines = [f"| condition | method | vs {stats['reference']} ({metric}, points) | 95 % CI | subjects | seeds | "
             "Wilcoxon p | Holm p |", "|---|---|---|---|---|---|---|---|"]
    for c in rows:
        t = c["tests"][0]
        p = "–" if t["p"] is None else f"{t['p']:.3g}"
        ph = "–" if t.get("p_holm") is None else f"{t['p_holm']:.3g}"
        lines.append(f"| {c['condition']} | {c['method']} | {100 * c['mean_difference']:+.2f} | "
                     f"[{100 * c['ci95'][0]:+.2f}, {100 * c['ci95'][1]:+.2f}] | {c['n_subjects']} | "
                     f"{','.join(map(str, c['seeds']))} | {p} | {ph} |")
    for f in stats["friedman"]:
        if f["metric"] == metric:
            p = "–" if f["p"] is None else f"{f['p']:.3g}"
            lines.append(f"\nFriedman ({f['condition']}, {metric}): {len(f['methods'])} methods over n = {f['n']} "
                         f"subjects, p = {p}")
    return "\n".join(lines)
