"""Transfer learning: take a model pre-trained on many people and fine-tune it on a few seconds of one user.

The recipe (Côté-Allard et al. 2019, seed 001): keep the generic early filters frozen, give the
model a fresh head for the user's gesture set, and fine-tune the rest for a fixed budget. A
fixed budget (declared up front, never tuned on a user's test data) replaces early stopping
because a 5-s-per-gesture calibration leaves no whole trial to validate on. It is counted in
optimiser steps, so fine-tuning time does not grow with the calibration length (35 s or 140 s of
data cost the same seconds). The per-electrode standardisation is refitted on the user's
calibration windows: the pre-training people's amplitudes say little about a new arm (or a new
dataset's units).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.models.base import MyoModel
from myoxai.models.convnets import AllConvNet, ConvClassifierHead, SpectrogramConvNet
from myoxai.models.training import class_weights, torch_threads

Progress = Callable[[int, int, float], None]  # (epoch done, epochs, train loss)


@dataclass
class FineTuneSettings:
    """Fixed-length fine-tuning (sized so 35 s of windows fine-tune in seconds on 2 cores)."""

    steps: int = 200  # optimiser steps (rounded up to whole epochs)
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 1
    refit_standardizer: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (recorded with the results they produce)."""
        return asdict(self)

    def epochs_for(self, n: int) -> int:
        """Whole epochs over ``n`` windows that give at least ``steps`` optimiser steps."""
        per_epoch = max(1, -(-n // self.batch_size))
        return max(1, -(-self.steps // per_epoch))


def frozen_layers_default(model: MyoModel) -> int:
    """How many early layers transfer freezes: All-ConvNet its first 3 of 4 convs, the ConvNet 2 of 3 blocks."""
    if isinstance(model, AllConvNet):
        return 3
    if isinstance(model, SpectrogramConvNet):
        return len(model.init_args["channels"]) - 1
    return int(getattr(model, "transfer_frozen", 1))


def freeze_early(model: MyoModel, n: int) -> None:
    """Stop gradients into the first ``n`` learned stages (BatchNorm statistics still follow the new data)."""
    if isinstance(model, AllConvNet):
        model.freeze_early_layers(n)
        return
    if isinstance(model, SpectrogramConvNet):
        convs = [m for m in model.blocks if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
        for layer in convs[:2 * n]:
            for p in layer.parameters():
                p.requires_grad_(False)
        return
    if hasattr(model, "freeze_early_layers"):
        model.freeze_early_layers(n)
        return
    raise TypeError(f"{type(model).__name__} has no early layers to freeze")


def with_new_head(model: MyoModel, n_classes: int, seed: int = 0) -> MyoModel:
    """A deep copy of ``model`` whose classifier maps to ``n_classes`` new, freshly initialised outputs."""
    out = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if isinstance(out.head, ConvClassifierHead):
            out.head = ConvClassifierHead(out.feature_dim, n_classes)
        elif isinstance(out.head, nn.Linear):
            out.head = nn.Linear(out.head.in_features, n_classes)
        else:
            raise TypeError(f"cannot replace a head of type {type(out.head).__name__}")
    out.n_classes = int(n_classes)
    for p in out.parameters():
        p.requires_grad_(True)
    return out


def transfer_copy(pretrained: MyoModel, n_classes: int, frozen: int | None = None, seed: int = 0) -> MyoModel:
    """A copy of a pre-trained model ready to fine-tune: new head, first layers frozen."""
    model = with_new_head(pretrained, n_classes, seed)
    freeze_early(model, frozen_layers_default(model) if frozen is None else frozen)
    return model


def _frozen_prefix(model: MyoModel) -> tuple[Callable[[torch.Tensor], torch.Tensor],
                                               Callable[[torch.Tensor], torch.Tensor]] | None:
    """(prefix, suffix) of an All-ConvNet whose leading convs are frozen, so their output can be computed once.

    Exact because the frozen part (standardisation, convolutions, ELU) behaves the same in train and
    eval mode; dropout comes only after pooling. ``None`` when nothing leading is frozen.
    """
    if not isinstance(model, AllConvNet):
        return None
    k = next((i for i, conv in enumerate(model.convs) if any(p.requires_grad for p in conv.parameters())),
             len(model.convs))
    if k == 0:
        return None

    def prefix(x: torch.Tensor) -> torch.Tensor:
        h = model.standardize(x)
        for conv in model.convs[:k]:
            h = model.act(conv(h))
        return h

    def suffix(h: torch.Tensor) -> torch.Tensor:
        for conv in model.convs[k:]:
            h = model.act(conv(h))
        return model.head(model.dropout(h.mean(dim=(2, 3))))

    return prefix, suffix


def fine_tune(model: MyoModel, x: np.ndarray, y: np.ndarray, settings: FineTuneSettings | None = None,
              progress: Progress | None = None, should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Train the unfrozen parameters of ``model`` on (x, y) for about ``settings.steps`` steps (whole epochs).

    Class-balanced cross-entropy, Adam, shuffled mini-batches from a seeded generator. ``progress``
    is called after each epoch; ``should_stop`` returning True ends training early (a user cancel).
    An All-ConvNet's frozen leading convolutions are evaluated once, not every step (same result, faster).
    """
    settings = settings or FineTuneSettings()
    y = np.asarray(y, dtype=np.int64)
    t0 = time.perf_counter()
    with torch_threads(settings.threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        if settings.refit_standardizer:
            model.fit_standardizer(x)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)
        loss_fn = nn.CrossEntropyLoss(weight=class_weights(y, model.n_classes))
        gen = torch.Generator().manual_seed(settings.seed)
        xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
        split = _frozen_prefix(model)
        forward: Callable[[torch.Tensor], torch.Tensor] = model
        if split is not None:
            with torch.no_grad():
                xt = torch.cat([split[0](xt[i:i + 4096]) for i in range(0, len(xt), 4096)])
            forward = split[1]
        losses: list[float] = []
        epochs = settings.epochs_for(len(y))
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(len(yt), generator=gen)
            total = 0.0
            for i in range(0, len(order), settings.batch_size):
                b = order[i:i + settings.batch_size]
                if len(b) < 2:
                    continue  # a 1-sample batch breaks BatchNorm
                loss = loss_fn(forward(xt[b]), yt[b])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item() * len(b)
            losses.append(total / max(len(order), 1))
            if progress is not None:
                progress(epoch + 1, epochs, losses[-1])
            if should_stop is not None and should_stop():
                break
    model.eval()
    return {"model": model.name, "n_train": int(len(y)), "epochs_run": len(losses), "final_loss": losses[-1]
            if losses else None, "seconds": time.perf_counter() - t0, "settings": settings.to_dict()}
