"""LSL in and out: an EMG outlet with the same channel metadata as our XDF files, and an inlet ``Source``.

Network: liblsl multicasts on the machine's interfaces by default. ``use_local_lsl()`` points
``LSLAPICFG`` at the loopback-only configuration shipped with the package (``--lsl-local``); it must
run before liblsl first reads its configuration, i.e. before any outlet, inlet or resolve call.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.config import MYO
from myoxai.errors import MyoxaiError
from myoxai.sources.base import ThreadedSource

log = logging.getLogger(__name__)

LOOPBACK_CFG = Path(__file__).with_name("lsl_loopback.cfg")


def use_local_lsl() -> None:
    """Restrict LSL to this machine (loopback only) for the rest of the process."""
    if "pylsl" in sys.modules and os.environ.get("LSLAPICFG") != str(LOOPBACK_CFG):
        log.warning("pylsl was imported before --lsl-local took effect; if liblsl already read its "
                    "configuration, streams may still be visible on the network")
    os.environ["LSLAPICFG"] = str(LOOPBACK_CFG)


def _copy_xml(dst: Any, src: ET.Element) -> None:
    """Copy an ElementTree ``<desc>`` into a pylsl XMLElement (children and text)."""
    for child in src:
        if len(child):
            _copy_xml(dst.append_child(child.tag), child)
        else:
            dst.append_child_value(child.tag, child.text or "")


def armband_source_id(address: str | None, kind: str) -> str:
    """A source_id that stays the same for the same armband, so LSL clients re-find it after restarts."""
    return f"myoxai-{kind}-{address.replace(':', '').lower()}" if address else f"myoxai-{kind}"


class EmgOutlet:
    """An LSL outlet of type ``EMG`` (float32, a Myo's rate and channels by default) with our XDF metadata."""

    def __init__(self, name: str = "myoxai-emg", source_id: str = "myoxai", fs: float = MYO.fs,
                 n_channels: int = MYO.n_channels, units: str = "a.u.", meta: dict | None = None,
                 provenance: bool = False) -> None:
        import pylsl

        from myoxai.io.xdf import EMG_TYPE, emg_stream_desc, private_meta

        info = pylsl.StreamInfo(name, EMG_TYPE, n_channels, fs, pylsl.cf_float32, source_id)
        _copy_xml(info.desc(), emg_stream_desc(n_channels, units, private_meta(meta, provenance)))
        self.info = info
        self.outlet = pylsl.StreamOutlet(info, chunk_size=0, max_buffered=60)

    def push(self, samples: np.ndarray, timestamps: np.ndarray) -> None:
        """Push samples with their own timestamps (local_clock seconds)."""
        if len(samples):
            self.outlet.push_chunk(np.ascontiguousarray(samples, dtype=np.float32),
                                   [float(t) for t in timestamps])

    def have_consumers(self) -> bool:
        """Whether any inlet is connected to the outlet."""
        return bool(self.outlet.have_consumers())


class LslSource(ThreadedSource):
    """Any LSL EMG stream as a ``Source`` (found by name, else by type).

    Refuses streams whose channel count or nominal rate differs from ``fs``/``n_channels`` (a Myo's).
    Timestamps are converted to this machine's ``local_clock`` (LSL clock synchronisation). Holes
    in the timestamps longer than 2.5 sample periods are reported as gaps (LSL carries no
    sequence numbers).
    """

    name = "lsl"

    def __init__(self, name: str | None = None, type: str = "EMG", timeout: float = 5.0,
                 fs: float = MYO.fs, n_channels: int = MYO.n_channels, queue_chunks: int = 2000) -> None:
        import pylsl

        self.fs, self.n_channels = fs, n_channels
        super().__init__(queue_chunks=queue_chunks)
        prop, value = ("name", name) if name else ("type", type)
        found = pylsl.resolve_byprop(prop, value, 1, timeout)
        if not found:
            raise MyoxaiError(f"no LSL stream with {prop} '{value}' found within {timeout:g} s; start the sender "
                              "(e.g. myoxai stream --source myo) and check both use the same LSL network setup")
        info = found[0]
        if info.channel_count() != n_channels or abs(info.nominal_srate() - fs) > 1e-6:
            raise MyoxaiError(f"LSL stream '{info.name()}' has {info.channel_count()} channels at "
                              f"{info.nominal_srate():g} Hz; myoxai needs {n_channels} channels at {fs:g} Hz "
                              "(pick the Myo EMG stream by name with lsl:NAME)")
        self.stream_name = info.name()
        self._inlet = pylsl.StreamInlet(info, max_buflen=60, recover=True, processing_flags=pylsl.proc_clocksync)
        self._set(info={"stream": info.name(), "type": info.type(), "source_id": info.source_id(),
                        "hostname": info.hostname()})

    def _acquire(self, stop: threading.Event) -> None:
        self._inlet.open_stream(timeout=5.0)
        self._set(connected=True, state="streaming")
        last_t: float | None = None
        last_data = time.monotonic()
        while not stop.is_set():
            data, ts = self._inlet.pull_chunk(timeout=0.05, max_samples=1024)
            if not ts:
                if time.monotonic() - last_data > 2.0 and self.status().connected:
                    self._set(connected=False, state="waiting")
                continue
            if not self.status().connected:
                self._set(connected=True, state="streaming")
            last_data = time.monotonic()
            x = np.asarray(data, dtype=np.float32)
            t = np.asarray(ts, dtype=np.float64)
            missing = 0
            if last_t is not None and t[0] - last_t > 2.5 / self.fs:
                missing = int(round((t[0] - last_t) * self.fs)) - 1
            self._emit(x, t, missing=missing, reason="timestamp-gap")
            last_t = float(t[-1])

    def _close(self) -> None:
        try:
            self._inlet.close_stream()
        except Exception as exc:  # noqa: BLE001 - liblsl raises assorted errors when closing a lost stream
            log.debug("closing LSL inlet: %s", exc)
