"""Per-subject-day diagnosis and the seed-averaged gain table of ``myoxai eval --adapt`` records.

``python -m myoxai.evaluation.adaptation_report diagnose RUN.json`` prints, per subject-day, what
differs between people who gain from the unlabeled pipeline and those who do not: the estimated
rotation against the position label, the per-electrode gain, the prototype supports' purity (with
labels, for diagnosis only), the gestures recognised before/after and the same-day labeled bound.

``python -m myoxai.evaluation.adaptation_report gains [--methods a,b] RUN_SEED0.json[+MORE.json] ...`` averages
the seeds per subject-day and prints, per method, the mean ± sd over subjects, each subject's mean,
the gain over ``none`` with a 95 % bootstrap interval (``myoxai.evaluation.stats``: subjects resampled, then
subject-days within them) and
paired tests over subjects (t and Wilcoxon; with 4 subjects the smallest two-sided Wilcoxon p is 0.125).

``summarize`` is the table ``myoxai eval --adapt`` prints. Records of different calibrations (kanoga
``--calibration-days 1`` and ``1,2``: ``train.days``) are never pooled: the summary has a calibration
column, and ``diagnose`` / ``gains`` print one table per calibration, each headed by it.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError


def calibration(record: dict[str, Any]) -> str:
    """What the record's calibration model trained on, as text: "day 1", "days 1,2", "day 1 + others", "session 1"."""
    train = record.get("train", {})
    if "days" in train:
        days = list(train["days"])
        pre = f" + {train['pretrain']}" if train.get("pretrain", "none") != "none" else ""  # never pooled
        return f"{'day' if len(days) == 1 else 'days'} {','.join(map(str, days))}{pre}"
    return f"session {train['session']}" if "session" in train else "-"


def by_calibration(runs: Sequence[Sequence[dict[str, Any]]]) -> dict[str, list[list[dict[str, Any]]]]:
    """The runs (one record list per seed) split by calibration, each keeping its run order."""
    labels = sorted({calibration(r) for records in runs for r in records})
    return {c: [[r for r in records if calibration(r) == c] for records in runs] for c in labels}


def _one_calibration(records: Sequence[dict[str, Any]]) -> None:
    found = sorted({calibration(r) for r in records})
    if len(found) > 1:
        raise MyoxaiError(f"these records come from {len(found)} calibrations ({'; '.join(found)}); split them "
                          "with by_calibration and report each (python -m myoxai.evaluation.adaptation_report does)")


def _by(records: Sequence[dict[str, Any]], method: str) -> dict[tuple[Any, int], dict[str, Any]]:
    return {(r["subject"], r["test"]["day"]): r for r in records if r["adapt"] == method}


def _recall_ok(confusion: list[list[int]], threshold: float = 0.5) -> int:
    cm = np.asarray(confusion, dtype=float)
    rows = cm.sum(axis=1)
    return int(np.sum(np.diag(cm)[rows > 0] / rows[rows > 0] >= threshold))


def _top_confusion(confusion: list[list[int]]) -> str:
    cm = np.asarray(confusion, dtype=float)
    np.fill_diagonal(cm, 0)
    i, j = np.unravel_index(int(cm.argmax()), cm.shape)
    return f"M{i + 1}→M{j + 1} ({int(cm[i, j])})"


def diagnose(records: Sequence[dict[str, Any]], default: str = "default") -> str:
    """Markdown table, one row per subject-day, then one row per subject (means)."""
    from myoxai.adapt.methods import DEFAULT_PIPELINE

    _one_calibration(records)
    none, quick, dflt, lab = (_by(records, m) for m in ("none", "quick", default, "labeled"))
    dflt = dflt or _by(records, DEFAULT_PIPELINE)
    head = ("| subject | day | position | rotation (electrodes) | electrode gain: max / mean abs (log) | "
            "support purity | gestures ≥ 50 % none → default | top confusion none → default | "
            "none | default | same-day labeled |")
    lines = [head, "|" + "---|" * 11]
    per_subject: dict[Any, list[list[float]]] = defaultdict(list)
    for key in sorted(none, key=lambda k: (str(k[0]), k[1])):
        n, q, d, b = none[key], quick.get(key, {}), dflt.get(key, {}), lab.get(key, {})
        gain = np.abs(np.asarray(n.get("electrode_log_gain", [np.nan])))
        purity = d.get("support_purity", np.nan)
        rot = q.get("rotation_shift", d.get("rotation_shift", np.nan))
        g0, g1 = _recall_ok(n["confusion"]), _recall_ok(d["confusion"]) if d else -1
        vals = [rot, gain.max(), gain.mean(), purity, g0, g1, n["accuracy"], d.get("accuracy", np.nan),
                b.get("accuracy", np.nan)]
        per_subject[key[0]].append(vals)
        lines.append(f"| S{key[0]} | {key[1]} | {n['test']['position']} | {rot:+.2f} | {gain.max():.2f} / "
                     f"{gain.mean():.2f} | {100 * purity:.0f} % | {g0} → {g1} | {_top_confusion(n['confusion'])} → "
                     f"{_top_confusion(d['confusion']) if d else ''} | {100 * n['accuracy']:.1f} | "
                     f"{100 * vals[7]:.1f} | {100 * vals[8]:.1f} |")
    lines += ["", "| subject | mean abs rotation | electrode gain max / mean | support purity | gestures ≥ 50 % | "
              "none | default | gain | same-day labeled |", "|" + "---|" * 9]
    for s, rows in sorted(per_subject.items(), key=lambda t: str(t[0])):
        a = np.asarray(rows, dtype=float)
        m = np.nanmean(a, axis=0)
        lines.append(f"| S{s} | {np.nanmean(np.abs(a[:, 0])):.2f} | {m[1]:.2f} / {m[2]:.2f} | {100 * m[3]:.0f} % | "
                     f"{m[4]:.1f} → {m[5]:.1f} | {100 * m[6]:.1f} | {100 * m[7]:.1f} | {100 * (m[7] - m[6]):+.1f} | "
                     f"{100 * m[8]:.1f} |")
    return "\n".join(lines)


def _seed_means(runs: Sequence[Sequence[dict[str, Any]]],
                metric: str = "accuracy") -> dict[str, dict[tuple[Any, int], float]]:
    """``metric`` per method and (subject, day), averaged over the runs (seeds) that scored it."""
    acc: dict[str, dict[tuple[Any, int], list[float]]] = defaultdict(lambda: defaultdict(list))
    for records in runs:
        for r in records:
            acc[r["adapt"]][(r["subject"], r["test"]["day"])].append(r[metric])
    return {m: {k: float(np.mean(v)) for k, v in d.items()} for m, d in acc.items()}


def gains(runs: Sequence[Sequence[dict[str, Any]]], methods: Sequence[str] | None = None,
          metric: str = "accuracy") -> str:
    """Markdown: per method, mean ± sd over subjects, per-subject means, gain over none with CI and tests."""
    from scipy import stats

    from myoxai.evaluation.stats import hierarchical_bootstrap, wilcoxon

    _one_calibration([r for records in runs for r in records])
    acc = _seed_means(runs, metric)
    methods = list(methods or acc)
    subjects = sorted({k[0] for d in acc.values() for k in d}, key=str)
    lines = ["| method | mean ± sd over subjects | " + " | ".join(f"S{s}" for s in subjects)
             + " | gain over none [95 % bootstrap] | paired t p | Wilcoxon p |",
             "|" + "---|" * (len(subjects) + 5)]
    for m in methods:
        if m not in acc:
            continue
        per = [np.mean([v for k, v in acc[m].items() if k[0] == s]) for s in subjects]
        cells = [f"{100 * p:.1f}" for p in per]
        extra = " | | |"
        if m != "none" and "none" in acc:
            keys = [k for k in acc[m] if k in acc["none"]]
            g = {k: 100 * (acc[m][k] - acc["none"][k]) for k in keys}
            per_day = [np.asarray([v for k, v in g.items() if k[0] == s]) for s in subjects]
            lo, hi = hierarchical_bootstrap(per_day)
            gs = np.asarray([d.mean() for d in per_day])
            t_p = stats.ttest_1samp(gs, 0.0).pvalue if len(gs) > 1 else float("nan")
            w_p = wilcoxon(gs)["p"]
            w_p = float("nan") if w_p is None else w_p
            extra = f" {gs.mean():+.1f} [{lo:+.1f}, {hi:+.1f}] | {t_p:.3f} | {w_p:.3f} |"
        lines.append(f"| {m} | {100 * np.mean(per):.1f} ± {100 * np.std(per, ddof=1):.1f} | "
                     + " | ".join(cells) + " |" + extra)
    return "\n".join(lines)


def _mean_sd(values: Sequence[float]) -> str:
    v = 100 * np.asarray(values, dtype=np.float64)
    return f"{v.mean():.1f} ± {v.std(ddof=1) if len(v) > 1 else 0:.1f}"


def summarize(records: Sequence[dict[str, Any]]) -> str:
    """Markdown table per dataset, calibration, split, position and method (%, mean ± sd).

    Accuracy over subject-days and over subjects (each subject's mean first), balanced accuracy and
    macro-F1 over subject-days, the paired gain over ``none``, accepted runs, and the mean estimated
    rotation where the method estimates one.
    """
    from myoxai.adapt.methods import method_names

    lines = ["| dataset | calibration | split | position | method | n | accuracy (subject-days) | "
             "accuracy (subjects) | balanced acc. | macro-F1 | Δ vs none | accepted | shift |",
             "|" + "---|" * 13]
    keys = sorted({(r["dataset"], calibration(r), r["test"]["split"]) for r in records})
    for dataset, cal, split in keys:
        rows = [r for r in records if (r["dataset"], calibration(r), r["test"]["split"]) == (dataset, cal, split)]
        positions = ["all"] + sorted({r["test"]["position"] for r in rows} - {"-", ""})
        for pos in positions:
            sel = [r for r in rows if pos == "all" or r["test"]["position"] == pos]
            none = {(r["subject"], r["test"]["day"], r.get("seed")): r["accuracy"] for r in sel if r["adapt"] == "none"}
            for method in method_names():
                m = [r for r in sel if r["adapt"] == method]
                if not m:
                    continue
                subjects = sorted({r["subject"] for r in m}, key=str)
                per_subject = [np.mean([r["accuracy"] for r in m if r["subject"] == s]) for s in subjects]
                delta = [100 * (r["accuracy"] - none[(r["subject"], r["test"]["day"], r.get("seed"))]) for r in m
                         if (r["subject"], r["test"]["day"], r.get("seed")) in none]  # paired within a run seed
                d_txt = f"{np.mean(delta):+.1f}" if delta and method != "none" else ""
                accepted = [r.get("status") for r in m if "status" in r]
                a_txt = f"{sum(a == 'accepted' for a in accepted)}/{len(accepted)}" if accepted else ""
                shifts = [r["rotation_shift"] for r in m if r.get("rotation_shift") is not None]
                sh_txt = f"{np.mean(shifts):+.2f}" if shifts else ""
                lines.append(f"| {dataset} | {cal} | {split} | {pos} | {method} | {len(m)} | "
                             f"{_mean_sd([r['accuracy'] for r in m])} | {_mean_sd(per_subject)} | "
                             f"{_mean_sd([r['balanced_accuracy'] for r in m])} | "
                             f"{_mean_sd([r['macro_f1'] for r in m])} | {d_txt} | {a_txt} | {sh_txt} |")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> None:
    """``diagnose RUN.json`` or ``gains [--metric M] [--methods a,b] RUN.json[+MORE.json]...``.

    ``A.json+B.json`` joins the records of two runs of one seed (e.g. two sets of days); ``--metric``
    is ``accuracy`` (default), ``balanced_accuracy`` or ``macro_f1``. Records of several calibrations
    give one table each.
    """
    what, *args = argv
    methods, metric = None, "accuracy"
    if args[:1] == ["--metric"]:
        metric, args = args[1], args[2:]
    if args[:1] == ["--methods"]:
        methods, args = args[1].split(","), args[2:]
    runs = [[r for p in arg.split("+") for r in json.load(open(p))["records"]
             if methods is None or r["adapt"] in methods] for arg in args]
    parts = by_calibration(runs[:1] if what == "diagnose" else runs)
    for cal, cal_runs in parts.items():  # one table per calibration: two calibrations are never pooled
        head = f"calibration: {cal}\n\n" if len(parts) > 1 else ""
        table = diagnose(cal_runs[0]) if what == "diagnose" else gains(cal_runs, methods, metric)
        sys.stdout.write(head + table + "\n" + ("\n" if len(parts) > 1 else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
