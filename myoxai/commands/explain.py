"""``myoxai explain``: explain a trained model's decisions on labelled data and compare explanation methods.

Outputs: exact per-electrode Shapley values (Shapley matrix gestures × electrodes, contribution
ratios), the per-electrode attributions of the other methods, and their agreement table.
"""

from __future__ import annotations

import argparse

from myoxai.cliargs import thread_count
from myoxai.evaluation import int_list_arg

HELP = "explain a model on labelled data: exact channel Shapley, IG, GradientSHAP, LIME, Grad-CAM and their agreement"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai explain`` options, added to its subcommand parser."""
    parser.add_argument("--model", required=True, help="model file (.safetensors) written by myoxai train")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="labelled recording: .xdf, myo-readings session folder, "
                                    "long-term day folder or trial")
    src.add_argument("--kanoga", metavar="ROOT", help="long-term dataset folder (with --subject/--days/--trials)")
    parser.add_argument("--subject", type=int, default=1, help="long-term subject (default 1)")
    parser.add_argument("--days", type=int_list_arg("days"), default=[1], help="long-term days, e.g. 4-6 (default 1)")
    parser.add_argument("--trials", type=int_list_arg("trials"), default=[1, 2, 3, 4],
                        help="long-term trials (default 1-4)")
    parser.add_argument("--methods", default="shapley,ig,gradshap,lime,gradcam",
                        help="comma-separated subset of shapley,ig,gradshap,lime,gradcam")
    parser.add_argument("--max-windows", type=int, default=512,
                        help="explain at most this many windows, drawn evenly per gesture with --seed (default 512)")
    parser.add_argument("--target", choices=("true", "predicted"), default="true",
                        help="class whose attributions are compared (default: the true gesture)")
    parser.add_argument("--baseline", choices=("zero", "rest"), default="zero",
                        help="what an absent electrode is for Shapley: zero = a silent electrode (raw input 0), "
                             "rest = its mean over the data's rest windows (default zero)")
    parser.add_argument("--topk", type=int, default=3, help="k of the top-k electrode overlap (default 3)")
    parser.add_argument("--ig-steps", type=int, default=50, help="Integrated Gradients steps (default 50)")
    parser.add_argument("--lime-samples", type=int, default=200, help="LIME samples per window (default 200)")
    parser.add_argument("--tv-weight", type=float, default=0.0, help="Grad-CAM total-variation denoising weight")
    parser.add_argument("--seed", type=int, default=0, help="seed for window selection and sampling methods")
    parser.add_argument("--threads", type=thread_count, default=1, help="torch threads (default 1)")
    parser.add_argument("--json", metavar="OUT", help="write the full result as JSON")
    parser.add_argument("--csv", metavar="OUT", help="write the agreement table as CSV (default: next to --json)")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures into DIR")
    parser.add_argument("--interactions", metavar="DIR",
                        help="write per-gesture pairwise electrode interaction matrices into DIR: "
                             "interactions.csv and interactions.png (exact Shapley interaction indices of the "
                             "true class's probability, mean over each gesture's windows)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing --json/--csv files and figures")


def run(args: argparse.Namespace) -> int:
    """Explain the model on labelled windows with every method and print their agreement."""
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
    from myoxai.models import MyoModel, load_model, predict, set_torch_threads

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in EXPLAINERS]
    if bad or not methods:
        raise MyoxaiError(f"unknown method(s) {bad}; choose from {', '.join(EXPLAINERS)}")
    for option, value, most in (("--lime-samples", args.lime_samples, 100_000), ("--ig-steps", args.ig_steps, 10_000),
                                ("--max-windows", args.max_windows, 1_000_000), ("--topk", args.topk, 8)):
        if not 1 <= value <= most:
            raise MyoxaiError(f"{option} {value}: give a whole number from 1 to {most}")
    from myoxai.io.outputs import check_output, check_output_dir, write_text
    from myoxai.io.validate import check_signal_fits, label_index_map

    inputs = [args.model, args.data, args.kanoga]
    csv_path = args.csv or (str(Path(args.json).with_suffix(".csv")) if args.json else None)
    for out_path in (args.json, csv_path):  # refused now, not after minutes of explaining
        if out_path:
            check_output(out_path, overwrite=args.overwrite, inputs=inputs)
    for folder in (args.figures, args.interactions):
        if folder:
            check_output_dir(folder, overwrite=args.overwrite)
    set_torch_threads(args.threads)
    model = load_model(args.model)
    if not isinstance(model, MyoModel):
        raise MyoxaiError(f"{args.model} is an {type(model).__name__}; explanations need a torch model "
                          "(spectrogram-convnet, allconvnet or lstm-fin)")
    if args.kanoga:
        from myoxai.io.kanoga import load_kanoga

        recs = load_kanoga(args.kanoga, [args.subject], args.days, trials=args.trials)
        source = {"kanoga": str(args.kanoga), "subject": args.subject, "days": args.days, "trials": args.trials}
    else:
        from myoxai.io.open import open_recording

        recs = [open_recording(args.data)]
        source = {"data": str(args.data)}
    for r in recs:
        check_signal_fits(r.fs, r.n_channels, DEFAULT_CONFIG, str(r.meta.get("source", args.data)))
    x, y = labelled_windows(recs, model.input_kind)
    if not len(y):
        raise MyoxaiError("the data holds no labelled window to explain (shorter than one 250 ms window?)")
    to_model = label_index_map(recs[0].class_names, model.class_names, np.unique(y), "the data")
    y = to_model[y]  # gestures matched by name, never by position
    baseline, absent = _baseline(args.baseline, x, y, model)
    x, y = _select(x, y, args.max_windows, args.seed)
    pred = predict(model, x)
    target = y if args.target == "true" else pred
    shape = input_shape_of(model)
    if "gradcam" in methods and len(shape) != 3:
        print(f"skipping gradcam: {model.name} has no convolution over the spectrogram")
        methods.remove("gradcam")
    options = {"ig": {"steps": args.ig_steps}, "lime": {"n_samples": args.lime_samples, "seed": args.seed},
               "gradshap": {"seed": args.seed}, "gradcam": {"tv_weight": args.tv_weight}}
    timings, results = {}, {}
    res = None
    if args.interactions and "shapley" not in methods:
        res = ChannelShapley(model, baseline=baseline, spec_shape=shape).explain(x)
    for m in methods:
        t0 = time.perf_counter()
        if m == "shapley":  # one exact computation serves the comparison and the Shapley matrix
            res = ChannelShapley(model, baseline=baseline, spec_shape=shape).explain(x)
            results[m] = Attribution("shapley", res.for_class(target))
        else:
            results.update(attribute_all(model, x, target, [m], shape, options))
        timings[m] = (time.perf_counter() - t0) / len(x) * 1e3
        print(f"{m:9s} {timings[m]:8.2f} ms/window")
    channels = {m: a.channels for m, a in results.items()}
    rows = agreement_table(channels, k=args.topk)
    names = list(getattr(model, "class_names", [str(i) for i in range(model.n_classes)]))
    report = {"model": str(args.model), "architecture": model.name, "source": source, "windows": int(len(x)),
              "accuracy_on_windows": float(np.mean(pred == y)), "target": args.target, "seed": args.seed,
              "ms_per_window": timings, "agreement": rows,
              "mean_channel_attribution": {m: c.mean(axis=0).tolist() for m, c in channels.items()}}
    matrix = None
    if res is not None:
        matrix, counts = shapley_matrix(res.for_class(y), y, model.n_classes)
        report["shapley"] = {"matrix_true_class": _nan_list(matrix), "normalised": _nan_list(normalise_rows(matrix)),
                             "windows_per_gesture": counts.tolist(), "class_names": names,
                             "contribution_ratios": _nan_list(contribution_ratios(np.nan_to_num(matrix))),
                             "efficiency_max_error": float(np.abs(res.phi_prob.sum(-1) - res.total).max()),
                             "baseline": args.baseline, "absent_electrode": absent}
        print(f"Shapley baseline {args.baseline}: {absent}")
    _print_table(rows)
    if args.figures:
        _figures(Path(args.figures), model, x, results, rows, list(channels), matrix, names)
    if args.interactions:
        report["interactions"] = _interactions(Path(args.interactions), res, y, names, args.overwrite)
    if args.json:
        write_text(args.json, json.dumps(report, indent=2), overwrite=args.overwrite, inputs=inputs)
    if csv_path and rows:
        import csv
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        write_text(csv_path, buf.getvalue(), overwrite=args.overwrite, inputs=inputs)
    return 0


def _interactions(folder, res, y, names, overwrite: bool) -> dict:
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
    print(f"interactions: {folder / 'interactions.csv'}, {folder / 'interactions.png'}")
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


def _print_table(rows) -> None:
    print(f"{'pair':22s} {'pearson':>8s} {'spearman':>8s} {'top-k':>6s} {'d_bary':>7s} {'d_spread':>8s}")
    for r in rows:
        print(f"{r['method_a'] + '/' + r['method_b']:22s} {r['pearson_mean']:8.3f} {r['spearman_mean']:8.3f} "
              f"{r['topk_overlap_mean']:6.3f} {r['barycentre_distance_mean']:7.3f} {r['spread_distance_mean']:8.3f}")


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
