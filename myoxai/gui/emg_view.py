"""Scrolling EMG traces of every electrode (last 5 s, from the source's display ring) and the current spectrogram."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from myoxai.engine.decision import Decision


class EmgTraces(pg.PlotWidget):
    """Eight stacked traces; curves are created once and updated with ``setData``.

    The vertical spacing follows the signal (6 standard deviations of the visible data, updated at
    most once a second) so raw int8 Myo data and filtered float recordings both stay readable.
    """

    def __init__(self, n_channels: int = 8, fs: float = 200.0, seconds: float = 5.0) -> None:
        super().__init__()
        self.fs, self.n = fs, int(seconds * fs)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setLabel("bottom", "time (s)")
        self.setTitle("EMG (last 5 s)")
        self.spacing = 100.0
        self._spacing_set_at = -1
        self.curves = [self.plot(pen=pg.mkPen(pg.intColor(i, n_channels), width=1)) for i in range(n_channels)]
        for curve in self.curves:  # at most ~2 points per pixel column, keeping the peaks
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        self.getPlotItem().getAxis("left").setTicks([[(-i * self.spacing, f"ch{i + 1}") for i in range(n_channels)]])
        self.setXRange(-seconds, 0, padding=0)
        self._frames = 0

    def show_samples(self, samples: np.ndarray) -> None:
        """Draw the newest samples (n × channels); the last one sits at t = 0."""
        n = samples.shape[0]
        if n == 0:
            return
        self._frames += 1
        if self._spacing_set_at < 0 or self._frames - self._spacing_set_at > 30:
            spread = float(np.median(samples.std(axis=0))) if n > 1 else 0.0
            self.spacing = max(6 * spread, 1e-6)
            self._spacing_set_at = self._frames
            ticks = [(-i * self.spacing, f"ch{i + 1}") for i in range(len(self.curves))]
            self.getPlotItem().getAxis("left").setTicks([ticks])
            self.setYRange(-(len(self.curves) - 0.5) * self.spacing, 0.5 * self.spacing, padding=0)
        t = (np.arange(n) - (n - 1)) / self.fs
        for i, curve in enumerate(self.curves):
            curve.setData(t, samples[:, i] - i * self.spacing, skipFiniteCheck=True)


class SpectrogramView(pg.PlotWidget):
    """The last window's spectrogram: electrodes as rows, its time frames side by side (log power)."""

    def __init__(self) -> None:
        super().__init__()
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setTitle("spectrogram of the last window")
        self.setToolTip("log power per electrode (rows); the window's time frames side by side, "
                        "frequency increasing within each frame")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.addItem(self.image)
        self.getPlotItem().invertY(True)
        self._shape: tuple[int, ...] | None = None
        self.last: np.ndarray | None = None

    def set_classes(self, class_names: Sequence[str]) -> None:  # noqa: ARG002 - independent of the gestures
        """Nothing to do: the spectrogram does not depend on the gestures."""
        return None

    def show_decisions(self, decisions: Sequence[Decision]) -> None:
        """Draw the spectrogram of the newest decision's window."""
        spec = decisions[-1].spectrogram
        if spec is None:
            return
        frames, chans, freqs = spec.shape
        img = np.log1p(np.abs(spec)).transpose(1, 0, 2).reshape(chans, frames * freqs)  # (electrodes, frames·freqs)
        self.last = img
        self.image.setImage(img, autoLevels=True)
        if self._shape != spec.shape:
            self._shape = spec.shape
            left = self.getPlotItem().getAxis("left")
            left.setTicks([[(i + 0.5, f"ch{i + 1}") for i in range(chans)]])
            bottom = self.getPlotItem().getAxis("bottom")
            bottom.setTicks([[(f * freqs + freqs / 2, f"frame {f + 1}") for f in range(frames)]])
