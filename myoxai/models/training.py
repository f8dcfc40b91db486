"""One trainer for every model: Adam, validation split, early stopping, LR schedule, augmentation, fixed seeds.

Reproducibility: the seed fixes the validation split, the shuffling order, the augmentation and
dropout, and torch runs with a bounded thread count, so the same seed on the same data gives
identical weights.

Validation: with ``groups`` (the trial or segment of each window), whole groups of each class are
held out (``group_split``), because windows of one trial are correlated and a window-level split
puts near-copies on both sides. Without groups it is a class-stratified share of the windows.
It only decides when to stop and is never reported as a test accuracy. Standardisation
statistics come from the training part of the split only, so the held-out groups stay unseen.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.models.augment import Augmentation, augment_spectrograms
from myoxai.models.kinds import SPECTROGRAM

log = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    """Optimisation settings (defaults sized for 2 shared CPU cores)."""

    epochs: int = 30
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-4
    patience: int = 6  # epochs without validation improvement before stopping
    lr_patience: int = 2  # ReduceLROnPlateau patience (halves the rate)
    val_fraction: float = 0.15
    seed: int = 0
    threads: int = 1
    class_balanced: bool = True
    progress: bool = False
    fin_epochs: int = 10  # LSTM-FIN stage-1 (feature imitation) epochs
    lr_schedule: str = "plateau"  # "plateau" (halve on a stalled validation loss) or "cosine" (over ``epochs``)
    augment: Augmentation | None = None  # spectrogram models only

    def __post_init__(self) -> None:
        if isinstance(self.augment, dict):
            self.augment = Augmentation(**self.augment)
        if self.lr_schedule not in ("plateau", "cosine"):
            raise ValueError(f"lr_schedule must be 'plateau' or 'cosine', not {self.lr_schedule!r}")

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (recorded with the results they produce)."""
        return asdict(self)


def set_torch_threads(n: int) -> None:
    """Set torch's intra-op thread count for the whole process (commands call it once, at start-up).

    ``torch.set_num_threads`` is process-wide: a background thread that set and restored it would
    change the count under every other thread's feet. This and ``torch_threads`` on the main thread
    are the only places that set it.
    """
    torch.set_num_threads(max(1, int(n)))


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Bound torch's intra-op threads for the block, then restore; a no-op off the main thread.

    Offline work (training, evaluation, benchmarks) runs on the main thread and may bound its
    threads here. In a background thread (the live engine, a recalibration worker) the process's
    setting (``set_torch_threads``) applies, because setting it there would change it for every thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = torch.get_num_threads()
    set_torch_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val): ``fraction`` of each class's items to validation (at least one when possible)."""
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = int(round(fraction * len(idx)))
        if fraction > 0 and len(idx) >= 2:
            k = max(k, 1)
        val.append(rng.permutation(idx)[:k])
    val_idx = np.sort(np.concatenate(val)) if val else np.array([], dtype=int)
    train_idx = np.setdiff1d(np.arange(len(y)), val_idx)
    return train_idx, val_idx


def group_split(y: np.ndarray, groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) holding out whole ``groups``: ``fraction`` of each class's groups (≥ 1 if it has 2+).

    A group (a trial, a held gesture) never has windows on both sides. Classes with a single
    group stay in training. The same ``(y, groups, fraction, seed)`` always gives the same split,
    which is how a recalibration finds the calibration model's held-out windows again.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    rng = np.random.default_rng(seed)
    val_groups = []
    for c in np.unique(y):
        g = np.unique(groups[y == c])
        k = max(1, int(round(fraction * len(g)))) if len(g) >= 2 and fraction > 0 else 0
        val_groups.append(rng.permutation(g)[:k])
    is_val = np.isin(groups, np.concatenate(val_groups)) if val_groups else np.zeros(len(y), bool)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def class_weights(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights (all ones when balanced); absent classes get weight 0."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(n_classes)
    w[present] = counts[present].sum() / (present.sum() * counts[present])
    return torch.as_tensor(w, dtype=torch.float32)


def fit_loop(model: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray, t: np.ndarray,
             loss_fn: nn.Module, settings: TrainSettings, val_idx: np.ndarray, train_idx: np.ndarray,
             desc: str = "train", augment: Augmentation | None = None) -> dict[str, Any]:
    """Minimise ``loss_fn(forward(x), t)`` with Adam; stop early on validation loss; keep the best weights.

    ``augment`` transforms each training batch (never the validation windows).
    """
    from tqdm.auto import tqdm

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)
    if settings.lr_schedule == "cosine":
        sched: Any = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, settings.epochs))
    else:
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=settings.lr_patience)
    gen = torch.Generator().manual_seed(settings.seed)
    aug_gen = torch.Generator().manual_seed(settings.seed + 7919)
    xt = torch.as_tensor(x, dtype=torch.float32)
    tt = torch.as_tensor(t)
    tr = torch.as_tensor(train_idx)
    have_val = len(val_idx) > 0
    best, best_state, best_epoch, bad, history = np.inf, None, 0, 0, []
    bar = tqdm(range(settings.epochs), desc=desc, disable=not settings.progress, leave=False)
    for epoch in bar:
        model.train()
        order = tr[torch.randperm(len(tr), generator=gen)]
        total = 0.0
        for i in range(0, len(order), settings.batch_size):
            b = order[i:i + settings.batch_size]
            if len(b) < 2 and i > 0:
                continue  # a 1-sample tail batch breaks BatchNorm and adds nothing
            xb = xt[b] if augment is None else augment_spectrograms(xt[b], augment, aug_gen)
            loss = loss_fn(forward(xb), tt[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        train_loss = total / max(len(order), 1)
        val_loss = _eval_loss(model, forward, xt, tt, loss_fn, val_idx) if have_val else train_loss
        if settings.lr_schedule == "cosine":
            sched.step()
        else:
            sched.step(val_loss)
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss,
                        "lr": opt.param_groups[0]["lr"]})
        bar.set_postfix(loss=f"{train_loss:.3f}", val=f"{val_loss:.3f}")
        if val_loss < best - 1e-4:
            best, best_epoch, bad = val_loss, epoch + 1, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= settings.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return {"epochs_run": len(history), "best_epoch": best_epoch, "best_val_loss": float(best), "history": history}


@torch.no_grad()
def _eval_loss(model: nn.Module, forward: Callable, xt: torch.Tensor, tt: torch.Tensor, loss_fn: nn.Module,
               idx: np.ndarray, batch: int = 4096) -> float:
    model.eval()
    total = 0.0
    for i in range(0, len(idx), batch):
        b = torch.as_tensor(idx[i:i + batch])
        total += float(loss_fn(forward(xt[b]), tt[b])) * len(b)
    return total / len(idx)


def train_model(model: Any, x: np.ndarray, y: np.ndarray,
                settings: TrainSettings | None = None, fit_standardizer: bool = True,
                val_mask: np.ndarray | None = None, groups: np.ndarray | None = None) -> dict[str, Any]:
    """Train ``model`` on inputs ``x`` (of its ``input_kind``) and labels ``y``; return a training report.

    ``fit_standardizer=False`` keeps existing statistics (fine-tuning a pre-trained model).
    ``val_mask`` (boolean, one per window) names the validation windows, e.g. whole held-out holds.
    ``groups`` (one id per window: its trial or held gesture) makes validation hold out whole
    groups; the report's ``val_groups`` lists them, so later steps can keep them unseen.
    Without either, a random class-stratified share is held out. Each model trains itself
    (``model.train_on``): the torch models through ``train_network``, LDA in closed form.
    """
    return model.train_on(x, np.asarray(y, dtype=np.int64), settings, fit_standardizer=fit_standardizer,
                          val_mask=val_mask, groups=groups)


def train_network(model: nn.Module, x: np.ndarray, y: np.ndarray, settings: TrainSettings | None = None, *,
                  fit_standardizer: bool = True, val_mask: np.ndarray | None = None,
                  groups: np.ndarray | None = None) -> dict[str, Any]:
    """``train_model`` for a torch model: its pre-training stages, then the gesture loss with early stopping."""
    settings = settings or TrainSettings()
    y = np.asarray(y, dtype=np.int64)
    t0 = time.perf_counter()
    report: dict[str, Any] = {"model": model.name, "n_train": int(len(y)), "settings": settings.to_dict()}
    with torch_threads(settings.threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        if val_mask is not None:
            train_idx, val_idx = np.flatnonzero(~val_mask), np.flatnonzero(val_mask)
        elif groups is not None:
            train_idx, val_idx = group_split(y, groups, settings.val_fraction, settings.seed)
            report["val_groups"] = np.unique(np.asarray(groups)[val_idx]).tolist()
        else:
            train_idx, val_idx = stratified_split(y, settings.val_fraction, settings.seed)
        if fit_standardizer:
            model.fit_standardizer(x[train_idx] if len(train_idx) else x)
        report.update(model.pretrain_stages(x, settings, train_idx, val_idx, fit_standardizer))
        weights = class_weights(y[train_idx], model.n_classes) if settings.class_balanced else None
        loss = nn.CrossEntropyLoss(weight=weights)
        aug = settings.augment if model.input_kind == SPECTROGRAM and settings.augment is not None else None
        report.update(fit_loop(model, model, x, y, loss, settings, val_idx, train_idx, desc=model.name, augment=aug))
        if len(val_idx):
            report["val_accuracy"] = float(np.mean(model.logits(x[val_idx]).argmax(axis=1) == y[val_idx]))
    report["seconds"] = time.perf_counter() - t0
    log.info("trained %s on %d windows in %.1f s", model.name, len(y), report["seconds"])
    return report
