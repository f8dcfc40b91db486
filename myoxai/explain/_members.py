"""The ``members`` Shapley path: an ensemble's coalition logits from each member on its own fastest path.

An ensemble (``myoxai.models.ensemble``) offers ``ensemble_members``; its output is the log of the
members' mean probability. Each member gets its own ``ChannelShapley`` (structure, row-local,
first-convolution or plain path, each verified as usual), and the coalition logits combine as
``logsumexp_i log_softmax(z_i) − log K``, which is exactly the ensemble's forward on every
coalition. The ensemble's probability Shapley values are then the mean of the members' (Shapley
values are linear in the value function). Like the other fast paths it is used only after it
reproduced the plain 2^N forward passes of the ensemble (``myoxai.explain.shapley``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


class MembersPath:
    """Coalition logits (k · 2^N, classes) of an ensemble from its members' explainers."""

    def __init__(self, explainers: list[Any]) -> None:
        self.explainers = explainers

    @property
    def member_paths(self) -> tuple[str, ...]:
        """The path each member's explainer uses."""
        return tuple(e.path for e in self.explainers)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Log of the members' mean softmax on every coalition of every window, coalitions in mask order."""
        logp = torch.stack([torch.log_softmax(e.coalition_logits(x), dim=-1) for e in self.explainers])
        out = torch.logsumexp(logp, dim=0) - math.log(len(self.explainers))
        return out.reshape(-1, out.shape[-1])

    @classmethod
    def build(cls, model: nn.Module, explainer: Callable[[nn.Module], Any]) -> MembersPath | None:
        """The path of an ensemble ``model`` (``None`` for any other model); ``explainer(member)`` explains one."""
        members = getattr(model, "ensemble_members", None)
        return cls([explainer(m) for m in members]) if members else None
