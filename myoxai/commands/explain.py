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
    from myoxai.explain.report import ExplainOptions, explain_report
    from myoxai.models import set_torch_threads

    set_torch_threads(args.threads)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    explain_report(ExplainOptions(
        model=args.model, data=args.data, kanoga=args.kanoga, subject=args.subject, days=tuple(args.days),
        trials=tuple(args.trials), methods=methods, max_windows=args.max_windows, target=args.target,
        baseline=args.baseline, topk=args.topk, ig_steps=args.ig_steps, lime_samples=args.lime_samples,
        tv_weight=args.tv_weight, seed=args.seed, json=args.json, csv=args.csv, figures=args.figures,
        interactions=args.interactions, overwrite=args.overwrite), say=print)
    return 0
