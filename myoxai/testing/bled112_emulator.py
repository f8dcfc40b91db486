"""A BLED112 dongle with one Myo attached, emulated behind a pseudo-terminal (test and benchmark support).

The driver under test opens ``emulator.port`` with pyserial exactly as it would open
``/dev/ttyACM0``; the emulator answers BGAPI commands (end_procedure, disconnect, discover,
connect_direct, read_by_handle, attribute_write, get_connections) and, once the EMG
notifications are enabled and raw mode is set, streams a real recording at 200 Hz as attribute
value events on the four EMG handles in round-robin order (IMU at 50 Hz when enabled).

The armband's clock runs from ``start()``: packet ``k`` (samples ``2k``, ``2k+1`` of the looped
recording) is due at ``t0 + k × 10 ms`` whether or not it can be delivered, so a link drop loses
exactly the packets due while disconnected, as a real armband would. Every delivered packet is
logged (``sent``) so tests can prove what arrived and what was lost.

Faults: ``drop_link()``, ``late_burst(seconds)``, ``garbage(data)``, ``stall(seconds)``,
``lose_packets(n)``; ``pause()`` ends the stream without a fault so a test can drain it.
"""

from __future__ import annotations

import logging
import os
import select
import struct
import threading
import time
import tty

import numpy as np

from myoxai.sources import bgapi
from myoxai.sources import myo_protocol as myo
from myoxai.sources.base import local_clock

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = bytes([0x5D, 0x29, 0x37, 0xF5, 0x52, 0xC2])
FIRMWARE = (1, 5, 1970, 2)


class Bled112Emulator:
    """Pseudo-terminal BLED112 + Myo.

    Parameters
    ----------
    samples:
        (n, 8) int-valued EMG to stream (looped); default: the bundled recording.
    readvertise_s:
        Delay after a link drop before the armband can be connected again.
    battery:
        Battery level (%) answered to reads of the battery handle.
    """

    def __init__(self, samples: np.ndarray | None = None, address: bytes = DEFAULT_ADDRESS,
                 readvertise_s: float = 0.1, battery: int = 87) -> None:
        if samples is None:
            from myoxai.io.open import BUNDLED_RECORDING
            from myoxai.io.xdf import read_recording

            samples = read_recording(BUNDLED_RECORDING).samples
        self.samples = np.clip(np.round(np.asarray(samples)), -128, 127).astype(np.int8)
        self.address = address
        self.readvertise_s = readvertise_s
        self.battery = battery
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo: the driver's commands must not come back as data
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._framer = bgapi.Framer(commands=True)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # armband / dongle state
        self.connected = False
        self._emg_notify = [False] * 4
        self._imu_notify = False
        self._emg_mode = myo.EMG_NONE
        self._imu_mode = myo.IMU_NONE
        self.never_sleep = False
        self._scanning = False
        self._connect_pending = False
        self._advertise_at = 0.0
        self._next_scan = 0.0
        self._t0 = 0.0
        self._k = 0  # next packet number due
        # faults
        self._late_until = 0.0
        self._held: list[bytes] = []
        self._stall_until = 0.0
        self._skip = 0
        self._pending_out: list[bytes] = []
        self._paused = False
        # evidence for tests and benchmarks
        self.sent: list[tuple[int, float]] = []  # (first global sample index of the packet, local_clock at write)
        self.drops: list[float] = []  # local_clock of each injected link drop
        self.commands: list[tuple[int, int]] = []
        self.overflow_bytes = 0
        self.connections = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Bled112Emulator:
        """Start sending on the pseudo-terminal from a background thread; returns self."""
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="bled112-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and close the pseudo-terminal."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> Bled112Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ------------------------------------------------------------------------------
    def drop_link(self) -> None:
        """The armband goes out of range: a disconnected event, streaming stops, re-advertises later."""
        with self._lock:
            if self.connected:
                self._disconnect(reason=0x0208)  # supervision timeout
                self.drops.append(local_clock())

    def late_burst(self, seconds: float) -> None:
        """Hold every packet for ``seconds`` and then deliver them all at once (nothing is lost)."""
        with self._lock:
            self._late_until = time.monotonic() + seconds

    def garbage(self, data: bytes) -> None:
        """Write ``data`` between two packets (line noise, a half-written packet)."""
        with self._lock:
            self._pending_out.append(bytes(data))

    def stall(self, seconds: float) -> None:
        """The port stops moving bytes both ways; packets due meanwhile are lost in the dongle."""
        with self._lock:
            self._stall_until = time.monotonic() + seconds

    def lose_packets(self, n: int) -> None:
        """Lose the next ``n`` EMG packets over the air (the link stays up)."""
        with self._lock:
            self._skip += n

    def pause(self) -> None:
        """The armband stops sending (the link stays up); lets tests drain everything that was sent."""
        with self._lock:
            self._paused = True

    def delivered_truth(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every sample written so far: global sample index, its values (n, 8) and the write time."""
        with self._lock:
            sent = [(g, t) for g, t in self.sent if t != 0.0]
        g = np.array([g + j for g, _ in sent for j in (0, 1)], dtype=np.int64)
        t = np.array([t for _, t in sent for _ in (0, 1)], dtype=np.float64)
        return g, self.samples[g % len(self.samples)].astype(np.float32), t

    @property
    def streaming(self) -> bool:
        """Whether a driver has connected and enabled raw EMG on all four characteristics."""
        with self._lock:
            return self.connected and all(self._emg_notify) and self._emg_mode == myo.EMG_RAW

    # -- the loop ----------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        try:
            n = os.write(self._master, data)
        except BlockingIOError:
            n = 0
        except OSError:
            return  # pty closed while stopping
        if n < len(data):
            self.overflow_bytes += len(data) - n  # a real dongle drops what the host does not read

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            if now < self._stall_until:
                time.sleep(min(0.01, self._stall_until - now))
                with self._lock:
                    self._k = max(self._k, int((time.monotonic() - self._t0) / myo.PACKET_PERIOD))
                continue
            due = self._t0 + self._k * myo.PACKET_PERIOD
            try:
                ready, _, _ = select.select([self._master], [], [], max(0.0, min(due - now, 0.01)))
            except (OSError, ValueError):
                return
            with self._lock:
                if ready:
                    try:
                        data = os.read(self._master, 4096)
                    except (BlockingIOError, OSError):
                        data = b""
                    for p in self._framer.feed(data):
                        if p.type == bgapi.RESPONSE:
                            self._command(p)
                for extra in self._pending_out:
                    self._write(extra)
                self._pending_out.clear()
                self._tick(time.monotonic())

    def _tick(self, now: float) -> None:
        if self._scanning and now >= self._next_scan and now >= self._advertise_at:
            self._next_scan = now + 0.05
            adv = bytes([0x02, 0x01, 0x06, 0x11, 0x06]) + myo.ADVERTISED_SERVICE  # AD type 06: 128-bit UUIDs
            self._write(bgapi.event(bgapi.EVT_GAP_SCAN_RESPONSE, struct.pack("<bB6sBBB", -60, 0, self.address, 0, 0xFF,
                                                                            len(adv)) + adv))
        if self._connect_pending and now >= self._advertise_at:
            self._connect_pending = False
            self.connected = True
            self.connections += 1
            self._write(bgapi.event(bgapi.EVT_CONNECTION_STATUS, struct.pack("<BB6sBHHHB", 0, 0x05, self.address, 0,
                                                                             6, 64, 0, 0xFF)))
        out = []
        while self._t0 + self._k * myo.PACKET_PERIOD <= now:
            k = self._k
            self._k += 1
            if not (self.connected and self._emg_notify[k % 4] and self._emg_mode == myo.EMG_RAW):
                continue
            if self._paused:
                continue
            if self._skip:
                self._skip -= 1
                continue
            i = (2 * k) % len(self.samples)
            pair = np.stack([self.samples[i], self.samples[(i + 1) % len(self.samples)]])
            value = pair.tobytes()
            out.append(bgapi.event(bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE,
                                   struct.pack("<BHBB", 0, myo.EMG_HANDLES[k % 4], 1, 16) + value))
            self.sent.append((2 * k, 0.0))
            if k % 2 == 0 and self._imu_notify and self._imu_mode == myo.IMU_DATA:
                phase = 2 * np.pi * k * myo.PACKET_PERIOD
                imu = np.array([16384, 0, 0, 0, 0, 0, 2048, 0, 0, 0], dtype=np.int16)
                imu[7:] = (160 * np.sin([phase, phase + 1, phase + 2])).astype(np.int16)
                out.append(bgapi.event(bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE,
                                       struct.pack("<BHBB", 0, myo.H_IMU, 1, 20) + imu.astype("<i2").tobytes()))
        if now < self._late_until:
            self._held.extend(out)
            return
        out = self._held + out
        self._held = []
        if out:
            stamp = local_clock()
            self._write(b"".join(out))
            # stamp the packets just written (they were appended with 0.0 above)
            for j in range(len(self.sent) - 1, -1, -1):
                if self.sent[j][1] != 0.0:
                    break
                self.sent[j] = (self.sent[j][0], stamp)

    # -- BGAPI commands ----------------------------------------------------------------------
    def _disconnect(self, reason: int) -> None:
        self.connected = False
        self._emg_notify = [False] * 4
        self._imu_notify = False
        self._emg_mode = myo.EMG_NONE
        self._imu_mode = myo.IMU_NONE
        while self.sent and self.sent[-1][1] == 0.0:  # held packets die with the link
            self.sent.pop()
        self._held = []
        self._advertise_at = time.monotonic() + self.readvertise_s
        self._write(bgapi.event(bgapi.EVT_CONNECTION_DISCONNECTED, struct.pack("<BH", 0, reason)))

    def _command(self, p: bgapi.Packet) -> None:
        self.commands.append(p.key)
        ok = struct.pack("<H", 0)
        if p.key == bgapi.GAP_END_PROCEDURE:
            self._scanning = self._connect_pending = False
            self._write(bgapi.response(p.key, ok))
        elif p.key == bgapi.CONNECTION_DISCONNECT:
            conn = p.payload[0]
            if conn == 0 and self.connected:
                self._write(bgapi.response(p.key, bytes([conn]) + ok))
                self._disconnect(reason=0x0216)  # connection terminated by local host
            else:
                self._write(bgapi.response(p.key, bytes([conn]) + struct.pack("<H", 0x0186)))  # not connected
        elif p.key == bgapi.GAP_DISCOVER:
            self._scanning = True
            self._next_scan = 0.0
            self._write(bgapi.response(p.key, ok))
        elif p.key == bgapi.GAP_CONNECT_DIRECT:
            if p.payload[:6] != self.address:
                self._write(bgapi.response(p.key, ok + b"\x00"))  # a real dongle waits forever for a wrong address
                return
            self._connect_pending = True
            self._write(bgapi.response(p.key, ok + b"\x00"))
        elif p.key == bgapi.ATTCLIENT_READ_BY_HANDLE:
            conn, handle = struct.unpack("<BH", p.payload[:3])
            if not self.connected:
                self._write(bgapi.response(p.key, bytes([conn]) + struct.pack("<H", 0x0186)))
                return
            self._write(bgapi.response(p.key, bytes([conn]) + ok))
            value = {myo.H_FIRMWARE: struct.pack("<4H", *FIRMWARE), myo.H_NAME: b"Myo",
                     myo.H_BATTERY: bytes([self.battery])}.get(handle, b"")
            self._write(bgapi.event(bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE,
                                    struct.pack("<BHBB", conn, handle, 0, len(value)) + value))
        elif p.key == bgapi.ATTCLIENT_ATTRIBUTE_WRITE:
            conn, handle, n = struct.unpack("<BHB", p.payload[:4])
            value = p.payload[4:4 + n]
            if not self.connected:
                self._write(bgapi.response(p.key, bytes([conn]) + struct.pack("<H", 0x0186)))
                return
            self._write(bgapi.response(p.key, bytes([conn]) + ok))
            self._apply_write(handle, value)
            self._write(bgapi.event(bgapi.EVT_ATTCLIENT_PROCEDURE_COMPLETED, struct.pack("<BHH", conn, 0, handle)))
        elif p.key == bgapi.SYSTEM_GET_CONNECTIONS:
            self._write(bgapi.response(p.key, b"\x03"))
        else:
            log.debug("emulator: unhandled command %s", p)

    def _apply_write(self, handle: int, value: bytes) -> None:
        on = value[:1] in (b"\x01", b"\x02")
        if handle in myo.EMG_CCCDS:
            self._emg_notify[myo.EMG_CCCDS.index(handle)] = on
        elif handle == myo.H_IMU_CCCD:
            self._imu_notify = on
        elif handle == myo.H_COMMAND and len(value) == 5 and value[:2] == b"\x01\x03":
            self._emg_mode, self._imu_mode = value[2], value[3]
        elif handle == myo.H_COMMAND and value == myo.NEVER_SLEEP:
            self.never_sleep = True


def check_delivery(emu: Bled112Emulator, chunks: list, tol: int = 4) -> dict[str, int]:
    """Prove a driver delivered what ``emu`` wrote; the true number of gaps and lost samples.

    Every sample once, in order, with its values; every real hole reported as a gap of about the
    right size (± ``tol`` samples); no gap reported where nothing was missing. Raises
    AssertionError otherwise.
    """
    g, truth, _ = emu.delivered_truth()
    x = np.concatenate([c.samples for c in chunks])
    seq = np.concatenate([c.seq for c in chunks])
    if len(x) != len(g):
        raise AssertionError(f"{len(g)} samples written, {len(x)} delivered")
    if not np.array_equal(x, truth):
        raise AssertionError(f"values differ at {np.flatnonzero(np.any(x != truth, axis=1))[:10]}")
    true_gap, seen_gap = np.diff(g) - 1, np.diff(seq) - 1
    bad = np.flatnonzero(((true_gap > 0) != (seen_gap > 0)) | (np.abs(true_gap - seen_gap) > tol))
    if bad.size:
        raise AssertionError(f"gaps disagree at {bad[:10]}: true {true_gap[bad[:10]]}, reported {seen_gap[bad[:10]]}")
    return {"gaps": int(np.sum(true_gap > 0)), "lost": int(true_gap.sum())}
