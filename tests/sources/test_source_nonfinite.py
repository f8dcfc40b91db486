"""NaN/inf samples from a live source become a counted gap at the source, never a consumer's input."""

from __future__ import annotations

import threading

import numpy as np

from myoxai.sources.base import ThreadedSource


class _Feed(ThreadedSource):
    name = "feed"

    def __init__(self, blocks):
        super().__init__()
        self.blocks = blocks

    def _acquire(self, stop: threading.Event) -> None:
        for samples, ts, missing in self.blocks:
            self._emit(samples, ts, missing=missing)


def _drain(src):
    src.start()
    return list(src.chunks(timeout=0.5))


def test_non_finite_rows_are_gaps_and_never_delivered():
    x = np.arange(40 * 8, dtype=np.float32).reshape(40, 8)
    x[5, 3] = np.nan
    x[6] = np.inf
    x[20, 0] = -np.inf
    x[38:] = np.nan  # trailing bad rows
    ts = np.arange(40) / 200.0
    src = _Feed([(x[:30], ts[:30], 0), (x[30:], ts[30:], 2)])
    chunks = _drain(src)
    got = np.concatenate([c.samples for c in chunks])
    assert np.isfinite(got).all()
    assert len(got) == 40 - 5
    st = src.status()
    assert st.samples_nonfinite == 5 and st.samples_received == 40
    reasons = [(g.reason, g.n_missing) for g in st.gaps]
    assert reasons == [("non-finite", 2), ("non-finite", 1), ("packet-loss", 2), ("non-finite", 2)]
    assert st.samples_lost == 7
    # the holes are visible to the consumer as gaps between drained chunks
    seq = np.concatenate([c.seq for c in chunks])
    assert sorted(set(range(seq[-1] + 1)) - set(seq.tolist())) == [5, 6, 20, 30, 31]
    assert sum(c.gap for c in chunks) == 5


def test_all_finite_blocks_are_untouched():
    x = np.ones((20, 8), np.float32)
    src = _Feed([(x, np.arange(20) / 200.0, 0)])
    chunks = _drain(src)
    assert len(chunks) == 1 and chunks[0].gap == 0 and src.status().gaps == []


def test_replay_labels_are_matched_to_a_model_by_name():
    import pytest

    from myoxai.errors import MyoxaiError
    from myoxai.io.recording import Recording
    from myoxai.sources.replay import ReplaySource

    rec = Recording(np.zeros((40, 8), np.float32), np.arange(40) / 200.0, 200.0, np.repeat([0, 1, 2, -1], 10),
                    ("rest", "fist", "flexion"))
    src = ReplaySource(rec, speed=0)
    src.match_classes(("flexion", "rest", "fist", "pinch"))
    labels = np.concatenate([c.labels for c in _drain(src)])
    assert labels.tolist() == [1] * 10 + [2] * 10 + [0] * 10 + [-1] * 10
    assert src.status().info["class_names"] == ["flexion", "rest", "fist", "pinch"]
    with pytest.raises(MyoxaiError, match=r"gestures \['fist'\] that the model does not know"):
        ReplaySource(rec, speed=0).match_classes(("rest", "flexion"))
