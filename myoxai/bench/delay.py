"""``myoxai bench delay``: controller delay (gesture onset → first correct decision) per model and vote length.

The onset must be exact, so it is made: every gesture trial of the long-term dataset's test trial
is spliced behind the same day's rest trial (1.5 s of rest, then 1.5 s of gesture; the onset is the
first gesture sample). Each spliced stream goes through the causal pipeline (``process_signal``,
what the engine runs live) and a fresh vote (``PostProcessor``, the engine's), with a model trained
on the day's other trials (leave-one-trial-out, the evaluation's recipe without day-to-day
augmentation).

- delay: from the onset sample to the last sample of the first window whose voted decision is the
  gesture (the compute latency, about a millisecond, is not included); a gesture never recognised
  within its 1.5 s counts as 1.5 s (censored) and as a miss;
- real-time accuracy: every decision of the spliced streams against the label at its window's last
  sample (rest before the onset, the gesture after), rejections wrong.

Choose settings on selection days (3-8) and report on other days; never choose on the reported ones.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from myoxai.bench.report import Result

HELP = "controller delay: gesture onset → first correct decision (median, p90) per model and vote, spliced onsets"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench delay`` options, added to its subcommand parser."""
    from myoxai.evaluation import int_list_arg

    parser.add_argument("--root", default=str(Path("~/.cache/myoxai/kanoga").expanduser()),
                        help="the unpacked long-term dataset (default ~/.cache/myoxai/kanoga)")
    parser.add_argument("--subjects", type=int_list_arg("subjects"), default=[1, 2, 3, 4])
    parser.add_argument("--days", type=int_list_arg("days"), default=[3],
                        help="days (default 3: a selection day; the reported days are 2, 9, 16, 23, 30)")
    parser.add_argument("--test-trial", type=int, default=4, help="the trial spliced and scored (default 4)")
    parser.add_argument("--models", default="allconvnet,ring-tower",
                        help="comma-separated registry names, each trained with its recipe "
                             "(default allconvnet,ring-tower)")
    parser.add_argument("--votes", type=int_list_arg("votes"), default=[1, 3, 5], help="vote lengths (default 1,3,5)")
    parser.add_argument("--signal", default="default",
                        help="comma-separated named signal configs (myoxai.config.SIGNAL_CONFIGS: "
                             "default, short-200, short-150, …), each measured side by side (default: default)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)


def spliced_streams(rest: np.ndarray, gestures: list[np.ndarray]) -> list[tuple[np.ndarray, int]]:
    """(signal, onset sample) per gesture: the rest trial, then the gesture trial."""
    return [(np.concatenate([rest, g]), len(rest)) for g in gestures]


def stream_delays(proba: np.ndarray, ends: np.ndarray, onset: int, gesture: int, rest: int, vote: int,
                  fs: float) -> tuple[float, bool, np.ndarray]:
    """(delay s, recognised, per-window correctness) of one spliced stream under a fresh vote of ``vote``."""
    from myoxai.engine.postprocess import PostProcessor

    labels, _ = PostProcessor(vote, 0.0).batch(proba)
    truth = np.where(ends - 1 >= onset, gesture, rest)
    hit = np.flatnonzero((labels == gesture) & (ends - 1 >= onset))
    censored = (ends[-1] - 1 - onset) / fs
    delay = (ends[hit[0]] - 1 - onset) / fs if len(hit) else censored
    return float(delay), bool(len(hit)), labels == truth


def run(args: argparse.Namespace) -> list[Result]:
    """Train each model per subject and day, splice the test trial's onsets and measure delay and accuracy."""
    from myoxai.config import signal_config
    from myoxai.dsp import process_signal
    from myoxai.evaluation.data import kanoga_windows, select
    from myoxai.evaluation.protocols import fit_fresh
    from myoxai.io.kanoga import load_kanoga
    from myoxai.models import TrainSettings, predict_proba, set_torch_threads

    set_torch_threads(1)
    configs = {n: signal_config(n) for n in (x.strip() for x in args.signal.split(",")) if n}
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    stats = {(c, m, v): {"delay": [], "hit": [], "correct": [], "subject": []}
             for c in configs for m in names for v in args.votes}
    for (c, cfg), s, d in itertools.product(configs.items(), args.subjects, args.days):
        data = kanoga_windows(args.root, [s], [d], cfg)
        train = data.subset(select(data, {"trial": [t for t in range(1, 5) if t != args.test_trial]}))
        trials = load_kanoga(args.root, [s], [d], trials=[args.test_trial])  # motion order: M1 = rest first
        rest = trials[0].samples
        gestures = [int(r.meta["motion"]) - 1 for r in trials[1:]]  # label = motion - 1 (rest = 0)
        streams = spliced_streams(rest, [r.samples for r in trials[1:]])
        batches = [process_signal(x, cfg, highpass=False) for x, _ in streams]  # the dataset is pre-filtered
        for name in names:
            model, _ = fit_fresh(name, train, TrainSettings(epochs=args.epochs, seed=args.seed, threads=1),
                                 within_day=True, config=cfg)
            proba = predict_proba(model, np.concatenate([b.spectrograms for b in batches]).astype(np.float32))
            cuts = np.cumsum([0, *[len(b) for b in batches]])
            for v in args.votes:
                st = stats[(c, name, v)]
                for k, ((_, onset), b) in enumerate(zip(streams, batches, strict=True)):
                    delay, hit, ok = stream_delays(proba[cuts[k]:cuts[k + 1]], b.end, onset, gestures[k], 0, v,
                                                   cfg.fs)
                    st["delay"].append(delay)
                    st["hit"].append(hit)
                    st["correct"].append(ok)
                    st["subject"].append(s)
    return _results(stats, args)


def _results(stats: dict, args: argparse.Namespace) -> list[Result]:
    out: list[Result] = []
    for (c, name, v), st in stats.items():
        delay, subj = np.asarray(st["delay"]) * 1e3, np.asarray(st["subject"])
        acc = np.array([c.mean() for c in st["correct"]])
        p = {"signal": c, "model": name, "vote": v, "subjects": args.subjects, "days": args.days,
             "test_trial": args.test_trial, "seed": args.seed, "epochs": args.epochs, "streams": int(len(delay)),
             "per_subject_median_ms": {int(s): float(np.median(delay[subj == s])) for s in np.unique(subj)},
             "per_subject_rt_accuracy": {int(s): float(np.mean(np.concatenate(
                 [c for c, t in zip(st["correct"], subj, strict=True) if t == s]))) for s in np.unique(subj)}}
        tag = f"delay.{name}.vote{v}" if c == "default" else f"delay.{c}.{name}.vote{v}"
        out += [Result(f"{tag}.median", float(np.median(delay)), "ms", p),
                Result(f"{tag}.p90", float(np.percentile(delay, 90)), "ms", p),
                Result(f"{tag}.miss_rate", float(1 - np.mean(st["hit"])), "", p),
                Result(f"{tag}.rt_accuracy", float(np.mean(np.concatenate(st["correct"]))), "", p),
                Result(f"{tag}.rt_accuracy_stream_mean", float(acc.mean()), "", p)]
    return out
