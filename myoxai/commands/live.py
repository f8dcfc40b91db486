"""``myoxai live``: the live app (Qt window), or a compact line per decision with ``--headless``.

With no ``--source`` it replays, in a loop at real time, the part of the bundled real recording
that the shipped demo model never saw (``myoxai.live.bundled``), so the first command in the
README shows the whole app on real data.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from myoxai.cliargs import thread_count
from myoxai.commands.replay import seconds, speed
from myoxai.engine.postprocess import DEFAULT_VOTE
from myoxai.live.setup import EngineOptions, build_engine
from myoxai.sources.devices import source_help
from myoxai.sources.lsl import add_scope_option, apply_scope_option

HELP = "run the live app: gestures, EMG, per-channel Shapley, recalibration (--headless: one line per decision)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai live`` options, added to its subcommand parser."""
    parser.add_argument("--source", default=None, metavar="SPEC",
                        help=f"{source_help()} (default: the held-out part of the bundled recording, looped)")
    add_scope_option(parser)
    parser.add_argument("--model", default=None, help="model file (default: the bundled demo model)")
    parser.add_argument("--headless", action="store_true", help="no window: print one line per decision")
    parser.add_argument("--speed", type=speed, default=1.0,
                        help="replay speed: 1 = real time, N = N× faster, max = unpaced")
    parser.add_argument("--seconds", type=seconds, default=None, help="stop after this many seconds of signal")
    parser.add_argument("--no-shapley", action="store_true", help="skip the exact Shapley values (faster)")
    parser.add_argument("--vote", type=int, default=DEFAULT_VOTE,
                        help=f"majority vote over the last K decisions (default {DEFAULT_VOTE})")
    parser.add_argument("--threshold", type=float, default=0.0, help="reject decisions below this confidence")
    parser.add_argument("--lsl", action="store_true", help="publish decisions as the LSL stream myoxai-decisions")
    parser.add_argument("--log", metavar="FILE", default=None, help="write every decision to FILE (JSON lines)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --log file")
    parser.add_argument("--threads", type=thread_count, default=1, help="torch threads for the engine (default 1)")
    parser.add_argument("--quit-after", type=seconds, default=None, metavar="S",
                        help="close the window after S seconds (demos, screenshots)")
    parser.add_argument("--screenshot", metavar="PNG", default=None, help="with --quit-after: save the window first")
    parser.add_argument("--quick-adapt-at", type=seconds, default=None, metavar="S",
                        help="press Quick adapt S seconds after the start (demos, screenshots of the story)")
    parser.add_argument("--pretrained", metavar="MODEL", default=None,
                        help="the calibration wizard's quick mode fine-tunes this pre-trained model (default: the "
                        "bundled one, pre-trained on the long-term dataset; make one with myoxai train --pretrain)")
    parser.add_argument("--train-bundled", action="store_true",
                        help="(re)train the bundled demo model from the bundled recording (seed 0) and exit")


def headless_line(d: Any, names: tuple[str, ...], t0: float = 0.0, top: int = 3) -> str:
    """``t  gesture  conf  [truth]  top channels by φ  C  latency`` for one decision (t relative to ``t0``)."""
    label = names[d.label] if d.label >= 0 else "(rejected)"
    parts = [f"t={d.timestamp - t0:8.2f}", f"{label:18s}", f"{d.confidence:5.2f}"]
    if d.true_label is not None and 0 <= d.true_label < len(names):
        parts.append(f"true={names[d.true_label]:18s}")
    if d.phi is not None:
        phi = d.phi_label
        order = sorted(range(len(phi)), key=lambda i: -abs(phi[i]))[:top]
        parts.append("phi " + " ".join(f"ch{i + 1}{phi[i]:+.2f}" for i in order))
        parts.append(f"C={float(d.total[d.raw_label]):+.2f}")
    parts.append(f"{d.latency_s * 1e3:5.1f} ms")
    if d.after_gap:
        parts.append("[after gap: dsp reset]")
    return "  ".join(parts)


def engine_options(args: argparse.Namespace) -> EngineOptions:
    """The engine-building part of the command line (checked: a bad value is a ``MyoxaiError``)."""
    return EngineOptions(source=args.source, model=args.model, speed=args.speed,
                         loop=args.seconds is not None or args.source is None or not args.headless,
                         explain=not args.no_shapley, vote=args.vote, threshold=args.threshold, lsl=args.lsl,
                         log=args.log)


def run(args: argparse.Namespace) -> int:
    """Start the live app (or the headless decision printer), or retrain the bundled demo model."""
    apply_scope_option(args)  # before anything loads liblsl's configuration
    from myoxai.models import set_torch_threads

    if args.train_bundled:
        from myoxai.live.bundled import BUNDLED_MODEL, train_bundled_model

        metrics = train_bundled_model(BUNDLED_MODEL)
        print(f"saved {BUNDLED_MODEL}: held-out accuracy {metrics['held_out_accuracy']:.3f} "
              f"on {metrics['n_held_out_windows']} windows")
        return 0
    options = engine_options(args)
    if args.log:
        _check_log(args)
    set_torch_threads(args.threads)
    if args.headless:
        return _run_headless(options, args.seconds)
    _require_display()
    from myoxai.gui.app import run_app

    if args.pretrained:
        from myoxai.live.quick_calibration import load_pretrained

        load_pretrained(args.pretrained)  # a bad file is reported now, not after the user's calibration

    def on_start(window: Any) -> Callable[[], None] | None:
        window.wizard_pretrained = args.pretrained
        if args.quick_adapt_at is not None:
            from PyQt6 import QtCore

            QtCore.QTimer.singleShot(int(args.quick_adapt_at * 1000), window.recalibrate.quick)
        if args.screenshot:  # run by the quit timer right after it saved the screenshot
            return lambda: print(f"screenshot saved to {args.screenshot}", flush=True)
        return None

    return run_app(options, quit_after=args.quit_after, screenshot=args.screenshot, on_start=on_start)


def _require_display() -> None:
    """Qt aborts the process (no exception) when it finds no screen; say what to do instead."""
    from myoxai.gui.display import check_display

    check_display()


def _check_log(args: argparse.Namespace) -> None:
    """The decision log is an output: never an input, an existing file only with ``--overwrite``."""
    from pathlib import Path

    from myoxai.io.outputs import check_output

    kind, _, target = (args.source or "").partition(":")
    check_output(args.log, overwrite=args.overwrite, inputs=[args.model, target if kind == "replay" else None])
    if args.overwrite:
        Path(args.log).unlink(missing_ok=True)  # the log appends (a header per gesture set): start it afresh


def _run_headless(options: EngineOptions, seconds: float | None) -> int:
    import time

    from myoxai.errors import MyoxaiError

    engine, desc = build_engine(options)
    names = engine.class_names
    print(f"myoxai live: {desc}; model v{engine.active.version} ({', '.join(names)}); "
          f"Shapley {'exact, every decision' if options.explain else 'off'}", flush=True)
    sub = engine.subscribe(maxlen=100_000)
    engine.start()
    n = correct = labelled = 0
    t0: float | None = None
    drift_state, drift = "ok", None
    try:
        while True:
            batch = sub.drain()
            drift = batch.drift  # the drift stage's assessment published with these decisions
            if drift is not None and drift.state != drift_state:
                drift_state = _print_drift(drift)
            for d in batch:
                t0 = d.timestamp if t0 is None else t0
                print(headless_line(d, names, t0), flush=True)
                n += 1
                if d.true_label is not None and d.true_label >= 0 and d.label >= 0:
                    labelled += 1
                    correct += d.label == d.true_label
                if seconds is not None and n >= seconds * engine.config.fs / engine.config.step:
                    raise StopIteration
            if not engine.running:
                batch = sub.drain()
                drift = batch.drift
                for d in batch:
                    print(headless_line(d, names, t0 or d.timestamp), flush=True)
                    n += 1
                break
            time.sleep(0.02)
    except StopIteration:
        pass
    finally:
        engine.stop()
    if drift is not None and drift.state != drift_state:
        _print_drift(drift)
    st = engine.status()
    acc = f"; accuracy vs the recording's labels {correct / labelled:.3f} ({labelled} decisions)" if labelled else ""
    print(f"done: {n} decisions, latency p50 {st.latency_p50_ms:.1f} ms p99 {st.latency_p99_ms:.1f} ms, "
          f"gaps {st.gaps}, lost {st.samples_lost}, dropped {st.samples_dropped}{acc}", flush=True)
    if st.error:
        raise MyoxaiError(f"the stream ended with an error: {st.error}")
    if n == 0:
        raise MyoxaiError(f"no decision was made: {desc} gave less than one {engine.config.window}-sample window "
                          f"({engine.config.window / engine.config.fs * 1e3:.0f} ms) of signal; use a longer "
                          "recording or check that the device streams")
    return 0


def _print_drift(a: Any) -> str:
    """One line when the drift monitor changes state; returns the new state."""
    from myoxai.engine.drift import cause_sentence

    why = cause_sentence(a.state, a.cause, a.components)
    print(f"drift: {a.state.upper()}" + (f" — {why}" if why else "") + f" (score {a.score:.2f})"
          + (" — press Recalibrate" if a.state == "recalibrate" else ""), flush=True)
    return a.state
