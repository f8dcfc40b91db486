"""Signal processing: causal high-pass, sliding windows, spectrogram, time-domain features.

Only numpy/scipy here, and one code path serves live streaming and offline batches.
"""

from __future__ import annotations

from myoxai.dsp.features import FEATURES, FeatureSet, td_features
from myoxai.dsp.filters import StreamingHighpass
from myoxai.dsp.processor import WindowBatch, WindowStream, process_signal
from myoxai.dsp.spectrogram import spectrogram
from myoxai.dsp.windows import sliding_windows

__all__ = [
    "FEATURES",
    "FeatureSet",
    "StreamingHighpass",
    "WindowBatch",
    "WindowStream",
    "process_signal",
    "sliding_windows",
    "spectrogram",
    "td_features",
]
