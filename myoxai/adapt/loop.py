"""The one adversarial training loop behind DANN and SCADANN self-calibration.

Each step draws a source batch (labeled) and a target batch (unlabeled, or pseudo-labeled
for self-calibration), runs each through its own BatchNorm statistics, and minimises

    DANN:              CE(source) + λ · domain
    self-calibration:  w · CE(source) + w · CE(target, pseudo-labels) + λ · domain

with Adam; the epoch's validation loss decides early stopping and the best weights are kept.
``separate_steps=True`` is the reference SCADANN self-calibration (LongTermEMG
``SCADANN_BN_training``): one optimiser step on the source batch (w · CE + λ · its domain term),
then one on the target batch (w · CE + λ/2 · its domain term), early stopping on the pseudo-labeled
target validation windows alone and the learning rate cut by 5 after 5 stalled epochs.
``cancel`` is checked between batches, so a live app gets control back within one batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.adapt.dann import SOURCE, TARGET, DomainClassifier, set_domain

Progress = Callable[[float, str], None]


class Cancelled(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside the loop when the caller's cancel event is set."""


@dataclass(frozen=True)
class LoopData:
    """Training and validation arrays for one run (``yt`` None = unlabeled target)."""

    xs: np.ndarray
    ys: np.ndarray
    xt: np.ndarray
    yt: np.ndarray | None
    xs_val: np.ndarray
    ys_val: np.ndarray
    xt_val: np.ndarray | None = None
    yt_val: np.ndarray | None = None


def check_cancel(cancel: threading.Event | None) -> None:
    """Raise ``Cancelled`` once ``cancel`` is set (checked between training steps)."""
    if cancel is not None and cancel.is_set():
        raise Cancelled


@torch.no_grad()
def domain_loss_and_accuracy(net: nn.Module, x: np.ndarray, y: np.ndarray, domain: str,
                             batch: int = 2048) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``net`` on (x, y) through ``domain``'s BatchNorm (eval mode)."""
    if len(y) == 0:
        return float("nan"), float("nan")
    net.eval()
    set_domain(net, domain)
    loss, correct = 0.0, 0
    for i in range(0, len(y), batch):
        xb = torch.as_tensor(x[i:i + batch], dtype=torch.float32)
        yb = torch.as_tensor(y[i:i + batch], dtype=torch.long)
        out = net(xb)
        loss += float(nn.functional.cross_entropy(out, yb, reduction="sum"))
        correct += int((out.argmax(1) == yb).sum())
    return loss / len(y), correct / len(y)


ExtraLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def _separate_step(net: nn.Module, disc: nn.Module, opt: torch.optim.Optimizer, xs: torch.Tensor, ys: torch.Tensor,
                   xt: torch.Tensor, yt: torch.Tensor, ce_weight: float, lam: float,
                   extra_loss: ExtraLoss | None) -> float:
    """The reference's self-calibration step: a source update, then a target update (each its own BatchNorm)."""
    set_domain(net, SOURCE)
    zs = net.features(xs)
    loss_s = ce_weight * nn.functional.cross_entropy(net.head(zs), ys) + lam * nn.functional.cross_entropy(
        disc(zs), torch.zeros(len(xs), dtype=torch.long))
    if extra_loss is not None:
        loss_s = loss_s + extra_loss(net, xs, ys)
    opt.zero_grad(set_to_none=True)
    loss_s.backward()
    opt.step()
    set_domain(net, TARGET)
    zt = net.features(xt)
    loss_t = ce_weight * nn.functional.cross_entropy(net.head(zt), yt) + lam * 0.5 * nn.functional.cross_entropy(
        disc(zt), torch.ones(len(xt), dtype=torch.long))
    opt.zero_grad(set_to_none=True)
    loss_t.backward()
    opt.step()
    return float(loss_s.detach()) + float(loss_t.detach())


def adversarial_fit(net: nn.Module, data: LoopData, *, lam: float, ce_weight: float, lr: float,
                    betas: tuple[float, float], batch_size: int, max_epochs: int, patience: int, seed: int,
                    progress: Progress | None = None, span: tuple[float, float] = (0.0, 1.0), phase: str = "dann",
                    cancel: threading.Event | None = None, extra_loss: ExtraLoss | None = None,
                    separate_steps: bool = False) -> dict[str, Any]:
    """Train ``net`` (with ``DomainBatchNorm`` wrappers) in place; return a small history report.

    ``span`` maps this phase onto the caller's overall progress fraction. ``extra_loss(net, xs, ys)``,
    if given, is added to each step's loss on the labeled source batch (e.g. Shapley-weighted
    terms from ``myoxai.explain.feedback``).
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        net.eval()
        feature_dim = int(net.features(torch.as_tensor(data.xs[:2], dtype=torch.float32)).shape[1])
    disc = DomainClassifier(feature_dim)
    opt = torch.optim.Adam(list(net.parameters()) + list(disc.parameters()), lr=lr, betas=betas)
    separate = separate_steps and data.yt is not None
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.2, patience=5) if separate else None
    xs = torch.as_tensor(data.xs, dtype=torch.float32)
    ys = torch.as_tensor(data.ys, dtype=torch.long)
    xt = torch.as_tensor(data.xt, dtype=torch.float32)
    yt = None if data.yt is None else torch.as_tensor(data.yt, dtype=torch.long)
    n_steps = max(1, int(np.ceil(max(len(xs), len(xt)) / batch_size)))
    best, best_state, best_epoch, bad, history = np.inf, None, 0, 0, []
    zeros = torch.zeros(batch_size, dtype=torch.long)
    ones = torch.ones(batch_size, dtype=torch.long)
    for epoch in range(max_epochs):
        net.train()
        disc.train()
        ps = torch.randint(len(xs), (n_steps * batch_size,), generator=gen)
        pt = torch.randint(len(xt), (n_steps * batch_size,), generator=gen)
        total = 0.0
        for step in range(n_steps):
            check_cancel(cancel)
            bs = ps[step * batch_size:(step + 1) * batch_size]
            bt = pt[step * batch_size:(step + 1) * batch_size]
            if separate:
                total += _separate_step(net, disc, opt, xs[bs], ys[bs], xt[bt], yt[bt], ce_weight, lam, extra_loss)
                continue
            set_domain(net, SOURCE)
            zs = net.features(xs[bs])
            set_domain(net, TARGET)
            zt = net.features(xt[bt])
            dom = 0.5 * (nn.functional.cross_entropy(disc(zs), zeros[:len(bs)])
                         + nn.functional.cross_entropy(disc(zt), ones[:len(bt)]))
            ce = nn.functional.cross_entropy(net.head(zs), ys[bs])
            if yt is None:
                loss = ce + lam * dom
            else:
                loss = ce_weight * (ce + nn.functional.cross_entropy(net.head(zt), yt[bt])) + lam * dom
            if extra_loss is not None:
                set_domain(net, SOURCE)
                loss = loss + extra_loss(net, xs[bs], ys[bs])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
        val, acc = domain_loss_and_accuracy(net, data.xs_val, data.ys_val, SOURCE)
        if data.xt_val is not None and data.yt_val is not None and len(data.yt_val):
            target_val = domain_loss_and_accuracy(net, data.xt_val, data.yt_val, TARGET)[0]
            val = target_val if separate else 0.5 * (val + target_val)
        if sched is not None:
            sched.step(val)
        history.append({"epoch": epoch + 1, "train_loss": total / n_steps, "val_loss": val, "source_val_acc": acc})
        if val < best - 1e-4:
            best, best_epoch, bad = val, epoch + 1, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            bad += 1
        if progress is not None:
            frac = span[0] + (span[1] - span[0]) * (epoch + 1) / max_epochs
            progress(frac, f"{phase}: epoch {epoch + 1}, validation loss {val:.3f}")
        if bad >= patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return {"epochs_run": len(history), "best_epoch": best_epoch, "best_val_loss": float(best), "history": history}
