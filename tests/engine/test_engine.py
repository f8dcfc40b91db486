"""The online engine on the real bundled recording: decisions equal the offline pipeline, gaps reset
the dsp, models swap atomically and slow readers never block
(Recalibrate: tests/engine/test_recalibration.py)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from myoxai.config import DEFAULT_CONFIG
from myoxai.dsp import process_signal
from myoxai.engine import REJECTED, Engine, PostProcessor, WindowRing
from myoxai.live.bundled import BUNDLED_MODEL, held_out_recording
from myoxai.models import load_model, predict_proba
from myoxai.sources.base import ThreadedSource
from myoxai.sources.replay import ReplaySource

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model():
    return load_model(BUNDLED_MODEL)


@pytest.fixture(scope="module")
def held_out():
    return held_out_recording()


def run_to_end(engine: Engine, timeout: float = 60.0):
    sub = engine.subscribe(maxlen=100_000)
    engine.start()
    assert engine.wait(timeout), "engine did not finish"
    engine.stop()
    return sub.drain()


def test_postprocessor_votes_and_rejects():
    post = PostProcessor(vote=3, threshold=0.0)
    a, b = np.array([0.9, 0.1]), np.array([0.2, 0.8])
    assert post(a) == (0, pytest.approx(0.9))
    assert post(b)[0] == 1  # 1:1 tie goes to the newest label
    assert post(a)[0] == 0  # 2:1
    assert post(b)[0] == 1  # b, a, b -> 2:1 for class 1
    post.threshold = 0.7
    assert post(b) == (REJECTED, pytest.approx(1.7 / 3))  # votes (a, b, b): class 1, mean p 0.57 < 0.7
    post.threshold = 0.5
    assert post(a) == (1, pytest.approx(1.0 / 3 * (0.8 + 0.8 + 0.1)))  # (b, b, a): settable live
    post.reset()
    post.threshold = 0.6
    label, conf = post(np.array([0.55, 0.45]))
    assert label == REJECTED and conf == pytest.approx(0.55)
    post.threshold = 0.0  # a model with other gestures decides before the swap's reset reaches the vote
    assert post.batch(np.array([[0.1, 0.2, 0.7]]))[0].tolist() == [2] and post(np.array([0.6, 0.4]))[0] == 0


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 5), st.integers(0, 40), st.integers(1, 40), st.integers(1, 12),
       st.sampled_from([0.0, 0.3, 0.5]), st.booleans(), st.integers(0, 2**31 - 1))
def test_postprocessor_batch_equals_one_call_per_window(n_classes, n_before, n, vote, threshold, reset, seed):
    p = np.random.default_rng(seed).dirichlet(np.full(n_classes, 0.5), size=n_before + n)
    one, many = PostProcessor(vote, threshold), PostProcessor(vote, threshold)
    for q in p[:n_before]:
        one(q), many(q)
    if reset:
        one.reset(), many.reset()
    expected = [one(q) for q in p[n_before:]]
    labels, confidences = many.batch(p[n_before:])
    assert labels.tolist() == [e[0] for e in expected] and confidences.tolist() == [e[1] for e in expected]
    assert many(p[0]) == one(p[0])  # and the history carries on the same


def test_window_ring_keeps_time_order_after_wrapping():
    ring = WindowRing(5, (2,))
    for k in range(3):
        ring.extend(np.full((3, 2), k, np.float32), np.arange(3) + 10.0 * k, after_gap=np.arange(3) == 0)
    snap = ring.snapshot()
    assert len(snap) == 5
    assert np.all(np.diff(snap.timestamps) > 0)
    assert snap.inputs[:, 0].tolist() == [1, 1, 2, 2, 2] and snap.after_gap.tolist() == [0, 0, 1, 0, 0]


def test_engine_decisions_equal_offline_pipeline(model, held_out):
    rec = held_out.slice(0, 1200)  # 6 s of held-out signal
    engine = Engine(ReplaySource(rec, speed=0, chunk=7), model, vote=1)
    decisions = run_to_end(engine)
    offline = process_signal(rec.samples, DEFAULT_CONFIG)
    assert len(decisions) == len(offline)
    proba = predict_proba(model, offline.spectrograms.astype(np.float32))
    got = np.stack([d.probabilities for d in decisions])
    np.testing.assert_allclose(got, proba, atol=2e-5)
    assert [d.sample for d in decisions] == offline.end.tolist()
    for d in decisions[::25]:
        np.testing.assert_allclose(d.phi.sum(axis=1), d.total, atol=1e-6)  # efficiency: Σφ = C per class
        assert d.label == d.raw_label == int(np.argmax(d.probabilities))  # vote=1, no threshold
        assert d.true_label == rec.labels[d.sample - 1]
    assert np.all(np.diff([d.timestamp for d in decisions]) > 0)
    assert engine.status().decisions == len(decisions) and engine.status().gaps == 0
    snap = engine.buffer.snapshot()
    assert len(snap) == len(decisions) and np.all(np.diff(snap.timestamps) > 0)


def test_max_speed_replay_in_batches_gives_the_live_decisions(model, held_out):
    """A file replayed at max speed is classified and explained in large batches; every decision
    (label, vote, confidence, probabilities, φ, sample, time, truth) is the one the live path makes
    when each 10-sample chunk is processed on its own as it arrives."""
    from myoxai.live.setup import MAX_SPEED_CHUNK

    rec = held_out.slice(0, 3000)  # 15 s, 296 windows, several gestures
    src = ReplaySource(rec, speed=0, chunk=10)
    live = Engine(src, model, vote=5, threshold=0.4)
    expected = []
    src.start()
    for chunk in src.chunks(timeout=5.0):
        expected += live.process([chunk], time.perf_counter())
    src.stop()
    fast = Engine(ReplaySource(rec, speed=0, chunk=MAX_SPEED_CHUNK), model, vote=5, threshold=0.4)
    got = run_to_end(fast)
    assert len(got) == len(expected) == len(process_signal(rec.samples, DEFAULT_CONFIG))
    assert fast.status().decisions == len(got)
    for a, b in zip(got, expected, strict=True):
        assert (a.sample, a.raw_label, a.label, a.true_label, a.after_gap, a.model_version) == \
            (b.sample, b.raw_label, b.label, b.true_label, b.after_gap, b.model_version)
        assert a.confidence == b.confidence
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
        np.testing.assert_array_equal(a.phi, b.phi)
        np.testing.assert_array_equal(a.spectrogram, b.spectrogram)
    # the two replays start at their own clock; the spacing of decision times is the recording's
    np.testing.assert_allclose(np.diff([d.timestamp for d in got]), np.diff([d.timestamp for d in expected]),
                               atol=1e-9)


class TwoBurstSource(ThreadedSource):
    """Emits a recording in two bursts with samples lost in between, as a device source reports a dropout."""

    name = "two-burst"

    def __init__(self, rec, cut: int, missing: int) -> None:
        super().__init__()
        self.rec, self.cut, self.missing = rec, cut, missing

    def _acquire(self, stop: threading.Event) -> None:
        self._set(state="streaming", connected=True)
        s, t = self.rec.samples, self.rec.timestamps
        for a in range(0, self.cut, 10):
            self._emit(s[a:min(a + 10, self.cut)], t[a:min(a + 10, self.cut)])
        after = self.cut + self.missing
        for a in range(after, len(s), 10):
            self._emit(s[a:a + 10], t[a:a + 10], missing=self.missing if a == after else 0, reason="link-drop")


def test_gap_resets_the_stream_instead_of_bridging(model, held_out):
    rec = held_out.slice(0, 800)
    cut, missing = 333, 57
    engine = Engine(TwoBurstSource(rec, cut, missing), model, explain=False, vote=1)
    decisions = run_to_end(engine)
    first = process_signal(rec.samples[:cut], DEFAULT_CONFIG)
    second = process_signal(rec.samples[cut + missing:], DEFAULT_CONFIG)
    assert len(decisions) == len(first) + len(second)
    flagged = [i for i, d in enumerate(decisions) if d.after_gap]
    assert flagged == [len(first)]
    got = np.stack([d.probabilities for d in decisions[len(first):]])
    np.testing.assert_allclose(got, predict_proba(model, second.spectrograms.astype(np.float32)), atol=2e-5)
    st = engine.status()
    assert st.gaps == 1 and st.samples_lost == missing
    assert np.flatnonzero(engine.buffer.snapshot().after_gap).tolist() == [len(first)]


def test_swap_and_revert_between_decisions_while_streaming(model, held_out):
    engine = Engine(ReplaySource(held_out, speed=4, loop=True), model, explain=False)
    sub = engine.subscribe()
    engine.start()
    try:
        time.sleep(0.5)
        other = load_model(BUNDLED_MODEL)
        v2 = engine.swap_model(other, origin="test").version
        assert engine.status().can_revert
        time.sleep(0.5)
        v1 = engine.revert().version
        time.sleep(0.5)
        versions = [d.model_version for d in sub.drain()]
    finally:
        engine.stop()
    assert v1 == 1 and v2 == 2
    assert versions[0] == 1 and versions[-1] == 1 and 2 in versions
    # each model serves one contiguous run of decisions: no decision mixes models
    runs = [versions[0]] + [b for a, b in zip(versions, versions[1:], strict=False) if a != b]
    assert runs == [1, 2, 1]


def test_post_processing_changes_through_the_engine(model, held_out):
    from myoxai.errors import MyoxaiError

    engine = Engine(ReplaySource(held_out.slice(0, 400), speed=0), model, explain=False, vote=5, threshold=0.0)
    engine.set_postprocessing(vote=9)
    engine.set_postprocessing(threshold=0.5)
    assert (engine.post.vote, engine.post.threshold) == (9, 0.5)
    for bad in ({"vote": 0}, {"threshold": 1.5}):
        with pytest.raises(MyoxaiError, match="threshold 0 to 1"):
            engine.set_postprocessing(**bad)
    assert (engine.post.vote, engine.post.threshold) == (9, 0.5)


def test_slow_reader_never_blocks_the_engine(model, held_out):
    engine = Engine(ReplaySource(held_out.slice(0, 1000), speed=0), model, explain=False)
    slow = engine.subscribe(maxlen=10)  # never drained while running
    calls = []
    engine.add_sink(lambda ds: calls.append(len(ds)))
    engine.add_sink(lambda ds: 1 / 0)  # a broken sink is logged and counted, not fatal
    decisions = run_to_end(engine)
    assert len(slow.drain()) == 10 and slow.dropped == len(decisions) - 10
    assert sum(calls) == len(decisions)
    assert engine.status().sink_errors == len(calls) and engine.status().state == "finished"


def test_lsl_outlet_and_log_carry_label_probabilities_and_phi(model, held_out, tmp_path):
    import json

    import pylsl

    from myoxai.engine import DecisionLog, LslDecisionOutlet

    engine = Engine(ReplaySource(held_out.slice(0, 400), speed=0), model, vote=1)
    engine.add_sink_factory(lambda names: LslDecisionOutlet(names, name="myoxai-decisions-test"))
    found = pylsl.resolve_byprop("name", "myoxai-decisions-test", timeout=5.0)
    assert found, "outlet not visible on the loopback LSL network"
    inlet = pylsl.StreamInlet(found[0])
    inlet.open_stream(timeout=5.0)
    log_path = tmp_path / "decisions.jsonl"
    engine.add_sink_factory(lambda names: DecisionLog(log_path, names))
    sub = engine.subscribe(maxlen=100_000)
    engine.start()
    assert engine.wait(60), "engine did not finish"
    decisions = sub.drain()
    rows, stamps = [], []
    deadline = time.monotonic() + 5.0
    while len(rows) < len(decisions) and time.monotonic() < deadline:  # while the outlet is still up
        chunk, ts = inlet.pull_chunk(timeout=0.5)
        rows += chunk
        stamps += ts
    inlet.close_stream()
    engine.stop()  # closes the outlet and flushes the log
    assert len(rows) == len(decisions)
    last, row = decisions[-1], np.asarray(rows[-1])
    assert row.shape == (1 + len(engine.class_names) + 8,) and row[0] == last.label
    np.testing.assert_allclose(row[1:9], last.probabilities, atol=1e-6)
    np.testing.assert_allclose(row[9:], last.phi_label, atol=1e-6)
    lines = log_path.read_text().splitlines()
    assert json.loads(lines[0])["classes"] == list(engine.class_names) and len(lines) == len(decisions) + 1
    assert json.loads(lines[-1])["phi"] == pytest.approx(last.phi_label.tolist(), abs=1e-5)


def test_sinks_follow_a_change_of_gestures_and_close_on_stop(model, held_out, tmp_path):
    """A model with other gestures rebuilds the LSL outlet (new columns) and starts a new log header."""
    import json

    import pylsl

    from myoxai.engine import DecisionLog, LslDecisionOutlet
    from myoxai.models import build_model

    engine = Engine(ReplaySource(held_out.slice(0, 1200), speed=0, chunk=10, queue_chunks=4), model, vote=1)
    log_path = tmp_path / "decisions.jsonl"
    engine.add_sink_factory(lambda names: DecisionLog(log_path, names))
    engine.add_sink_factory(lambda names: LslDecisionOutlet(names, name="myoxai-decisions-classes"))
    sub = engine.subscribe(maxlen=100_000)
    engine.start()
    try:
        while engine.status().decisions < 20:
            time.sleep(0.01)
        other = build_model("allconvnet", 3, seed=0, channels=(4, 4, 4, 4))
        other.class_names = ("a", "b", "c")
        engine.swap_model(other, origin="three gestures", new_classes=True)
        assert engine.wait(60)
        outlet = next(s for s in engine.owned_sinks if isinstance(s, LslDecisionOutlet))
        assert outlet.class_names == ("a", "b", "c") and outlet.n_values == 1 + 3 + 8
        found = pylsl.resolve_byprop("name", "myoxai-decisions-classes", timeout=5.0)
        assert sorted(int(f.channel_count()) for f in found) == [12], "the old 17-column outlet is still up"
    finally:
        engine.stop()
    assert outlet.outlet is None and engine.owned_sinks == []  # stop() closed them
    decisions = sub.drain()
    rows = [json.loads(line) for line in log_path.read_text().splitlines()]
    headers = [i for i, r in enumerate(rows) if "classes" in r]
    assert [rows[i]["classes"] for i in headers] == [list(model.class_names), ["a", "b", "c"]]
    new = [d for d in decisions if d.class_names == ("a", "b", "c")]
    assert new and all(len(r["p"]) == 3 for r in rows[headers[1] + 1:])
    assert len(rows) == len(decisions) + 2  # every decision logged once, closed (flushed) by stop()


def test_engine_refuses_a_source_with_another_rate_or_channel_count(model, held_out):
    from myoxai.errors import MyoxaiError

    rec = held_out.slice(0, 400)
    src = ReplaySource(rec, speed=0)
    src.fs = 1000.0
    with pytest.raises(MyoxaiError, match="1000 Hz"):
        Engine(src, model)
    src = ReplaySource(rec, speed=0)
    src.n_channels = 16
    with pytest.raises(MyoxaiError, match="16 channels"):
        Engine(src, model)


def test_calibration_schedule_alternates_holds_and_rests():
    from myoxai.errors import MyoxaiError
    from myoxai.live.calibration import make_schedule

    s = make_schedule(["fist", "rest", "flexion"], repetitions=2, hold_s=1.5, rest_s=1.0, lead_in_s=2.0)
    assert [p.label for p in s] == ["rest"] + ["fist", "rest", "flexion", "rest"] * 2
    assert all(a.end == pytest.approx(b.start) for a, b in zip(s, s[1:], strict=False))
    assert s[-1].end == pytest.approx(2.0 + 2 * 2 * 2.5)
    with pytest.raises(MyoxaiError, match="gesture"):
        make_schedule(["rest"], 1, 1.0, 1.0)
    with pytest.raises(MyoxaiError, match="positive"):
        make_schedule(["fist"], 1, 0.0, 1.0)


class GatedDisk:
    """The real XDF recorder behind a gate: every write waits until the test opens it (a stalled disk)."""

    def __init__(self, path, class_names) -> None:
        from myoxai.io.xdf import EmgXdfRecorder

        self.real = EmgXdfRecorder(path, 200.0, class_names)
        self.path = self.real.path
        self.gate = threading.Event()

    def append(self, samples, timestamps) -> None:
        self.gate.wait()
        self.real.append(samples, timestamps)

    def marker(self, timestamp, label) -> None:
        self.gate.wait()
        self.real.marker(timestamp, label)

    def close(self) -> None:
        self.real.close()


def test_calibration_recording_hands_over_without_waiting_on_disk(held_out, tmp_path):
    from myoxai.io import read_recording
    from myoxai.live.writer import QueuedRecorder

    rec = held_out.slice(0, 400)
    disk = GatedDisk(tmp_path / "session.xdf", rec.class_names)
    writer = QueuedRecorder(disk, max_pending=100)
    writer.marker(float(rec.timestamps[0]), rec.class_names[0])
    for a in range(0, 400, 10):  # returns although the disk has not written anything yet
        writer.append(rec.samples[a:a + 10], rec.timestamps[a:a + 10])
    assert not writer.closed.is_set() and writer.refused == 0
    disk.gate.set()
    writer.close()
    got = read_recording(tmp_path / "session.xdf")
    np.testing.assert_array_equal(got.samples, rec.samples.astype(np.float32))
    np.testing.assert_array_equal(got.timestamps, rec.timestamps)


def test_calibration_recording_reports_a_disk_that_cannot_keep_up(held_out, tmp_path):
    from myoxai.errors import MyoxaiError
    from myoxai.live.writer import QueuedRecorder

    rec = held_out.slice(0, 400)
    disk = GatedDisk(tmp_path / "session.xdf", rec.class_names)
    writer = QueuedRecorder(disk, max_pending=5)
    for a in range(0, 400, 10):
        writer.append(rec.samples[a:a + 10], rec.timestamps[a:a + 10])
    assert writer.refused >= 40 - 6  # the queue held 5 (+1 taken by the writer); the rest were refused, not waited for
    disk.gate.set()
    with pytest.raises(MyoxaiError, match="did not keep up"):
        writer.close()


def test_decisions_are_columns_until_read_and_a_slow_reader_keeps_the_newest():
    """The engine hands subscribers arrays; a reader gets the same ``Decision`` objects, newest kept on overflow."""
    import copy

    from myoxai.engine.decision import DecisionBatch, DecisionColumns, Subscription
    from myoxai.engine.windowing import NewWindows

    n = 7
    new = NewWindows(np.zeros((n, 50, 8), np.float32), np.ones((n, 4, 8, 10), np.float32), np.arange(n) * 0.05,
                     np.arange(n) * 10 + 50, np.arange(n) % 2 - 1, np.arange(n) % 2 == 1, np.arange(n) == 0)
    proba = np.tile([0.3, 0.7], (n, 1))
    cols = DecisionColumns(new, proba, proba.argmax(1), np.ones(n, np.int64), proba.max(1), np.zeros((n, 2, 8)),
                           np.zeros((n, 2)), np.zeros((n, 2, 28)), 0.002, 3, ("a", "b"))
    d = cols[4]
    assert (d.sample, d.true_label, d.after_gap, d.model_version, d.interactions.shape) == (90, None, False, 3, (2, 28))
    assert cols[5].true_label == 0 and cols[0].after_gap and len(list(cols)) == n
    assert len(copy.copy(cols)) == n and cols.timestamps is new.timestamps
    sub = Subscription(maxlen=5)
    sub.put(DecisionBatch(cols[:3]))
    sub.put(DecisionBatch(cols[3:]))
    got = sub.drain()
    assert sub.dropped == 2 and [x.sample for x in got] == [70, 80, 90, 100, 110]
    assert got[0].sample == cols[2].sample and np.array_equal(got[0].phi, cols[2].phi)
