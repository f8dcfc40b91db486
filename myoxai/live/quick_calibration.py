"""The quick calibration: one 5-s hold per gesture fine-tunes a pre-trained model; a short second hold tests it.

Schedule: a rest lead-in, one ``hold_s`` hold of every gesture (with rests between: the "rest"
class), then one short ``test_hold_s`` hold of every gesture. Everything before the test round
trains; the test round is never trained on and gives the accuracy the wizard shows. The model
is a copy of the bundled pre-trained All-ConvNet (long-term dataset, Apache-2.0; or any model
made with ``myoxai train --pretrain``) with a new head for the user's gestures, its first three
convolutions frozen and a fixed step budget (``myoxai.models.transfer``), so it finishes in
seconds on two cores whatever the calibration length. With the default seven gestures the prompts
take 2 + 7 × (5 + 2) + 7 × (2 + 2) = 79 s (``schedule_seconds``): "about 1–2 minutes" with the
fine-tuning, not the 35 s of holds that train.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.io.open import bundled_file
from myoxai.live.calibration import REST, Prompt

log = logging.getLogger(__name__)

# Pre-trained on the long-term dataset (subjects 1-4, days 1-3, 22 gestures; Apache-2.0) by
# ``myoxai train --pretrain kanoga:ROOT --model allconvnet --channels 8,16,16,32 --seed 0``.
PRETRAINED_MODEL = bundled_file("pretrained_allconvnet_kanoga.safetensors")
HOLD_S, TEST_HOLD_S, REST_S, LEAD_IN_S = 5.0, 2.0, 2.0, 2.0


def quick_schedule(gestures: Sequence[str], hold_s: float = HOLD_S, test_hold_s: float = TEST_HOLD_S,
                   rest_s: float = REST_S, lead_in_s: float = LEAD_IN_S) -> tuple[list[Prompt], float]:
    """(prompts, session time at which the test round starts)."""
    gestures = [g for g in dict.fromkeys(gestures) if g != REST]
    if not gestures:
        raise MyoxaiError("pick at least one gesture besides rest")
    out, t = [Prompt(REST, 0.0, lead_in_s)], lead_in_s
    for g in gestures:
        out += [Prompt(g, t, hold_s), Prompt(REST, t + hold_s, rest_s)]
        t += hold_s + rest_s
    split = t
    for g in gestures:
        out += [Prompt(g, t, test_hold_s), Prompt(REST, t + test_hold_s, rest_s)]
        t += test_hold_s + rest_s
    return out, split


def schedule_seconds(n_gestures: int, hold_s: float = HOLD_S, test_hold_s: float = TEST_HOLD_S,
                     rest_s: float = REST_S, lead_in_s: float = LEAD_IN_S) -> float:
    """Seconds of prompts a quick calibration of ``n_gestures`` gestures (besides rest) takes."""
    return lead_in_s + n_gestures * (hold_s + rest_s) + n_gestures * (test_hold_s + rest_s)


def warm_up() -> None:
    """Import torch's optimiser machinery now (≈ 3 s on first use), e.g. while the user records."""
    import torch

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def load_pretrained(path: str | Path | None = None) -> Any:
    """The pre-trained source model (default: the bundled one)."""
    from myoxai.models import load_model

    path = Path(path or PRETRAINED_MODEL)
    if not path.exists():
        raise MyoxaiError(f"no pre-trained model at {path}; make one with myoxai train --pretrain kanoga:ROOT "
                          "--model allconvnet --out FILE and pass it with --pretrained FILE")
    model = load_model(path)
    if not hasattr(model, "head"):
        raise MyoxaiError(f"{path} holds a {model.name} model; quick calibration fine-tunes a network")
    return model


def quick_calibrate(rec: Any, split_s: float, pretrained: Any, steps: int = 200, seed: int = 0, threads: int = 1,
                    progress: Callable[[float, str], None] | None = None,
                    should_stop: Callable[[], bool] | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """(model, source_data, metrics) from a quick-calibration recording; metrics hold the test-round accuracy.

    ``rec`` is the wizard's labelled Recording; samples before ``split_s`` seconds (from its first
    sample) train, the rest tests.
    """
    from myoxai.adapt import SourceData
    from myoxai.live.bundled import labelled_windows
    from myoxai.models import predict
    from myoxai.models.transfer import FineTuneSettings, fine_tune, transfer_copy

    if rec.labels is None or not len(rec.class_names):
        raise MyoxaiError("the quick calibration recording has no gesture markers; record it with the wizard")
    cut = int(np.searchsorted(rec.timestamps, rec.timestamps[0] + split_s))
    x, y = labelled_windows(rec, pieces=[(0, cut)])
    xt, yt = labelled_windows(rec, pieces=[(cut, len(rec))]) if cut < len(rec) else (x[:0], y[:0])
    if len(np.unique(y)) < 2:
        raise MyoxaiError(f"the first round holds windows of {len(np.unique(y))} gesture(s); hold every gesture")
    t0 = time.perf_counter()
    model = transfer_copy(pretrained, len(rec.class_names), seed=seed)
    settings = FineTuneSettings(steps=steps, seed=seed, threads=threads)
    if progress:
        progress(0.0, f"fine-tuning on {len(y)} windows ({settings.epochs_for(len(y))} epochs)")

    def on_epoch(epoch: int, total: int, loss: float) -> None:
        if progress:
            progress(epoch / total, f"fine-tuning: epoch {epoch}/{total}, loss {loss:.3f}")

    report = fine_tune(model, x, y, settings, progress=on_epoch, should_stop=should_stop)
    acc = float(np.mean(predict(model, xt) == yt)) if len(yt) else float("nan")
    model.class_names = tuple(rec.class_names)
    model.description = calibration_description(model, x, xt, {
        "kind": "quick calibration", "pretrained": getattr(pretrained, "description", {}).get("training", {}),
        "n_train_windows": int(len(y)), "seed": seed, "steps": steps})
    seconds = time.perf_counter() - t0
    metrics = {"n_train_windows": int(len(y)), "n_test_windows": int(len(yt)), "test_accuracy": acc,
               "fine_tune_seconds": seconds, "epochs_run": report["epochs_run"],
               "summary": f"accuracy on the second hold (not trained on): {100 * acc:.1f} % of {len(yt)} windows; "
                          f"fine-tuned the pre-trained model on {len(y)} windows in {seconds:.1f} s"}
    return model, SourceData(x, y, description={"data": rec.meta.get("source", "quick calibration")}), metrics


def calibration_description(model: Any, x: np.ndarray, held_x: np.ndarray, training: dict[str, Any]) -> dict[str, Any]:
    """The model file entries a calibrated model needs: its drift reference and its calibration energy profile.

    The reference's energy comes from the windows it was fitted on, its symptoms from the test hold
    (``held_x``), so the drift monitor reads OK on the signal the user just calibrated on. The
    profile lets Quick adapt measure a later rotation.
    """
    from myoxai.adapt.quick import calibration_profile
    from myoxai.engine.drift import REFERENCE_KEY
    from myoxai.live.drift_reference import reference_for_model, with_held_out_symptoms

    desc: dict[str, Any] = {"training": {**training, "calibration_profile": calibration_profile(x).tolist()}}
    try:
        ref = reference_for_model(model, x)
    except MyoxaiError as exc:  # e.g. only rest was held: no drift monitoring for this model
        log.warning("the calibrated model has no drift reference: %s", exc)
        return desc
    desc[REFERENCE_KEY] = with_held_out_symptoms(ref, model, held_x).to_dict() if len(held_x) else ref.to_dict()
    return desc


def quick_from_file(path: str | Path, split_s: float, pretrained: str | Path | None = None, threads: int = 1,
                    progress: Callable[[float, str], None] | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """``quick_calibrate`` on the wizard's XDF file (what its training job runs)."""
    from myoxai.io import read_recording

    if progress:
        progress(0.0, "reading the recording and the pre-trained model")
    return quick_calibrate(read_recording(path), split_s, load_pretrained(pretrained), threads=threads,
                           progress=progress)
