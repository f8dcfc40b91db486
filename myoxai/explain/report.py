"""The ``myoxai explain`` workflow: explain a model on labelled data with every method and compare them.

Outputs: exact per-electrode Shapley values (Shapley matrix gestures × electrodes, contribution
ratios), the per-electrode attributions of the other methods, their agreement table, and optionally
figures and pairwise interaction matrices. The command only parses its options into
``ExplainOptions`` and prints what ``explain_report`` says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ALL_METHODS = ("shapley", "ig", "gradshap", "lime", "gradcam")


@dataclass(frozen=True)
class ExplainOptions:
    """What to explain and where the results go (the ``myoxai explain`` options, typed).

    Attributes
    ----------
    model:
        Model file written by ``myoxai train``.
    data, kanoga:
        A labelled recording, or the long-term dataset's folder with ``subject``, ``days``, ``trials``.
    methods:
        Names from ``myoxai.explain.methods.EXPLAINERS``.
    max_windows, seed:
        At most this many windows, the same share of every gesture, drawn with ``seed``.
    target:
        ``"true"`` or ``"predicted"``: whose attributions are compared.
    baseline:
        ``"zero"`` (a silent electrode) or ``"rest"`` (its mean over the rest windows) for Shapley.
    topk, ig_steps, lime_samples, tv_weight:
        Method and agreement settings.
    json, csv, figures, interactions, overwrite:
        Outputs (files and folders), refused before any work when they exist without ``overwrite``.
    """

    model: str
    data: str | None = None
    kanoga: str | None = None
    subject: int = 1
    days: tuple[int, ...] = (1,)
    trials: tuple[int, ...] = (1, 2, 3, 4)
    methods: tuple[str, ...] = ALL_METHODS
    max_windows: int = 512
    target: str = "true"
    baseline: str = "zero"
    topk: int = 3
    ig_steps: int = 50
    lime_samples: int = 200
    tv_weight: float = 0.0
    seed: int = 0
    json: str | None = None
    csv: str | None = None
    figures: str | None = None
    interactions: str | None = None
    overwrite: bool = False


def explain_report(o: ExplainOptions, say: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Explain ``o.model`` on the labelled windows with every method; write the outputs; return the report.

    ``say`` receives the progress and result lines (the command prints them).
    """
    import json
    import time
    from pathlib import Path

    import numpy as np

    from myoxai.config import DEFAULT_CONFIG
    from myoxai.errors import MyoxaiError
    from myoxai.explain.agreement import agreement_table
    from myoxai.explain.attribution import Attribution
    from myoxai.explain.data import labelled_windows
    from myoxai.explain.matrix import contribution_ratios, normalise_rows, shapley_matrix
    from myoxai.explain.methods import EXPLAINERS, attribute_all
    from myoxai.explain.shapley import ChannelShapley, input_shape_of
    from myoxai.models import load_model, predict

    methods = list(o.methods)
    bad = [m for m in methods if m not in EXPLAINERS]
    if bad or not methods:
        raise MyoxaiError(f"unknown method(s) {bad}; choose from {', '.join(EXPLAINERS)}")
    for option, value, most in (("--lime-samples", o.lime_samples, 100_000), ("--ig-steps", o.ig_steps, 10_000),
                                ("--max-windows", o.max_windows, 1_000_000), ("--topk", o.topk, 8)):
        if not 1 <= value <= most:
            raise MyoxaiError(f"{option} {value}: give a whole number from 1 to {most}")
    from myoxai.io.outputs import check_output, check_output_dir, write_text
    from myoxai.io.validate import check_signal_fits, label_index_map

    inputs = [o.model, o.data, o.kanoga]
    csv_path = o.csv or (str(Path(o.json).with_suffix(".csv")) if o.json else None)
    for out_path in (o.json, csv_path):  # refused now, not after minutes of explaining
        if out_path:
            check_output(out_path, overwrite=o.overwrite, inputs=inputs)
    for folder in (o.figures, o.interactions):
        if folder:
            check_output_dir(folder, overwrite=o.overwrite)
    model = load_model(o.model)
    if not getattr(model, "explainable", False):
        raise MyoxaiError(f"{o.model} is an {type(model).__name__}; explanations need a torch model "
                          "(spectrogram-convnet, allconvnet or lstm-fin)")
    if o.kanoga:
        from myoxai.io.kanoga import load_kanoga

        recs = load_kanoga(o.kanoga, [o.subject], o.days, trials=o.trials)
        source = {"kanoga": str(o.kanoga), "subject": o.subject, "days": o.days, "trials": o.trials}
    else:
        from myoxai.io.open import open_recording

        recs = [open_recording(o.data)]
        source = {"data": str(o.data)}
    for r in recs:
        check_signal_fits(r.fs, r.n_channels, DEFAULT_CONFIG, str(r.meta.get("source", o.data)))
    x, y = labelled_windows(recs, model.input_kind)
    if not len(y):
        raise MyoxaiError("the data holds no labelled window to explain (shorter than one 250 ms window?)")
    to_model = label_index_map(recs[0].class_names, model.class_names, np.unique(y), "the data")
    y = to_model[y]  # gestures matched by name, never by position
    baseline, absent = _baseline(o.baseline, x, y, model)
    x, y = _select(x, y, o.max_windows, o.seed)
    pred = predict(model, x)
    target = y if o.target == "true" else pred
    shape = input_shape_of(model)
    if "gradcam" in methods and len(shape) != 3:
        say(f"skipping gradcam: {model.name} has no convolution over the spectrogram")
        methods.remove("gradcam")
    options = {"ig": {"steps": o.ig_steps}, "lime": {"n_samples": o.lime_samples, "seed": o.seed},
               "gradshap": {"seed": o.seed}, "gradcam": {"tv_weight": o.tv_weight}}
    timings, results = {}, {}
    res = None
    if o.interactions and "shapley" not in methods:
        res = ChannelShapley(model, baseline=baseline, spec_shape=shape).explain(x)
    for m in methods:
        t0 = time.perf_counter()
        if m == "shapley":  # one exact computation serves the comparison and the Shapley matrix
            res = ChannelShapley(model, baseline=baseline, spec_shape=shape).explain(x)
            results[m] = Attribution("shapley", res.for_class(target))
        else:
            results.update(attribute_all(model, x, target, [m], shape, options))
        timings[m] = (time.perf_counter() - t0) / len(x) * 1e3
        say(f"{m:9s} {timings[m]:8.2f} ms/window")
    channels = {m: a.channels for m, a in results.items()}
    rows = agreement_table(channels, k=o.topk)
    names = list(getattr(model, "class_names", [str(i) for i in range(model.n_classes)]))
    report = {"model": str(o.model), "architecture": model.name, "source": source, "windows": int(len(x)),
              "accuracy_on_windows": float(np.mean(pred == y)), "target": o.target, "seed": o.seed,
              "ms_per_window": timings, "agreement": rows,
              "mean_channel_attribution": {m: c.mean(axis=0).tolist() for m, c in channels.items()}}
    matrix = None
    if res is not None:
        matrix, counts = shapley_matrix(res.for_class(y), y, model.n_classes)
        report["shapley"] = {"matrix_true_class": _nan_list(matrix), "normalised": _nan_list(normalise_rows(matrix)),
                             "windows_per_gesture": counts.tolist(), "class_names": names,
                             "contribution_ratios": _nan_list(contribution_ratios(np.nan_to_num(matrix))),
                             "efficiency_max_error": float(np.abs(res.phi_prob.sum(-1) - res.total).max()),
                             "baseline": o.baseline, "absent_electrode": absent}
        say(f"Shapley baseline {o.baseline}: {absent}")
    for line in agreement_lines(rows):
        say(line)
    if o.figures:
        _figures(Path(o.figures), model, x, results, rows, list(channels), matrix, names)
    if o.interactions:
        report["interactions"] = _interactions(Path(o.interactions), res, y, names, o.overwrite, say)
    if o.json:
        write_text(o.json, json.dumps(report, indent=2), overwrite=o.overwrite, inputs=inputs)
    if csv_path and rows:
        import csv
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        write_text(csv_path, buf.getvalue(), overwrite=o.overwrite, inputs=inputs)
    return report




def _interactions(folder, res, y, names, overwrite: bool, say: Callable[[str], None]) -> dict:
    """Mean pairwise interaction matrix of the true class per gesture: CSV (long form) and one figure."""
    import numpy as np

    from myoxai.explain.figures import interaction_grid
    from myoxai.explain.interactions import electrode_pairs, pair_matrix
    from myoxai.explain.matrix import shapley_matrix
    from myoxai.io.outputs import write_text

    inter = res.inter_prob[np.arange(len(y)), y]  # (windows, pairs) of each window's true class
    mean, counts = shapley_matrix(inter, y, len(names))
    pairs = electrode_pairs(res.phi_prob.shape[-1])
    lines = ["gesture,electrode_a,electrode_b,interaction,windows"]
    lines += [f"{names[g]},{a + 1},{b + 1},{mean[g, k]:.6g},{counts[g]}" for g in np.flatnonzero(counts)
              for k, (a, b) in enumerate(pairs)]
    write_text(folder / "interactions.csv", "\n".join(lines) + "\n", overwrite=overwrite)
    present = np.flatnonzero(counts)
    interaction_grid(pair_matrix(mean[present], res.phi_prob.shape[-1]), [names[g] for g in present],
                     folder / "interactions.png", "electrode interactions of p(true gesture), mean per gesture")
    say(f"interactions: {folder / 'interactions.csv'}, {folder / 'interactions.png'}")
    return {"pairs": [[a + 1, b + 1] for a, b in pairs], "mean_per_gesture": _nan_list(mean),
            "windows_per_gesture": counts.tolist()}


def _baseline(kind: str, x, y, model):
    """(baseline for ChannelShapley, what 'absent electrode' means with it) — the text goes into the output."""
    import numpy as np

    from myoxai.errors import MyoxaiError
    from myoxai.explain.shapley import rest_baseline

    if kind == "zero":
        return "zero", ("raw input 0 (a silent electrode); the model standardises inside, so in its standardised "
                        "units an absent electrode is -mean/std of that electrode's training data")
    names = list(getattr(model, "class_names", ()))
    if "rest" not in names:
        raise MyoxaiError("--baseline rest needs a model with a 'rest' gesture; use --baseline zero")
    rest = names.index("rest")
    n = int(np.sum(y == rest))
    return rest_baseline(x, y, rest_label=rest), (
        f"the electrode's mean raw input over the {n} rest windows of the explained data (an electrode at rest)")


def _select(x, y, max_windows: int, seed: int):
    """At most ``max_windows`` windows, the same share of every gesture, reproducibly."""
    import numpy as np

    if max_windows <= 0 or len(y) <= max_windows:
        return x, y
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per = max(1, max_windows // len(classes))
    idx = np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per] for c in classes]))
    return x[idx], y[idx]


def _nan_list(a):
    import numpy as np

    return [[None if not np.isfinite(v) else float(v) for v in row] for row in np.asarray(a)]


def agreement_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The agreement table as text lines (one header, one line per pair of methods)."""
    lines = [f"{'pair':22s} {'pearson':>8s} {'spearman':>8s} {'top-k':>6s} {'d_bary':>7s} {'d_spread':>8s}"]
    lines += [f"{r['method_a'] + '/' + r['method_b']:22s} {r['pearson_mean']:8.3f} {r['spearman_mean']:8.3f} "
              f"{r['topk_overlap_mean']:6.3f} {r['barycentre_distance_mean']:7.3f} {r['spread_distance_mean']:8.3f}"
              for r in rows]
    return lines


def _figures(folder, model, x, results, rows, methods, matrix, names) -> None:
    import numpy as np

    from myoxai.explain.agreement import correlation_matrix
    from myoxai.explain.figures import gesture_bars, heatmap

    electrodes = [f"E{i + 1}" for i in range(x.shape[2])]
    if len(methods) > 1:
        heatmap(correlation_matrix(rows, methods), methods, methods, "mean Pearson r of per-electrode attributions",
                folder / "agreement_pearson.png")
    if matrix is not None:
        present = ~np.isnan(matrix).all(axis=1)
        rows_names = [n for n, p in zip(names, present, strict=True) if p]
        heatmap(matrix[present], rows_names, electrodes, "Shapley φ (true-class probability)",
                folder / "shapley_matrix.png")
        from myoxai.explain.matrix import normalise_rows

        heatmap(normalise_rows(matrix[present]), rows_names, electrodes, "Shapley φ / Σ|φ| per gesture",
                folder / "shapley_matrix_normalised.png")
        gesture_bars(matrix[present], rows_names, folder / "shapley_bars.png", "mean φ of the true class per electrode")
    if "gradcam" in results:
        heatmap(results["gradcam"].elements.mean(axis=0), electrodes, [f"f{i + 1}" for i in range(x.shape[3])],
                "mean Grad-CAM (electrodes × frequency bins)", folder / "gradcam_mean.png", diverging=False)
    if len(x.shape) == 4:
        from myoxai.explain.activations import ConvActivations

        for name, act in ConvActivations(model).attribute(x[:256]).items():
            img = act.mean(axis=(0, 1))
            heatmap(img, [str(i) for i in range(img.shape[0])], [str(j) for j in range(img.shape[1])],
                    f"mean activation of {name}", folder / f"activation_{name.replace('.', '_')}.png",
                    diverging=False)
