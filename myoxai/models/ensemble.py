"""An ensemble of K members of one torch model, trained with different seeds: a base model that moves less.

The ensemble's class probability is the mean of its members' softmax probabilities, so its
``forward`` (the logits every caller reads) is ``log(mean_i softmax(z_i))``; softmax of it gives the
mean probability back exactly. Channel Shapley of a probability is linear in the value function,
so the ensemble's per-electrode φ is the mean of the members' φ (``myoxai.explain`` uses that to
run each member on its own fast path).

Member ``i`` is built with seed ``seed + 1000·i`` and trained with ``settings.seed + 1000·i``, so
member 0 is exactly the single model of that seed and a single-vs-ensemble comparison is paired.
Every member uses member 0's validation split (the calibration's held-out trials), so the windows
the ensemble is validated on are unseen by all of its members.

The ensemble offers the torch models' calling interface (``logits``, ``logits_on``, ``train_on``,
``fit_on``, ``state_arrays``/``load_arrays``, ``n_classes``, ``input_kind``, ``init_args``) and
``ensemble_members``, the capability adaptation and the explainers look for to work member by member.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from myoxai.errors import MyoxaiError
from myoxai.models.base import MyoModel
from myoxai.models.registry import MODELS, build_model

SEED_STRIDE = 1000  # member i's seed = seed + SEED_STRIDE * i
MAX_MEMBERS = 16


def member_seed(seed: int, i: int) -> int:
    """The build and training seed of member ``i`` of an ensemble of run seed ``seed``."""
    return int(seed) + SEED_STRIDE * int(i)


def check_members(k: int, name: str) -> None:
    """Refuse an ensemble size or member model myoxai cannot build (one ``MyoxaiError``)."""
    if not 1 <= int(k) <= MAX_MEMBERS:
        raise MyoxaiError(f"an ensemble has 1 to {MAX_MEMBERS} members; got {k}")
    cls = MODELS.get(name)
    if cls is None or not issubclass(cls, MyoModel):
        torch_models = ", ".join(n for n, c in MODELS.items() if issubclass(c, MyoModel))
        raise MyoxaiError(f"an ensemble's members are one torch model ({torch_models}); got {name!r}")


class EnsembleModel(nn.Module):
    """K members of one registry torch model; probabilities averaged.

    Parameters
    ----------
    n_classes:
        Output classes (every member's).
    member:
        Registry name of the members' model.
    members:
        Each member's constructor arguments (``init_args``: they may differ after adaptation, e.g.
        each member's own input rotation). Their number is K.
    """

    name: ClassVar[str] = "ensemble"
    explainable: ClassVar[bool] = True

    def __init__(self, n_classes: int, member: str, members: list[dict[str, Any]]) -> None:
        super().__init__()
        check_members(len(members), member)
        self.n_classes = int(n_classes)
        self.member = member
        self.members = nn.ModuleList(build_model(member, n_classes, **dict(a)) for a in members)

    @classmethod
    def of(cls, nets: list[MyoModel]) -> EnsembleModel:
        """The ensemble of already built (e.g. adapted) members, which it takes as they are."""
        names = {n.name for n in nets}
        if len(names) != 1:
            raise MyoxaiError(f"an ensemble's members are one model; got {', '.join(sorted(names)) or 'none'}")
        out = cls.__new__(cls)
        nn.Module.__init__(out)
        check_members(len(nets), nets[0].name)
        out.n_classes, out.member = int(nets[0].n_classes), nets[0].name
        out.members = nn.ModuleList(nets)
        out.train(nets[0].training)
        return out

    # -- what callers read ---------------------------------------------------------------------
    @property
    def input_kind(self) -> str:
        """The members' input kind (spectrogram or window)."""
        return self.members[0].input_kind

    @property
    def init_args(self) -> dict[str, Any]:
        """What rebuilds the ensemble: the member model's name and each member's arguments."""
        return {"member": self.member, "members": [dict(m.init_args) for m in self.members]}

    @property
    def ensemble_members(self) -> tuple[MyoModel, ...]:
        """The members, in seed order (the capability adaptation and explanation look for)."""
        return tuple(self.members)

    @property
    def input_rotation(self) -> float:
        """The mean electrode shift the members apply to their inputs (0 when none)."""
        return float(np.mean([m.input_rotation for m in self.members]))

    def n_parameters(self) -> int:
        """Weights of all members."""
        return sum(m.n_parameters() for m in self.members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``log`` of the mean of the members' softmax probabilities (logits whose softmax is that mean)."""
        logp = torch.stack([torch.log_softmax(m(x), dim=1) for m in self.members])
        return torch.logsumexp(logp, dim=0) - math.log(len(self.members))

    @torch.no_grad()
    def logits(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Logits (n, n_classes) float64 of numpy inputs in eval mode: log of the members' mean probability."""
        logp = np.stack([_log_softmax(m.logits(x, batch_size)) for m in self.members])
        top = logp.max(axis=0)
        return top + np.log(np.exp(logp - top).mean(axis=0))

    def logits_on(self, data: Any) -> np.ndarray:
        """Logits on every window of a window set (anything with ``inputs(input_kind)``)."""
        return self.logits(data.inputs(self.input_kind))

    # -- training ------------------------------------------------------------------------------
    def train_on(self, x: np.ndarray, y: np.ndarray, settings: Any = None, *, fit_standardizer: bool = True,
                 val_mask: np.ndarray | None = None, groups: np.ndarray | None = None) -> dict[str, Any]:
        """Train member ``i`` with seed ``settings.seed + 1000·i`` on member 0's validation split.

        Member 0 trains exactly as a single model would; the others hold out the same windows. The
        report keeps each member's report and the ensemble's own validation accuracy.
        """
        from myoxai.models.training import TrainSettings, group_split, stratified_split

        settings = settings or TrainSettings()
        y = np.asarray(y, dtype=np.int64)
        if val_mask is None:
            split = group_split(y, groups, settings.val_fraction, settings.seed) if groups is not None else \
                stratified_split(y, settings.val_fraction, settings.seed)
            shared = np.zeros(len(y), dtype=bool)
            shared[split[1]] = True
        else:
            shared = np.asarray(val_mask, dtype=bool)
        reports = []
        for i, m in enumerate(self.members):
            s = replace(settings, seed=member_seed(settings.seed, i))
            own = {"val_mask": val_mask, "groups": groups} if i == 0 else {"val_mask": shared, "groups": None}
            reports.append(m.train_on(x, y, s, fit_standardizer=fit_standardizer, **own))
        self.eval()
        report: dict[str, Any] = {"model": self.name, "member": self.member, "k": len(self.members),
                                  "members": reports, "n_train": int(len(y)),
                                  "epochs_run": [r.get("epochs_run") for r in reports],
                                  "best_epoch": [r.get("best_epoch") for r in reports],
                                  "seconds": float(sum(r.get("seconds", 0.0) for r in reports))}
        if "val_groups" in reports[0]:
            report["val_groups"] = reports[0]["val_groups"]
        if shared.any():
            report["val_accuracy"] = float(np.mean(self.logits(x[shared]).argmax(axis=1) == y[shared]))
        return report

    def fit_on(self, data: Any, settings: Any = None, *, groups: np.ndarray | None = None) -> dict[str, Any]:
        """``train_on`` the window set's inputs of this model's kind and its labels ``data.y``."""
        return self.train_on(data.inputs(self.input_kind), data.y, settings, groups=groups)

    # -- model files ---------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Every member's weights and buffers as numpy arrays, keyed ``members.i.NAME``."""
        return {k: v.detach().cpu().numpy() for k, v in self.state_dict().items()}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore every member from a model file (strict) and switch to eval mode."""
        self.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}, strict=True)
        self.eval()


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def build_ensemble(name: str, n_classes: int, k: int, seed: int | None = None, config: Any = None,
                   **kwargs: Any) -> EnsembleModel:
    """K fresh members of model ``name``, member ``i`` built with ``seed + 1000·i`` (``build_model``'s arguments)."""
    check_members(k, name)
    seeds = [None if seed is None else member_seed(seed, i) for i in range(k)]
    return EnsembleModel.of([build_model(name, n_classes, seed=s, config=config, **kwargs) for s in seeds])


def build_any(name: str, n_classes: int, seed: int | None = None, config: Any = None, ensemble: int = 1,
              **kwargs: Any) -> Any:
    """``build_model`` for ``ensemble == 1`` (the single model exactly), else ``build_ensemble``."""
    if int(ensemble) == 1:
        return build_model(name, n_classes, seed=seed, config=config, **kwargs)
    return build_ensemble(name, n_classes, int(ensemble), seed=seed, config=config, **kwargs)
