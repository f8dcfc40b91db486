"""The Myo through a BLED112 USB dongle: myoxai's own small BGAPI client (pyserial, one thread).

Why not pyomyo: as published (0.0.5) its default mode never enables EMG, it re-dispatches events
while a command waits (every sample twice), its loops never time out and it flushes serial input
silently. Here one thread owns the port: it reads, frames (``bgapi.Framer``), decodes EMG at once
and keeps every other packet for the command that waits for it — each packet is handled exactly
once. Every wait has a timeout; a lost link or a silent port leads to an automatic reconnect whose
gap is measured and reported; the stream goes on.
"""

from __future__ import annotations

import collections
import logging
import struct
import threading
import time

from myoxai.errors import MyoxaiError
from myoxai.sources import bgapi
from myoxai.sources import myo_protocol as myo
from myoxai.sources.base import local_clock

log = logging.getLogger(__name__)

BLED112_VID_PID = (0x2458, 0x0001)


class LinkLost(Exception):
    """The connection to the armband (or the port) went away; the acquisition loop reconnects."""


def find_dongle() -> str:
    """The serial port of the first BLED112 (USB 2458:0001)."""
    from serial.tools.list_ports import comports

    for p in comports():
        if (p.vid, p.pid) == BLED112_VID_PID:
            return p.device
    raise MyoxaiError("no BLED112 dongle found (USB 2458:0001); plug it in, or pass its port as --source myo:PORT "
                      "(on Linux add yourself to the 'dialout' group to open /dev/ttyACM*)")


class MyoBled112Source(myo.MyoEmgSource):
    """Raw 200 Hz EMG (and optionally IMU) from a Myo through a BLED112.

    Parameters
    ----------
    port:
        Serial port (``/dev/ttyACM0``, ``COM3``); None = find the dongle by USB id.
    address:
        Armband address (6 bytes as sent over the air); None = the first Myo found by scanning.
    imu:
        Also stream the IMU (50 Hz) — read it with ``read_imu()``.
    timeout:
        Seconds to wait for any one response or event.
    watchdog_s:
        Silence while connected after which the link is treated as lost and re-established.
    """

    name = "myo-bled112"

    def __init__(self, port: str | None = None, address: bytes | None = None, imu: bool = False,
                 timeout: float = 1.0, watchdog_s: float = 1.0, scan_timeout: float = 10.0,
                 queue_chunks: int = 2000) -> None:
        super().__init__(queue_chunks=queue_chunks)
        self.port, self.address, self.imu = port, address, imu
        self.timeout, self.watchdog_s, self.scan_timeout = timeout, watchdog_s, scan_timeout
        self._ser = None
        self._framer = bgapi.Framer()
        self._pending: collections.deque[bgapi.Packet] = collections.deque()
        self._conn: int | None = None
        self._last_data = 0.0

    # -- port --------------------------------------------------------------------------------
    def _open(self) -> None:
        import serial

        port = self.port or find_dongle()
        try:
            self._ser = serial.Serial(port, 115200, timeout=0.02, write_timeout=self.timeout)
        except (serial.SerialException, OSError) as exc:
            raise MyoxaiError(f"cannot open {port}: {exc}; check the dongle is plugged in and that you may use "
                              "the port (Linux: sudo usermod -aG dialout $USER, then log in again)") from None
        self._set(info={**self.status().info, "port": port})

    def _close_port(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            except OSError as exc:
                log.warning("closing %s: %s", self.port, exc)
            self._ser = None

    def _send(self, key: tuple[int, int], payload: bytes = b"") -> None:
        import serial

        try:
            self._ser.write(bgapi.command(key, payload))
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"write failed: {exc}") from None

    def _pump(self, wait: float) -> None:
        """Read what the port has (waiting up to ``wait`` for the first byte) and dispatch it."""
        import serial

        try:
            self._ser.timeout = wait
            data = self._ser.read(1)
            if data and self._ser.in_waiting:
                data += self._ser.read(self._ser.in_waiting)
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"read failed: {exc}") from None
        if not data:
            return
        arrival = local_clock()
        emg: list[tuple[int, bytes]] = []
        for p in self._framer.feed(data):
            if p.type == bgapi.EVENT and p.key == bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE:
                conn, handle, value = bgapi.attribute_value(p)
                if handle in myo.EMG_HANDLES and len(value) == 16:
                    if conn == self._conn:
                        emg.append((myo.EMG_HANDLES.index(handle), value))
                    # else: data of a link we already gave up; the reconnect gap estimate covers it
                    continue
                if handle == myo.H_IMU and len(value) == 20:
                    self._push_imu(value, arrival)
                    continue
                if handle == myo.H_BATTERY and len(value) == 1:
                    self._set(battery=value[0])
            self._pending.append(p)
        self._set(garbage_bytes=self._framer.garbage)
        if emg:
            self._last_data = time.monotonic()
            self._deliver(emg, arrival)

    # -- commands ----------------------------------------------------------------------------
    def _take(self, type_: int, key: tuple[int, int], match=None) -> bgapi.Packet | None:
        for p in self._pending:
            if p.type == type_ and p.key == key and (match is None or match(p)):
                self._pending.remove(p)
                return p
        return None

    def _wait(self, type_: int, key: tuple[int, int], match=None, timeout: float | None = None) -> bgapi.Packet:
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            p = self._take(type_, key, match)
            if p is not None:
                return p
            if self._take(bgapi.EVENT, bgapi.EVT_CONNECTION_DISCONNECTED) is not None and self._conn is not None:
                raise LinkLost("armband disconnected")
            left = end - time.monotonic()
            if left <= 0 or self._stop.is_set():
                raise LinkLost(f"no answer to {key} within {self.timeout if timeout is None else timeout:.1f} s")
            self._pump(min(left, 0.05))

    def _command(self, key: tuple[int, int], payload: bytes = b"") -> bgapi.Packet:
        while self._take(bgapi.RESPONSE, key) is not None:  # a stale answer to an earlier, timed-out command
            log.debug("discarding stale response %s", key)
        self._send(key, payload)
        return self._wait(bgapi.RESPONSE, key)

    def _write_attr(self, handle: int, value: bytes) -> None:
        r = self._command(bgapi.ATTCLIENT_ATTRIBUTE_WRITE, bgapi.write_payload(self._conn, handle, value))
        if bgapi.result_of(r, 1):
            raise LinkLost(f"write to handle {handle:#x} refused (BGAPI result {bgapi.result_of(r, 1):#06x})")
        self._wait(bgapi.EVENT, bgapi.EVT_ATTCLIENT_PROCEDURE_COMPLETED,
                   lambda p: struct.unpack_from("<H", p.payload, 3)[0] == handle)

    def _read_attr(self, handle: int) -> bytes:
        r = self._command(bgapi.ATTCLIENT_READ_BY_HANDLE, bgapi.read_payload(self._conn, handle))
        if bgapi.result_of(r, 1):
            raise LinkLost(f"read of handle {handle:#x} refused (BGAPI result {bgapi.result_of(r, 1):#06x})")
        p = self._wait(bgapi.EVENT, bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE,
                       lambda p: bgapi.attribute_value(p)[1] == handle)
        return bgapi.attribute_value(p)[2]

    def _scan(self) -> tuple[bytes, int]:
        self._command(bgapi.GAP_DISCOVER, b"\x01")
        try:
            p = self._wait(bgapi.EVENT, bgapi.EVT_GAP_SCAN_RESPONSE,
                           lambda p: p.payload.endswith(myo.ADVERTISED_SERVICE), timeout=self.scan_timeout)
        except LinkLost:
            raise LinkLost(f"no Myo advertising within {self.scan_timeout:.0f} s (is it awake and not connected "
                           "to another host?)") from None
        finally:
            self._command(bgapi.GAP_END_PROCEDURE)
        return bytes(p.payload[2:8]), p.payload[8]

    def _connect(self) -> None:
        """Bring up the link and the raw-EMG stream (from any dongle state)."""
        self._conn = None
        self._command(bgapi.GAP_END_PROCEDURE)
        for c in range(3):
            self._command(bgapi.CONNECTION_DISCONNECT, bytes([c]))
        self._pump(0.02)
        self._pending.clear()  # control packets of the old connection only; EMG was decoded already
        address, addr_type = (self.address, 0) if self.address is not None else self._scan()
        r = self._command(bgapi.GAP_CONNECT_DIRECT, bgapi.connect_direct_payload(address, addr_type))
        if bgapi.result_of(r):
            raise LinkLost(f"connect refused (BGAPI result {bgapi.result_of(r):#06x})")
        conn = r.payload[2]
        try:
            self._wait(bgapi.EVENT, bgapi.EVT_CONNECTION_STATUS, lambda p: p.payload[0] == conn,
                       timeout=2 * self.timeout)
        except LinkLost:
            self._command(bgapi.GAP_END_PROCEDURE)  # cancel the pending connection attempt
            raise
        self._conn, self.address = conn, address
        fw = self._read_attr(myo.H_FIRMWARE)
        if len(fw) >= 8:
            self._set(info={**self.status().info, "firmware": ".".join(map(str, struct.unpack("<4H", fw[:8]))),
                            "address": address[::-1].hex(":")})
        for h in myo.EMG_CCCDS:
            self._write_attr(h, myo.NOTIFY_ON)
        if self.imu:
            self._write_attr(myo.H_IMU_CCCD, myo.NOTIFY_ON)
        self._write_attr(myo.H_COMMAND, myo.set_mode(myo.EMG_RAW, myo.IMU_DATA if self.imu else myo.IMU_NONE))
        self._write_attr(myo.H_COMMAND, myo.NEVER_SLEEP)
        self._write_attr(myo.H_BATTERY_CCCD, myo.NOTIFY_ON)
        battery = self._read_attr(myo.H_BATTERY)
        self._set(battery=battery[0] if battery else None, connected=True, state="streaming")
        self._last_data = time.monotonic()

    # -- acquisition loop --------------------------------------------------------------------
    def _acquire(self, stop: threading.Event) -> None:
        self._open()
        backoff = 0.05
        try:
            while not stop.is_set():
                try:
                    if self._ser is None:
                        self._open()
                    if self._conn is None:
                        self._connect()
                        backoff = 0.05
                    self._pump(0.05)
                    if self._take(bgapi.EVENT, bgapi.EVT_CONNECTION_DISCONNECTED) is not None:
                        raise LinkLost("armband disconnected")
                    self._pending.clear()  # nothing waits for control packets while streaming
                    if time.monotonic() - self._last_data > self.watchdog_s:
                        raise LinkLost(f"no data for {self.watchdog_s:.1f} s")
                except LinkLost as exc:
                    self._link_lost(str(exc))
                    stop.wait(backoff)
                    backoff = min(2 * backoff, 1.0)
                except MyoxaiError as exc:  # port vanished (unplugged): keep trying to reopen it
                    if self._ser is None and self.status().samples_received == 0:
                        raise
                    log.warning("%s", exc)
                    stop.wait(1.0)
        finally:
            self._shutdown()

    def _link_lost(self, why: str) -> None:
        if self._conn is not None or self._lost_at is None:
            log.warning("%s: link lost (%s); reconnecting", self.name, why)
        self._mark_link_lost()
        if self._conn is not None:
            try:
                self._send(bgapi.CONNECTION_DISCONNECT, bytes([self._conn]))
            except LinkLost:
                pass
        self._conn = None
        if "read failed" in why or "write failed" in why:
            self._close_port()

    def _shutdown(self) -> None:
        """Best effort, no waiting: EMG off and disconnect, so the armband can sleep again."""
        if self._ser is not None and self._conn is not None:
            try:
                self._send(bgapi.ATTCLIENT_ATTRIBUTE_WRITE, bgapi.write_payload(
                    self._conn, myo.H_COMMAND, myo.set_mode(myo.EMG_NONE, myo.IMU_NONE)))
                self._send(bgapi.CONNECTION_DISCONNECT, bytes([self._conn]))
            except LinkLost as exc:
                log.info("%s: could not disconnect cleanly: %s", self.name, exc)
        self._conn = None
        self._close_port()
