"""``myoxai motion-test``: BioPatRec-style real-time Motion Test, live with prompts or against a recording's labels.

Against a labelled replay (``--source replay:FILE``, the default when the source has labels) every
label onset is a prompt, the replay runs as fast as the engine goes (``--speed max``) and the
metrics are computed from the engine's own decision stream. Live (``--prompts``, or any unlabelled
source) the terminal shows each prompt in turn: random order, ``--repetitions`` per gesture, a hold
limit and a rest between trials; EMG, prompt markers and decisions go to ``--record FILE.xdf``.
"""

from __future__ import annotations

import argparse
from typing import Any

from myoxai.cliargs import thread_count
from myoxai.commands.replay import speed
from myoxai.engine.postprocess import DEFAULT_VOTE
from myoxai.sources.devices import source_help
from myoxai.sources.lsl import add_scope_option, apply_scope_option

HELP = "real-time Motion Test: selection/completion time, completion rate, real-time accuracy (live or vs labels)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai motion-test`` options, added to its subcommand parser."""
    parser.add_argument("--source", default=None, metavar="SPEC",
                        help=f"{source_help()}; a replay is scored against its labels "
                             "(default: the held-out part of the bundled recording)")
    add_scope_option(parser)
    parser.add_argument("--model", default=None, help="model file (default: the bundled demo model)")
    parser.add_argument("--headless", action="store_true", help="no window (the only mode of this command today)")
    parser.add_argument("--prompts", action="store_true",
                        help="prompt gestures (live test) even when the source has labels")
    parser.add_argument("--gestures", default=None, help="comma list of gesture names to prompt (default: all "
                                                         "but rest)")
    parser.add_argument("--repetitions", type=int, default=3, help="live: trials per gesture (default 3)")
    parser.add_argument("--hold-limit", type=float, default=5.0, help="seconds a trial may take (default 5)")
    parser.add_argument("--rest", type=float, default=3.0, help="live: seconds of rest before each trial (default 3)")
    parser.add_argument("--k", type=int, default=10, help="correct decisions that complete a trial (default 10)")
    parser.add_argument("--include-rest", action="store_true", help="recording mode: score rest runs as prompts too")
    parser.add_argument("--seed", type=int, default=0, help="live: seed of the prompt order (default 0)")
    parser.add_argument("--speed", type=speed, default=None,
                        help="replay speed (default: max against labels, 1 for a live test)")
    parser.add_argument("--vote", type=int, default=DEFAULT_VOTE,
                        help=f"majority vote over the last K decisions (default {DEFAULT_VOTE})")
    parser.add_argument("--threshold", type=float, default=0.0, help="reject decisions below this confidence")
    parser.add_argument("--record", metavar="XDF", default=None, help="record EMG, prompts and decisions to XDF")
    parser.add_argument("--json", metavar="OUT", default=None, help="write the results as JSON")
    parser.add_argument("--png", metavar="OUT", default=None, help="write the summary figure as PNG")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--threads", type=thread_count, default=1, help="torch threads for the engine (default 1)")


def _check_outputs(args: argparse.Namespace) -> list[str]:
    """Refuse every output now (exists, is an input, a folder, in a missing folder); returns the inputs."""
    from myoxai.errors import MyoxaiError
    from myoxai.io.outputs import check_output

    kind, _, target = (args.source or "").partition(":")
    inputs = [args.model, target if kind == "replay" else None]
    outs = [p for p in (args.json, args.png, args.record) if p is not None]
    if len({str(p) for p in outs}) < len(outs):
        raise MyoxaiError("--json, --png and --record must name different files")
    for p in outs:
        check_output(p, overwrite=args.overwrite, inputs=inputs)
    return [p for p in inputs if p]


def run(args: argparse.Namespace) -> int:
    """Run a Motion Test against the source's labels or live prompts and report its metrics."""
    apply_scope_option(args)  # before anything loads liblsl's configuration
    import json

    from myoxai.errors import MyoxaiError

    inputs = _check_outputs(args)
    if args.k < 1 or args.repetitions < 1 or args.hold_limit <= 0 or args.rest < 0:
        raise MyoxaiError("--k and --repetitions must be ≥ 1, --hold-limit > 0 and --rest ≥ 0")
    engine, labelled, desc = _engine(args)
    live = args.prompts or not labelled
    from myoxai.live.motion.session import MotionSession

    session = MotionSession(engine, from_labels=not live, include_rest=args.include_rest,
                            xdf_path=args.record, overwrite=args.overwrite)
    mode = "live prompts" if live else "against the recording's labels (each label onset is a prompt)"
    print(f"myoxai motion-test: {desc}; {mode}; K={args.k}, hold limit {args.hold_limit:g} s", flush=True)
    try:
        if live:
            _run_live(engine, session, args)
        else:
            _run_to_end(engine)
    finally:
        engine.stop()
        session.close()
    st = engine.status()
    if st.error:
        raise MyoxaiError(f"the stream ended with an error: {st.error}")
    result = session.result(args.k, args.hold_limit)
    if not result.trials:
        raise MyoxaiError("no prompts were scored: the recording has no labelled gesture runs "
                          "(use --include-rest, or --prompts for a live test)")
    doc = result.to_dict()
    doc.update({"source": desc, "mode": "live" if live else "recording-labels", "model_version": st.model_version,
                "vote": args.vote, "threshold": args.threshold})
    if session.xdf_path is not None:
        doc["xdf"] = str(session.xdf_path)
    print(summary_table(doc))
    if args.json:
        from myoxai.io.outputs import write_text

        write_text(args.json, json.dumps(doc, indent=1), overwrite=args.overwrite, inputs=inputs)
        print(f"results written to {args.json}")
    if args.png:
        from myoxai.live.motion.figure import write_motion_figure

        write_motion_figure(doc, args.png, overwrite=args.overwrite, inputs=inputs)
        print(f"summary figure written to {args.png}")
    return 0


def _engine(args: argparse.Namespace) -> tuple[Any, bool, str]:
    """(engine, source has labels, description): the one engine builder, no Shapley, no drift, no loop."""
    from myoxai.live.setup import EngineOptions, build_engine
    from myoxai.models import set_torch_threads

    set_torch_threads(args.threads)
    replay_speed = args.speed if args.speed is not None else (1.0 if args.prompts else 0.0)
    engine, desc = build_engine(EngineOptions(source=args.source, model=args.model, speed=replay_speed, loop=False,
                                              explain=False, vote=args.vote, threshold=args.threshold, drift=False))
    labelled = getattr(getattr(engine.source, "recording", None), "labels", None) is not None
    if not labelled and args.speed is None and hasattr(engine.source, "speed"):
        engine.source.speed = 1.0  # an unlabelled replay is a live test: real time
    return engine, labelled, desc


def _run_to_end(engine: Any) -> None:
    import time

    engine.start()
    while engine.running:
        time.sleep(0.05)


def _run_live(engine: Any, session: Any, args: argparse.Namespace) -> None:
    """Show the prompts in the terminal on schedule (the source's clock stamps them)."""
    import time

    from myoxai.live.motion.scoring import prompt_schedule, schedule_seconds
    from myoxai.sources import local_clock

    names = engine.class_names
    gestures = _gesture_indices(args.gestures, names, session.rest)
    schedule = prompt_schedule(gestures, args.repetitions, args.hold_limit, args.rest, args.seed)
    print(f"{len(schedule)} trials, {schedule_seconds(schedule):.0f} s: relax, then perform each gesture "
          "as soon as it is shown and hold it until the next rest", flush=True)
    engine.start()
    t0 = local_clock()
    for i, p in enumerate(schedule, 1):
        _sleep_until(t0 + p.onset_s - args.rest, engine)
        print(f"[{i}/{len(schedule)}] rest", flush=True)
        _sleep_until(t0 + p.onset_s, engine)
        session.prompt(p.gesture, local_clock())
        print(f"[{i}/{len(schedule)}] >>> {names[p.gesture].upper()} <<<", flush=True)
        _sleep_until(t0 + p.onset_s + p.hold_limit_s, engine)
        session.end_prompt(local_clock())
        if not engine.running:
            break
    time.sleep(0.3)  # the last decisions of the last trial


def _sleep_until(t: float, engine: Any) -> None:
    import time

    from myoxai.sources import local_clock

    while engine.running and local_clock() < t:
        time.sleep(min(0.05, max(0.0, t - local_clock())))


def _gesture_indices(text: str | None, names: tuple[str, ...], rest: int | None) -> list[int]:
    from myoxai.errors import MyoxaiError

    if text is None:
        return [i for i in range(len(names)) if i != rest]
    wanted = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in names]
    if unknown or not wanted:
        raise MyoxaiError(f"unknown gestures {unknown}; the model knows {', '.join(names)}")
    return [names.index(w) for w in wanted]


def _fmt(v: float | None, unit: str = "s") -> str:
    if v is None:
        return "   -  "
    return f"{v:5.2f} {unit}" if unit else f"{100 * v:5.1f} %"


def summary_table(doc: dict[str, Any]) -> str:
    """Per-gesture selection/completion times, completion rate and accuracy, then the overall line."""
    rows = [f"{'gesture':20s} {'trials':>6s} {'selection':>10s} {'completion':>11s} {'completed':>10s} "
            f"{'accuracy':>9s}"]
    for name, g in [*doc["gestures"].items(), ("overall", doc)]:
        rows.append(f"{name:20s} {g['trials']:6d} {_fmt(g['selection_time_s']):>10s} "
                    f"{_fmt(g['completion_time_s']):>11s} {_fmt(g['completion_rate'], ''):>10s} "
                    f"{_fmt(g['realtime_accuracy'], ''):>9s}")
    rows.append(f"completion rate {_fmt(doc['completion_rate'], '').strip()} within {doc['hold_limit_s']:g} s "
                f"(K={doc['k_correct']}); real-time accuracy during prompts "
                f"{_fmt(doc['realtime_accuracy'], '').strip()}")
    return "\n".join(rows)
