"""The numbers that define the signal, in one frozen object.

Every model file stores this config and its fingerprint; loading a model whose
preprocessing differs from the engine's is refused instead of silently mismatched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from myoxai.errors import MyoxaiError


@dataclass(frozen=True)
class DeviceSignal:
    """What one kind of EMG device delivers: its sampling rate and electrode count.

    These are facts about hardware, stated once here (a leaf) so the device table in
    ``myoxai.sources.devices``, the dataset loaders in ``myoxai.io`` (whose recordings came from
    such a device) and ``SignalConfig``'s defaults all read the same numbers.
    """

    fs: float
    n_channels: int


MYO = DeviceSignal(fs=200.0, n_channels=8)  # raw EMG mode: int8 samples, 2 per BLE notification


@dataclass(frozen=True)
class SignalConfig:
    """Sampling, filtering, windowing and spectrogram parameters (Myo defaults).

    ``highpass_hz = 0`` means no high-pass (e.g. the Myo Armband dataset paper's pipeline).
    """

    fs: float = MYO.fs
    n_channels: int = MYO.n_channels
    highpass_hz: float = 15.0
    highpass_order: int = 5
    window: int = 50
    step: int = 10
    nperseg: int = 20
    noverlap: int = 10
    spec_window: str = "hann"
    drop_dc: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):  # 200 and 200.0 must describe (and fingerprint) the same pipeline
            if f.type == "float":
                object.__setattr__(self, f.name, float(getattr(self, f.name)))
            elif f.type == "int":
                object.__setattr__(self, f.name, int(getattr(self, f.name)))
        if self.window < self.nperseg or self.noverlap >= self.nperseg:
            raise MyoxaiError(
                f"invalid signal config: window={self.window}, nperseg={self.nperseg}, "
                f"noverlap={self.noverlap}; need window >= nperseg > noverlap"
            )
        if not 1 <= self.step <= self.window:
            raise MyoxaiError(f"invalid signal config: step={self.step} must lie between 1 and window={self.window}")
        if not 0 <= self.highpass_hz < self.fs / 2:
            raise MyoxaiError(f"high-pass {self.highpass_hz} Hz must lie between 0 (no high-pass) and fs/2")

    @property
    def n_frames(self) -> int:
        """Spectrogram time frames per window."""
        hop = self.nperseg - self.noverlap
        return (self.window - self.nperseg) // hop + 1

    @property
    def n_freqs(self) -> int:
        """Spectrogram frequency bins per frame (one-sided, DC dropped if configured)."""
        return self.nperseg // 2 + 1 - (1 if self.drop_dc else 0)

    @property
    def spec_shape(self) -> tuple[int, int, int]:
        """Shape of one window's spectrogram: (frames, channels, frequencies)."""
        return (self.n_frames, self.n_channels, self.n_freqs)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON values (stored in every model file)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignalConfig:
        """The config stored by ``to_dict``; unknown keys are refused rather than dropped."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise MyoxaiError(f"unknown signal-config keys {sorted(unknown)}; was this file written by a newer myoxai?")
        return cls(**data)

    def fingerprint(self) -> str:
        """Stable short hash of the parameters (key order and float repr independent)."""
        canon = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()[:16]


DEFAULT_CONFIG = SignalConfig()
# Côté-Allard et al. (TNSRE 2019) on the Myo Armband dataset: 260 ms windows every 25 ms, no high-pass.
MYO_ARMBAND_PAPER_CONFIG = SignalConfig(highpass_hz=0.0, window=52, step=5)
# Issue 23, controller delay: shorter windows every 25 ms, same filter and spectrogram (10 Hz bins);
# the models take their frame count from the config (3 frames at 200 ms, 2 at 150 ms). docs/live.md
# "Controller delay" has the selection between them.
SHORT_200_CONFIG = SignalConfig(window=40, step=5)
SHORT_150_CONFIG = SignalConfig(window=30, step=5)

SIGNAL_CONFIGS: dict[str, SignalConfig] = {
    "default": DEFAULT_CONFIG,
    "paper": MYO_ARMBAND_PAPER_CONFIG,
    "short-200": SHORT_200_CONFIG,
    "short-150": SHORT_150_CONFIG,
}
"""The named signal configs (``--signal NAME``); a model file records the config itself, not the name."""


def signal_config(name: str) -> SignalConfig:
    """The named signal config; an unknown name is a ``MyoxaiError`` listing the known ones."""
    if name not in SIGNAL_CONFIGS:
        raise MyoxaiError(f"unknown signal config {name!r}; choose one of {', '.join(SIGNAL_CONFIGS)}")
    return SIGNAL_CONFIGS[name]


def signal_config_name(config: SignalConfig) -> str | None:
    """The name of ``config`` in ``SIGNAL_CONFIGS`` (by fingerprint), or None for an unnamed config."""
    fp = config.fingerprint()
    return next((name for name, c in SIGNAL_CONFIGS.items() if c.fingerprint() == fp), None)
