"""The Myo over the computer's own Bluetooth (bleak), without a dongle.

Same ``Source`` as the BLED112 path and the same decoding (``MyoEmgSource``): bleak hands us each
EMG notification with its characteristic, which is all the round-robin loss detection needs. The
asyncio loop runs inside the acquisition thread; a lost link is re-established automatically.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from myoxai.errors import MyoxaiError
from myoxai.sources import myo_protocol as myo
from myoxai.sources.base import local_clock

log = logging.getLogger(__name__)

CONTROL_SERVICE_UUID = myo.BASE_UUID.format(0x0001)


def _link_errors() -> tuple[type[BaseException], ...]:
    """What a failed BLE operation raises: bleak's own error plus OS/timeout errors."""
    from bleak.exc import BleakError

    return (BleakError, OSError, asyncio.TimeoutError)


def _bleak_client(address: str, disconnected_callback: Callable[[Any], None]) -> Any:
    from bleak import BleakClient

    return BleakClient(address, disconnected_callback=disconnected_callback, timeout=10.0)


async def find_myo(timeout: float = 10.0) -> str:
    """Address of the first advertising Myo."""
    from bleak import BleakScanner

    try:
        dev = await BleakScanner.find_device_by_filter(
            lambda d, adv: CONTROL_SERVICE_UUID in [u.lower() for u in adv.service_uuids], timeout=timeout)
    except _link_errors() as exc:  # no BlueZ/D-Bus, adapter off or missing
        raise MyoxaiError(f"Bluetooth is not available ({exc or type(exc).__name__}): on Linux start BlueZ "
                          "(systemctl start bluetooth) and power the adapter on (bluetoothctl power on), or use "
                          "--source myo with a BLED112 dongle") from None
    if dev is None:
        raise MyoxaiError(f"no Myo found over Bluetooth within {timeout:g} s; wake it (move it) and make sure it is "
                          "not connected to another host, or use --source myo with a BLED112 dongle")
    return dev.address


class MyoBleSource(myo.MyoEmgSource):
    """Raw 200 Hz EMG (and optionally IMU) from a Myo via bleak.

    Parameters
    ----------
    address:
        The armband's Bluetooth address (or CoreBluetooth UUID on macOS); None = scan.
    client_factory:
        ``(address, disconnected_callback) -> client`` with bleak's ``BleakClient`` methods; tests
        pass a fake here (hardware is absent), everything else is the production path.
    """

    name = "myo-ble"

    def __init__(self, address: str | None = None, imu: bool = False, watchdog_s: float = 1.0,
                 client_factory: Callable[[str, Callable[[Any], None]], Any] = _bleak_client,
                 queue_chunks: int = 2000) -> None:
        super().__init__(queue_chunks=queue_chunks)
        self.address, self.imu, self.watchdog_s = address, imu, watchdog_s
        self._factory = client_factory
        self._last_data = 0.0

    def _acquire(self, stop: threading.Event) -> None:
        asyncio.run(self._main(stop))

    async def _main(self, stop: threading.Event) -> None:
        if self.address is None:
            self.address = await find_myo()
        backoff = 0.1
        errors = _link_errors()
        while not stop.is_set():
            lost = asyncio.Event()
            client = self._factory(self.address, lambda _c, ev=lost: ev.set())
            try:
                await self._connect(client)
                backoff = 0.1
                while not stop.is_set() and not lost.is_set():
                    await asyncio.sleep(0.05)
                    if time.monotonic() - self._last_data > self.watchdog_s:
                        log.warning("%s: no data for %.1f s; reconnecting", self.name, self.watchdog_s)
                        break
            except errors as exc:
                log.warning("%s: %s; retrying in %.1f s", self.name, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(2 * backoff, 2.0)
            finally:
                if not stop.is_set():
                    self._mark_link_lost()
                await self._disconnect(client, quiet=not stop.is_set())

    async def _connect(self, client: Any) -> None:
        await client.connect()
        for i, uuid in enumerate(myo.EMG_UUIDS):
            await client.start_notify(uuid, self._emg_handler(i))
        if self.imu:
            await client.start_notify(myo.IMU_UUID, lambda _ch, data: self._push_imu(bytes(data), local_clock()))
        await client.write_gatt_char(myo.COMMAND_UUID, myo.set_mode(myo.EMG_RAW, myo.IMU_DATA if self.imu
                                                                    else myo.IMU_NONE), response=True)
        await client.write_gatt_char(myo.COMMAND_UUID, myo.NEVER_SLEEP, response=True)
        battery = await client.read_gatt_char(myo.BATTERY_UUID)
        self._last_data = time.monotonic()
        self._set(connected=True, state="streaming", battery=int(battery[0]) if battery else None,
                  info={"address": self.address})

    def _emg_handler(self, index: int) -> Callable[[Any, bytearray], None]:
        def on_emg(_characteristic: Any, data: bytearray) -> None:
            self._last_data = time.monotonic()
            if len(data) == 16:
                self._deliver([(index, bytes(data))], local_clock())
            else:
                log.warning("%s: EMG notification of %d bytes ignored (raw mode sends 16)", self.name, len(data))

        return on_emg

    async def _disconnect(self, client: Any, quiet: bool) -> None:
        try:
            if getattr(client, "is_connected", False):
                await client.write_gatt_char(myo.COMMAND_UUID, myo.set_mode(myo.EMG_NONE, myo.IMU_NONE),
                                             response=True)
                await client.disconnect()
        except _link_errors() as exc:
            (log.debug if quiet else log.info)("%s: disconnect: %s", self.name, exc)
