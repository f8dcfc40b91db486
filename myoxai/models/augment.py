"""Training-time augmentation of what changes between days: armband rotation, gains, noise.

Works on batches of raw power spectrograms (batch, frames, electrodes, freqs), before the
model's standardisation, so each transform has a physical meaning:

- circular electrode shift: the band put on rotated. A per-window shift ``s`` moves content
  towards higher electrode indices, ``out[e] = (1 - f)·x[e - i] + f·x[e - i - 1]`` for
  ``s = i + f`` (the sign convention and linear interpolation of ``myoxai.adapt.rotation``);
  fractional shifts are drawn uniformly in ``±shift``, integer ones in ``±integer_shift``;
- per-electrode and global gain: skin contact and sweat change each electrode's amplitude
  (a gain ``g`` on the signal multiplies its power by ``g²``), drawn uniformly in ``1 ± gain``;
- additive noise: white noise adds exponentially distributed power to every bin, scaled to
  ``noise`` times the batch's mean power.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Augmentation:
    """Strengths of each transform (0 switches it off); see the module docstring.

    Attributes
    ----------
    shift:
        Largest fractional circular shift, in electrodes.
    integer_shift:
        Largest integer circular shift, in electrodes (added to the fractional one).
    electrode_gain:
        Per-electrode signal gain drawn in ``[1 - g, 1 + g]``.
    global_gain:
        Whole-window signal gain drawn in ``[1 - g, 1 + g]``.
    noise:
        Additive noise power relative to the batch's mean power.
    probability:
        Share of the windows of a batch that are augmented (the rest pass unchanged).
    """

    shift: float = 0.0
    integer_shift: int = 0
    electrode_gain: float = 0.0
    global_gain: float = 0.0
    noise: float = 0.0
    probability: float = 1.0

    @property
    def active(self) -> bool:
        """Whether any transformation is switched on."""
        return any((self.shift, self.integer_shift, self.electrode_gain, self.global_gain, self.noise))

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (recorded with the results they produce)."""
        return asdict(self)


def circular_shift(x: torch.Tensor, shift: torch.Tensor, electrode_dim: int = 2) -> torch.Tensor:
    """Linear-interpolation circular shift of each window's electrodes by its own ``shift`` (batch,)."""
    n = x.shape[electrode_dim]
    i = torch.floor(shift)
    f = (shift - i).to(x.dtype)
    e = torch.arange(n, device=x.device)
    src0 = (e[None, :] - i.long()[:, None]) % n  # (batch, n): out[e] reads x[e - i] ...
    src1 = (src0 - 1) % n  # ... and x[e - i - 1]
    moved = x.movedim(electrode_dim, -1)
    idx_shape = (moved.shape[0],) + (1,) * (moved.dim() - 2) + (n,)
    g0 = torch.gather(moved, -1, src0.view(idx_shape).expand_as(moved))
    g1 = torch.gather(moved, -1, src1.view(idx_shape).expand_as(moved))
    fw = f.view((-1,) + (1,) * (moved.dim() - 1))
    return ((1 - fw) * g0 + fw * g1).movedim(-1, electrode_dim)


def augment_spectrograms(x: torch.Tensor, aug: Augmentation, generator: torch.Generator | None = None,
                         electrode_dim: int = 2) -> torch.Tensor:
    """A randomly transformed copy of the power spectrogram batch ``x`` (``x`` itself is not changed)."""
    if not aug.active or len(x) == 0:
        return x
    b, n = x.shape[0], x.shape[electrode_dim]

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, dtype=x.dtype)

    out = x
    mask = (uniform(b) < aug.probability).to(x.dtype)
    if aug.shift or aug.integer_shift:
        s = (2 * uniform(b) - 1) * aug.shift
        if aug.integer_shift:
            s = s + torch.randint(-aug.integer_shift, aug.integer_shift + 1, (b,), generator=generator).to(x.dtype)
        out = circular_shift(out, s * mask, electrode_dim)
    view = [1] * x.dim()
    view[0] = b
    gain = torch.ones(b, dtype=x.dtype)
    if aug.global_gain:
        gain = 1 + (2 * uniform(b) - 1) * aug.global_gain
    gain = 1 + (gain - 1) * mask
    power_gain = (gain ** 2).view(view)
    if aug.electrode_gain:
        ev = [1] * x.dim()
        ev[0], ev[electrode_dim] = b, n
        eg = 1 + (2 * uniform(b, n) - 1) * aug.electrode_gain * mask[:, None]
        power_gain = power_gain * (eg ** 2).view(ev)
    out = out * power_gain
    if aug.noise:
        level = aug.noise * x.mean()
        noise = -torch.log(uniform(*x.shape).clamp_min(1e-12))  # Exp(1): power of a Gaussian bin
        out = out + level * noise * mask.view(view)
    return out
