"""Quick adapt, Recalibrate and Undo on a running engine, on the bundled recording rotated by one electrode.

The state machine: preparing within a second, running, offered (Accept and Revert the only choices),
accepted / reverted / declined / cancelled; Revert and Undo put back exactly the model before; the
training process is reaped.
"""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import pytest
import torch

from myoxai.adapt import RecalibrationSettings
from myoxai.engine import Engine
from myoxai.errors import MyoxaiError
from myoxai.live import Recalibration
from myoxai.live.bundled import BUNDLED_MODEL, bundled_source_data, held_out_recording
from myoxai.live.history import ModelHistory
from myoxai.models import load_model
from myoxai.sources.replay import ReplaySource

torch.set_num_threads(1)
pytestmark = pytest.mark.timeout(300)
FAST = RecalibrationSettings(max_epochs=2, patience=1)


@pytest.fixture(scope="module")
def rotated():
    rec = held_out_recording()
    rec.samples = np.roll(rec.samples, 1, axis=1)
    return rec


@pytest.fixture(scope="module")
def source_data():
    return bundled_source_data()


def buffered_engine(rec, n: int = 6000) -> Engine:
    engine = Engine(ReplaySource(rec.slice(0, n), speed=0), load_model(BUNDLED_MODEL), explain=False)
    engine.start()
    assert engine.wait(60)
    return engine


def test_quick_adapt_applies_on_a_rotated_band_and_undo_restores_the_same_model(rotated, source_data):
    engine = buffered_engine(rotated)
    before = engine.active.model
    rc = Recalibration(engine, source_data, niceness=0)
    result = rc.quick_adapt()
    assert result.accepted and result.report.rotation_shift == pytest.approx(1.0, abs=0.15)
    assert engine.active.model is result.model and engine.active.model.input_rotation == pytest.approx(-1.0, abs=0.15)
    assert "applied" in rc.state().message and rc.state().state == "idle"
    action = rc.history.undo()
    assert action.label == "quick adapt" and engine.active.model is before
    with pytest.raises(MyoxaiError, match="nothing to undo"):
        rc.history.undo()


def test_quick_adapt_that_would_harm_is_not_applied(source_data):
    engine = buffered_engine(held_out_recording())
    version = engine.active.version
    rc = Recalibration(engine, source_data, niceness=0)
    result = rc.quick_adapt()
    assert not result.accepted and "less confident" in result.check.reason
    assert engine.active.version == version and rc.history.last is None
    assert "not applied" in rc.state().message


@pytest.mark.slow
def test_recalibrate_walks_preparing_running_offered_then_revert_and_accept(rotated, source_data):
    engine = buffered_engine(rotated)
    before = engine.active.model
    rc = Recalibration(engine, source_data, settings=FAST, niceness=0)
    seen = []
    t0 = time.monotonic()
    rc.start()
    assert rc.state().state == "preparing" and rc.state().progress > 0 and rc.state().message
    assert time.monotonic() - t0 < 1.0
    with pytest.raises(MyoxaiError, match="under way"):
        rc.start()
    while rc.running:
        seen.append(rc.state().state)
        time.sleep(0.05)
    st = rc.state()
    assert st.state == "offered", st
    assert {"preparing", "running"} <= set(seen)
    assert st.can_choose and st.progress == 1.0 and st.report.accepted
    assert rc.child_pid is None and not multiprocessing.active_children()  # the child was reaped
    assert "scadann" in engine.active.origin
    rc.revert()
    assert rc.state().state == "reverted" and engine.active.model is before  # before the quick step too
    with pytest.raises(MyoxaiError, match="nothing to accept"):
        rc.accept()
    rc.start()
    assert rc.wait(240) and rc.state().state == "offered"
    offered = engine.active.model
    rc.accept()
    assert rc.state().state == "accepted" and engine.active.model is offered
    with pytest.raises(MyoxaiError, match="nothing to revert"):
        rc.revert()
    rc.history.undo()  # the whole Recalibrate is one action
    assert engine.active.model is before


@pytest.mark.slow
def test_recalibrate_declined_and_cancelled_keep_the_model(rotated, source_data):
    engine = buffered_engine(rotated)
    strict = RecalibrationSettings(max_epochs=1, patience=1, min_coverage=1.01)  # no run can pass this
    rc = Recalibration(engine, source_data, ModelHistory(engine), settings=strict, niceness=0, isolate=False)
    rc.start()
    assert rc.wait(240)
    st = rc.state()
    assert st.state == "declined" and not st.can_choose and "pseudo-label" in st.message, st
    # the checked quick step stays in service: it is this Recalibrate's action for Undo
    assert st.quick.accepted and engine.active.origin == "Recalibrate" and engine.active.model is st.quick.model
    assert rc.history.last.label == "Recalibrate"
    rc2 = Recalibration(engine, source_data, settings=RecalibrationSettings(max_epochs=50, patience=50), niceness=0)
    rc2.start()
    rc2.cancel()
    assert rc2.wait(60) and rc2.state().state == "cancelled"
    assert not rc2.state().can_choose and not multiprocessing.active_children()


def test_recalibration_refuses_without_data(source_data):
    engine = buffered_engine(held_out_recording(), 400)
    with pytest.raises(MyoxaiError, match="buffered"):
        Recalibration(engine, source_data, min_windows=200).start()
    with pytest.raises(MyoxaiError, match="training data"):
        Recalibration(engine, None).start()
