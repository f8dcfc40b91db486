"""Shapley feedback: use per-electrode contribution weights from TRAINING data to reshape a model.

Three variants from the seed project, each measured against the same procedure without the weights:

- ``first_conv_feedback``: multiply the first convolution's output row of electrode n by N·w_n,
  freeze everything but the head and fine-tune the head (control: the same fine-tuning with all
  weights 1, so the comparison isolates the weighting, not the extra epochs).
- ``shapley_dann_loss``: extra terms for DANN (``myoxai.adapt``'s ``extra_loss`` hook): a
  Shapley-weighted classification loss and the regulariser Σ_n activation_n·(1−w_n).
- ``train_blended``: train with SHAP-weighted input blending x' = (1−α)x + α(x·N·w) on the electrode
  axis, α rising linearly from 0 to ``alpha_max`` over the first half of the optimisation steps and
  then held; the model keeps the blend of its best (early-stopping) epoch at inference
  (control: ``alpha_max = 0``).

The weights are N·w (mean 1) rather than w (sum 1) so that the average scale of the activations,
which the frozen layers and the standardisation were fitted to, is unchanged. The weights must
come from training windows (``training_weights``); the seed computed them on its test set, which
leaks the test set into training.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.errors import MyoxaiError
from myoxai.explain.matrix import contribution_ratios
from myoxai.explain.shapley import ChannelShapley, input_shape_of


def training_weights(model: nn.Module, x_train: np.ndarray, y_train: np.ndarray) -> dict[str, np.ndarray]:
    """Mean true-class φ per electrode over TRAINING windows and its contribution ratios w (sum 1)."""
    res = ChannelShapley(model, spec_shape=input_shape_of(model)).explain(x_train)
    phi = res.for_class(y_train).mean(axis=0)
    return {"phi": phi, "w": contribution_ratios(phi)}


class ElectrodeScale(nn.Module):
    """Multiplies the electrode axis (dim 2) by fixed weights (a buffer, saved with the model)."""

    def __init__(self, weights: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("weights", torch.as_tensor(np.asarray(weights, dtype=np.float32)).reshape(1, 1, -1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` with each electrode scaled by its weight."""
        return x * self.weights


def shapley_dann_loss(w: np.ndarray, ce_weight: float = 0.5, reg_weight: float = 0.01
                      ) -> Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]:
    """Extra DANN loss terms from training-data Shapley weights w (pass as ``extra_loss`` to ``adapt_model``).

    Our reading of the seed's "Shapley-weighted DANN", which it did not define precisely:

    - Shapley-weighted loss: ``ce_weight`` × cross-entropy of the model on the electrode-weighted
      source input x·N·w (mean weight 1), so the electrodes that carry the decisions dominate it;
    - regulariser: ``reg_weight`` × Σ_n mean|a_n|·(1−w_n), with a_n the first convolution's output
      row of electrode n (standardised input), so little-contributing electrodes are damped.
    """
    n = len(w)
    scale = torch.as_tensor(n * np.asarray(w, dtype=np.float32)).reshape(1, 1, -1, 1)
    penalty = torch.as_tensor(1.0 - np.asarray(w, dtype=np.float32))

    def extra(net: nn.Module, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        ce = nn.functional.cross_entropy(net(xs * scale), ys)
        rows = net.first_conv(net.standardize(xs)).abs().mean(dim=(0, 1, 3))  # (electrodes,)
        return ce_weight * ce + reg_weight * torch.sum(rows * penalty)

    return extra


def weight_first_conv(model: nn.Module, w: np.ndarray) -> nn.Module:
    """A copy of ``model`` whose first-convolution output rows are scaled by N·w (electrode n → row n)."""
    out = copy.deepcopy(model)
    conv = getattr(out, "first_conv", None)
    if not isinstance(conv, nn.Conv2d):
        raise MyoxaiError(f"{type(model).__name__} has no first_conv; first-convolution feedback needs a conv model")
    weighted = nn.Sequential(conv, ElectrodeScale(len(w) * np.asarray(w)))
    for parent in list(out.modules()):
        for name, child in list(parent.named_children()):
            if child is conv:
                setattr(parent, name, weighted)
    return out


def _fine_tune_head(model: nn.Module, x: np.ndarray, y: np.ndarray, settings) -> dict[str, Any]:
    """Freeze the body, precompute its features once (eval mode), train only the head on them."""
    from myoxai.models.training import class_weights, fit_loop, stratified_split, torch_threads

    for p in model.parameters():
        p.requires_grad_(False)
    for p in model.head.parameters():
        p.requires_grad_(True)
    model.eval()
    with torch.no_grad(), torch_threads(settings.threads):
        z = torch.cat([model.features(torch.as_tensor(x[i:i + 2048])) for i in range(0, len(x), 2048)]).numpy()
    train_idx, val_idx = stratified_split(y, settings.val_fraction, settings.seed)
    loss = nn.CrossEntropyLoss(weight=class_weights(y[train_idx], model.n_classes))
    with torch_threads(settings.threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        report = fit_loop(model.head, model.head, z, y, loss, settings, val_idx, train_idx, desc="head")
    report.pop("history", None)
    return report


def first_conv_feedback(model: nn.Module, w: np.ndarray, x_train: np.ndarray, y_train: np.ndarray,
                        settings) -> tuple[nn.Module, nn.Module]:
    """(feedback model, control model): head fine-tuned with and without the first-conv weights."""
    fb = weight_first_conv(model, w)
    control = weight_first_conv(model, np.full(len(w), 1.0 / len(w)))
    for m in (fb, control):
        _fine_tune_head(m, x_train, y_train, settings)
    return fb, control


class BlendedInput(nn.Module):
    """x' = (1−α)x + α(x·N·w) in front of a model; α is a buffer set by the training schedule."""

    def __init__(self, model: nn.Module, w: np.ndarray) -> None:
        super().__init__()
        self.model = model
        self.scale = ElectrodeScale(len(w) * np.asarray(w))
        self.register_buffer("alpha", torch.zeros(()))
        self.n_classes = model.n_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The wrapped model's output on the blended input."""
        return self.model((1 - self.alpha) * x + self.alpha * self.scale(x))


def train_blended(model: nn.Module, w: np.ndarray, x_train: np.ndarray, y_train: np.ndarray, settings,
                  alpha_max: float = 0.5) -> tuple[BlendedInput, dict[str, Any]]:
    """Train ``model`` (fresh) behind ``BlendedInput`` with α ramped 0 → alpha_max over half the steps."""
    from myoxai.models.training import class_weights, fit_loop, stratified_split, torch_threads

    net = BlendedInput(model, w)
    y = np.asarray(y_train, dtype=np.int64)
    train_idx, val_idx = stratified_split(y, settings.val_fraction, settings.seed)
    steps_per_epoch = int(np.ceil(len(train_idx) / settings.batch_size))
    ramp = max(1, settings.epochs * steps_per_epoch // 2)
    step = [0]

    def forward(xb: torch.Tensor) -> torch.Tensor:
        if net.training:  # the schedule advances on optimisation steps only, not on validation passes
            net.alpha.fill_(alpha_max * min(1.0, step[0] / ramp))
            step[0] += 1
        return net(xb)

    loss = nn.CrossEntropyLoss(weight=class_weights(y[train_idx], model.n_classes))
    with torch_threads(settings.threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        model.fit_standardizer(x_train)
        report = fit_loop(net, forward, x_train, y, loss, settings, val_idx, train_idx, desc="blended")
    net.eval()  # fit_loop restored the best epoch's weights AND its α (a buffer): they belong together
    report.pop("history", None)
    report["alpha_used"] = float(net.alpha)
    return net, report
