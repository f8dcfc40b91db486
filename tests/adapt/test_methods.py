"""The adaptation registry: composed steps, flags, and default = live by construction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from myoxai.adapt import methods
from myoxai.adapt.methods import DEFAULT_PIPELINE, METHODS, AdaptContext, AdaptMethod
from myoxai.adapt.quick import calibration_profile
from myoxai.errors import MyoxaiError

torch.set_num_threads(1)


def ring_data(n_per_class: int, seed: int, rotation: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Power spectrograms of 4 classes: class c has an energy bump on electrode 2c (+ ``rotation``)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), n_per_class)
    d = (np.arange(8)[None, :] - 2 * y[:, None] - rotation + 4) % 8 - 4
    bump = np.exp(-0.5 * d**2) + 0.05
    return (bump[:, None, :, None] * rng.exponential(1.0, (len(y), 4, 8, 10))).astype(np.float32), y


def test_every_method_is_composed_steps_and_default_is_registered() -> None:
    assert DEFAULT_PIPELINE in METHODS and "default" not in METHODS
    for name, m in METHODS.items():
        assert isinstance(m, AdaptMethod) and all(callable(s) for s in m.steps), name
    assert METHODS["none"].steps == ()
    assert {m for m, v in METHODS.items() if v.needs_labels} == {"labeled", "calibrate-35s", "calibrate-35s+proto"}
    assert {m for m, v in METHODS.items() if v.transductive} == {"quick+online-t3a"}
    assert {m for m, v in METHODS.items() if v.carries_state} == {"scadann-acc"}


def test_labeled_methods_refuse_to_run_without_labels() -> None:
    ctx = AdaptContext(np.zeros((4, 4, 8, 10), np.float32))
    with pytest.raises(MyoxaiError, match="label"):
        METHODS["labeled"].run(object(), ctx)


def test_live_quick_adapt_and_eval_default_run_the_same_registered_pipeline(monkeypatch) -> None:
    """Both call sites go through ``METHODS[DEFAULT_PIPELINE]``; swapping the entry changes both."""
    from myoxai.engine import Engine
    from myoxai.evaluation.adaptation import AdaptEvalSettings, adapt_one
    from myoxai.live import Recalibration
    from myoxai.live.bundled import BUNDLED_MODEL, bundled_source_data, held_out_recording
    from myoxai.models import load_model
    from myoxai.sources.replay import ReplaySource

    calls: list[tuple[int, str]] = []

    def spy(model, ctx):
        calls.append((len(ctx.x), "labels" if ctx.labels is not None else "unlabeled"))
        ctx.report["rotation_shift"] = 0.0
        return model

    monkeypatch.setitem(METHODS, DEFAULT_PIPELINE, AdaptMethod((spy,), "spy"))
    model = load_model(BUNDLED_MODEL)
    engine = Engine(ReplaySource(held_out_recording().slice(0, 3000), speed=0), model, explain=False)
    engine.start()
    assert engine.wait(60)
    engine.stop()
    from myoxai.adapt.no_harm import split_held_back

    n_fit = len(split_held_back(len(engine.buffer.snapshot()))[0])  # the rest is held back for the no-harm check
    Recalibration(engine, bundled_source_data(), min_windows=100, niceness=0).quick_adapt()
    x = np.zeros((120, 4, 8, 10), np.float32)
    adapt_one("default", model, bundled_source_data(), x, np.zeros(120, np.int64), AdaptEvalSettings(), {}, {})
    assert calls == [(n_fit, "unlabeled"), (120, "unlabeled")]


def test_registered_default_equals_the_steps_applied_by_hand() -> None:
    """The default pipeline is rotation, re-normalisation and the T3A-style prototype head, in that order."""
    from myoxai.adapt.quick import compensate_rotation, prototype_head, renormalize
    from myoxai.models import TrainSettings, build_model, predict_logits, train_model

    x, y = ring_data(60, 0)
    model = build_model("spectrogram-convnet", 4, seed=0, channels=[8, 8], log_input=True)
    train_model(model, x, y, TrainSettings(epochs=3, batch_size=64, seed=0))
    xt = ring_data(40, 1, rotation=0.7)[0]
    ctx = AdaptContext(xt, reference_profile=calibration_profile(x))
    got = METHODS[DEFAULT_PIPELINE].run(model, ctx)
    by_hand, shift = compensate_rotation(model, xt, calibration_profile(x))
    by_hand, supports = prototype_head(renormalize(by_hand, xt), xt)
    assert np.array_equal(predict_logits(got, xt), predict_logits(by_hand, xt))
    assert ctx.report["rotation_shift"] == shift and ctx.report["prototype_supports"] == supports


def test_only_labeled_methods_are_handed_labels(monkeypatch) -> None:
    from myoxai.evaluation.adaptation import AdaptEvalSettings, adapt_one

    seen: dict[str, object] = {}

    def spy(model, ctx):
        seen["labels"] = ctx.labels
        return model

    monkeypatch.setitem(METHODS, "spy-unlabeled", AdaptMethod((spy,), "spy"))
    monkeypatch.setitem(METHODS, "spy-labeled", AdaptMethod((spy,), "spy", needs_labels=True))
    x, y = np.zeros((10, 4, 8, 10), np.float32), np.arange(10)
    adapt_one("spy-unlabeled", None, None, x, y, AdaptEvalSettings(), {}, {})
    assert seen["labels"] is None
    adapt_one("spy-labeled", None, None, x, y, AdaptEvalSettings(), {}, {})
    assert np.array_equal(seen["labels"], y)
    assert "spy-labeled" in methods.method_names()
