"""A model trained for a shorter-window signal config (issue 23): trained with ``myoxai train --signal``,
its file records the config, the live engine runs with it, and a mismatch is one clear error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from myoxai.cli import main
from myoxai.config import DEFAULT_CONFIG, SHORT_150_CONFIG, SHORT_200_CONFIG
from myoxai.dsp import process_signal
from myoxai.engine import Engine
from myoxai.errors import MyoxaiError
from myoxai.live.bundled import BUNDLED_MODEL, held_out_recording
from myoxai.live.setup import EngineOptions, build_engine
from myoxai.models import build_model, input_args, load_model, model_signal_config, predict_proba
from myoxai.sources.replay import ReplaySource

from conftest import decisions_to_the_end

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def short_model_path(bundled_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("short") / "short.safetensors"
    assert main(["train", "--data", str(bundled_path), "--model", "allconvnet", "--signal", "short-150",
                 "--epochs", "2", "--no-progress", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(("name", "config"), [("allconvnet", SHORT_200_CONFIG), ("ring-tower", SHORT_150_CONFIG),
                                              ("scatnet", SHORT_200_CONFIG)])
def test_models_take_their_input_shape_from_the_config(name, config):
    model = build_model(name, 5, seed=0, config=config)
    shape = config.spec_shape if model.input_kind == "spectrogram" else (config.window, config.n_channels)
    assert predict_proba(model, np.ones((3, *shape), np.float32)).shape == (3, 5)
    assert all(model.init_args[k] == v for k, v in input_args(name, config).items())
    with pytest.raises(ValueError, match="disagree"):
        build_model(name, 5, config=config, **{k: v + 1 for k, v in input_args(name, config).items()})


def test_short_model_file_records_its_config_and_classifies_its_windows(short_model_path):
    model = load_model(short_model_path, expect_config=None)
    assert model_signal_config(model) == SHORT_150_CONFIG
    assert model.init_args["in_frames"] == 2
    with pytest.raises(MyoxaiError, match="window: model 30 vs engine 50"):
        load_model(short_model_path)  # commands that window with the default config refuse it
    batch = process_signal(held_out_recording().slice(0, 400).samples, SHORT_150_CONFIG)
    assert batch.spectrograms.shape[1:] == (2, 8, 10) and len(batch) == (400 - 30) // 5 + 1
    assert predict_proba(model, batch.spectrograms.astype(np.float32)).shape == (len(batch), model.n_classes)


def test_live_engine_runs_the_short_model_with_its_config(short_model_path):
    engine, _ = build_engine(EngineOptions(model=short_model_path, speed=0, drift=False))
    engine.stop()  # built, never started: ``myoxai live --model FILE`` windows as the model was trained
    assert engine.config == SHORT_150_CONFIG and engine.buffer.snapshot().inputs.shape[1:] == (2, 8, 10)

    model = load_model(short_model_path, expect_config=None)
    rec = held_out_recording().slice(0, 600)
    engine = Engine(ReplaySource(rec, speed=0, chunk=7), model, SHORT_150_CONFIG, vote=1)
    decisions = decisions_to_the_end(engine)
    offline = process_signal(rec.samples, SHORT_150_CONFIG)
    assert [d.sample for d in decisions] == offline.end.tolist()  # a decision every 5 samples, from sample 30
    proba = predict_proba(model, offline.spectrograms.astype(np.float32))
    np.testing.assert_allclose(np.stack([d.probabilities for d in decisions]), proba, atol=2e-5)
    np.testing.assert_allclose(decisions[0].phi.sum(axis=1), decisions[0].total, atol=1e-6)


def test_a_model_for_another_config_is_one_clear_error(short_model_path):
    short = load_model(short_model_path, expect_config=None)
    with pytest.raises(MyoxaiError, match=r"short-150 \(30-sample windows every 5\) but the engine runs default"):
        Engine(ReplaySource(held_out_recording().slice(0, 200), speed=0), short, DEFAULT_CONFIG, explain=False)
    engine = Engine(ReplaySource(held_out_recording().slice(0, 200), speed=0), short, SHORT_150_CONFIG,
                    explain=False)
    try:
        with pytest.raises(MyoxaiError, match=r"default \(50-sample windows every 10\) but the engine runs short-150"):
            engine.swap_model(load_model(BUNDLED_MODEL))
        assert engine.active.model is short
    finally:
        engine.stop()
