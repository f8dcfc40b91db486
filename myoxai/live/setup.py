"""The one way to build an engine from user choices: ``build_engine(EngineOptions(...))``.

``myoxai live``, the GUI's source switch and ``myoxai bench live`` all call it, so every engine
gets the same source specs, model, post-processing settings and sinks (``--lsl``, ``--log``).
The GUI keeps its ``EngineOptions`` and rebuilds with ``dataclasses.replace(options, source=spec)``
when the user picks another source, so nothing chosen on the command line is lost on the way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.engine.active import model_class_names
from myoxai.engine.engine import Engine, Model
from myoxai.engine.postprocess import DEFAULT_VOTE
from myoxai.errors import MyoxaiError

BUNDLED_SPEC = "bundled"  # the held-out part of the bundled recording, looped
LIVE_CHUNK = 10  # samples per replayed chunk when paced: 50 ms, as a Myo delivers them
MAX_SPEED_CHUNK = 1000  # unpaced replays hand over 5 s at a time; the engine classifies them in batches
READ_AHEAD_SAMPLES = 20_000


def open_live_source(spec: str | None, speed: float = 1.0, loop: bool = True,
                     chunk: int | None = None, config: SignalConfig = DEFAULT_CONFIG) -> tuple[Any, bool, str]:
    """(source, highpass, description) for a source spec; ``None`` or ``"bundled"`` = the bundled demo replay.

    ``highpass`` is False only for replays of recordings that say they are already high-passed
    with the pipeline's (``config``'s) filter (the long-term dataset), so nothing is filtered twice.
    """
    from myoxai.sources import open_source
    from myoxai.sources.replay import ReplaySource

    chunk = chunk or (LIVE_CHUNK if speed > 0 else MAX_SPEED_CHUNK)
    # an unpaced replay reads at most ~100 s of signal ahead (reading further only burns CPU and memory)
    ahead = 2000 if speed > 0 else max(4, READ_AHEAD_SAMPLES // chunk)
    if spec is None or spec == BUNDLED_SPEC:
        from myoxai.live.bundled import held_out_recording

        return (ReplaySource(held_out_recording(), speed=speed, loop=loop, chunk=chunk, queue_chunks=ahead), True,
                "bundled recording (held-out part, looped)")
    src = open_source(spec, speed=speed, loop=loop, chunk=chunk, queue_chunks=ahead)
    rec = getattr(src, "recording", None)
    highpass = rec is None or rec.meta.get("highpass_hz") != config.highpass_hz
    return src, highpass, spec


def load_live_model(path: str | Path | None, progress: Callable[[float, str], None] | None = None,
                    expect_config: SignalConfig | None = DEFAULT_CONFIG) -> Any:
    """The model to run: ``path``, else the bundled demo model (trained now if it is missing).

    ``expect_config=None`` accepts any signal config the file records (the engine then runs with
    it: ``build_engine``); commands that process data with the default config keep the default check.
    """
    from myoxai.live.bundled import BUNDLED_MODEL, train_bundled_model
    from myoxai.models import load_model

    if path is None:
        if not BUNDLED_MODEL.exists():
            train_bundled_model(BUNDLED_MODEL, progress=progress)
        path = BUNDLED_MODEL
    return load_model(path, expect_config=expect_config)


@dataclass(frozen=True)
class EngineOptions:
    """Everything that decides how an engine is built (the ``myoxai live`` options that concern it).

    Attributes
    ----------
    source:
        A source spec (``replay:FILE``, ``myo[:PORT]``, ``myo-ble[:ADDRESS]``, ``lsl:NAME``); ``None`` =
        the held-out part of the bundled recording.
    model:
        Model file; ``None`` = the bundled demo model.
    speed:
        Replay speed (1 = real time, 0 = as fast as possible).
    loop:
        Replays start again at the end.
    explain:
        Exact channel Shapley values for every decision.
    vote, threshold:
        Post-processing (majority vote length, rejection threshold).
    lsl:
        Publish decisions as the LSL stream ``myoxai-decisions``.
    log:
        Append every decision to this JSON-lines file.
    buffer_minutes:
        Unlabeled windows kept for recalibration.
    chunk:
        Samples per replayed chunk; ``None`` = 10 (50 ms, like a Myo) when paced, 1000 at max speed.
    drift:
        Run the engine's drift stage (``engine.drift_stage``) when the model carries a drift
        reference; its assessment then goes with every decision batch, to the GUI, the LSL outlet
        (two more columns) and the decision log.
    """

    source: str | None = None
    model: str | Path | None = None
    speed: float = 1.0
    loop: bool = True
    explain: bool = True
    vote: int = DEFAULT_VOTE
    threshold: float = 0.0
    lsl: bool = False
    log: str | Path | None = None
    buffer_minutes: float = 5.0
    chunk: int | None = None
    drift: bool = True

    def __post_init__(self) -> None:
        if self.vote < 1:
            raise MyoxaiError("--vote must be at least 1")
        if not 0.0 <= self.threshold <= 1.0:
            raise MyoxaiError("--threshold is a probability: use a value from 0 to 1")
        if self.speed < 0:
            raise MyoxaiError("--speed must be positive (or max)")

    def replace(self, **changes: Any) -> EngineOptions:
        """A copy with ``changes`` (e.g. another ``source``), checked again."""
        return dataclasses.replace(self, **changes)


def build_engine(options: EngineOptions, model: Model | None = None) -> tuple[Engine, str]:
    """(engine, source description) for ``options``; not started.

    ``model`` overrides ``options.model`` (the GUI passes its active model when it switches source).
    The decision log and the LSL outlet are built through the engine's sink factories, so they follow
    a change of gestures and are closed when the engine stops.
    """
    from myoxai.engine.sinks import DecisionLog, LslDecisionOutlet
    from myoxai.models import model_signal_config

    if model is None:
        model = load_live_model(options.model, expect_config=None)
    config = model_signal_config(model)  # the engine windows the signal the way the model was trained
    source, highpass, desc = open_live_source(options.source, options.speed, loop=options.loop, chunk=options.chunk,
                                              config=config)
    if hasattr(source, "match_classes"):  # a labelled replay: gestures matched to the model's by name
        source.match_classes(model_class_names(model, model.n_classes))
    engine = Engine(source, model, config, explain=options.explain, vote=options.vote, threshold=options.threshold,
                    buffer_minutes=options.buffer_minutes, highpass=highpass, drift=options.drift)
    try:
        if options.log:
            engine.add_sink_factory(lambda names, path=options.log: DecisionLog(path, names))
        if options.lsl:
            with_drift = engine.drift_stage is not None
            engine.add_sink_factory(lambda names: LslDecisionOutlet(names, with_drift=with_drift))
    except BaseException:
        engine.stop()
        raise
    return engine, desc


def live_source_data(options: EngineOptions) -> Any:
    """The active model's labelled training data for recalibration: known only for the bundled demo model."""
    if options.model is not None:
        return None
    from myoxai.live.bundled import bundled_source_data

    return bundled_source_data()
