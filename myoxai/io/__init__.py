"""Recordings: the Recording type, dataset loaders, XDF files (and, from the models layer, model files)."""

from __future__ import annotations

from myoxai.io.recording import UNLABELED, Recording, concatenate, synth_timestamps
from myoxai.io.xdf import EmgXdfRecorder, XdfWriter, read_recording, write_recording

__all__ = ["UNLABELED", "EmgXdfRecorder", "Recording", "XdfWriter", "concatenate", "read_recording",
           "synth_timestamps", "write_recording"]
