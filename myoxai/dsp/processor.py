"""One streaming processor turns chunks of any size into filtered windows and spectrograms.

The offline path (``process_signal``) is the same object fed the whole signal at once, so a
window's features are computed by the same code live and offline. Windows are aligned to the
absolute sample index since the stream started: window k starts at sample ``k * step``. Each
push also says where, in the chunk it was given, every completed window ends (``WindowBatch.last``),
so a caller can pick that sample's timestamp or label without translating indices back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoxai.config import SignalConfig
from myoxai.dsp.filters import StreamingHighpass
from myoxai.dsp.spectrogram import spectrogram_of_windows_in
from myoxai.dsp.windows import sliding_windows


@dataclass(frozen=True)
class WindowBatch:
    """Windows completed by one push: raw filtered windows, spectrograms and their positions."""

    windows: np.ndarray  # (k, window, channels) float64, high-passed
    spectrograms: np.ndarray  # (k, frames, channels, freqs) float64
    start: np.ndarray  # (k,) int64 absolute index (since the last reset) of each window's first sample
    last: np.ndarray  # (k,) int64 position, in the pushed chunk, of each window's last sample

    def __len__(self) -> int:
        return int(self.start.shape[0])

    @property
    def end(self) -> np.ndarray:
        """Absolute index one past each window's last sample (the sample that completed it)."""
        return self.start + self.windows.shape[1]


class WindowStream:
    """Causal high-pass + sliding windows + spectrogram with state carried between pushes.

    Parameters
    ----------
    config:
        Signal parameters.
    highpass:
        Apply the causal high-pass. Pass ``False`` for data the recording says is already
        filtered with the same filter (the long-term dataset), so it is not filtered twice.
        A config with ``highpass_hz = 0`` never filters.
    """

    def __init__(self, config: SignalConfig, highpass: bool = True) -> None:
        self.config = config
        self.filter = StreamingHighpass(config) if highpass and config.highpass_hz > 0 else None
        self.reset()

    def reset(self) -> None:
        """Start a new stream (e.g. after a gap): filter state and window alignment restart."""
        if self.filter is not None:
            self.filter.reset()
        self._tail = np.empty((0, self.config.n_channels))
        self._tail_start = 0  # absolute index of _tail[0]
        self._n_seen = 0

    def push(self, chunk: np.ndarray) -> WindowBatch:
        """Feed ``chunk`` (n × channels); return the windows it completed, in order."""
        chunk = np.asarray(chunk)
        if chunk.ndim != 2 or chunk.shape[1] != self.config.n_channels:
            raise ValueError(f"expected a chunk of shape (n, {self.config.n_channels}), got {chunk.shape}")
        y = self.filter.process(chunk) if self.filter is not None else chunk.astype(np.float64)
        self._n_seen += y.shape[0]
        buf = np.concatenate([self._tail, y]) if self._tail.shape[0] else y
        win = sliding_windows(buf, self.config.window, self.config.step)
        k = win.shape[0]
        start = self._tail_start + self.config.step * np.arange(k, dtype=np.int64)
        chunk_start = self._n_seen - y.shape[0]  # absolute index of chunk[0]
        last = start + self.config.window - 1 - chunk_start
        # keep everything from the next window's start on
        consumed = min(k * self.config.step, buf.shape[0])
        self._tail = buf[consumed:].copy()
        self._tail_start += consumed
        # window k starts at buf[k * step]: overlapping windows share their spectrogram frames
        specs = spectrogram_of_windows_in(buf, k, self.config) if k else np.empty((0, *self.config.spec_shape))
        return WindowBatch(windows=win, spectrograms=specs, start=start, last=last)


def process_signal(x: np.ndarray, config: SignalConfig, highpass: bool = True) -> WindowBatch:
    """Offline twin of the stream: the whole signal pushed through a fresh ``WindowStream``."""
    return WindowStream(config, highpass=highpass).push(x)
