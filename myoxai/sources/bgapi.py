"""BGAPI framing for the BLED112 dongle: encode commands, split a byte stream into packets, resync on garbage.

Why hand-written: no maintained Python BGAPI package fits (pygatt's BGAPI backend pulls its own
threads and retries); the driver needs ~8 packet kinds, so a small framer with strict validation is
simpler to trust. Packet: ``[type|len_hi, len_lo, class, command, payload…]``, little-endian,
type 0x00 = command/response, 0x80 = event.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

RESPONSE, EVENT = 0x00, 0x80

# (class, command) pairs the driver uses
SYSTEM_GET_CONNECTIONS = (0, 6)
CONNECTION_DISCONNECT = (3, 0)
EVT_CONNECTION_STATUS = (3, 0)
EVT_CONNECTION_DISCONNECTED = (3, 4)
ATTCLIENT_READ_BY_HANDLE = (4, 4)
ATTCLIENT_ATTRIBUTE_WRITE = (4, 5)
EVT_ATTCLIENT_PROCEDURE_COMPLETED = (4, 1)
EVT_ATTCLIENT_ATTRIBUTE_VALUE = (4, 5)
GAP_DISCOVER = (6, 2)
GAP_CONNECT_DIRECT = (6, 3)
GAP_END_PROCEDURE = (6, 4)
EVT_GAP_SCAN_RESPONSE = (6, 0)

MAX_PAYLOAD = 64  # BLED112 packets stay far below this; anything longer is garbage


@dataclass(frozen=True)
class Packet:
    """One BGAPI packet."""

    type: int
    cls: int
    cmd: int
    payload: bytes

    @property
    def key(self) -> tuple[int, int]:
        """(class, command): what responses and events are dispatched on."""
        return (self.cls, self.cmd)

    def encode(self) -> bytes:
        """The packet's bytes on the wire."""
        n = len(self.payload)
        return bytes([self.type | (n >> 8), n & 0xFF, self.cls, self.cmd]) + self.payload


def command(key: tuple[int, int], payload: bytes = b"") -> bytes:
    """Bytes of a command packet."""
    return Packet(RESPONSE, key[0], key[1], payload).encode()


def event(key: tuple[int, int], payload: bytes) -> bytes:
    """Bytes of an event packet (used by the emulator)."""
    return Packet(EVENT, key[0], key[1], payload).encode()


def response(key: tuple[int, int], payload: bytes) -> bytes:
    """Bytes of a response packet (used by the emulator)."""
    return Packet(RESPONSE, key[0], key[1], payload).encode()


# payload lengths of the responses the driver waits for
_RESPONSE_LEN = {GAP_END_PROCEDURE: 2, CONNECTION_DISCONNECT: 3, GAP_DISCOVER: 2, GAP_CONNECT_DIRECT: 3,
                 ATTCLIENT_READ_BY_HANDLE: 3, ATTCLIENT_ATTRIBUTE_WRITE: 3, SYSTEM_GET_CONNECTIONS: 1}


def _plausible(p: Packet, commands: bool) -> bool:
    """Structural checks that reject almost every header formed by garbage bytes."""
    if p.cls > 8:
        return False
    if p.type == RESPONSE and not commands and p.key in _RESPONSE_LEN:
        return len(p.payload) == _RESPONSE_LEN[p.key]
    if p.type == EVENT and p.key == EVT_ATTCLIENT_ATTRIBUTE_VALUE:
        return len(p.payload) >= 5 and p.payload[4] == len(p.payload) - 5
    if p.type == EVENT and p.key == EVT_ATTCLIENT_PROCEDURE_COMPLETED:
        return len(p.payload) == 5
    if p.type == EVENT and p.key == EVT_CONNECTION_DISCONNECTED:
        return len(p.payload) == 3
    if p.type == EVENT and p.key == EVT_CONNECTION_STATUS:
        return len(p.payload) == 16
    if p.type == EVENT and p.key == EVT_GAP_SCAN_RESPONSE:
        return len(p.payload) >= 11 and p.payload[10] == len(p.payload) - 11
    return True


class Framer:
    """Incremental BGAPI parser: feed bytes, get whole packets; skips garbage one byte at a time.

    ``commands=True`` parses the host-to-dongle direction (type 0x00 packets are commands, whose
    payloads differ from the responses'); the emulator uses it.
    """

    def __init__(self, commands: bool = False) -> None:
        self.commands = commands
        self._buf = bytearray()
        self.garbage = 0  # bytes discarded while resynchronising

    def feed(self, data: bytes) -> list[Packet]:
        """The whole packets completed by ``data`` (partial ones wait for the next call)."""
        self._buf += data
        out: list[Packet] = []
        buf = self._buf
        i = 0
        while len(buf) - i >= 4:
            t = buf[i]
            if t not in (RESPONSE, EVENT):  # BLE (not Wi-Fi) packets with payload < 256 bytes
                i += 1
                self.garbage += 1
                continue
            n = buf[i + 1]
            if n > MAX_PAYLOAD:
                i += 1
                self.garbage += 1
                continue
            if len(buf) - i < 4 + n:
                break
            p = Packet(t & 0x80, buf[i + 2], buf[i + 3], bytes(buf[i + 4:i + 4 + n]))
            if not _plausible(p, self.commands):
                i += 1
                self.garbage += 1
                continue
            out.append(p)
            i += 4 + n
        del buf[:i]
        return out


def attribute_value(p: Packet) -> tuple[int, int, bytes]:
    """(connection, attribute handle, value) of an attribute_value event."""
    conn, handle, _typ, n = struct.unpack_from("<BHBB", p.payload)
    return conn, handle, p.payload[5:5 + n]


def connect_direct_payload(address: bytes, addr_type: int = 0) -> bytes:
    """connect_direct(address, type, interval min/max 7.5 ms, supervision timeout 640 ms, latency 0)."""
    return address + struct.pack("<BHHHH", addr_type, 6, 6, 64, 0)


def write_payload(conn: int, handle: int, value: bytes) -> bytes:
    """Payload of attclient_attribute_write: write ``value`` to ``handle``."""
    return struct.pack("<BHB", conn, handle, len(value)) + value


def read_payload(conn: int, handle: int) -> bytes:
    """Payload of attclient_read_by_handle: read ``handle``."""
    return struct.pack("<BH", conn, handle)


def result_of(p: Packet, offset: int = 0) -> int:
    """The u16 result code of a response at ``offset`` (0 = success)."""
    return struct.unpack_from("<H", p.payload, offset)[0] if len(p.payload) >= offset + 2 else 0xFFFF
