"""The Source contract on the replay source: drain exactly once, peek without consuming, loops, labels,
bounded queue accounting, spec strings."""

from __future__ import annotations

import numpy as np
import pytest

from myoxai.errors import MyoxaiError
from myoxai.sources import Source, open_source
from myoxai.sources.replay import ReplaySource


@pytest.mark.timeout(60)
def test_replay_max_speed_delivers_everything_once_with_labels(bundled):
    src = ReplaySource(bundled, speed=0, chunk=37)
    assert isinstance(src, Source)
    src.start()
    chunks = list(src.chunks(timeout=0.5))
    src.stop()
    x = np.concatenate([c.samples for c in chunks])
    np.testing.assert_array_equal(x, bundled.samples)
    np.testing.assert_array_equal(np.concatenate([c.labels for c in chunks]), bundled.labels)
    np.testing.assert_array_equal(np.concatenate([c.seq for c in chunks]), np.arange(len(bundled)))
    assert all(c.gap == 0 for c in chunks) and all(len(c) <= 37 for c in chunks)
    ts = np.concatenate([c.timestamps for c in chunks])
    np.testing.assert_allclose(np.diff(ts), np.diff(bundled.timestamps), atol=1e-9)
    st = src.status()
    assert st.state == "finished" and st.samples_received == len(bundled) and st.samples_dropped == 0


@pytest.mark.timeout(60)
def test_replay_paced_loop_continues_sequence(bundled):
    short = bundled.slice(0, 200)  # 1 s of recording
    src = ReplaySource(short, speed=20, chunk=10, loop=True)
    src.start()
    got = []
    while sum(len(c) for c in got) < 1000:
        got += src.read(1.0)
    samples, stamps = src.peek(50)
    src.stop()
    x = np.concatenate([c.samples for c in got])
    np.testing.assert_array_equal(x[:1000], np.tile(short.samples, (5, 1)))
    seq = np.concatenate([c.seq for c in got])
    np.testing.assert_array_equal(seq, np.arange(len(seq)))
    ts = np.concatenate([c.timestamps for c in got])
    assert np.all(np.diff(ts) > 0)  # time keeps going across loops
    np.testing.assert_allclose(np.median(np.diff(ts)), 0.005 / 20, rtol=1e-6)
    assert samples.shape == (50, 8) and np.all(np.diff(stamps) > 0)


@pytest.mark.timeout(60)
def test_consumer_falling_behind_is_counted_never_silent(bundled):
    src = ReplaySource(bundled.slice(0, 2000), speed=50, chunk=10, queue_chunks=4)
    src.start()
    src._thread.join(30)  # the consumer sleeps through the whole replay
    chunks = src.read(0)
    st = src.status()
    assert len(chunks) == 4
    assert st.samples_dropped == 2000 - 40 and st.samples_received == 2000
    assert chunks[0].gap == 1960  # the consumer sees the hole in the chunk stream
    assert sum(g.n_missing for g in st.gaps if g.reason == "queue-overflow") == 1960


def test_spec_strings(bundled_path):
    src = open_source(f"replay:{bundled_path}", speed=0)
    assert isinstance(src, ReplaySource) and src.n == 48000
    with pytest.raises(MyoxaiError, match="unknown source"):
        open_source("serial:/dev/null")
    with pytest.raises(MyoxaiError, match="needs a file"):
        open_source("replay")
    with pytest.raises(MyoxaiError, match="does not exist"):
        open_source("replay:/nonexistent.xdf")
    from myoxai.sources.ble import MyoBleSource
    from myoxai.sources.bled112 import MyoBled112Source

    assert isinstance(open_source("myo:/dev/ttyACM9"), MyoBled112Source)
    assert open_source("myo-ble:AA:BB:CC:DD:EE:FF").address == "AA:BB:CC:DD:EE:FF"
    assert isinstance(open_source("myo-ble"), MyoBleSource)
