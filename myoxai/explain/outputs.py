"""A model's probabilities and the Shapley values of its predicted class for a batch of windows.

What the drift reference (at calibration) and the drift monitor (offline, a day at a time) both
need from a model: one call that returns ``(probabilities, φ of the predicted class)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from myoxai.config import DEFAULT_CONFIG, SignalConfig


def predicted_class_outputs(model: Any, x: np.ndarray, config: SignalConfig = DEFAULT_CONFIG, shapley: bool = True,
                            batch: int = 256) -> tuple[np.ndarray, np.ndarray | None]:
    """``(probabilities (n, classes), φ of the argmax class (n, electrodes) or None)`` of spectrogram inputs.

    Without ``shapley`` (or for models without parameters, e.g. the LDA) only the probabilities are
    computed.
    """
    from myoxai.models import predict_proba

    x = np.asarray(x, dtype=np.float32)
    if not shapley or not hasattr(model, "parameters") or getattr(model, "input_kind", "spectrogram") != "spectrogram":
        return predict_proba(model, x), None
    from myoxai.explain.shapley import ChannelShapley, input_shape_of

    explainer = ChannelShapley(model, spec_shape=input_shape_of(model, config), chunk=32)
    probs, phis = [], []
    for i in range(0, len(x), batch):
        res = explainer.explain(x[i:i + batch])
        pred = res.f_all.argmax(axis=1)
        probs.append(res.f_all)
        phis.append(res.phi_prob[np.arange(len(pred)), pred])
    if not probs:
        n_cls = int(getattr(model, "n_classes", 0))
        return np.zeros((0, n_cls)), np.zeros((0, config.n_channels))
    return np.concatenate(probs), np.concatenate(phis)
