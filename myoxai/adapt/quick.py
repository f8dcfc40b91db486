"""Instant unsupervised adaptation: re-normalisation (standardiser + AdaBN), rotation compensation, TENT.

These need no labels and no (or a few) gradient steps, so they run within a second on a buffer
of a few minutes of windows and are the first thing the live Recalibrate button applies:

- ``renormalize``: re-fit the model's per-electrode standardiser on the unlabeled buffer (today's
  electrode gains and contact), and re-estimate every BatchNorm's running statistics on it
  (AdaBN, Li et al. 2016). No gradient step.
- ``compensate_rotation``: estimate the armband's rotation since calibration from the buffer's
  per-electrode energy profile (``myoxai.adapt.rotation``) and put the opposite shift in front of
  the model (``MyoModel.set_input_rotation``).
- ``prototype_head``: the T3A-style prototype head (after T3A, Iwasawa & Matsuo, NeurIPS 2021, but
  offline, in one pass over the buffer; T3A itself is ``myoxai.adapt.prototypes.OnlineT3A``): the
  linear head is replaced by class prototypes, each the mean direction of the calibration head's
  row and today's most confident features predicted as that class. The decision boundaries move
  to where today's data lie, with one forward pass and no gradient step.
- ``tent``: test-time entropy minimisation (Wang et al., ICLR 2021): only the BatchNorm affine
  parameters are trained to make the predictions on the buffer confident; BatchNorm statistics
  are re-estimated on the buffer afterwards so single-window inference matches.

``quick_adapt`` (what the Recalibrate button applies at once) is rotation compensation, then
re-normalisation, then the prototype head, chosen on the long-term dataset's selection days.

Every function works on a deep copy and returns it; the caller's model is never changed.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.adapt.rotation import energy_profile, estimate_shift
from myoxai.models import MyoModel

ELECTRODE_AXIS = 2  # spectrograms are (n, frames, electrodes, freqs)


def _batchnorms(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def refit_batchnorm(model: MyoModel, x: np.ndarray, batch_size: int = 512) -> int:
    """AdaBN in place: every BatchNorm's running mean/var becomes the exact average over ``x``; returns the count."""
    norms = _batchnorms(model)
    if not norms:
        return 0
    saved = [(m, m.momentum) for m in norms]
    model.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average = the plain mean over the batches
        m.train()
    try:
        for i in range(0, len(x), batch_size):
            model(torch.as_tensor(x[i:i + batch_size], dtype=torch.float32))
    finally:
        for m, momentum in saved:
            m.momentum = momentum
        model.eval()
    return len(norms)


def renormalize(model: MyoModel, unlabeled: np.ndarray, standardizer: bool = True,
                batchnorm: bool = True) -> MyoModel:
    """A copy of ``model`` whose normalisation statistics describe the unlabeled windows (no gradients).

    Parameters
    ----------
    model:
        A trained torch spectrogram model.
    unlabeled:
        (n, 4, 8, 10) raw spectrograms of today's use, e.g. the live buffer.
    standardizer:
        Re-fit the per-electrode mean and sd (a log model keeps its offset).
    batchnorm:
        Re-estimate the BatchNorm running statistics on the buffer (AdaBN).
    """
    net = copy.deepcopy(model).eval()
    x = np.asarray(unlabeled, dtype=np.float32)
    if standardizer:
        net.standardize.fit(net.rotate_input_np(x), refit_offset=False)
    if batchnorm:
        refit_batchnorm(net, x)
    return net


def calibration_profile(x: np.ndarray) -> np.ndarray:
    """The per-electrode log-RMS profile of calibration spectrograms (stored with the model)."""
    return energy_profile(x, ELECTRODE_AXIS, power=True)


def compensate_rotation(model: MyoModel, unlabeled: np.ndarray, reference_profile: np.ndarray,
                        max_shift: float = 2.0, method: str = "linear") -> tuple[MyoModel, float]:
    """A copy of ``model`` that undoes the armband rotation seen in ``unlabeled``; returns it and the shift.

    The shift ``s`` (electrodes, positive = content moved towards higher electrode indices since
    calibration) is estimated from the buffer's energy profile against ``reference_profile``;
    the copy resamples its input electrodes by ``-s`` before standardising.
    """
    s = estimate_shift(energy_profile(unlabeled, ELECTRODE_AXIS, power=True), reference_profile,
                       max_shift=max_shift)
    net = copy.deepcopy(model).eval()
    net.set_input_rotation(-s, method=method)
    return net, s


@dataclass(frozen=True)
class TentSettings:
    """TENT's optimisation: Adam on BatchNorm affine parameters only, a few passes over the buffer."""

    lr: float = 1e-3
    epochs: int = 3
    batch_size: int = 128
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (recorded with the results they produce)."""
        return asdict(self)


def tent(model: MyoModel, unlabeled: np.ndarray, settings: TentSettings | None = None) -> MyoModel:
    """A copy of ``model`` adapted by entropy minimisation over its BatchNorm affine parameters.

    Models without BatchNorm come back re-normalised only (there is nothing TENT may train).
    """
    s = settings or TentSettings()
    net = copy.deepcopy(model).eval()
    x = torch.as_tensor(np.asarray(unlabeled, dtype=np.float32))
    norms = _batchnorms(net)
    if not norms or len(x) < 2:
        return net
    for p in net.parameters():
        p.requires_grad_(False)
    params = []
    for m in norms:
        for p in (m.weight, m.bias):
            if p is not None:
                p.requires_grad_(True)
                params.append(p)
    opt = torch.optim.Adam(params, lr=s.lr)
    gen = torch.Generator().manual_seed(s.seed)
    for _ in range(s.epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), s.batch_size):
            b = order[i:i + s.batch_size]
            if len(b) < 2:
                continue
            for m in norms:
                m.train()  # TENT normalises with the batch's own statistics
            logp = torch.log_softmax(net(x[b]), dim=1)
            loss = -(logp.exp() * logp).sum(dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    for p in net.parameters():
        p.requires_grad_(True)
    refit_batchnorm(net, x.numpy())
    return net.eval()


PROTOTYPE_SUPPORTS = 30  # most confident buffered windows per class in its prototype (T3A's M; selection days)


def _normalise_rows(a: torch.Tensor) -> torch.Tensor:
    return a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _head_parameters(model: MyoModel) -> tuple[nn.Parameter, nn.Parameter | None]:
    """(weight, bias) of the model's affine head: a ``Linear`` or a 1×1 ``Conv2d`` (All-ConvNet)."""
    layer = model.head if isinstance(model.head, (nn.Linear, nn.Conv2d)) else getattr(model.head, "conv", None)
    if not isinstance(layer, (nn.Linear, nn.Conv2d)):
        raise TypeError(f"{type(model).__name__} has no affine head for prototypes")
    return layer.weight, layer.bias


@torch.no_grad()
def prototype_head(model: MyoModel, unlabeled: np.ndarray, per_class: int = PROTOTYPE_SUPPORTS,
                   batch_size: int = 1024) -> tuple[MyoModel, list[int]]:
    """A copy of ``model`` whose linear head is the T3A-style class prototypes of the unlabeled windows.

    Each class's prototype is the mean of unit vectors: the calibration head's row for that class
    and the features of the ``per_class`` lowest-entropy windows the model assigns to it (fewer if
    fewer are assigned; a class nobody is assigned to keeps its head row's direction). The new head
    is ``scale · prototype`` with a zero bias, ``scale`` keeping the logits' spread on the buffer as it
    was, so confidences, entropies and Shapley magnitudes stay comparable. Returns the copy and the
    number of buffered windows in each class's prototype.
    """
    net = copy.deepcopy(model).eval()
    x = torch.as_tensor(np.asarray(unlabeled, dtype=np.float32))
    feats = torch.cat([net.features(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]).double()
    w_param, b_param = _head_parameters(net)
    weight = w_param.detach().double().reshape(w_param.shape[0], -1)
    logits = feats @ weight.T + (b_param.detach().double() if b_param is not None else 0.0)
    logp = torch.log_softmax(logits, dim=1)
    entropy = -(logp.exp() * logp).sum(dim=1)
    pred = logits.argmax(dim=1)
    unit = _normalise_rows(feats)
    protos, counts = [], []
    for k in range(weight.shape[0]):
        idx = torch.nonzero(pred == k).flatten()
        idx = idx[torch.argsort(entropy[idx])[:per_class]]
        protos.append(torch.cat([_normalise_rows(weight[k:k + 1]), unit[idx]]).mean(dim=0))
        counts.append(int(len(idx)))
    head = _normalise_rows(torch.stack(protos))
    spread = float((feats @ head.T).std())
    scale = float(logits.std()) / spread if spread > 0 else 1.0
    w_param.copy_((scale * head).reshape(w_param.shape).to(w_param.dtype))
    if b_param is not None:
        b_param.zero_()
    return net.eval(), counts


@dataclass
class QuickReport:
    """What ``quick_adapt`` did: the estimated rotation and which statistics were re-fitted."""

    method: str = "quick"
    status: str = "accepted"
    reason: str = ""
    rotation_shift: float | None = None  # electrodes the band moved since calibration (+ = higher indices)
    renormalized: bool = False
    prototype_supports: list[int] | None = None  # buffered windows in each class's prototype (None: head kept)
    n_target: int = 0
    seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        """Whether the adapted model was kept."""
        return self.status == "accepted"

    @property
    def prototype_coverage(self) -> tuple[int, int] | None:
        """(gestures whose prototype holds buffered windows, gestures), or None when the head was kept."""
        if not self.prototype_supports:
            return None
        return sum(c > 0 for c in self.prototype_supports), len(self.prototype_supports)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        return asdict(self)

    @classmethod
    def from_steps(cls, method: str, report: dict[str, Any]) -> QuickReport:
        """The report of a registered pipeline's run (``AdaptContext.report``) in this form."""
        return cls(method=method, reason=report.get("reason", ""), rotation_shift=report.get("rotation_shift"),
                   renormalized=bool(report.get("renormalized")), prototype_supports=report.get("prototype_supports"),
                   n_target=int(report.get("n_target", 0)), seconds=float(report.get("adapt_seconds", 0.0)))


def model_profile(model: MyoModel) -> np.ndarray | None:
    """The calibration energy profile a model file carries (``description['calibration_profile']``), if any."""
    desc = getattr(model, "description", None) or {}
    prof = desc.get("calibration_profile") or desc.get("training", {}).get("calibration_profile")
    return None if prof is None else np.asarray(prof, dtype=np.float64)


def reference_profile(model: MyoModel, source: Any = None) -> np.ndarray | None:
    """The profile rotation is measured against: the model file's, else that of ``source``'s training part.

    ``source`` is the calibration ``SourceData``; its training part is what the calibration trainer
    fitted on (one trial in four held out, seed 0). None when neither is available.
    """
    profile = model_profile(model)
    if profile is None and source is not None:
        profile = calibration_profile(source.training_part(0.25, 0)[0])
    return profile


def quick_adapt(model: MyoModel, unlabeled: np.ndarray, reference_profile: np.ndarray | None = None,
                rotate: bool = True, renorm: bool = True, prototypes: bool = True, max_shift: float = 2.0,
                min_windows: int = 100) -> tuple[MyoModel, QuickReport]:
    """Rotation compensation, re-normalisation, then the prototype head, on a copy of ``model``.

    No labels and no gradient steps.

    Parameters
    ----------
    model:
        The serving model (not changed).
    unlabeled:
        (n, 4, 8, 10) spectrograms of today's use.
    reference_profile:
        The calibration energy profile (``calibration_profile`` of the training windows); defaults
        to the one stored in the model file. Without one, the rotation step is skipped and the
        report says so.
    rotate, renorm, prototypes:
        Which steps to apply (``prototypes``: ``prototype_head``, the T3A-style head).
    max_shift:
        Largest rotation considered, in electrodes.
    min_windows:
        Fewer buffered windows than this are refused (the statistics would be noise).
    """
    import time

    from myoxai.errors import MyoxaiError

    t0 = time.perf_counter()
    x = np.asarray(unlabeled, dtype=np.float32)
    if x.ndim != 4 or len(x) < min_windows:
        raise MyoxaiError(f"quick adapt needs at least {min_windows} buffered spectrogram windows, got {len(x)}; "
                          "keep using the armband a little longer")
    report = QuickReport(n_target=len(x))
    net = copy.deepcopy(model).eval()
    ref = reference_profile if reference_profile is not None else model_profile(model)
    if rotate and ref is not None:
        net, report.rotation_shift = compensate_rotation(net, x, ref, max_shift=max_shift)
    elif rotate:
        report.reason = "no calibration energy profile in the model: rotation not estimated"
    if renorm:
        net = renormalize(net, x)
        report.renormalized = True
    if prototypes:
        net, report.prototype_supports = prototype_head(net, x)
    report.seconds = time.perf_counter() - t0
    return net, report
