"""Does the drift score predict accuracy loss? The long-term dataset check behind ``myoxai drift --dataset kanoga``.

Protocol (fixed seed, every number from data the model and the thresholds never saw):

- per subject, a day-1 model trained on day-1 trials 1–3, early stopping on whole held-out trials of
  those three (one per gesture); its reference accuracy *and* its drift reference come from day-1
  trial 4, a whole trial the model never trained or stopped on (a reference from training windows
  would make every later day look like drift, since the model is over-confident on what it fitted);
- per later day, the drift components are computed on that day's trials 1–2 **unlabeled** (every
  window, in recording order), and the no-adaptation accuracy on trials 3–4; the accuracy change is
  that accuracy minus the reference accuracy;
- thresholds are chosen on days 3–8 only: the relative scale of the components by the Spearman
  correlation of the score with the accuracy change, the overall scale (score ≥ 1 = recalibrate)
  by the balanced accuracy of flagging an accuracy loss larger than ``loss_points``;
- reported on the other days (2, 9–30): Spearman over subject-days, per position N/I/O, per component
  (its size alone), and the score with the live default thresholds for comparison;
- and, since days of one subject are not independent and the confidence alone may explain most of it:
  the *within-subject* Spearman (each subject's days, then the mean over subjects) with a 95 % bootstrap
  interval (subjects, then days within subjects), beside the same for a max-softmax-only baseline
  (minus the mean top probability of the unlabeled windows) and for their difference.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.adapt.drift import (
    COMPONENTS,
    DriftThresholds,
    assess,
    drift_components,
    magnitudes,
    reference_from_outputs,
    window_power,
)
from myoxai.config import DEFAULT_CONFIG

log = logging.getLogger(__name__)
SELECT_DAYS = tuple(range(3, 9))
MODEL_CHANNELS = (8, 16, 16, 32)  # narrow All-ConvNet: exact Shapley on every window stays cheap


def _day1_model(root: str | Path, subject: int, cache_dir: Path | None, seed: int, epochs: int) -> tuple[Any, Any]:
    """(model, day-1 WindowSet) — the model trained on day-1 trials 1–3, cached as a model file.

    Early stopping holds out whole trials (``groups`` = gesture × trial). The cache file is named by
    subject, seed, epochs, a hash of the training windows and the code fingerprint.
    """
    from myoxai.evaluation.data import kanoga_windows
    from myoxai.evaluation.fingerprint import array_hash, code_fingerprint
    from myoxai.models import TrainSettings, build_model, load_model, save_model, train_model

    day1 = kanoga_windows(root, [subject], [1], DEFAULT_CONFIG)
    train = day1.meta["trial"] <= 3
    tag = f"{array_hash(day1.spec[train], day1.y[train])}-{code_fingerprint()['sources']}"
    path = None if cache_dir is None else cache_dir / f"kanoga_sub{subject}_day1_seed{seed}_e{epochs}_{tag}.safetensors"
    if path is not None and path.exists():
        return load_model(path), day1
    model = build_model("allconvnet", len(day1.class_names), seed=seed, channels=MODEL_CHANNELS)
    groups = day1.meta["motion"][train] * 10 + day1.meta["trial"][train]
    train_model(model, day1.spec[train], day1.y[train], TrainSettings(epochs=epochs, seed=seed, threads=1),
                groups=groups)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, path, day1.class_names, DEFAULT_CONFIG,
                   {"data": "kanoga", "subject": subject, "days": [1], "trials": [1, 2, 3], "seed": seed,
                    "early_stopping": "whole trials"})
    return model, day1


def subject_days(root: str | Path, subjects: Sequence[int] = (1, 2, 3, 4), days: Sequence[int] = range(2, 31),
                 seed: int = 0, epochs: int = 30, cache_dir: str | Path | None = None,
                 shapley_windows: int = 400) -> list[dict[str, Any]]:
    """One row per subject-day: drift components on unlabeled trials 1–2, accuracy on trials 3–4."""
    import torch

    from myoxai.evaluation.data import kanoga_windows
    from myoxai.explain.outputs import predicted_class_outputs
    from myoxai.models import predict_proba

    torch.set_num_threads(1)
    cache = None if cache_dir is None else Path(cache_dir)
    rng = np.random.default_rng(seed)
    rows = []
    for s in subjects:
        model, day1 = _day1_model(root, s, cache, seed, epochs)
        held = day1.meta["trial"] == 4  # a whole trial the model never trained or stopped on
        ref_acc = float(np.mean(predict_proba(model, day1.spec[held]).argmax(1) == day1.y[held]))
        pick = np.flatnonzero(held)
        pick = np.sort(rng.choice(pick, min(len(pick), 1500), replace=False))
        proba, phi = predicted_class_outputs(model, day1.spec[pick])
        ref = reference_from_outputs(day1.spec[pick], proba, phi, rest=0)
        if cache is not None:  # the day-1 model with its reference: `myoxai drift --model M --data dayD/` uses it
            from myoxai.models import save_model

            save_model(model, cache / f"kanoga_sub{s}_day1_seed{seed}_e{epochs}_drift.safetensors", day1.class_names,
                       DEFAULT_CONFIG, {"data": "kanoga", "subject": s, "days": [1], "trials": [1, 2, 3], "seed": seed},
                       drift_reference=ref.to_dict())
        for d in days:
            ws = kanoga_windows(root, [s], [d], DEFAULT_CONFIG)
            adapt = ws.meta["trial"] <= 2  # unlabeled: the monitor never sees ws.y of these windows
            test = ~adapt
            acc = float(np.mean(predict_proba(model, ws.spec[test]).argmax(1) == ws.y[test]))
            x = ws.spec[adapt]
            p_all = predict_proba(model, x)
            active = p_all.argmax(1) != ref.rest
            sub = np.flatnonzero(active)
            sub = np.sort(rng.choice(sub, min(len(sub), shapley_windows), replace=False))
            p_sub, phi_sub = predicted_class_outputs(model, x[sub])
            comps = drift_components(ref, window_power(x[active]), p_all[active])
            shap = drift_components(ref, window_power(x[sub]), p_sub, phi_sub)["shapley"]
            comps["shapley"] = shap
            rows.append({"subject": s, "day": d, "position": ws.meta["position"][0], "accuracy": acc,
                         "reference_accuracy": ref_acc, "accuracy_change": acc - ref_acc,
                         "n_unlabeled": int(active.sum()), "components": comps,
                         "max_softmax": float(p_all.max(axis=1).mean())})
            log.info("sub%d day%d %s acc %.3f (ref %.3f) %s", s, d, rows[-1]["position"], acc, ref_acc, comps)
    return rows


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman correlation over the finite pairs, or None when fewer than three or one side is constant."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return None
    return float(spearmanr(a[ok], b[ok]).statistic)


def _scores(rows: Sequence[dict[str, Any]], th: DriftThresholds) -> np.ndarray:
    return np.array([assess(r["components"], th).score for r in rows])


def _scaled(base: dict[str, float], scale: float, watch_ratio: float = 0.6) -> DriftThresholds:
    return DriftThresholds(**{k: (watch_ratio * scale * v, scale * v) for k, v in base.items()})


def choose_thresholds(rows: Sequence[dict[str, Any]], loss_points: float = 0.10) -> tuple[DriftThresholds,
                                                                                           dict[str, Any]]:
    """Thresholds from the selection rows: component scales by Spearman, overall scale by balanced accuracy."""
    sizes = {k: np.array([np.nan if magnitudes(r["components"])[k] is None else magnitudes(r["components"])[k]
                          for r in rows]) for k in COMPONENTS}
    change = np.array([r["accuracy_change"] for r in rows])
    # candidate recalibrate levels per component: quantiles of its size on the selection days (inf = ignore it)
    grid = {k: [*(q for q in np.unique(np.nanquantile(v, [0.25, 0.5, 0.75, 0.9])) if q > 0), math.inf]
            if np.isfinite(v).any() else [math.inf] for k, v in sizes.items()}
    best, best_rho = None, math.inf
    for combo in itertools.product(*(grid[k] for k in COMPONENTS)):
        if all(math.isinf(c) for c in combo):
            continue
        base = dict(zip(COMPONENTS, combo, strict=True))
        rho = spearman(_scores(rows, _scaled(base, 1.0)), change)
        if rho is not None and rho < best_rho:
            best, best_rho = base, rho
    if best is None:
        return DriftThresholds(), {"note": "no informative component on the selection days"}
    lost = change < -loss_points
    scores = _scores(rows, _scaled(best, 1.0))
    best_scale, best_bacc = 1.0, -1.0
    for cut in np.unique(scores):  # flag = score ≥ cut; scaling thresholds by cut puts the flag at score ≥ 1
        flag = scores >= cut
        bacc = _balanced_accuracy(flag, lost)
        if cut > 0 and bacc > best_bacc:
            best_scale, best_bacc = float(cut), bacc
    th = _scaled(best, best_scale)
    return th, {"spearman_selection": best_rho, "balanced_accuracy_selection": best_bacc,
                "loss_points": loss_points, "n_selection": len(rows)}


def _balanced_accuracy(flag: np.ndarray, truth: np.ndarray) -> float:
    parts = [np.mean(flag[truth == v] == v) for v in (True, False) if (truth == v).any()]
    return float(np.mean(parts)) if parts else float("nan")


def summarise(rows: Sequence[dict[str, Any]], loss_points: float = 0.10) -> dict[str, Any]:
    """Thresholds on days 3–8, then Spearman (overall, per position, per component) on the other days."""
    select = [r for r in rows if r["day"] in SELECT_DAYS]
    report = [r for r in rows if r["day"] not in SELECT_DAYS]
    th, selection = choose_thresholds(select, loss_points)
    out: dict[str, Any] = {"thresholds": th.to_dict(), "selection": selection, "report_days": sorted(
        {r["day"] for r in report}), "spearman": {}, "per_position": {}, "per_component": {}}
    for r in rows:
        a = assess(r["components"], th)
        r["score"], r["state"], r["cause"] = a.score, a.state, a.cause
    change = [r["accuracy_change"] for r in report]
    out["spearman"]["score_vs_accuracy_change"] = spearman([r["score"] for r in report], change)
    out["spearman"]["score_vs_accuracy"] = spearman([r["score"] for r in report], [r["accuracy"] for r in report])
    for pos in "NIO":
        part = [r for r in report if r["position"] == pos]
        out["per_position"][pos] = {"n": len(part), "spearman": spearman([r["score"] for r in part],
                                                                         [r["accuracy_change"] for r in part]),
                                    "mean_accuracy_change": float(np.mean([r["accuracy_change"] for r in part]))
                                    if part else None,
                                    "mean_rotation": float(np.mean([r["components"]["rotation"] for r in part]))
                                    if part else None}
    out["per_subject"] = {int(s): spearman([r["score"] for r in report if r["subject"] == s],
                                           [r["accuracy_change"] for r in report if r["subject"] == s])
                          for s in sorted({r["subject"] for r in report})}
    for k in COMPONENTS:  # each component's size alone (what its threshold judges)
        vals = [np.nan if magnitudes(r["components"])[k] is None else magnitudes(r["components"])[k] for r in report]
        out["per_component"][k] = spearman(vals, change)
    out["per_component"]["rejection_rate"] = spearman([r["components"]["rejection_rate"] for r in report], change)
    out["spearman"]["score_vs_accuracy_change_live_defaults"] = spearman(
        [assess(r["components"]).score for r in report], change)
    lost = np.array([c < -loss_points for c in change])
    flag = np.array([r["state"] == "recalibrate" for r in report])
    out["recalibrate_flag"] = {"loss_points": loss_points, "balanced_accuracy": _balanced_accuracy(flag, lost),
                               "sensitivity": float(np.mean(flag[lost])) if lost.any() else None,
                               "specificity": float(np.mean(~flag[~lost])) if (~lost).any() else None,
                               "n_loss": int(lost.sum()), "n": len(report)}
    out["within_subject"] = within_subject(report, {
        "drift score": [r["score"] for r in report],
        "max-softmax baseline": [-r["max_softmax"] for r in report] if all("max_softmax" in r for r in report)
        else None})
    out["rotation_sign"] = {}
    for pos in "NIO":
        rot = np.array([r["components"]["rotation"] for r in rows if r["position"] == pos])
        out["rotation_sign"][pos] = {"positive": int((rot > 0).sum()), "negative": int((rot < 0).sum()),
                                     "zero": int((rot == 0).sum())}
    return out


def _mean_within(score: np.ndarray, change: np.ndarray, subject: np.ndarray, picks: list[np.ndarray]) -> float:
    """Mean over ``picks`` (index arrays, one per drawn subject) of each one's Spearman; NaN if none is defined."""
    rhos = [spearman(score[i], change[i]) for i in picks]
    rhos = [r for r in rhos if r is not None]
    return float(np.mean(rhos)) if rhos else float("nan")


def within_subject(rows: Sequence[dict[str, Any]], scores: dict[str, Sequence[float] | None],
                   resamples: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Within-subject Spearman of each score with the accuracy change, and of their difference to the baseline.

    For each subject, Spearman over its days; then the mean over subjects. The 95 % percentile
    bootstrap interval resamples subjects and then days within each drawn subject (the same resamples
    for every score, so the difference is paired). Negative = a higher score goes with a larger loss.
    """
    change = np.array([r["accuracy_change"] for r in rows])
    subject = np.array([r["subject"] for r in rows])
    by = [np.flatnonzero(subject == s) for s in np.unique(subject)]
    scores = {k: np.asarray(v, float) for k, v in scores.items() if v is not None}
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        chosen = rng.integers(0, len(by), len(by))
        draws.append([by[c][rng.integers(0, len(by[c]), len(by[c]))] for c in chosen])
    out: dict[str, Any] = {"n_subjects": len(by), "n_days": [len(b) for b in by], "resamples": resamples,
                           "interval": "95 % percentile bootstrap; subjects, then days within subjects"}
    boot = {}
    for name, score in scores.items():
        point = _mean_within(score, change, subject, by)
        boot[name] = np.array([_mean_within(score, change, subject, d) for d in draws])
        out[name] = {"spearman_mean_over_subjects": point,
                     "per_subject": {int(s): spearman(score[b], change[b]) for s, b in zip(np.unique(subject), by,
                                                                                            strict=True)},
                     "ci95": [float(np.nanpercentile(boot[name], 2.5)), float(np.nanpercentile(boot[name], 97.5))]}
    names = list(scores)
    if len(names) == 2:
        a, b = names
        diff = boot[a] - boot[b]
        out[f"{a} minus {b}"] = {"difference": out[a]["spearman_mean_over_subjects"]
                                 - out[b]["spearman_mean_over_subjects"],
                                 "ci95": [float(np.nanpercentile(diff, 2.5)), float(np.nanpercentile(diff, 97.5))]}
    return out
