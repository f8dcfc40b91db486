"""LSL in and out: an EMG outlet with the same channel metadata as our XDF files, and an inlet ``Source``.

Network: liblsl multicasts on the machine's interfaces by default. ``use_machine_scope()``
(``--lsl-machine-scope``) points ``LSLAPICFG`` at the configuration shipped with the package:
discovery stays on this machine (resolve scope ``machine``, multicast only on 127.0.0.1, its
listener bound to 127.0.0.1, TTL 0, IPv6 off). It does *not* make a stream private: liblsl 1.18
binds each outlet's TCP data port and UDP service port to every address and has no setting to
change that, so a peer that knows this machine's address can still query and pull a stream
(``tests/sources/test_lsl_scope.py`` checks both halves). Keep untrusted networks out with a
firewall on TCP/UDP 16571-16604. It must run before liblsl first reads its configuration.
"""

from __future__ import annotations

import argparse
import logging
import math
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
RATE_TOLERANCE = 0.05
"""A stream's measured rate may differ from its declared one by this fraction at most."""
RATE_CHECK_S = 5.0
"""Seconds of data before the rate is judged (and between judgements)."""
MAX_STEP_S = 3600.0
"""A timestamp step beyond this (or back by more than 0.5 s) is absurd: the chunk is dropped as a gap."""


def use_machine_scope() -> None:
    """Keep LSL discovery on this machine for the rest of the process (see the module docstring)."""
    if "pylsl" in sys.modules and os.environ.get("LSLAPICFG") != str(LOOPBACK_CFG):
        log.warning("pylsl was imported before --lsl-machine-scope took effect; if liblsl already read its "
                    "configuration, streams may still be discoverable on the network")
    os.environ["LSLAPICFG"] = str(LOOPBACK_CFG)


def add_scope_option(parser: argparse.ArgumentParser) -> None:
    """``--lsl-machine-scope`` (alias ``--lsl-local``) for every command that opens LSL streams."""
    parser.add_argument("--lsl-machine-scope", "--lsl-local", dest="lsl_machine_scope", action="store_true",
                        help="LSL discovery only on this machine (no multicast on the network, IPv6 off); liblsl "
                             "still accepts direct connections to a stream's ports from other machines, so use a "
                             "firewall on untrusted networks")


def apply_scope_option(args: argparse.Namespace) -> None:
    """Apply ``--lsl-machine-scope`` before anything loads liblsl's configuration."""
    if getattr(args, "lsl_machine_scope", False):
        use_machine_scope()


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


def parse_lsl_spec(arg: str | None) -> tuple[str | None, str | None, str | None]:
    """``NAME``, ``NAME@HOST`` or ``source_id=ID`` → (name, host, source_id); quotes are refused."""
    if not arg:
        return None, None, None
    if any(c in arg for c in "'\"[]"):
        raise MyoxaiError(f"lsl:{arg}: a stream name, host or source_id may not contain quotes or brackets")
    if arg.startswith("source_id="):
        return None, None, arg.partition("=")[2] or None
    name, _, host = arg.partition("@")
    return name or None, host or None, None


class RateCheck:
    """Is a stream as fast as it says? Judged every ``RATE_CHECK_S`` from its timestamps and arrivals.

    Two measures, because a sender can lie in two ways: timestamps spaced for 1000 Hz on a
    stream declared 200 Hz (the stamp rate, gaps counted in), or 200-Hz timestamps sent five times
    too fast (the arrival rate, judged only for being too fast, since a stall slows it honestly).
    """

    def __init__(self, fs: float, tolerance: float = RATE_TOLERANCE, every_s: float = RATE_CHECK_S) -> None:
        self.fs, self.tolerance, self.every_s = fs, tolerance, every_s
        self.samples = 0
        self.t_first: float | None = None
        self.t_last = 0.0
        self.wall_first: float | None = None
        self.next_check = 0.0

    def add(self, n: int, missing: int, t_first: float, t_last: float, wall: float) -> str | None:
        """Account for a chunk; a message when the stream's rate is off, else None."""
        if self.t_first is None:  # the first chunk only starts the clocks
            self.t_first, self.t_last, self.wall_first = t_last, t_last, wall
            self.next_check = wall + self.every_s
            return None
        self.samples += n + missing
        self.t_last = t_last
        if wall < self.next_check:
            return None
        self.next_check = wall + self.every_s
        span = self.t_last - self.t_first
        stamped = self.samples / span if span > 0 else math.inf
        arrived = self.samples / (wall - self.wall_first)
        lo, hi = self.fs * (1 - self.tolerance), self.fs * (1 + self.tolerance)
        if not lo <= stamped <= hi:
            return f"its timestamps advance at {stamped:.1f} samples/s"
        if arrived > hi:
            return f"its samples arrive at {arrived:.1f} per second"
        return None


class LslSource(ThreadedSource):
    """Any LSL EMG stream as a ``Source`` (found by name, ``name@host`` or source_id, else by type).

    Refuses streams whose channel count or nominal rate differs from ``fs``/``n_channels`` (a Myo's),
    a name that several streams on the network share (pin one with ``NAME@HOST``), and a stream
    whose measured rate differs from its declared one by more than 5 % (``RateCheck``). Timestamps
    are converted to this machine's ``local_clock`` (LSL clock synchronisation). Holes in the
    timestamps longer than 2.5 sample periods are reported as gaps (LSL carries no sequence
    numbers); a chunk with non-finite or absurd timestamps (a step beyond an hour, or back) is
    dropped as a counted gap, never a crash.
    """

    name = "lsl"

    def __init__(self, name: str | None = None, type: str = "EMG", timeout: float = 5.0,
                 fs: float = MYO.fs, n_channels: int = MYO.n_channels, queue_chunks: int = 2000,
                 host: str | None = None, source_id: str | None = None) -> None:
        import pylsl

        self.fs, self.n_channels = fs, n_channels
        super().__init__(queue_chunks=queue_chunks)
        terms = [f"{k}='{v}'" for k, v in (("name", name), ("hostname", host), ("source_id", source_id)) if v]
        pred = " and ".join(terms or [f"type='{type}'"])
        found = pylsl.resolve_bypred(pred, 1, timeout)
        if not found:
            raise MyoxaiError(f"no LSL stream with {pred} found within {timeout:g} s; start the sender "
                              "(e.g. myoxai stream --source myo) and check both use the same LSL network setup")
        if name and not (host or source_id):  # a bare name: refuse if another stream shares it
            more = {i.uid(): i for i in pylsl.resolve_bypred(pred, 2, min(timeout, 1.0))}
            if len(more) > 1:
                hosts = sorted({i.hostname() for i in more.values()})
                raise MyoxaiError(f"{len(more)} LSL streams are named '{name}' (hosts: {', '.join(hosts)}); pin one "
                                  f"with lsl:{name}@HOST or lsl:source_id=ID")
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
        rate = RateCheck(self.fs)
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
            rows = np.flatnonzero(np.isfinite(t))
            if not rows.size:  # no usable time at all: the chunk is a gap (non-finite rows)
                self._emit(x, t)
                continue
            steps = np.diff(np.r_[last_t if last_t is not None else t[rows[0]], t[rows]])
            jumps = np.flatnonzero((steps > MAX_STEP_S) | (steps < -0.5))
            cut = int(rows[jumps[0]]) if jumps.size else len(t)  # rows from here on have absurd times
            missing = int(round(steps[0] * self.fs)) - 1 if cut and steps[0] > 2.5 / self.fs else 0
            if cut:
                self._emit(x[:cut], t[:cut], missing=missing, reason="timestamp-gap")
            last_t = float(t[rows[rows < cut][-1]]) if (rows < cut).any() else last_t
            if cut < len(t):
                with self._cond:
                    self._gap(len(t) - cut, "timestamp-jump", float(t[rows[-1]]))
                log.warning("LSL stream '%s': timestamps jumped by %.3g s; %d samples dropped as a gap",
                            self.stream_name, float(steps[jumps[0]]), len(t) - cut)
                last_t = float(t[rows[-1]])
                rate = RateCheck(self.fs)  # a new time base: judge the rate afresh
                continue
            wrong = rate.add(len(t), missing, float(t[rows[0]]), float(last_t), time.monotonic())
            if wrong:
                raise MyoxaiError(f"LSL stream '{self.stream_name}' declares {self.fs:g} Hz but {wrong}; it is not a "
                                  "stream myoxai can use as it is (fix the sender's rate or declaration)")

    def _close(self) -> None:
        try:
            self._inlet.close_stream()
        except Exception as exc:  # noqa: BLE001 - liblsl raises assorted errors when closing a lost stream
            log.debug("closing LSL inlet: %s", exc)
