"""Model names → classes, and the one way callers get predictions out of any model."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch

from myoxai.config import SignalConfig
from myoxai.dsp.processor import WindowBatch
from myoxai.models.base import SPECTROGRAM, MyoModel
from myoxai.models.convnets import AllConvNet, SpectrogramConvNet
from myoxai.models.lda import LdaBaseline
from myoxai.models.lstm_fin import LstmFin
from myoxai.models.ring_tower import RingTowerNet
from myoxai.models.scatnet import ScatNet

MODELS: dict[str, type] = {cls.name: cls for cls in (SpectrogramConvNet, AllConvNet, LstmFin, LdaBaseline, ScatNet,
                                                   RingTowerNet)}
MODEL_NAMES = tuple(MODELS)
# torch models that read the spectrogram: what rotation, re-normalisation, prototypes and SCADANN adapt
SPECTROGRAM_MODELS = tuple(n for n, c in MODELS.items() if issubclass(c, MyoModel) and c.input_kind == SPECTROGRAM)

AnyModel = MyoModel | LdaBaseline  # any model the registry builds (not the engine's structural ``Model``)


def input_args(name: str, config: SignalConfig) -> dict[str, Any]:
    """The constructor arguments of model ``name`` that fix its input shape, read from ``config``.

    Spectrogram models take the frame count (and the ring-tower the frequency bins), window models
    the window length; a model with none of them (LDA) gets nothing.
    """
    shape = {"in_frames": config.n_frames, "n_freqs": config.n_freqs, "window": config.window}
    accepted = inspect.signature(MODELS[name]).parameters
    return {k: v for k, v in shape.items() if k in accepted}


def build_model(name: str, n_classes: int, seed: int | None = None, config: SignalConfig | None = None,
                **kwargs: Any) -> AnyModel:
    """A fresh, untrained model by registry name; ``seed`` makes its initial weights reproducible.

    With ``config`` the input-shape arguments (``input_args``) come from it; without, the
    constructor's defaults (the default config's 4 frames × 10 bins, 50 samples) or ``kwargs``.
    """
    if name not in MODELS:
        from myoxai.errors import MyoxaiError

        raise MyoxaiError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    if config is not None:
        shape = input_args(name, config)
        clash = {k: (kwargs[k], v) for k, v in shape.items() if k in kwargs and kwargs[k] != v}
        if clash:
            raise ValueError(f"{name}: arguments {clash} (given, config) disagree with the signal config")
        kwargs = {**kwargs, **shape}
    if seed is None:
        return MODELS[name](n_classes, **kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name](n_classes, **kwargs)


def model_input(model: AnyModel, batch: WindowBatch) -> np.ndarray:
    """The array of a ``WindowBatch`` this model consumes (``model.input_kind``)."""
    return batch.spectrograms if model.input_kind == SPECTROGRAM else batch.windows


def predict_logits(model: AnyModel, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Logits (n, n_classes) float64 for inputs of the model's ``input_kind`` (eval mode)."""
    return model.logits(x, batch_size)


def predict_proba(model: AnyModel, x: np.ndarray) -> np.ndarray:
    """Class probabilities (n, n_classes): softmax of ``predict_logits``."""
    z = predict_logits(model, x)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def predict(model: AnyModel, x: np.ndarray) -> np.ndarray:
    """Most probable class index per input."""
    return np.argmax(predict_logits(model, x), axis=1)
