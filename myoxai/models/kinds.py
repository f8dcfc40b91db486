"""The two input kinds a model consumes (its ``input_kind``), a leaf so the trainer and the models share them."""

from __future__ import annotations

SPECTROGRAM = "spectrogram"  # input (batch, frames, electrodes, freqs) = (batch, 4, 8, 10)
WINDOW = "window"  # input (batch, samples, electrodes) = (batch, 50, 8), high-pass filtered
