"""Motion Test: a hand-computed decision stream, label onsets as prompts, the command on the bundled recording."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myoxai.cli import main
from myoxai.errors import MyoxaiError
from myoxai.live.motion.scoring import (
    LabelOnsets,
    Prompt,
    prompt_schedule,
    prompts_from_labels,
    score_motion_test,
)

NAMES = ("rest", "fist", "open")


def _hand_stream() -> tuple[np.ndarray, np.ndarray, list[Prompt]]:
    times = np.arange(30) / 10  # a decision every 100 ms, 0.0 … 2.9 s
    labels = np.array([0, 0, 1, -1, 1, 1, 2, 1, 1, 1,      # fist prompted 0.0-1.0 (window 0.0-0.8)
                       0, 2, 1, 0, 0, 2, 2, 2, 2, 2,       # open prompted 1.0-1.5; 1.5-2.0 unprompted
                       -1, -1, -1, 1, 1, 1, 1, 1, 1, 1])   # fist prompted 2.0-… (window 2.0-2.8)
    prompts = [Prompt(1, 0.0, 1.0), Prompt(2, 1.0, 1.5), Prompt(1, 2.0, None)]
    return times, labels, prompts


def test_hand_computed_stream():
    times, labels, prompts = _hand_stream()
    res = score_motion_test(times, labels, prompts, NAMES, k_correct=2, hold_limit_s=0.8)
    doc = res.to_dict()
    # trial 1 (fist, 0.0-0.8): decisions 0 0 1 - 1 1 2 1 -> hits at 0.2 0.4 0.5 0.7: selection 0.2, completion 0.4
    # trial 2 (open, 1.0-1.5): 0 2 1 0 0 -> one hit at 1.1: selection 0.1, never completed (K=2)
    # trial 3 (fist, 2.0-2.8): - - - 1 1 1 1 1 -> selection 0.3, completion 0.4
    t1, t2, t3 = res.trials
    assert (t1.selection_time_s, t1.completion_time_s, t1.n_decisions, t1.n_correct) == pytest.approx((0.2, 0.4, 8, 4))
    assert t2.selection_time_s == pytest.approx(0.1) and t2.completion_time_s is None and not t2.completed
    assert (t3.selection_time_s, t3.completion_time_s, t3.n_correct) == pytest.approx((0.3, 0.4, 5))
    assert doc["completion_rate"] == pytest.approx(2 / 3)
    assert doc["realtime_accuracy"] == pytest.approx(10 / 21)
    assert doc["selection_time_s"] == pytest.approx(0.2)
    assert doc["completion_time_s"] == pytest.approx(0.4)
    fist, open_ = doc["gestures"]["fist"], doc["gestures"]["open"]
    assert (fist["trials"], fist["selection_time_s"], fist["completion_time_s"], fist["completion_rate"]) == \
        pytest.approx((2, 0.25, 0.4, 1.0))
    assert fist["realtime_accuracy"] == pytest.approx(9 / 16)
    assert (open_["selection_time_s"], open_["completion_time_s"], open_["completion_rate"]) == (pytest.approx(0.1),
                                                                                                None, 0.0)
    assert "rest" not in doc["gestures"]  # never prompted
    assert doc["confusion"]["counts"] == [[0, 0, 0, 0], [2, 9, 1, 4], [3, 1, 1, 0]]
    json.dumps(doc)  # the document is plain JSON


def test_longer_hold_limit_completes_more():
    times, labels, prompts = _hand_stream()
    # with K=3 the open trial still fails, fist trial 1 completes at 0.5, trial 3 at 0.5
    res = score_motion_test(times, labels, prompts, NAMES, k_correct=3, hold_limit_s=5.0).to_dict()
    assert res["gestures"]["fist"]["completion_time_s"] == pytest.approx(0.5)
    assert res["completion_rate"] == pytest.approx(2 / 3)
    with pytest.raises(MyoxaiError):
        score_motion_test(times, labels, prompts, NAMES, k_correct=0)


def test_prompts_from_labels_skip_rest():
    t = np.arange(12) * 0.5
    lab = np.array([0, 0, 1, 1, 1, 0, 0, 2, 2, -1, 1, 1])
    got = prompts_from_labels(t, lab, skip=[0])
    assert got == [Prompt(1, 1.0, 2.5), Prompt(2, 3.5, 4.5), Prompt(1, 5.0, 6.0)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=12), st.integers(0, 2**31 - 1))
def test_label_onsets_match_batch_for_any_chunking(sizes, seed):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    lab = np.repeat(rng.integers(0, 3, size=n), 1)
    t = np.arange(n) * 0.005

    class C:
        def __init__(self, a, b):
            self.labels, self.timestamps = lab[a:b], t[a:b]

        def __len__(self):
            return len(self.labels)

    onsets = LabelOnsets(skip=[0])
    pos = 0
    for s in sizes:
        onsets([C(pos, pos + s)])
        pos += s
    batch = prompts_from_labels(t, lab, skip=[0])
    live = onsets.prompts()
    assert [(p.gesture, p.onset) for p in live] == [(p.gesture, p.onset) for p in batch]
    assert [p.end for p in live[:-1]] == [p.end for p in batch[:-1]]  # the last run is still open live


def test_prompt_schedule_random_blocks():
    sched = prompt_schedule([1, 2, 3], repetitions=4, hold_limit_s=5, rest_s=2, seed=3)
    assert len(sched) == 12
    for b in range(4):
        assert sorted(p.gesture for p in sched[3 * b:3 * b + 3]) == [1, 2, 3]
    assert all(a.gesture != b.gesture for a, b in zip(sched, sched[1:], strict=False))
    assert [p.onset_s for p in sched[:3]] == [2, 9, 16]
    assert prompt_schedule([1, 2, 3], 4, seed=3) == prompt_schedule([1, 2, 3], 4, seed=3)
    assert prompt_schedule([1, 2, 3], 4, seed=3) != prompt_schedule([1, 2, 3], 4, seed=4)


def test_command_on_bundled_recording_matches_offline(bundled_path, bundled, tmp_path, capsys):
    """The command's real-time metrics equal a batch computation of the same decisions."""
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp import process_signal
    from myoxai.engine import PostProcessor
    from myoxai.live.bundled import BUNDLED_MODEL
    from myoxai.models import load_model, predict_proba

    out = tmp_path / "mt.json"
    assert main(["motion-test", "--source", f"replay:{bundled_path}", "--headless", "--json", str(out),
                 "--png", str(tmp_path / "mt.png")]) == 0
    text = capsys.readouterr().out
    assert "selection" in text and "completion rate" in text and "fist" in text
    doc = json.loads(out.read_text())
    assert (tmp_path / "mt.png").stat().st_size > 10_000
    # offline: the same model, filter and vote over the whole recording, metrics from the sample labels
    model = load_model(BUNDLED_MODEL)
    batch = process_signal(bundled.samples, DEFAULT_CONFIG, highpass=True)
    post = PostProcessor()  # the command's default vote (DEFAULT_VOTE), no threshold
    labels = np.array([post(p)[0] for p in predict_proba(model, batch.spectrograms.astype(np.float32))])
    t_dec = bundled.timestamps[batch.end - 1]
    prompts = prompts_from_labels(bundled.timestamps, bundled.labels, skip=[0])
    ref = score_motion_test(t_dec, labels, prompts, bundled.class_names, 10, 5.0).to_dict()
    assert len(prompts) == 21 and doc["trials"] == 21
    assert doc["completion_rate"] == pytest.approx(ref["completion_rate"])
    assert doc["realtime_accuracy"] == pytest.approx(ref["realtime_accuracy"], abs=1e-6)
    for name, g in ref["gestures"].items():
        for key in ("selection_time_s", "completion_time_s", "completion_rate"):
            assert doc["gestures"][name][key] == pytest.approx(g[key], abs=1e-6)
    assert doc["realtime_accuracy"] > 0.8  # the bundled model knows this participant
    # outputs are never overwritten silently
    assert main(["motion-test", "--source", f"replay:{bundled_path}", "--headless", "--json", str(out)]) == 2


def test_live_prompts_recorded_to_xdf(bundled_path, tmp_path):
    """A live test on a (fast) replay: prompts, EMG and decisions land in one XDF that replays as labels."""
    from myoxai.io import read_recording
    from myoxai.io.xdf import _load_streams

    xdf, out = tmp_path / "mt.xdf", tmp_path / "mt.json"
    assert main(["motion-test", "--source", f"replay:{bundled_path}", "--prompts", "--gestures", "fist,flexion",
                 "--repetitions", "1", "--hold-limit", "0.6", "--rest", "0.3", "--k", "2", "--speed", "1",
                 "--record", str(xdf), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["mode"] == "live" and doc["trials"] == 2 and set(doc["gestures"]) == {"fist", "flexion"}
    names = {s["info"]["name"][0] for s in _load_streams(xdf)}
    assert {"myoxai-emg", "myoxai-markers", "myoxai-decisions"} <= names
    rec = read_recording(xdf)
    assert rec.labels is not None and set(np.unique(rec.labels)) >= {0}


@pytest.mark.slow
def test_labels_mode_reports_recording_seconds_at_any_replay_speed(bundled):
    """At 4× the replay stamps samples 4× closer; the session scales the metrics back to recording time."""
    import time

    from myoxai.engine import Engine
    from myoxai.live.bundled import BUNDLED_MODEL
    from myoxai.live.motion.session import MotionSession
    from myoxai.models import load_model
    from myoxai.sources.replay import ReplaySource

    part = bundled.slice(6000, 10000)  # 20 s of the flexion file: rest and flexion alternating
    docs = []
    for speed in (0.0, 4.0):
        engine = Engine(ReplaySource(part, speed=speed), load_model(BUNDLED_MODEL), explain=False)
        session = MotionSession(engine, from_labels=True)
        engine.start()
        while engine.running:
            time.sleep(0.05)
        engine.stop()
        session.close()
        docs.append(session.result(10, 5.0).to_dict())
    assert docs[0]["trials"] == docs[1]["trials"] >= 2
    for key in ("selection_time_s", "completion_time_s", "completion_rate", "realtime_accuracy"):
        assert docs[1][key] == pytest.approx(docs[0][key], abs=1e-6)
