"""Gesture classifiers for the Myo armband, their trainer and their model files.

Public API
----------
- ``build_model(name, n_classes, seed=None, config=None, **kwargs)`` — a fresh model by name, one of ``MODEL_NAMES``
  (its input shape from ``config``: ``input_args``):
  ``"spectrogram-convnet"`` (``SpectrogramConvNet``), ``"allconvnet"`` (``AllConvNet``, the light
  default live model, with ``freeze_early_layers()`` for transfer learning), ``"lstm-fin"``
  (``LstmFin``), ``"lda"`` (``LdaBaseline``, time-domain features) and ``"scatnet"`` (``ScatNet``,
  a fixed wavelet-scattering front-end per electrode with a small learned head; ``window=`` sets
  its input length) and ``"ring-tower"`` (``RingTowerNet``: one tower shared by the electrodes, then
  circular convolutions over the ring; exact Shapley by structure through ``shapley_coalitions``).
- Every model has ``input_kind``: ``"spectrogram"`` → float32 (batch, 4, 8, 10) raw spectrogram
  (``WindowBatch.spectrograms``); ``"window"`` → (batch, 50, 8) high-pass-filtered window
  (``WindowBatch.windows``). ``model_input(model, window_batch)`` picks the right array.
- Torch models (``MyoModel``) return logits and contain their own per-electrode standardisation
  (``.standardize``, statistics from training data), so a zeroed raw electrode is a silent one;
  they expose ``.features(x) -> (batch, d)``, ``.head(z) -> logits`` and ``.first_conv`` (the first
  ``nn.Conv2d`` after standardisation; ``None`` for LSTM-FIN, ScatNet and LDA, which are not spectrogram models).
- ``AnyModel`` — the type of any model above (``MyoModel | LdaBaseline``).
- ``myoxai.models.ensemble``: ``EnsembleModel`` (K seeds of one torch model, mean probability; member
  ``i`` seeded ``seed + 1000·i``) with the same interface, built by ``build_ensemble`` / ``build_any``.
- ``predict_logits``, ``predict_proba``, ``predict`` — the one way to get outputs from any model
  (numpy in, numpy out, eval mode, no grad).
- ``train_model(model, x, y, TrainSettings(...))`` — Adam, stratified validation split, early
  stopping, ReduceLROnPlateau, fixed seed, bounded threads; returns a report dict.
- ``save_model(model, path, class_names, config, training, metrics)`` /
  ``load_model(path, expect_config=DEFAULT_CONFIG)`` — safetensors + JSON, never pickle; loading
  refuses a signal-config mismatch with ``MyoxaiError`` (``expect_config=None``: the file's own config,
  which ``model_signal_config(model)`` returns; ``check_model_config`` refuses running it on another).
"""

from __future__ import annotations

from myoxai.models.base import SPECTROGRAM, WINDOW, ElectrodeStandardizer, MyoModel
from myoxai.models.convnets import AllConvNet, SpectrogramConvNet
from myoxai.models.lda import LdaBaseline
from myoxai.models.lstm_fin import FIN_TARGETS, LstmFin
from myoxai.models.persist import check_model_config, load_model, model_signal_config, save_model
from myoxai.models.registry import (
    MODEL_NAMES,
    MODELS,
    SPECTROGRAM_MODELS,
    AnyModel,
    build_model,
    input_args,
    model_input,
    predict,
    predict_logits,
    predict_proba,
)
from myoxai.models.scatnet import ScatNet
from myoxai.models.training import TrainSettings, set_torch_threads, torch_threads, train_model

__all__ = [
    "AnyModel",
    "FIN_TARGETS",
    "MODELS",
    "MODEL_NAMES",
    "SPECTROGRAM_MODELS",
    "SPECTROGRAM",
    "WINDOW",
    "AllConvNet",
    "ElectrodeStandardizer",
    "LdaBaseline",
    "LstmFin",
    "MyoModel",
    "ScatNet",
    "SpectrogramConvNet",
    "TrainSettings",
    "build_model",
    "check_model_config",
    "input_args",
    "load_model",
    "model_input",
    "model_signal_config",
    "predict",
    "predict_logits",
    "predict_proba",
    "save_model",
    "set_torch_threads",
    "torch_threads",
    "train_model",
]
