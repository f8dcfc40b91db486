"""Start a fresh model from a pre-trained one; the normal training recipe then runs from those weights.

Unlike ``transfer`` (a copy with frozen early layers fine-tuned for a fixed budget, for seconds of
data), this only chooses the starting point: nothing is frozen, and the caller trains as usual
(validation, early stopping). The pre-trained model must be the same architecture with the same
constructor arguments and signal config, so every weight means what it meant there. The head is
kept only when it maps to the same classes under the same names; otherwise the fresh head stays.
The per-electrode standardiser is copied too, but the trainer refits it on the user's training
windows (``train_model(fit_standardizer=True)``): other people's amplitudes say little about this arm.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.errors import MyoxaiError
from myoxai.models.base import MyoModel
from myoxai.models.persist import load_model, model_signal_config


def _plain(args: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments as JSON values (a tuple of widths equals the list a model file stores)."""
    return json.loads(json.dumps(args, sort_keys=True))


def init_mismatch(model: Any, pretrained: Any, config: SignalConfig = DEFAULT_CONFIG) -> str | None:
    """Why ``pretrained`` cannot initialise ``model`` (windows of ``config``), or ``None`` when it can."""
    for m in (model, pretrained):
        if not isinstance(m, MyoModel) or not isinstance(getattr(m, "head", None), torch.nn.Module):
            return f"a {getattr(m, 'name', type(m).__name__)} model has no network weights to start from"
    if pretrained.name != model.name:
        return f"it is a {pretrained.name}, the model to train is a {model.name}"
    theirs, ours = _plain(pretrained.init_args), _plain(model.init_args)
    if theirs != ours:
        diff = ", ".join(f"{k} {theirs.get(k, 'unset')} (to train: {ours.get(k, 'unset')})"
                         for k in sorted(set(theirs) | set(ours)) if theirs.get(k) != ours.get(k))
        return f"its {pretrained.name} arguments differ: {diff}"
    if model_signal_config(pretrained).fingerprint() != config.fingerprint():
        return "it was trained for another signal config than the windows to train on"
    return None


def init_from_model(model: MyoModel, pretrained: MyoModel, class_names: Sequence[str],
                    config: SignalConfig = DEFAULT_CONFIG, source: str = "the pre-trained model") -> bool:
    """Copy ``pretrained``'s weights into the fresh ``model`` (in place); return whether its head was kept.

    ``class_names`` are the classes ``model`` will learn; the head is copied when they equal the
    pre-trained model's ``class_names``. A model ``init_mismatch`` refuses raises one ``MyoxaiError``.
    """
    reason = init_mismatch(model, pretrained, config)
    if reason is not None:
        raise MyoxaiError(f"{source} cannot start this model: {reason}. Pass a model of the same architecture, "
                          f"arguments and signal config (make one with myoxai train --pretrain DATASET:ROOT "
                          f"--model {getattr(model, 'name', 'NAME')} [--channels ...]), or train from random weights")
    keep_head = (pretrained.n_classes == model.n_classes
                 and tuple(getattr(pretrained, "class_names", ())) == tuple(class_names))
    head = {f"head.{k}" for k in model.head.state_dict()}
    ours, theirs = model.state_dict(), pretrained.state_dict()
    state = {k: (v if k in head and not keep_head else theirs[k]).detach().clone() for k, v in ours.items()}
    model.load_state_dict(state, strict=True)
    return keep_head


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (hex): which pre-trained file a model started from, exactly."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def init_from_file(model: MyoModel, path: str | Path, class_names: Sequence[str],
                   config: SignalConfig = DEFAULT_CONFIG) -> dict[str, Any]:
    """``init_from_model`` from a model file; returns what the trained model's description records.

    The record holds the file's path and SHA-256 and whether the head was kept (``"head": "kept"``
    or ``"new"``).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise MyoxaiError(f"no pre-trained model at {path}; pass an existing model file "
                          "(e.g. one made with myoxai train --pretrain)")
    pretrained = load_model(path, expect_config=None)
    kept = init_from_model(model, pretrained, class_names, config, source=str(path))
    return {"path": str(path), "sha256": file_sha256(path), "head": "kept" if kept else "new"}
