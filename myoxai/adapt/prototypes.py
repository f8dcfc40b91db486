"""Prototype heads beyond the one-pass T3A-style head: EM class priors, iterated prototypes, online T3A.

- ``em_priors``: the class priors of an unlabeled set by EM (Saerens, Latinne & Decaestecker, Neural
  Computation 2002): posteriors are re-weighted by the ratio of the new to the training priors, the
  priors become the mean re-weighted posterior, until they stop moving. ``prior_bias`` writes them
  into the head's bias (``log π̂_k − log π_train,k``) instead of the prototype head's zero bias.
- ``kmeans_head``: the prototypes iterated as spherical soft k-means on the buffer's features,
  initialised from the current head's rows: E-step = the head's own posteriors, M-step = each row
  becomes the mean direction of its initial row and the posterior-weighted unit features.
- ``OnlineT3A``: T3A as published (Iwasawa & Matsuo, NeurIPS 2021; matsuolab/T3A): the support set
  starts as the head's rows; every window, as it arrives, is pseudo-labelled by the *original* head,
  joins its class's supports (the ``filter_k`` lowest-entropy ones per class are kept), and only then
  is classified by the normalised mean of each class's supports. It is transductive: the returned
  model keeps adapting on the windows it classifies, in the order it sees them.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.adapt.quick import PROTOTYPE_SUPPORTS, _head_parameters, _normalise_rows
from myoxai.models import MyoModel


def em_priors(probs: np.ndarray, train_priors: np.ndarray | None = None, max_iter: int = 100,
              tol: float = 1e-6) -> tuple[np.ndarray, int]:
    """Class priors of the set whose posteriors (under ``train_priors``, default uniform) are ``probs``.

    Returns the priors and the number of EM iterations run.
    """
    p = np.asarray(probs, dtype=np.float64)
    pt = np.full(p.shape[1], 1.0 / p.shape[1]) if train_priors is None else np.asarray(train_priors, np.float64)
    prior = pt.copy()
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        w = p * (prior / pt)
        w /= w.sum(axis=1, keepdims=True)
        new = w.mean(axis=0)
        done = np.abs(new - prior).max() < tol
        prior = new
        if done:
            break
    return prior, iterations


@torch.no_grad()
def features_and_logits(model: MyoModel, x: np.ndarray,
                        batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Head-input features and logits (float64) of ``x`` in eval mode."""
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    feats = torch.cat([model.features(xt[i:i + batch_size]) for i in range(0, len(xt), batch_size)]).double()
    w, b = _head_parameters(model)
    logits = feats @ w.detach().double().reshape(w.shape[0], -1).T + (b.detach().double() if b is not None else 0.0)
    return feats, logits


@torch.no_grad()
def prior_bias(model: MyoModel, unlabeled: np.ndarray, floor: float = 1e-3) -> tuple[MyoModel, np.ndarray]:
    """A copy whose head bias adds ``log(π̂_k · K)``: EM priors of the buffer against uniform training priors.

    The calibration sets are balanced (and the prototype head has no bias), so the model's posteriors
    are taken as made under uniform priors. Priors are floored at ``floor`` so no class is ruled out.
    """
    net = copy.deepcopy(model).eval()
    _, logits = features_and_logits(net, unlabeled)
    prior, _ = em_priors(torch.softmax(logits, dim=1).numpy())
    prior = np.maximum(prior, floor)
    prior /= prior.sum()
    w, b = _head_parameters(net)
    shift = torch.as_tensor(np.log(prior * len(prior)), dtype=w.dtype)
    if b is None:
        raise TypeError(f"{type(model).__name__}'s head has no bias for class priors")
    b.add_(shift)
    return net, prior


@torch.no_grad()
def kmeans_head(model: MyoModel, unlabeled: np.ndarray, iterations: int = 10) -> tuple[MyoModel, int]:
    """A copy whose head rows are iterated prototypes (spherical soft k-means from the head's rows).

    The head keeps its logit spread (``scale`` as in ``prototype_head``) and gets a zero bias. Returns
    the copy and the iterations run (fewer when the assignments stop changing).
    """
    net = copy.deepcopy(model).eval()
    feats, logits = features_and_logits(net, unlabeled)
    w_param, b_param = _head_parameters(net)
    anchor = _normalise_rows(w_param.detach().double().reshape(w_param.shape[0], -1))
    unit = _normalise_rows(feats)
    target = float(logits.std())
    head, resp = anchor, torch.softmax(logits, dim=1)
    scale, done, last = 1.0, 0, None
    while done < iterations:
        done += 1
        head = _normalise_rows(anchor + resp.T @ unit)
        raw = feats @ head.T
        scale = target / float(raw.std()) if float(raw.std()) > 0 else 1.0
        resp = torch.softmax(scale * raw, dim=1)
        pred = resp.argmax(dim=1)
        if last is not None and torch.equal(pred, last):
            break
        last = pred
    w_param.copy_((scale * head).reshape(w_param.shape).to(w_param.dtype))
    if b_param is not None:
        b_param.zero_()
    return net, done


def support_index(logits: torch.Tensor, per_class: int = PROTOTYPE_SUPPORTS) -> list[list[int]]:
    """The windows the T3A-style head would take as supports: per predicted class, the lowest-entropy ones."""
    logp = torch.log_softmax(logits, dim=1)
    entropy = -(logp.exp() * logp).sum(dim=1)
    pred = logits.argmax(dim=1)
    out = []
    for k in range(logits.shape[1]):
        idx = torch.nonzero(pred == k).flatten()
        out.append(idx[torch.argsort(entropy[idx])[:per_class]].tolist())
    return out


class OnlineT3A(nn.Module):
    """A classifier that runs T3A online over the windows it is given, in order (transductive).

    Parameters
    ----------
    model:
        The model whose features and (original) head pseudo-label each window.
    filter_k:
        Supports kept per class, lowest entropy first (T3A's M; the head row counts as one).
    """

    def __init__(self, model: MyoModel, filter_k: int = PROTOTYPE_SUPPORTS) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).eval()
        self.n_classes = int(model.n_classes)
        self.filter_k = int(filter_k)
        w, b = _head_parameters(self.model)
        self._w = w.detach().double().reshape(w.shape[0], -1)
        self._b = b.detach().double() if b is not None else torch.zeros(self.n_classes, dtype=torch.float64)
        warm_logits = self._w @ self._w.T + self._b  # the head applied to its own rows (as the reference code does)
        self.supports: list[list[tuple[float, torch.Tensor]]] = [[] for _ in range(self.n_classes)]
        for z, lg in zip(self._w, warm_logits, strict=True):
            self._add(z, lg)

    # the model interface (``myoxai.models.base.MyoModel``): scored like any model, windows in order
    logits = MyoModel.logits
    logits_on = MyoModel.logits_on

    @property
    def input_kind(self) -> str:
        """The wrapped model's input kind."""
        return self.model.input_kind

    def _add(self, z: torch.Tensor, logits: torch.Tensor) -> None:
        logp = torch.log_softmax(logits, dim=0)
        ent = float(-(logp.exp() * logp).sum())
        k = int(logits.argmax())
        sup = self.supports[k]
        sup.append((ent, z / z.norm().clamp_min(1e-12)))
        sup.sort(key=lambda t: t[0])
        del sup[self.filter_k:]

    def prototypes(self) -> torch.Tensor:
        """(n_classes, d) normalised mean of each class's unit supports (zero for a class without any)."""
        rows = [torch.stack([z for _, z in s]).sum(0) if s else torch.zeros(self._w.shape[1], dtype=torch.float64)
                for s in self.supports]
        return _normalise_rows(torch.stack(rows))

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of each window after it joined the supports, one window at a time in the given order."""
        feats = self.model.features(x).double()
        out = []
        for z in feats:
            self._add(z, self._w @ z + self._b)
            out.append(self.prototypes() @ z)
        return torch.stack(out).float() if out else torch.empty(0, self.n_classes)

    def observe(self, x: np.ndarray) -> None:
        """Let windows join the supports without scoring them (the buffer the stream produced earlier)."""
        self.forward(torch.as_tensor(np.asarray(x, dtype=np.float32)))

    def to_dict(self) -> dict[str, Any]:
        """How many supports each class holds now."""
        return {"supports": [len(s) for s in self.supports]}
