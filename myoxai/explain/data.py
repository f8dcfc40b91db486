"""Labelled windows from recordings, for explaining and for the feedback experiments."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.dsp import process_signal
from myoxai.errors import MyoxaiError
from myoxai.io.recording import Recording


def labelled_windows(recordings: Iterable[Recording], input_kind: str = "spectrogram",
                     config: SignalConfig = DEFAULT_CONFIG) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and labels of every window whose samples all carry one (known) label.

    Each recording is processed on its own (windows never straddle two trials); a recording
    already high-passed with the config's filter (``meta["highpass_hz"]``) is not filtered again.
    Windows over a label change or unlabeled samples are dropped.
    """
    xs, ys = [], []
    for rec in recordings:
        if rec.labels is None:
            raise MyoxaiError("the recording has no labels; explanations per gesture need a labelled recording")
        if rec.samples.shape[1] != config.n_channels:
            raise MyoxaiError(f"recording has {rec.samples.shape[1]} channels; myoxai expects {config.n_channels}")
        batch = process_signal(rec.samples, config, highpass=rec.meta.get("highpass_hz") != config.highpass_hz)
        if not len(batch):
            continue
        idx = batch.start[:, None] + np.arange(config.window)[None, :]
        lab = rec.labels[idx]
        keep = (lab == lab[:, :1]).all(axis=1) & (lab[:, 0] >= 0)
        xs.append((batch.spectrograms if input_kind == "spectrogram" else batch.windows)[keep])
        ys.append(lab[keep, 0])
    if not xs or not sum(len(y) for y in ys):
        raise MyoxaiError("no complete labelled window in the data (each needs "
                          f"{config.window} samples of one gesture)")
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)
