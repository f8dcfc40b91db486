"""The BLED112 driver against the emulator: framing, loss detection, faults (garbage, late bursts, lost
packets, a stalled port) — the real pyserial / BGAPI / reconnect code path on a pseudo-terminal."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myoxai.sources import bgapi
from myoxai.sources import myo_protocol as myo
from myoxai.sources.bled112 import MyoBled112Source
from myoxai.testing.bled112_emulator import Bled112Emulator, check_delivery


def _emg_event(handle: int, value: bytes) -> bytes:
    return bgapi.event(bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE, bytes([0, handle, 0, 1, len(value)]) + value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=40), st.integers(0, 3), st.binary(min_size=16, max_size=16)),
                min_size=1, max_size=20),
       st.integers(1, 64))
def test_framer_recovers_every_packet_after_garbage(parts, split):
    """Garbage between packets (here: bytes that cannot start a header) never costs a real packet,
    however the byte stream is split into reads."""
    stream, want = b"", []
    for junk, idx, value in parts:
        junk = bytes(b for b in junk if b not in (0x00, 0x80))
        stream += junk + _emg_event(myo.EMG_HANDLES[idx], value)
        want.append(value)
    f = bgapi.Framer()
    got = []
    for i in range(0, len(stream), split):
        got += [bgapi.attribute_value(p)[2] for p in f.feed(stream[i:i + split])]
    assert got == want


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=500))
def test_framer_never_raises_on_arbitrary_bytes(data):
    f = bgapi.Framer()
    for p in f.feed(data):
        assert p.type in (0x00, 0x80) and len(p.payload) <= bgapi.MAX_PAYLOAD


def test_assembler_order_and_timestamps():
    a = myo.EmgAssembler()
    v = [bytes(range(16 * k, 16 * k + 16)) for k in range(8)]
    d = a.decode([(0, v[0]), (1, v[1])], arrival=10.0)
    assert d.missing == [] and d.samples.shape == (4, 8)
    np.testing.assert_allclose(d.timestamps, [9.985, 9.99, 9.995, 10.0])
    assert d.samples[0, 0] == 0 and d.samples[1, 0] == 8  # both samples, oldest first
    d = a.decode([(3, v[3]), (0, v[4])], arrival=10.02)  # characteristic 2 skipped = 1 packet = 2 samples lost
    assert d.missing == [(0, 2)]
    d = a.decode([(0, v[5])], arrival=10.021)  # 1,2,3 skipped: 3 packets
    assert d.missing == [(0, 6)]
    assert np.all(np.diff(d.timestamps) >= 0) and d.timestamps[0] >= 10.02  # clamped monotonic


def _collect(src: MyoBled112Source, until) -> list:
    chunks = []
    deadline = time.monotonic() + 30
    while not until() and time.monotonic() < deadline:
        chunks += src.read(0.2)
    return chunks


@pytest.mark.timeout(90)
@pytest.mark.slow
def test_faults_garbage_late_burst_lost_packets_and_stall():
    with Bled112Emulator() as emu, MyoBled112Source(port=emu.port, imu=True) as src:
        chunks = _collect(src, lambda: src.status().samples_received > 200)
        st0 = src.status()
        assert st0.connected and st0.battery == 87 and st0.info["firmware"] == "1.5.1970.2"
        assert emu.never_sleep
        emu.garbage(bytes(range(256)) + random.Random(0).randbytes(300))  # includes header-like bytes
        chunks += _collect(src, lambda: src.status().samples_received > 400)
        emu.late_burst(0.4)  # BLE delivers late, nothing lost: must not be reported as loss
        time.sleep(0.6)
        emu.lose_packets(1)
        chunks += _collect(src, lambda: src.status().samples_received > 700)
        emu.lose_packets(3)
        chunks += _collect(src, lambda: src.status().samples_received > 900)
        emu.stall(2.5)  # the port stops moving bytes: watchdog -> reconnect attempts time out -> recover
        time.sleep(2.6)
        chunks += _collect(src, lambda: src.status().reconnects >= 1 and src.status().connected)
        chunks += _collect(src, lambda: src.status().samples_received > 1600)
        emu.pause()
        time.sleep(0.3)
        chunks += src.read(0.5)
        st = src.status()
        src.stop()
        imu, imu_ts = src.read_imu()
    assert st.garbage_bytes >= 256
    assert st.stalls >= 1
    assert st.error is None
    kinds = [g.reason for g in st.gaps]
    assert kinds.count("packet-loss") == 2 and sum(g.n_missing for g in st.gaps if g.reason == "packet-loss") == 8
    assert "link-drop" in kinds  # the stall cost data: reported, not hidden
    assert st.samples_dropped == 0
    truth = check_delivery(emu, chunks)
    assert truth["gaps"] == len(st.gaps)
    assert imu.shape[1] == 10 and len(imu) > 50 and imu_ts.shape == (len(imu),) and np.all(np.diff(imu_ts) >= 0)
    np.testing.assert_allclose(imu[:, 0], 1.0)  # quaternion w = 16384/16384


@pytest.mark.timeout(60)
def test_peek_does_not_consume_and_overflow_is_counted():
    with Bled112Emulator() as emu, MyoBled112Source(port=emu.port, queue_chunks=5) as src:
        deadline = time.monotonic() + 20
        while src.status().samples_received < 400 and time.monotonic() < deadline:
            time.sleep(0.05)
        peeked, pts = src.peek(100)
        assert peeked.shape == (100, 8) and np.all(np.diff(pts) >= 0)
        chunks = src.read(0.5)
        src.stop()
        chunks += src.read(0.1)  # what arrived until the thread stopped stays readable
    st = src.status()
    assert st.samples_dropped > 0
    assert any(g.reason == "queue-overflow" for g in st.gaps)
    assert chunks[0].gap > 0  # the consumer sees where it fell behind
    assert sum(len(c) for c in chunks) + st.samples_dropped == st.samples_received


@pytest.mark.timeout(30)
def test_missing_port_is_a_clear_error():
    from myoxai.errors import MyoxaiError

    src = MyoBled112Source(port="/dev/does-not-exist-myoxai")
    src.start()
    with pytest.raises(MyoxaiError, match="cannot open"):
        for _ in range(20):
            src.read(0.5)
    src.stop()
    assert src.status().state == "error"


@pytest.mark.timeout(60)
def test_unmodified_pyomyo_reads_the_emulator():
    """Fidelity cross-check: pyomyo 0.0.5, written against real dongles, connects to the emulator and
    receives exactly the samples the emulator wrote. (pyomyo is not a dependency; skipped without it.)"""
    import threading

    pyomyo = pytest.importorskip("pyomyo")
    with Bled112Emulator() as emu:
        m = pyomyo.Myo(tty=emu.port, mode=pyomyo.emg_mode.RAW)  # its int default never enables EMG
        got = []
        m.add_emg_handler(lambda emg, moving: got.append(emg))
        done = threading.Event()

        def run() -> None:  # pyomyo's loops have no timeouts: keep them off the test thread
            import serial

            try:
                m.connect()
                while not done.is_set():
                    m.run()
            except (serial.SerialException, OSError):  # the emulator closed the port under its blocking read
                pass

        threading.Thread(target=run, daemon=True).start()
        deadline = time.monotonic() + 20
        while len(got) < 400 and time.monotonic() < deadline:
            time.sleep(0.05)
        emu.pause()
        time.sleep(0.3)
        done.set()
        _g, truth, _ = emu.delivered_truth()
        assert emu.never_sleep
    assert len(got) >= 400
    np.testing.assert_array_equal(np.array(got[:len(truth)], dtype=np.float32), truth[:len(got)])
