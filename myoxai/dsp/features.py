"""Classic time-domain EMG features, one small function each, looked up in a registry.

Every feature maps windows (n, samples, channels) to (n, channels, m) with m values per
channel. ``FeatureSet`` names an ordered list of them with their parameters, so a model file
can store exactly which features it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FeatureFn = Callable[..., np.ndarray]
FEATURES: dict[str, FeatureFn] = {}


def _feature(name: str) -> Callable[[FeatureFn], FeatureFn]:
    def register(fn: FeatureFn) -> FeatureFn:
        FEATURES[name] = fn
        return fn
    return register


@_feature("mav")
def mav(w: np.ndarray) -> np.ndarray:
    """Mean absolute value."""
    return np.mean(np.abs(w), axis=1)[..., None]


@_feature("rms")
def rms(w: np.ndarray) -> np.ndarray:
    """Root mean square."""
    return np.sqrt(np.mean(w * w, axis=1))[..., None]


@_feature("var")
def var(w: np.ndarray) -> np.ndarray:
    """Variance (unbiased, as in the EMG literature: sum of squares / (N-1); zero-mean signal assumed)."""
    return (np.sum(w * w, axis=1) / (w.shape[1] - 1))[..., None]


@_feature("wl")
def wl(w: np.ndarray) -> np.ndarray:
    """Waveform length: total absolute first difference."""
    return np.sum(np.abs(np.diff(w, axis=1)), axis=1)[..., None]


def _held_sign_changes(v: np.ndarray, deadzone: float) -> np.ndarray:
    """Sign changes of ``v`` (n, samples, ch) across the dead-zone, holding the last sign inside it.

    This is the definition of A. Chan's EMG feature toolbox (getzcfeat/getsscfeat), which the
    long-term dataset's authors used: values are quantised to +1/0/-1 with the dead-zone, each 0
    takes the sign of the most recent ±1 (an exp(-k) weighted look-back over half the window,
    whose geometric weights make the most recent non-zero value decide), and a change counts
    when the held sign flips from +1 to -1 or back. Unlike the sample-pair rule, a crossing that
    lingers inside the dead-zone for a few samples still counts.
    """
    from scipy.signal import lfilter

    q = (v > deadzone).astype(np.float64) - (v < -deadzone)
    b = np.exp(-np.arange(1, v.shape[1] // 2 + 1))
    z = np.sign(lfilter(b, [1.0], q, axis=1))
    return np.sum(np.abs(np.diff(z, axis=1)) == 2, axis=1, dtype=np.float64)[..., None]


@_feature("zc")
def zc(w: np.ndarray, deadzone: float = 0.0, hold: bool = False) -> np.ndarray:
    """Zero crossings beyond the dead-zone.

    ``hold=False``: a sample pair of opposite sign whose step is at least the dead-zone (Hudgins).
    ``hold=True``: the toolbox rule of ``_held_sign_changes`` (used by the long-term dataset's authors).
    """
    if hold:
        return _held_sign_changes(w, deadzone)
    a, b = w[:, :-1], w[:, 1:]
    hit = (a * b < 0) & (np.abs(a - b) >= deadzone)
    return np.sum(hit, axis=1, dtype=np.float64)[..., None]


@_feature("ssc")
def ssc(w: np.ndarray, deadzone: float = 0.0, hold: bool = False) -> np.ndarray:
    """Slope sign changes beyond the dead-zone.

    ``hold=False``: at least one of the two slopes around a sample exceeds the dead-zone.
    ``hold=True``: zero crossings (toolbox rule, ``_held_sign_changes``) of the first difference,
    with a leading 0 as in the toolbox (the window is treated as the whole signal).
    """
    if hold:
        d = np.concatenate([np.zeros_like(w[:, :1]), np.diff(w, axis=1)], axis=1)
        return _held_sign_changes(d, deadzone)
    left = w[:, 1:-1] - w[:, :-2]
    right = w[:, 1:-1] - w[:, 2:]
    hit = (left * right > 0) & ((np.abs(left) >= deadzone) | (np.abs(right) >= deadzone))
    return np.sum(hit, axis=1, dtype=np.float64)[..., None]


@_feature("log_rms")
def log_rms(w: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Natural log of the root mean square (eps keeps a silent channel finite)."""
    return np.log(np.sqrt(np.mean(w * w, axis=1)) + eps)[..., None]


@_feature("ssi")
def ssi(w: np.ndarray) -> np.ndarray:
    """Simple square integral (signal energy)."""
    return np.sum(w * w, axis=1)[..., None]


@_feature("log_detector")
def log_detector(w: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """exp(mean(log|x|)): geometric mean of the rectified signal (eps keeps log finite)."""
    return np.exp(np.mean(np.log(np.abs(w) + eps), axis=1))[..., None]


@_feature("ar")
def ar(w: np.ndarray, order: int = 4) -> np.ndarray:
    """Autoregressive coefficients by Yule-Walker on the biased autocorrelation, no mean removal.

    Levinson-Durbin is written out here because it is vectorised over all windows × channels
    at once (scipy solves one Toeplitz system per call, far too slow for 10^5-10^6 systems).
    Coefficients a_k follow x[t] ≈ Σ_k a_k x[t-k]. A silent channel gives zeros.
    """
    n = w.shape[1]
    x = np.moveaxis(w, 1, -1)  # (n_win, ch, samples)
    r = np.stack([np.sum(x[..., : n - k] * x[..., k:], axis=-1) / n for k in range(order + 1)], axis=-1)
    a = np.zeros((*r.shape[:-1], order))
    err = r[..., 0].copy()
    silent = err <= 0
    err[silent] = 1.0
    for i in range(order):
        acc = r[..., i + 1] - np.sum(a[..., :i] * r[..., i:0:-1], axis=-1) if i else r[..., 1].copy()
        k = acc / err
        prev = a[..., :i].copy()
        a[..., :i] = prev - k[..., None] * prev[..., ::-1]
        a[..., i] = k
        err = err * (1.0 - k * k)
        err = np.where(err <= 0, np.finfo(float).tiny, err)
    a[silent] = 0.0
    return a


@_feature("hist_entropy")
def hist_entropy(w: np.ndarray, bins: int = 10) -> np.ndarray:
    """Shannon entropy (bits) of the window's amplitude histogram over its own range."""
    lo = w.min(axis=1, keepdims=True)
    span = w.max(axis=1, keepdims=True) - lo
    span = np.where(span > 0, span, 1.0)
    idx = np.minimum(((w - lo) / span * bins).astype(np.int64), bins - 1)  # (n, s, ch)
    counts = np.stack([np.sum(idx == b, axis=1) for b in range(bins)], axis=-1).astype(np.float64)
    p = counts / w.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.sum(np.where(p > 0, p * np.log2(p), 0.0), axis=-1)
    return h[..., None]


REST = "rest"  # a dead-zone given as this word is set from the training data's rest windows


@dataclass(frozen=True)
class FeatureSet:
    """An ordered selection of registered features with their parameters."""

    names: tuple[str, ...]
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [n for n in self.names if n not in FEATURES]
        if missing:
            raise ValueError(f"unknown features {missing}; known: {sorted(FEATURES)}")

    @property
    def data_dependent(self) -> bool:
        """Whether a parameter is still ``REST`` (to be set from training data by ``with_rest_deadzone``)."""
        return any(v == REST for p in self.params.values() for v in p.values())

    def with_rest_deadzone(self, rest_windows: np.ndarray) -> FeatureSet:
        """The same set with every ``REST`` dead-zone replaced by the rest noise of ``rest_windows``.

        The noise is the RMS about each window's own mean (a DC offset of unfiltered raw data is not
        noise), over all rest windows and channels. ZC and SSC then count only crossings larger than
        the noise of the armband at rest, whatever the units of the data (±1.5 floats or raw int8).
        """
        w = np.asarray(rest_windows, dtype=np.float64)
        if not len(w):
            raise ValueError("no rest windows to set the ZC/SSC dead-zone from")
        noise = float(np.sqrt(np.mean((w - w.mean(axis=1, keepdims=True)) ** 2)))
        params = {n: {k: (noise if v == REST else v) for k, v in p.items()} for n, p in self.params.items()}
        return FeatureSet(self.names, params)

    def to_dict(self) -> dict[str, Any]:
        """Names and parameters as plain JSON values (stored with an LDA model)."""
        return {"names": list(self.names), "params": self.params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSet:
        """The feature set stored by ``to_dict``."""
        return cls(tuple(data["names"]), dict(data.get("params", {})))


# The dataset authors' TD+AR set (MAV, RMS, WL, ZC, SSC with a 0.01 dead-zone, AR(6)): 11 per channel.
# ZC/SSC follow A. Chan's toolbox (their extract_feature.m calls getzcfeat/getsscfeat): hold=True.
KANOGA_TD_AR = FeatureSet(("mav", "rms", "wl", "zc", "ssc", "ar"),
                          {"zc": {"deadzone": 0.01, "hold": True}, "ssc": {"deadzone": 0.01, "hold": True},
                           "ar": {"order": 6}})
# The same features with the dead-zone at the rest noise of the training data: the LDA's default, fair on
# any units (on raw int8 Myo values a fixed 0.01 is far below the rest noise and ZC/SSC would count noise).
TD_AR_REST = FeatureSet(KANOGA_TD_AR.names, {"zc": {"deadzone": REST, "hold": True},
                                             "ssc": {"deadzone": REST, "hold": True}, "ar": {"order": 6}})
# The Myo Armband dataset README's LDA baseline: MAV, WL, ZC, SSC, log-RMS per channel on unfiltered windows
# (Hudgins' sample-pair ZC/SSC; dead-zone at the rest noise). Reproduces its 92.3 % (k = 1) and 98.2 % (k = 4).
MYO_ARMBAND_README = FeatureSet(("mav", "wl", "zc", "ssc", "log_rms"),
                                {"zc": {"deadzone": REST}, "ssc": {"deadzone": REST}})
# The full classic set named in the design (AR(4)).
CLASSIC = FeatureSet(("mav", "rms", "var", "wl", "zc", "ssc", "ssi", "log_detector", "ar", "hist_entropy"),
                     {"ar": {"order": 4}})


FEATURE_SETS: dict[str, FeatureSet] = {"kanoga-td-ar": KANOGA_TD_AR, "td-ar-rest": TD_AR_REST,
                                        "myo-armband-readme": MYO_ARMBAND_README, "classic": CLASSIC}


def td_features(windows: np.ndarray, features: FeatureSet = CLASSIC) -> np.ndarray:
    """Feature matrix (n_windows, channels * n_values), channel-major, for the given set."""
    if features.data_dependent:
        raise ValueError("the feature set's dead-zone is still 'rest': set it from training data first "
                         "(FeatureSet.with_rest_deadzone)")
    w = np.asarray(windows, dtype=np.float64)
    parts = [FEATURES[name](w, **features.params.get(name, {})) for name in features.names]
    return np.concatenate(parts, axis=-1).reshape(w.shape[0], -1)
