"""Myo armband facts and the EMG packet decoding shared by the BLED112 and native-BLE drivers.

See ``firmware_notes/`` for where each constant was established. The Myo's EMG notifications carry
no sequence counter; ``EmgAssembler`` derives loss from the round-robin order of the four EMG
characteristics (exact for 1–3 consecutive lost packets) and reports silences as stalls.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass

import numpy as np

from myoxai.config import MYO
from myoxai.sources.base import ThreadedSource, local_clock

SAMPLE_PERIOD = 1.0 / MYO.fs
PACKET_PERIOD = 2.0 / MYO.fs  # one notification = 2 samples

BASE_UUID = "d506{:04x}-a904-deb9-4748-2c7f4a124842"
COMMAND_UUID = BASE_UUID.format(0x0401)
IMU_UUID = BASE_UUID.format(0x0402)
CLASSIFIER_UUID = BASE_UUID.format(0x0103)
EMG_UUIDS = tuple(BASE_UUID.format(0x0105 + 0x100 * i) for i in range(4))
BATTERY_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
FIRMWARE_UUID = BASE_UUID.format(0x0201)
# Myo control service UUID (0x0001) as it appears, little-endian, at the end of the advertising data
ADVERTISED_SERVICE = bytes.fromhex("4248124a7f2c4847b9de04a9010006d5")

# BLED112 attribute handles (the armband's GATT table as the dongle enumerates it)
H_NAME = 0x03
H_BATTERY = 0x11
H_BATTERY_CCCD = 0x12
H_FIRMWARE = 0x17
H_COMMAND = 0x19
H_IMU = 0x1C
H_IMU_CCCD = 0x1D
H_CLASSIFIER = 0x23
H_CLASSIFIER_CCCD = 0x24
H_EMG50 = 0x27
H_EMG50_CCCD = 0x28
EMG_HANDLES = (0x2B, 0x2E, 0x31, 0x34)
EMG_CCCDS = tuple(h + 1 for h in EMG_HANDLES)

EMG_NONE, EMG_SMOOTHED_50HZ, EMG_FILTERED, EMG_RAW = 0x00, 0x01, 0x02, 0x03
IMU_NONE, IMU_DATA = 0x00, 0x01
CLASSIFIER_OFF = 0x00
NOTIFY_ON = b"\x01\x00"
NEVER_SLEEP = bytes([0x09, 0x01, 0x01])
IMU_SCALE = np.array([16384.0] * 4 + [2048.0] * 3 + [16.0] * 3)  # quaternion, accel (g), gyro (deg/s)
IMU_FS = 50.0
IMU_CHANNELS = ("qw", "qx", "qy", "qz", "ax", "ay", "az", "gx", "gy", "gz")


def set_mode(emg: int = EMG_RAW, imu: int = IMU_NONE, classifier: int = CLASSIFIER_OFF) -> bytes:
    """The command-characteristic bytes that select EMG/IMU/classifier modes."""
    return bytes([0x01, 0x03, emg, imu, classifier])


def decode_emg(value: bytes) -> np.ndarray:
    """One EMG notification (16 bytes) → (2, 8) float32, oldest sample first."""
    if len(value) != 16:
        raise ValueError(f"EMG notification must hold 16 bytes, got {len(value)}")
    return np.frombuffer(value, dtype=np.int8).reshape(2, MYO.n_channels).astype(np.float32)


def decode_imu(value: bytes) -> np.ndarray:
    """One IMU notification (20 bytes) → (10,) float64 in quaternion units, g and deg/s."""
    return np.array(struct.unpack("<10h", value), dtype=np.float64) / IMU_SCALE


@dataclass
class Decoded:
    """Samples decoded from one batch of notifications, with the loss before each packet."""

    samples: np.ndarray  # (n, 8)
    timestamps: np.ndarray  # (n,)
    missing: list[tuple[int, int]]  # (row index where the gap is, samples missing before it)


class EmgAssembler:
    """Turns EMG notifications into stamped samples and detects lost packets.

    What can be detected (no counter in the packets):

    - the four EMG characteristics notify in strict round-robin order (0,1,2,3,0,…), so a packet
      arriving on characteristic ``k`` when ``e`` was expected means ``(k - e) mod 4`` packets
      (2 samples each) were lost — exact for runs of 1–3 lost packets;
    - a run of a whole multiple of 4 lost packets keeps the order intact and is *not* detectable
      from the order; while the link stays up it shows only as a silence, which is counted as a
      stall (BLE delivers late rather than dropping, so a silence followed by a burst is normal);
    - a link drop is known to the driver, which reports the gap with its duration.

    Timestamps: samples of a batch (all packets parsed from one read) are stamped 5 ms apart
    backwards from the batch's arrival time, then clamped to be non-decreasing.
    """

    def __init__(self, stall_s: float = 0.25) -> None:
        self.expected: int | None = None
        self.last_arrival: float | None = None
        self.last_ts: float | None = None
        self.stall_s = stall_s
        self.stalls = 0

    def reset(self) -> None:
        """Forget the order (after a reconnect the first packet may come from any characteristic)."""
        self.expected = None
        self.last_arrival = None

    def decode(self, packets: list[tuple[int, bytes]], arrival: float) -> Decoded:
        """``packets``: (characteristic index 0–3, 16-byte value) in arrival order, all read at ``arrival``."""
        rows, missing = [], []
        for idx, value in packets:
            if self.expected is not None and idx != self.expected:
                missing.append((2 * len(rows), 2 * ((idx - self.expected) % 4)))
            self.expected = (idx + 1) % 4
            rows.append(decode_emg(value))
        if not rows:
            return Decoded(np.zeros((0, MYO.n_channels), np.float32), np.zeros(0), [])
        if self.last_arrival is not None and arrival - self.last_arrival > self.stall_s:
            self.stalls += 1
        self.last_arrival = arrival
        samples = np.concatenate(rows)
        ts = arrival - SAMPLE_PERIOD * np.arange(len(samples) - 1, -1, -1, dtype=np.float64)
        if self.last_ts is not None:
            ts = np.maximum(ts, self.last_ts)
        ts = np.maximum.accumulate(ts)
        self.last_ts = float(ts[-1])
        return Decoded(samples, ts, missing)


class MyoEmgSource(ThreadedSource):
    """What both Myo drivers share: decoding, loss/gap bookkeeping across reconnects, IMU buffer.

    A driver calls ``_deliver(packets, arrival)`` with the EMG notifications it read,
    ``_mark_link_lost()`` when the link goes down, and ``_push_imu(value, arrival)`` for IMU
    notifications. The gap a reconnect leaves is estimated from the timestamps on both sides of it.
    """

    fs, n_channels = MYO.fs, MYO.n_channels

    def __init__(self, queue_chunks: int = 2000) -> None:
        super().__init__(queue_chunks=queue_chunks)
        self._asm = EmgAssembler()
        self._lost_at: float | None = None  # local_clock when the link was found lost
        self._imu_lock = threading.Lock()
        self._imu: list[tuple[float, np.ndarray]] = []

    def _mark_link_lost(self) -> None:
        if self._lost_at is None and self._last_ts is not None:
            self._lost_at = local_clock()
        self._asm.reset()
        self._set(connected=False, state="reconnecting")

    def _push_imu(self, value: bytes, arrival: float) -> None:
        with self._imu_lock:
            self._imu.append((arrival, decode_imu(value)))

    def _deliver(self, packets: list[tuple[int, bytes]], arrival: float) -> None:
        d = self._asm.decode(packets, arrival)
        cut: list[tuple[int, int, str]] = []
        if self._lost_at is not None:  # first data after a reconnect: report the gap it left
            lost_at, self._lost_at = self._lost_at, None
            # The link was down, so continuity is never assumed: at least one sample is marked
            # missing even when arrival jitter makes the timestamp estimate round to zero.
            missing = 1
            if self._last_ts is not None:
                missing = max(1, int(round((d.timestamps[0] - self._last_ts) * self.fs)) - 1)
            with self._cond:
                self._status.reconnect_s.append(arrival - lost_at)
                self._status.reconnects += 1
            cut.append((0, missing, "link-drop"))
        cut += [(row, n, "packet-loss") for row, n in d.missing]
        gap_at = {r: (n, why) for r, n, why in cut}
        bounds = sorted({0, len(d.samples), *gap_at})
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            n, why = gap_at.get(a, (0, "packet-loss"))
            self._emit(d.samples[a:b], d.timestamps[a:b], missing=n, reason=why)
        self._set(stalls=self._asm.stalls)

    def read_imu(self) -> tuple[np.ndarray, np.ndarray]:
        """Drain IMU samples: (n, 10) values (``IMU_CHANNELS``) and (n,) arrival timestamps."""
        with self._imu_lock:
            got, self._imu = self._imu, []
        if not got:
            return np.zeros((0, 10)), np.zeros(0)
        return np.stack([v for _, v in got]), np.array([t for t, _ in got])
