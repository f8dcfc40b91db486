"""The native-BLE Myo source at the bleak client boundary: a fake client delivers real EMG notifications
(round-robin over the four characteristics, 200 Hz) and can drop the link or lose packets."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from myoxai.sources import myo_protocol as myo
from myoxai.sources.ble import MyoBleSource


class FakeMyo:
    """The armband's side: a clock-driven packet counter shared by successive fake clients."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = np.clip(samples, -128, 127).astype(np.int8)
        self.t0 = time.monotonic()
        self.sent: list[int] = []  # global sample index of the first sample of every delivered packet
        self.skip = 0
        self.clients: list[FakeClient] = []
        self.writes: list[bytes] = []


class FakeClient:
    """Implements the BleakClient methods MyoBleSource uses."""

    def __init__(self, myo_: FakeMyo, address: str, disconnected_callback) -> None:
        self.myo, self.address, self._on_lost = myo_, address, disconnected_callback
        self.is_connected = False
        self.handlers: dict[str, object] = {}
        self.mode = b""
        self._task: asyncio.Task | None = None
        myo_.clients.append(self)

    async def connect(self) -> bool:
        await asyncio.sleep(0.01)
        self.is_connected = True
        self._task = asyncio.get_running_loop().create_task(self._stream())
        return True

    async def start_notify(self, uuid, callback) -> None:
        self.handlers[uuid] = callback

    async def write_gatt_char(self, uuid, data, response=None) -> None:
        assert uuid == myo.COMMAND_UUID
        self.myo.writes.append(bytes(data))
        if bytes(data[:2]) == b"\x01\x03":
            self.mode = bytes(data)

    async def read_gatt_char(self, uuid) -> bytearray:
        assert uuid == myo.BATTERY_UUID
        return bytearray([64])

    async def disconnect(self) -> bool:
        self.is_connected = False
        if self._task:
            self._task.cancel()
        return True

    def drop(self) -> None:
        """Out of range: bleak calls the disconnected callback; nothing more arrives."""
        self.is_connected = False
        if self._task:
            self._task.get_loop().call_soon_threadsafe(self._task.cancel)
            self._task.get_loop().call_soon_threadsafe(self._on_lost, self)

    async def _stream(self) -> None:
        m = self.myo
        k = int((time.monotonic() - m.t0) / myo.PACKET_PERIOD)
        while self.is_connected:
            while m.t0 + k * myo.PACKET_PERIOD <= time.monotonic():
                if self.mode[2:3] == bytes([myo.EMG_RAW]) and self.is_connected:
                    if m.skip:
                        m.skip -= 1
                    else:
                        i = (2 * k) % len(m.samples)
                        value = bytearray(m.samples[[i, (i + 1) % len(m.samples)]].tobytes())
                        m.sent.append(2 * k)
                        self.handlers[myo.EMG_UUIDS[k % 4]](None, value)
                k += 1
            await asyncio.sleep(0.004)


@pytest.mark.timeout(60)
@pytest.mark.slow
def test_ble_source_streams_detects_loss_and_reconnects(bundled):
    fake = FakeMyo(bundled.samples[:4000])
    src = MyoBleSource(address="AA:BB:CC:DD:EE:FF", client_factory=lambda a, cb: FakeClient(fake, a, cb))
    src.start()
    chunks = []

    def until(cond, limit=15.0):
        end = time.monotonic() + limit
        while not cond() and time.monotonic() < end:
            chunks.extend(src.read(0.1))

    until(lambda: src.status().samples_received >= 200)
    fake.skip = 2  # two packets lost over the air
    until(lambda: src.status().samples_received >= 400)
    fake.clients[-1].drop()
    until(lambda: src.status().reconnects >= 1 and src.status().samples_received >= 700)
    st = src.status()
    src.stop()
    chunks.extend(src.read(0.1))
    assert st.battery == 64 and st.error is None
    assert len(fake.clients) >= 2
    assert myo.NEVER_SLEEP in fake.writes and myo.set_mode(myo.EMG_RAW) in fake.writes
    x = np.concatenate([c.samples for c in chunks])
    seq = np.concatenate([c.seq for c in chunks])
    g = np.array([s + j for s in fake.sent for j in (0, 1)])[:len(x)]
    np.testing.assert_array_equal(x, fake.samples[g % len(fake.samples)].astype(np.float32))
    true_gap, seen_gap = np.diff(g) - 1, np.diff(seq) - 1
    assert np.all(seen_gap[true_gap > 0] > 0)  # every real hole is marked …
    assert np.count_nonzero(seen_gap) == 2  # … and only the packet loss and the link drop are
    assert np.all(np.abs(true_gap - seen_gap) <= 4)  # link-drop sizes are timestamp estimates
    reasons = [gp.reason for gp in st.gaps]
    assert reasons.count("packet-loss") == 1 and reasons.count("link-drop") == 1
    assert [gp.n_missing for gp in st.gaps if gp.reason == "packet-loss"] == [4]
