"""Measure Shapley feedback on the long-term dataset: ``python -m myoxai.evaluation.shapley_feedback``.

One subject; train on some days, test on later days. The weights w come from the TRAINING windows
of the baseline model. Each variant is compared with a control trained by the same procedure
without the weights (same seed, same settings), and everything is written to one JSON file
(and logged on stderr as it comes).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _windows(root: str, subject: int, days: list[int], trials: tuple[int, ...] = (1, 2, 3, 4)):
    from myoxai.explain.data import labelled_windows
    from myoxai.io.kanoga import load_kanoga

    return labelled_windows(load_kanoga(root, [subject], days, trials=trials))


def _acc(model, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        model.eval()
        pred = torch.cat([model(torch.as_tensor(x[i:i + 2048])).argmax(1) for i in range(0, len(x), 2048)])
    return float((pred.numpy() == y).mean())


def main(argv: list[str] | None = None) -> int:
    """Run the experiment and write its JSON; ``python -m`` entry point."""
    from myoxai.evaluation import int_list_arg

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kanoga", required=True, help="long-term dataset folder")
    ap.add_argument("--subject", type=int, default=1)
    ap.add_argument("--train-days", type=int_list_arg("train-days"), default=[1, 2, 3])
    ap.add_argument("--test-days", type=int_list_arg("test-days"), default=[4, 5, 6])
    ap.add_argument("--model", default="allconvnet", help="spectrogram-convnet or allconvnet")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--head-epochs", type=int, default=15)
    ap.add_argument("--alpha-max", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dann", action="store_true",
                    help="also run DANN (myoxai.adapt) on the plain and on the Shapley-weighted model: adapt on "
                         "trials 1-2 of the test days (unlabeled), test on their trials 3-4")
    ap.add_argument("--skip-feedback", action="store_true", help="skip first-conv feedback and blending")
    ap.add_argument("--json", required=True)
    argv = sys.argv[1:] if argv is None else argv
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # progress and results on stderr

    from myoxai.explain.feedback import first_conv_feedback, train_blended, training_weights
    from myoxai.models import TrainSettings, build_model, train_model

    t0 = time.perf_counter()
    xtr, ytr = _windows(args.kanoga, args.subject, args.train_days)
    xte, yte = _windows(args.kanoga, args.subject, args.test_days)
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, threads=1)
    out: dict = {"command": "python -m myoxai.evaluation.shapley_feedback " + " ".join(argv),
                 "subject": args.subject, "train_days": args.train_days, "test_days": args.test_days,
                 "model": args.model, "seed": args.seed, "n_train": int(len(ytr)), "n_test": int(len(yte))}
    base = build_model(args.model, 22, seed=args.seed)
    train_model(base, xtr, ytr, settings)
    out["baseline_test_acc"] = _acc(base, xte, yte)
    weights = training_weights(base, xtr, ytr)
    out["train_phi"] = weights["phi"].tolist()
    out["w"] = weights["w"].tolist()
    head = TrainSettings(epochs=args.head_epochs, seed=args.seed, threads=1)
    fb, control = first_conv_feedback(base, weights["w"], xtr, ytr, head)
    out["first_conv_feedback"] = {"test_acc": _acc(fb, xte, yte), "control_test_acc": _acc(control, xte, yte)}
    log.info("%s", json.dumps(out["first_conv_feedback"]))
    if args.dann:
        out["dann_shapley"] = _dann(args, base, fb, control, xtr, ytr, weights["w"])
        log.info("%s", json.dumps(out["dann_shapley"]))
    if args.skip_feedback:
        Path(args.json).write_text(json.dumps(out, indent=2))
        log.info("%s", json.dumps(out, indent=2))
        return 0
    blended, rep = train_blended(build_model(args.model, 22, seed=args.seed), weights["w"], xtr, ytr, settings,
                                 alpha_max=args.alpha_max)
    ctrl, rep0 = train_blended(build_model(args.model, 22, seed=args.seed), weights["w"], xtr, ytr, settings,
                               alpha_max=0.0)
    out["blending"] = {"alpha_max": args.alpha_max, "alpha_used": rep["alpha_used"],
                       "test_acc": _acc(blended, xte, yte), "control_test_acc": _acc(ctrl, xte, yte)}
    out.setdefault("dann_shapley", "not run (pass --dann)")
    out["seconds"] = time.perf_counter() - t0
    Path(args.json).write_text(json.dumps(out, indent=2))
    log.info("%s", json.dumps(out, indent=2))
    return 0


def _dann(args, base, fb, control, xtr, ytr, w) -> dict:
    """DANN from myoxai.adapt with and without Shapley feedback, each against its control.

    Plain, on the first-conv-weighted model, and with the Shapley-weighted loss + regulariser
    (``shapley_dann_loss``) added to every step, against the same DANN without them.
    """
    from myoxai.adapt import RecalibrationSettings, SourceData, adapt_model
    from myoxai.explain.feedback import shapley_dann_loss

    xa, _ = _windows(args.kanoga, args.subject, args.test_days, trials=(1, 2))  # labels never used
    xe, ye = _windows(args.kanoga, args.subject, args.test_days, trials=(3, 4))
    s = RecalibrationSettings(seed=args.seed, min_target_windows=1)
    src = SourceData(xtr, ytr)
    plain, _ = adapt_model(base, src, xa, "dann", s)
    ctrl, _ = adapt_model(control, src, xa, "dann", s)
    weighted, _ = adapt_model(fb, src, xa, "dann", s)
    shapley_loss, _ = adapt_model(base, src, xa, "dann", s, extra_loss=shapley_dann_loss(w))
    return {"adapt_trials": [1, 2], "test_trials": [3, 4], "baseline": _acc(base, xe, ye),
            "first_conv_feedback": _acc(fb, xe, ye), "dann": _acc(plain, xe, ye),
            "dann_on_uniform_weight_control": _acc(ctrl, xe, ye), "dann_on_shapley_weighted": _acc(weighted, xe, ye),
            "dann_with_shapley_loss_and_regulariser": _acc(shapley_loss, xe, ye)}


if __name__ == "__main__":
    raise SystemExit(main())
