"""Save and load models through ``myoxai.io.model_files`` (safetensors + JSON, never pickle)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.errors import MyoxaiError
from myoxai.io.model_files import check_description, read_model_file, write_model_file
from myoxai.models.ensemble import EnsembleModel
from myoxai.models.registry import MODELS, AnyModel, build_model

# every architecture a model file may name → the function that builds it from (n_classes, **arguments)
ARCHITECTURES: dict[str, Any] = {**{n: partial(build_model, n) for n in MODELS}, EnsembleModel.name: EnsembleModel}


def save_model(model: AnyModel, path: str | Path, class_names: Sequence[str], config: SignalConfig = DEFAULT_CONFIG,
               training: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None, *,
               drift_reference: dict[str, Any] | None = None, overwrite: bool = True,
               inputs: tuple[str | Path, ...] = ()) -> Path:
    """Write ``model`` with its architecture, class names, signal config, training description and metrics.

    Parameters
    ----------
    model:
        A trained model from ``build_model``.
    path:
        Output file (conventionally ``*.safetensors``).
    class_names:
        Name of each output class, in logit order.
    config:
        The signal config the training windows were computed with.
    training:
        What the model was trained on (data source, subjects, days, settings).
    metrics:
        Validation/training metrics worth keeping with the model.
    overwrite, inputs:
        Passed to ``myoxai.io.outputs``: commands refuse an existing ``path`` unless the user asked,
        and always refuse a ``path`` that is one of their inputs.
    drift_reference:
        The calibration profile the drift monitor compares live data with
        (``myoxai.adapt.drift.DriftReference.to_dict()``); stored as the optional entry ``drift_reference``.
    """
    if len(class_names) != model.n_classes:
        raise ValueError(f"{len(class_names)} class names for a {model.n_classes}-class model")
    arrays = model.state_arrays()
    desc = {"architecture": model.name, "arguments": model.init_args, "n_classes": model.n_classes,
            "input_kind": model.input_kind, "class_names": list(class_names),
            "training": training or {}, "metrics": metrics or {}}
    if drift_reference is not None:
        desc["drift_reference"] = drift_reference
    return write_model_file(path, arrays, desc, config, overwrite=overwrite, inputs=inputs)


def load_model(path: str | Path, expect_config: SignalConfig | None = DEFAULT_CONFIG) -> AnyModel:
    """Rebuild a saved model; refuses non-myoxai files, pickles and signal-config mismatches.

    The returned model is in eval mode and carries ``class_names`` and ``description`` (the
    file's JSON) as attributes. ``expect_config=None`` accepts the file's own signal config
    (``model_signal_config`` then says which): for the live engine, which runs with it.
    """
    arrays, desc = read_model_file(path, expect_config)
    name = desc.get("architecture")
    if name not in ARCHITECTURES:
        raise MyoxaiError(f"{path}: unknown architecture {name!r}; was it written by a newer myoxai?")
    _check_shapes(path, name, desc, arrays)
    try:
        model = ARCHITECTURES[name](int(desc["n_classes"]), **desc.get("arguments", {}))
        model.load_arrays(arrays)
    except (KeyError, TypeError, ValueError, RuntimeError, MyoxaiError) as exc:
        detail = " ".join(str(exc).split())[:300]  # torch's messages span lines; ours is one
        raise MyoxaiError(f"{path}: weights do not fit the {name} architecture ({detail})") from exc
    _check_runs(path, model, expect_config or check_description(Path(path), desc))
    model.class_names = tuple(desc["class_names"])
    model.description = desc
    return model


def model_signal_config(model: Any) -> SignalConfig:
    """The signal config ``model`` was trained with: its file's, or the default for a model never saved."""
    desc = getattr(model, "description", None)
    if isinstance(desc, dict) and isinstance(desc.get("signal_config"), dict):
        return SignalConfig.from_dict(desc["signal_config"])
    return DEFAULT_CONFIG


def check_model_config(model: Any, config: SignalConfig) -> None:
    """Refuse running ``model`` on windows of ``config`` when it was trained with another signal config.

    The engine calls it at start and on every swap, so a model loaded into a running app, a
    recalibrated or wizard-made one, is refused with one message that says what to do. A model
    built in code (no file description) records no config and is taken at its word.
    """
    from myoxai.config import signal_config_name

    if not isinstance(getattr(model, "description", None), dict):
        return
    theirs = model_signal_config(model)
    if theirs.fingerprint() == config.fingerprint():
        return

    def name(c: SignalConfig) -> str:
        return f"{signal_config_name(c) or 'unnamed'} ({c.window}-sample windows every {c.step})"

    raise MyoxaiError(f"the model was trained for the signal config {name(theirs)} but the engine runs {name(config)}; "
                      "start myoxai live with this model (--model FILE: the engine then uses its config) or retrain "
                      "it for the running config (myoxai train --signal NAME)")


MAX_PARAMETERS = 50_000_000
"""Most weights a model file may declare (the largest myoxai model has about 0.3 M)."""


def _check_shapes(path: str | Path, name: str, desc: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Compare the shapes the stored arguments imply with the file's tensors, before anything is allocated.

    The network is built on torch's ``meta`` device (shapes only, no memory), so arguments edited
    to ``channels: [8, 16, 20000, 20000]`` in a 43 kB file are refused here instead of allocating
    gigabytes; the total is capped by ``MAX_PARAMETERS`` whatever the file holds.
    """
    import math

    import torch

    try:
        with torch.device("meta"):
            skeleton = ARCHITECTURES[name](int(desc["n_classes"]), **desc.get("arguments", {}))
    except (KeyError, TypeError, ValueError, RuntimeError, OverflowError, IndexError, ZeroDivisionError,
            MyoxaiError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise MyoxaiError(f"{path}: the model's stored arguments do not build a {name} ({detail}); the file was "
                          "edited or is damaged") from None
    if not isinstance(skeleton, torch.nn.Module):
        return  # not a torch model (LDA): its arrays are what it holds, nothing is built from arguments
    expected = {k: tuple(v.shape) or (1,) for k, v in skeleton.state_dict().items()}  # a scalar is stored as (1,)
    total = sum(math.prod(s) for s in expected.values())
    if total > MAX_PARAMETERS:
        raise MyoxaiError(f"{path}: the stored arguments make a {name} of {total:,} weights, more than myoxai loads "
                          f"({MAX_PARAMETERS:,}); the file was edited or is not a myoxai model")
    got = {k: tuple(a.shape) or (1,) for k, a in arrays.items()}
    if got != expected:
        wrong = sorted(set(got) ^ set(expected)) or [k for k in expected if got[k] != expected[k]]
        k = wrong[0]
        raise MyoxaiError(f"{path}: weights do not fit the {name} architecture its arguments describe ({k}: file "
                          f"{got.get(k, 'missing')}, arguments {expected.get(k, 'none')}); the file was edited")


def _check_runs(path: str | Path, model: AnyModel, config: SignalConfig) -> None:
    """One forward pass on fixed noise, so a broken model file is refused at load.

    Arguments that build but cannot compute (an edited feature parameter, a wrong input kind) are
    refused here, not at the first live window.
    """
    from myoxai.models.registry import predict_logits

    kind = getattr(model, "input_kind", "window")
    shape = (1, *config.spec_shape) if kind == "spectrogram" else (1, config.window, config.n_channels)
    x = (10 * np.random.default_rng(0).standard_normal(shape)).astype(np.float32)
    try:
        logits = np.asarray(predict_logits(model, x))
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, ZeroDivisionError) as exc:
        raise MyoxaiError(f"{path}: the model's stored arguments do not give a working {model.name} "
                          f"({type(exc).__name__}: {exc}); the file was edited or is damaged") from None
    if logits.shape != (1, model.n_classes):
        raise MyoxaiError(f"{path}: the model gives {logits.shape[-1]} outputs for {model.n_classes} classes; "
                          "the file was edited or is damaged")
    if not np.isfinite(logits).all():
        raise MyoxaiError(f"{path}: the model gives NaN or infinite outputs; retrain it")
