"""What the engine runs: the ``Model`` and ``EngineSource`` protocols it relies on, and the ``ActiveModel`` it swaps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from myoxai.config import SignalConfig
from myoxai.errors import MyoxaiError
from myoxai.sources.base import Source

__all__ = ["ActiveModel", "EngineSource", "Model", "check_source", "model_class_names"]


class EngineSource(Source, Protocol):
    """A ``myoxai.sources`` Source that also says whether more data can come."""

    @property
    def running(self) -> bool:
        """Whether more chunks can come (False once a replay ends or the device is closed)."""


class Model(Protocol):
    """What the engine needs of a classifier (every ``myoxai.models`` model has it).

    A model file also gives the model ``class_names``; a model built in code may lack them, and
    then the gestures are called ``class 0`` … (``model_class_names``).
    """

    n_classes: int
    input_kind: str


@dataclass(frozen=True)
class ActiveModel:
    """A model with its explainer and version: swapped as one reference."""

    model: Model
    explainer: Any | None  # a myoxai.explain explainer (imported lazily: it pulls in torch)
    version: int
    class_names: tuple[str, ...]
    origin: str = ""

    def classify(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """(probabilities, φ or None, C or None, pairwise interactions or None) for a batch of model inputs."""
        if self.explainer is not None:
            res = self.explainer.explain_decisions(x)
            return res.probabilities, res.phi, res.total, res.interactions
        from myoxai.models import predict_proba

        return predict_proba(self.model, x), None, None, None


def model_class_names(model: Model, n_classes: int) -> tuple[str, ...]:
    """The model's gesture names, or ``class 0`` … when it carries none (or the wrong number)."""
    names = tuple(getattr(model, "class_names", ()) or ())
    return names if len(names) == n_classes else tuple(f"class {i}" for i in range(n_classes))


def check_source(source: Source, config: SignalConfig) -> None:
    """Refuse a source whose sampling rate or channel count is not the config's (nothing would be right)."""
    fs, n = float(source.fs), int(source.n_channels)
    if not math.isclose(fs, config.fs, rel_tol=0.005) or n != config.n_channels:
        raise MyoxaiError(f"the source delivers {n} channels at {fs:g} Hz, but the pipeline and its models expect "
                          f"{config.n_channels} channels at {config.fs:g} Hz; choose a Myo stream or recording "
                          "(resample other data before replaying it)")
