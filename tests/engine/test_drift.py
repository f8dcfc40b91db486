"""Drift reference, components and state: synthetic rotations and gains, validation of the stored entry, the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myoxai.adapt.drift import (
    DriftReference,
    DriftThresholds,
    assess,
    drift_components,
    matched_reference_profile,
    reference_from_outputs,
    window_power,
)
from myoxai.cli import main
from myoxai.errors import MyoxaiError


def _synthetic(n: int = 400, rotate: int = 0, gain: float = 1.0, seed: int = 0):
    """Spectrograms of 3 gestures, each loading a different electrode group; probabilities and φ to match."""
    rng = np.random.default_rng(seed)
    y = rng.integers(1, 4, size=n)  # never rest (0)
    level = np.ones((4, 8))
    level[1, :3], level[2, 3:6], level[3, [6, 7, 0]] = 6, 4, 3
    spec = rng.rayleigh(size=(n, 4, 8, 10)) * level[y][:, None, :, None] * gain
    spec = np.roll(spec, rotate, axis=2)
    proba = np.full((n, 4), 0.02)
    proba[np.arange(n), y] = 0.94
    phi = np.roll(level[y] / level[y].sum(1, keepdims=True), rotate, axis=1)
    return spec.astype(np.float32), proba, phi, y


def test_reference_and_unchanged_data_are_ok():
    spec, proba, phi, _ = _synthetic()
    ref = reference_from_outputs(spec, proba, phi, rest=0)
    s2, p2, f2, _ = _synthetic(seed=1)
    comps = drift_components(ref, window_power(s2), p2, f2)
    assert abs(comps["rotation"]) < 0.1 and comps["gain"] == pytest.approx(1, abs=0.05)
    assert comps["shapley"] < 0.01 and abs(comps["confidence"]) < 1e-9
    assert assess(comps).state == "ok"


@pytest.mark.parametrize("rotate", [1, -1, 2])
def test_rotation_signed_and_named(rotate):
    ref = reference_from_outputs(*_synthetic()[:3], rest=0)
    s, p, f, _ = _synthetic(rotate=rotate, seed=2)
    comps = drift_components(ref, window_power(s), p, f)
    assert comps["rotation"] == pytest.approx(rotate, abs=0.25)
    a = assess(comps)
    assert a.state == "recalibrate" and a.cause == "rotation"  # Shapley moved too, but rotation is the cause


def test_gain_change_named_and_mix_matched():
    ref = reference_from_outputs(*_synthetic()[:3], rest=0)
    s, p, f, y = _synthetic(gain=3.0, seed=3)
    comps = drift_components(ref, window_power(s), p, f)
    assert comps["gain"] == pytest.approx(3.0, rel=0.1) and abs(comps["rotation"]) < 0.1
    assert assess(comps).cause == "gain"
    # a window holding only one gesture is compared with that gesture's reference, not the pooled profile
    one = y == 1
    comps = drift_components(ref, window_power(s[one] / 3), p[one], f[one])
    assert abs(comps["rotation"]) < 0.1 and comps["gain"] == pytest.approx(1, abs=0.1)
    assert np.allclose(matched_reference_profile(ref, np.ones(5, int)), ref.class_log_rms[1])


def test_confidence_drop_and_thresholds():
    comps = {"rotation": 0.0, "gain": 1.0, "shapley": 0.0, "confidence": -0.15}
    th = DriftThresholds(confidence=(0.1, 0.2))
    a = assess(comps, th)
    assert (a.state, a.cause) == ("watch", "confidence") and a.score == pytest.approx(0.75)
    assert assess({**comps, "confidence": 0.3}, th).state == "ok"  # more confident is not drift
    assert assess({"rotation": None, "gain": None, "shapley": None, "confidence": None}).state == "ok"


def test_reference_round_trip_and_validation():
    ref = reference_from_outputs(*_synthetic()[:3], rest=0)
    doc = json.loads(json.dumps(ref.to_dict()))
    back = DriftReference.from_dict(doc, n_classes=4)
    assert np.allclose(back.log_rms, ref.log_rms, atol=1e-5) and back.rest == 0
    assert np.isnan(back.shapley[0]).all()  # rest was never predicted: no profile
    for broken in ({**doc, "version": 99}, {**doc, "log_rms": [1, 2]}, {**doc, "confidence": "high"},
                   {**doc, "shapley": [[0.1] * 8]}, [1, 2, 3]):
        with pytest.raises(MyoxaiError, match="drift_reference"):
            DriftReference.from_dict(broken, n_classes=4)
    with pytest.raises(MyoxaiError, match="20 non-rest"):
        reference_from_outputs(*_synthetic(n=10)[:3], rest=0)


def test_bundled_model_stores_reference_and_command(tmp_path, capsys):
    from myoxai.engine.drift import stored_reference
    from myoxai.live.bundled import BUNDLED_MODEL
    from myoxai.models import load_model

    assert stored_reference(load_model(BUNDLED_MODEL)) is not None
    out = tmp_path / "d.json"
    assert main(["drift", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["state"] == "ok" and doc["cause"] == ""
    assert set(doc["components"]) >= {"gain", "rotation", "confidence", "shapley"}
    assert main(["drift", "--rotate", "1", "--json", str(out), "--overwrite"]) == 0
    doc = json.loads(out.read_text())
    assert (doc["state"], doc["cause"]) == ("recalibrate", "rotation")
    assert doc["components"]["rotation"] == pytest.approx(1.0, abs=0.3)
    assert main(["drift", "--json", str(out)]) == 2  # never overwritten silently
    assert "exists" in capsys.readouterr().err
    strict = tmp_path / "strict.json"  # thresholds as a --dataset run writes them (inf = component ignored)
    strict.write_text('{"thresholds": {"rotation": [Infinity, Infinity], "gain": [0.001, 0.002], "shapley": '
                      '[Infinity, Infinity], "confidence": [Infinity, Infinity], "entropy": [Infinity, Infinity]}}')
    # the held-out part's small gain change (a few %) is "ok" by default, "recalibrate" with the strict file
    assert main(["drift", "--thresholds", str(strict), "--json", str(out), "--overwrite"]) == 0
    doc = json.loads(out.read_text())
    assert (doc["state"], doc["cause"]) == ("recalibrate", "gain")
    assert main(["drift", "--thresholds", str(out)]) == 2  # not a --dataset result


def test_selection_and_summary_on_synthetic_rows():
    from myoxai.evaluation.drift_validation import choose_thresholds, summarise

    rng = np.random.default_rng(0)
    rows = []
    for s in range(4):
        for d in range(2, 31):
            conf = -rng.uniform(0, 0.3)
            rows.append({"subject": s, "day": d, "position": "NIO"[d % 3], "accuracy": 0.9 + 2 * conf,
                         "reference_accuracy": 0.9, "accuracy_change": 2 * conf + rng.normal(0, 0.02),
                         "components": {"rotation": rng.normal(0, 0.1), "gain": 1.0, "shapley": rng.uniform(0, 0.1),
                                        "confidence": conf, "entropy": -conf, "rejection_rate": 0.0}})
    th, info = choose_thresholds([r for r in rows if 3 <= r["day"] <= 8])
    assert info["spearman_selection"] < -0.8
    out = summarise(rows)
    assert out["spearman"]["score_vs_accuracy_change"] < -0.8
    assert out["per_component"]["confidence"] < -0.8 and set(out["per_position"]) == {"N", "I", "O"}
    assert 2 not in range(3, 9) and 2 in out["report_days"]


def test_monitor_window_schedule_and_model_change():
    from myoxai.engine.decision import Decision
    from myoxai.engine.drift import DriftMonitor

    spec, proba, phi, y = _synthetic(n=900)
    ref = reference_from_outputs(spec, proba, phi, rest=0)
    rot_spec = np.roll(spec, 1, axis=2)
    swapped_in = {"ref": None}
    mon = DriftMonitor(ref, window_s=30, min_s=5, model_reference=lambda: swapped_in["ref"])

    def decisions(x, start, version):
        return [Decision(timestamp=start + 0.05 * i, sample=i, probabilities=proba[i], raw_label=int(y[i]),
                         label=int(y[i]), confidence=0.9, phi=np.tile(np.roll(phi[i], 1), (4, 1)), total=None,
                         latency_s=0.0, model_version=version, spectrogram=x[i]) for i in range(len(x))]

    batch = decisions(rot_spec, 0.0, 1)
    trend = mon(batch[:50])  # 2.5 s: too little to judge
    assert mon.latest.state == "ok" and mon.latest.components == {} and all(not a.components for _, a in trend)
    trend = mon(batch[50:])  # one engine batch of 42 s: reassessed every second inside it
    a = mon.latest
    assert (a.state, a.cause) == ("recalibrate", "rotation") and len(trend) >= 40 and trend[-1][1] is a
    assert np.all(np.diff([t for t, _ in trend]) >= 1.0)  # one assessment per second of signal
    assert a.n_windows == 600  # the 30 s window
    swapped_in["ref"] = reference_from_outputs(rot_spec, proba, np.roll(phi, 1, axis=1), rest=0)
    mon(decisions(rot_spec, 100.0, 2)[:300])  # a recalibrated model with today's data as its reference
    a = mon.latest
    assert mon.reference is swapped_in["ref"] and a.state == "ok" and 250 <= a.n_windows <= 300
    # set_reference (e.g. after Quick adapt) wins over the stored reference of a model swapped in just before
    swapped_in["ref"] = ref  # that model's file still holds the old (unrotated) reference
    today = reference_from_outputs(rot_spec, proba, np.roll(phi, 1, axis=1), rest=0)
    mon.set_reference(today)
    assert mon.reference is not today and mon.latest.n_windows > 0  # taken up with the next batch, not here
    mon(decisions(rot_spec, 200.0, 3)[:300])
    assert mon.reference is today and mon.latest.state == "ok"
    assert DriftMonitor(None).latest is None  # nothing to compare with: no assessment to publish


def test_score_published_in_decision_log_and_lsl_stream(tmp_path, capsys):
    """``myoxai live --log`` and ``--lsl`` carry the drift score; --headless prints the state changes."""
    import pylsl

    from myoxai.engine.sinks import LslDecisionOutlet
    from myoxai.io.xdf import write_recording

    rotated = tmp_path / "rotated.xdf"
    from myoxai.live.bundled import held_out_recording

    rec = held_out_recording()
    rec.samples = np.roll(rec.samples, 1, axis=1).astype(np.float32)
    write_recording(rotated, rec)
    log = tmp_path / "decisions.jsonl"
    assert main(["live", "--headless", "--source", f"replay:{rotated}", "--speed", "max", "--log", str(log)]) == 0
    out = capsys.readouterr().out
    assert "drift: RECALIBRATE — armband rotated by +" in out
    lines = [json.loads(x) for x in log.read_text().splitlines()[1:]]
    assert {"drift", "drift_state", "drift_cause"} <= set(lines[-1])
    assert lines[0]["drift_state"] == "ok" and lines[-1]["drift_state"] == "recalibrate"
    assert lines[-1]["drift_cause"] == "rotation" and lines[-1]["drift"] > 1

    from myoxai.engine.decision import Decision, DecisionBatch

    outlet = LslDecisionOutlet(("a", "b"), with_drift=True)
    info = outlet.outlet.get_info()
    ch = info.desc().child("channels").first_child()
    labels = []
    while not ch.empty():
        labels.append(ch.child_value("label"))
        ch = ch.next_sibling()
    assert info.channel_count() == 1 + 2 + 8 + 2 and labels[-2:] == ["drift", "drift_state"]
    d = Decision(timestamp=pylsl.local_clock(), sample=0, probabilities=np.array([0.3, 0.7]), raw_label=1, label=1,
                 confidence=0.7, phi=np.zeros((2, 8)), total=np.zeros(2), latency_s=0.0, model_version=1)
    drift = assess({"rotation": 1.0, "gain": 1.0, "shapley": 0.0, "confidence": 0.0})
    row = outlet._row(d, DecisionBatch((d,), drift))
    assert row[-2] == pytest.approx(2.0) and row[-1] == 2 and row[0] == 1
    assert np.isnan(outlet._row(d, DecisionBatch((d,)))[-2:]).all()  # no assessment: no number
    outlet.close()


def test_every_subscriber_gets_the_same_batch_with_the_drift_of_its_decisions():
    """The drift stage runs before publication: mailbox, plain sink and owned sinks see one batch, one assessment."""
    from myoxai.engine import Engine
    from myoxai.engine.decision import DecisionBatch
    from myoxai.live.bundled import BUNDLED_MODEL, held_out_recording
    from myoxai.models import load_model
    from myoxai.sources.replay import ReplaySource

    model = load_model(BUNDLED_MODEL)
    src = lambda: ReplaySource(held_out_recording().slice(0, 4000), speed=0, chunk=200)  # noqa: E731
    assert Engine(src(), model, explain=False).drift_stage is None  # the stage is asked for
    engine = Engine(src(), model, explain=False, drift=True)
    assert engine.drift_stage is not None
    seen: list[DecisionBatch] = []
    owned: list[DecisionBatch] = []

    class Owned:  # a sink the engine builds for the gestures (like the LSL outlet and the log)
        def __call__(self, batch: DecisionBatch) -> None:
            owned.append(batch)

        def close(self) -> None:
            pass

    engine.add_sink(seen.append)
    engine.add_sink_factory(lambda names: Owned())
    sub = engine.subscribe(maxlen=100_000)
    engine.start()
    assert engine.wait(120)
    engine.stop()
    drained = sub.drain()
    assert seen == owned and len(drained) == sum(len(b) for b in seen) > 300
    assert all(isinstance(b, DecisionBatch) and b.drift is not None for b in seen)
    assert drained.drift is seen[-1].drift is engine.drift_stage.latest
    trend = [p for b in seen for p in b.drift_trend]
    assert list(drained.drift_trend) == trend and len(trend) >= 15  # ~19 s of signal, one point a second
    assert all(b.drift is b.drift_trend[-1][1] for b in seen if b.drift_trend)  # the batch's last assessment


def _restacked_monitor(ref, batches, window_n: int, min_n: int, every_s: float):
    """The drift stage the straightforward way: re-stack the rolling window at every assessment."""
    rows, next_t, out = [], None, []
    for b in batches:
        for i, t in enumerate(b.timestamps.tolist()):
            if b.raw_labels[i] != ref.rest:
                rows.append((window_power(b.spectrograms[i:i + 1])[0], b.probabilities[i],
                             None if b.phi is None else b.phi[i, b.raw_labels[i]]))
            if next_t is not None and t >= next_t:
                win = rows[-window_n:]
                comps = None
                if len(win) >= min_n:
                    power, proba, phi = zip(*win, strict=True)
                    comps = drift_components(ref, np.stack(power), np.stack(proba),
                                             None if any(p is None for p in phi) else np.stack(phi))
                out.append((t, comps, len(win)))
            if next_t is None or t >= next_t:
                next_t = t + every_s
    return out


@given(seed=st.integers(0, 2**16), cuts=st.lists(st.integers(1, 120), min_size=1, max_size=12),
       rest_share=st.sampled_from([0.0, 0.3, 1.0]), with_phi=st.booleans(), window_s=st.sampled_from([1.0, 2.5, 30.0]))
@settings(max_examples=60, deadline=None)
def test_monitor_assessments_equal_restacked_recomputation(seed, cuts, rest_share, with_phi, window_s):
    """The stage's rolling sums report what re-stacking the window and ``drift_components`` report, every time."""
    from types import SimpleNamespace

    from myoxai.engine.drift import DriftMonitor

    spec, proba, phi, y = _synthetic(n=200, seed=7)
    ref = reference_from_outputs(spec, proba, phi, rest=0)
    rng = np.random.default_rng(seed)
    n = sum(cuts)
    spec, proba, _, y = _synthetic(n=n, rotate=int(rng.integers(0, 3)), gain=float(rng.uniform(0.5, 2)), seed=seed)
    proba = rng.dirichlet(np.ones(4), size=n)  # top probabilities on both sides of REJECT_BELOW
    labels = np.where(rng.random(n) < rest_share, 0, proba.argmax(axis=1))
    phis = rng.normal(size=(n, 4, 8)) if with_phi else None
    t = np.cumsum(rng.uniform(0.02, 0.08, size=n))  # uneven steps: triggers land anywhere in a batch
    edges = np.cumsum([0, *cuts])
    batches = [SimpleNamespace(raw_labels=labels[a:b], model_version=1, probabilities=proba[a:b], timestamps=t[a:b],
                               spectrograms=spec[a:b], phi=None if phis is None else phis[a:b])
               for a, b in zip(edges[:-1], edges[1:], strict=True)]
    mon = DriftMonitor(ref, window_s=window_s, min_s=0.5, every_s=0.4)
    made = [m for b in batches for m in mon(b)]
    want = _restacked_monitor(ref, batches, window_n=int(round(window_s / 0.05)), min_n=10, every_s=0.4)
    assert [(tm, a.n_windows) for tm, a in made] == [(tm, k) for tm, _, k in want]
    for (_, a), (_, comps, _) in zip(made, want, strict=True):
        if comps is None:
            assert a.components == {} and a.state == "ok"
            continue
        assert a.components.keys() == comps.keys()
        for k, v in comps.items():
            assert (a.components[k] is None) == (v is None), k
            if v is not None:
                assert a.components[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
        assert (a.state, a.cause) == (assess(comps).state, assess(comps).cause)
        assert a.score == pytest.approx(assess(comps).score, rel=1e-9, abs=1e-12)
