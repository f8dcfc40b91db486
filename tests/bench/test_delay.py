"""``myoxai bench delay``: the delay of a spliced onset under each vote, on hand-made decisions and on real data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myoxai.bench.delay import spliced_streams, stream_delays
from myoxai.cli import main

from conftest import one_line_error


def _proba(ends: np.ndarray, switch_end: int) -> np.ndarray:
    p = np.zeros((len(ends), 3))
    p[:, 0] = np.where(ends < switch_end, 0.9, 0.1)
    p[:, 2] = 1 - p[:, 0]
    return p


@pytest.mark.parametrize(("vote", "extra_windows"), [(1, 0), (3, 1), (5, 2)])
def test_delay_is_the_first_correct_voted_decision_after_the_onset(vote, extra_windows):
    ends = 50 + 10 * np.arange(56)  # 600 samples: 300 rest, then 300 gesture
    delay, hit, ok = stream_delays(_proba(ends, 340), ends, 300, 2, 0, vote, 200.0)
    # the model turns at the window ending at sample 340; a vote of k needs (k + 1) // 2 such windows
    assert hit and delay == pytest.approx((340 + 10 * extra_windows - 1 - 300) / 200.0)
    truth_windows = (ends - 1 >= 300).sum()
    assert ok.sum() == len(ends) - (3 + extra_windows)  # the windows ending at 310, 320, 330 are late, then the vote
    assert truth_windows == 30  # windows ending at 310 … 600


def test_a_gesture_never_recognised_is_censored_and_missed():
    ends = 50 + 10 * np.arange(56)
    delay, hit, _ = stream_delays(_proba(ends, 10_000), ends, 300, 2, 0, 1, 200.0)
    assert not hit and delay == pytest.approx((ends[-1] - 1 - 300) / 200.0)


def test_splice_puts_the_onset_after_the_rest():
    rest, g = np.zeros((300, 8)), np.ones((300, 8))
    ((x, onset),) = spliced_streams(rest, [g])
    assert onset == 300 and x.shape == (600, 8) and x[299].sum() == 0 and x[300].sum() == 8


@pytest.mark.timeout(600)
def test_bench_delay_on_real_data(kanoga_root, tmp_path):
    out = tmp_path / "d.json"
    assert main(["bench", "delay", "--root", str(kanoga_root), "--subjects", "1", "--models", "ring-tower",
                 "--votes", "1,5", "--epochs", "2", "--json", str(out)]) == 0
    res = {r["name"]: r for r in json.loads(out.read_text())["benchmarks"]}
    assert res["delay.ring-tower.vote1.median"]["params"]["streams"] == 21
    assert res["delay.ring-tower.vote1.median"]["value"] <= res["delay.ring-tower.vote5.median"]["value"]
    assert 0 <= res["delay.ring-tower.vote5.rt_accuracy"]["value"] <= 1


def test_an_unknown_signal_config_is_one_line(capsys, tmp_path):
    one_line_error(capsys, ["bench", "delay", "--root", str(tmp_path), "--signal", "default,short"],
                   "unknown signal config 'short'", "short-150")


@pytest.mark.timeout(600)
def test_bench_delay_measures_signal_configs_side_by_side(kanoga_root, tmp_path):
    out = tmp_path / "d.json"
    assert main(["bench", "delay", "--root", str(kanoga_root), "--subjects", "1", "--models", "allconvnet",
                 "--votes", "1", "--epochs", "2", "--signal", "default,short-150", "--json", str(out)]) == 0
    res = {r["name"]: r for r in json.loads(out.read_text())["benchmarks"]}
    short, default = res["delay.short-150.allconvnet.vote1.median"], res["delay.allconvnet.vote1.median"]
    assert short["params"]["signal"] == "short-150" and default["params"]["signal"] == "default"
    assert short["params"]["streams"] == default["params"]["streams"] == 21
    # delays are whole steps after the first window that reaches the onset: (end - 1 - onset) / fs
    assert (default["value"] * 200 / 1000 + 1) % 10 == 0 and (short["value"] * 200 / 1000 + 1) % 5 == 0
