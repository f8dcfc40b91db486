"""Domain-adversarial pieces: gradient reversal, a domain classifier, per-domain BatchNorm.

DANN (Ganin et al., 2016) makes the feature extractor's output uninformative about whether a
window comes from the labeled calibration data (source) or the new unlabeled data (target): a
domain classifier learns to tell them apart while the gradient-reversal layer pushes the
features the other way. Each BatchNorm layer keeps separate statistics (and affine parameters)
per domain, as in the reference SCADANN code, so each domain is normalised by its own
statistics (AdaBN); the exported model keeps the target's.

The models package knows nothing about domains: ``split_batchnorm`` swaps the BatchNorm modules
of a deep copy for ``DomainBatchNorm`` wrappers, and ``merge_batchnorm`` swaps back the chosen
domain's BatchNorm, so the result is the original architecture again and saves as usual.
``split_batchnorm(model, standardizer=True)`` also gives each domain its own input standardiser
(and input rotation), so a target side that was re-normalised and rotation-compensated without
labels (``myoxai.adapt.quick``) keeps that while the source side stays as calibrated;
``init_target`` copies those target-side modules from such a model.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import torch
from torch import nn

SOURCE, TARGET = "source", "target"


class _ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, coeff: float) -> torch.Tensor:  # noqa: ANN001
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: ANN001
        return -ctx.coeff * grad, None


def grad_reverse(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """Identity forward, gradient multiplied by ``-coeff`` backward."""
    return _ReverseGrad.apply(x, coeff)


class DomainClassifier(nn.Module):
    """Small MLP on the feature vector: source (0) vs target (1), behind a gradient-reversal layer."""

    def __init__(self, feature_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(feature_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def forward(self, z: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
        """Source/target logits of features ``z``, reversing their gradient scaled by ``coeff``."""
        return self.net(grad_reverse(z, coeff))


class DomainBatchNorm(nn.Module):
    """One BatchNorm (or standardiser) per domain (own statistics and affine parameters); ``domain`` picks one."""

    def __init__(self, bn: nn.Module) -> None:
        super().__init__()
        self.bns = nn.ModuleDict({SOURCE: bn, TARGET: copy.deepcopy(bn)})
        self.domain = SOURCE

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` normalised with the current ``domain``'s statistics."""
        return self.bns[self.domain](x)


def _replace(module: nn.Module, predicate, make) -> int:  # noqa: ANN001
    n = 0
    for name, child in module.named_children():
        if predicate(child):
            setattr(module, name, make(child))
            n += 1
        else:
            n += _replace(child, predicate, make)
    return n


def _is_norm(module: nn.Module, standardizer: bool) -> bool:
    from myoxai.models.base import ElectrodeStandardizer

    return isinstance(module, nn.modules.batchnorm._BatchNorm) or (
        standardizer and isinstance(module, ElectrodeStandardizer))


def split_batchnorm(model: nn.Module, standardizer: bool = False) -> int:
    """Replace every BatchNorm of ``model`` (in place: pass a copy) by a ``DomainBatchNorm``; return the count.

    ``standardizer=True`` also splits the model's input standardiser (and its input rotation).
    """
    return _replace(model, lambda m: _is_norm(m, standardizer), DomainBatchNorm)


def init_target(model: nn.Module, adapted: nn.Module) -> int:
    """Copy the target side of every ``DomainBatchNorm`` of ``model`` from the same-named module of ``adapted``.

    ``adapted`` is the same architecture re-normalised (and rotation-compensated) for the target
    data; returns how many modules were copied.
    """
    theirs = dict(adapted.named_modules())
    n = 0
    for name, m in model.named_modules():
        if isinstance(m, DomainBatchNorm) and name in theirs:
            m.bns[TARGET] = copy.deepcopy(theirs[name])
            n += 1
    return n


def merge_batchnorm(model: nn.Module, domain: str = TARGET) -> int:
    """Put the ``domain`` BatchNorm of each wrapper back in its place (the original architecture)."""
    return _replace(model, lambda m: isinstance(m, DomainBatchNorm), lambda m: m.bns[domain])


def domain_norms(model: nn.Module) -> Iterator[DomainBatchNorm]:
    """Every per-domain BatchNorm wrapper in ``model`` (to switch their domain)."""
    return (m for m in model.modules() if isinstance(m, DomainBatchNorm))


def set_domain(model: nn.Module, domain: str) -> None:
    """Route every ``DomainBatchNorm`` of ``model`` through ``domain``'s BatchNorm."""
    if domain not in (SOURCE, TARGET):
        raise ValueError(f"domain must be {SOURCE!r} or {TARGET!r}, not {domain!r}")
    for m in domain_norms(model):
        m.domain = domain
