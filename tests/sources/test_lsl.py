"""LSL on this machine only (conftest sets LSLAPICFG to the loopback config before liblsl loads):
outlet → LslSource round trip, refusal of wrong streams, and `myoxai stream` read by a plain pylsl inlet."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pylsl
import pytest

from myoxai.errors import MyoxaiError
from myoxai.sources.lsl import LOOPBACK_CFG, EmgOutlet, LslSource

REPO = Path(__file__).resolve().parents[2]


def test_packaged_config_is_loopback_only():
    assert "LSLAPICFG" in os.environ and Path(os.environ["LSLAPICFG"]).name == "lsl_loopback.cfg"
    text = LOOPBACK_CFG.read_text()
    for line in ("ResolveScope = machine", "Interfaces = {127.0.0.1}", "TTLOverride = 0"):
        assert line in text


@pytest.mark.timeout(60)
def test_outlet_to_lsl_source_round_trip(bundled):
    name = f"myoxai-test-{uuid.uuid4().hex[:8]}"
    outlet = EmgOutlet(name, source_id=name)
    src = LslSource(name=name, timeout=10)
    src.start()
    deadline = time.monotonic() + 10
    while not outlet.have_consumers() and time.monotonic() < deadline:
        time.sleep(0.05)
    x = bundled.samples[:1000]
    t0 = pylsl.local_clock()
    ts = t0 + np.arange(1000) / 200.0
    for i in range(0, 1000, 50):
        outlet.push(x[i:i + 50], ts[i:i + 50])
    got = []
    deadline = time.monotonic() + 15
    while sum(len(c) for c in got) < 1000 and time.monotonic() < deadline:
        got += src.read(0.2)  # drain the backlog
    src.stop()
    y = np.concatenate([c.samples for c in got])
    t = np.concatenate([c.timestamps for c in got])
    np.testing.assert_array_equal(y, x)
    np.testing.assert_allclose(t, ts, atol=1e-3)  # same host: clock correction ≈ 0
    st = src.status()
    assert st.samples_received == 1000 and st.samples_lost == 0 and not st.gaps
    assert src.status().info["stream"] == name


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("channels", "rate", "what"), [(4, 200.0, "4 channels"), (8, 100.0, "100 Hz")])
def test_lsl_source_refuses_wrong_stream(channels, rate, what):
    name = f"myoxai-bad-{uuid.uuid4().hex[:8]}"
    info = pylsl.StreamInfo(name, "EMG", channels, rate, pylsl.cf_float32, name)
    outlet = pylsl.StreamOutlet(info)
    with pytest.raises(MyoxaiError, match=what):
        LslSource(name=name, timeout=10)
    del outlet


@pytest.mark.timeout(30)
@pytest.mark.slow
def test_lsl_source_missing_stream_is_clear():
    with pytest.raises(MyoxaiError, match="no LSL stream"):
        LslSource(name=f"myoxai-absent-{uuid.uuid4().hex[:8]}", timeout=0.5)


@pytest.mark.timeout(90)
@pytest.mark.slow
def test_myoxai_stream_replay_is_read_by_plain_pylsl_inlet(bundled, bundled_path):
    name = f"myoxai-stream-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "LSLAPICFG": os.environ["LSLAPICFG"]}
    proc = subprocess.Popen([sys.executable, "-m", "myoxai.cli", "stream", "--source", f"replay:{bundled_path}",
                             "--name", name, "--lsl-local", "--speed", "2", "--seconds", "20"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        found = pylsl.resolve_byprop("name", name, 1, 20)
        assert found, "myoxai stream did not appear on LSL"
        info = found[0]
        assert info.type() == "EMG" and info.channel_count() == 8 and info.nominal_srate() == 200
        inlet = pylsl.StreamInlet(info)
        full = inlet.info(timeout=5)
        ch = full.desc().child("channels").child("channel")
        labels = []
        while not ch.empty():
            labels.append(ch.child_value("label"))
            ch = ch.next_sibling()
        assert labels == [f"emg{i}" for i in range(1, 9)]
        assert full.desc().child("acquisition").child_value("model") == "Myo"
        rows, stamps = [], []
        deadline = time.monotonic() + 30
        while len(rows) < 800 and time.monotonic() < deadline:
            data, ts = inlet.pull_chunk(timeout=0.2, max_samples=1024)
            rows += data
            stamps += ts
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    y = np.asarray(rows, dtype=np.float32)
    assert len(y) >= 800, err
    # the inlet joined mid-stream: what it got is a contiguous stretch of the recording
    x = bundled.samples
    start = next(i for i in range(len(x) - len(y)) if np.array_equal(x[i:i + 20], y[:20]))
    np.testing.assert_array_equal(y, x[start:start + len(y)])
    dt = np.diff(stamps)
    assert np.all(dt > 0) and abs(np.median(dt) - 0.005 / 2) < 1e-4  # speed 2: recording time / 2


@pytest.mark.timeout(90)
@pytest.mark.slow
def test_myoxai_stream_from_emulated_myo_has_stable_source_id():
    """`myoxai stream --source myo:PORT` (BLED112 emulator) → LSL; the source_id names the armband."""
    from myoxai.testing.bled112_emulator import Bled112Emulator

    name = f"myoxai-myo-{uuid.uuid4().hex[:8]}"
    with Bled112Emulator() as emu:
        proc = subprocess.Popen([sys.executable, "-m", "myoxai.cli", "stream", "--source", f"myo:{emu.port}",
                                 "--name", name, "--lsl-local", "--seconds", "15"], cwd=REPO, env=dict(os.environ),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            found = pylsl.resolve_byprop("name", name, 1, 20)
            assert found, "myoxai stream did not appear on LSL"
            assert found[0].source_id() == "myoxai-myo-" + emu.address[::-1].hex()
            inlet = pylsl.StreamInlet(found[0])
            rows = []
            deadline = time.monotonic() + 20
            while len(rows) < 400 and time.monotonic() < deadline:
                rows += inlet.pull_chunk(timeout=0.2, max_samples=1024)[0]
            _g, truth, _t = emu.delivered_truth()
        finally:
            proc.terminate()
            proc.communicate(timeout=20)
    y = np.asarray(rows, dtype=np.float32)
    assert len(y) >= 400
    start = next(i for i in range(len(truth) - len(y) + 1) if np.array_equal(truth[i:i + 20], y[:20]))
    np.testing.assert_array_equal(y, truth[start:start + len(y)])
