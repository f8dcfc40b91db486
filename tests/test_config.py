from __future__ import annotations

import dataclasses

import pytest

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.errors import MyoxaiError


def test_default_shape_matches_design():
    assert DEFAULT_CONFIG.spec_shape == (4, 8, 10)
    assert (DEFAULT_CONFIG.fs, DEFAULT_CONFIG.window, DEFAULT_CONFIG.step) == (200.0, 50, 10)


def test_fingerprint_is_stable_and_sensitive():
    same = SignalConfig.from_dict(DEFAULT_CONFIG.to_dict())
    assert same.fingerprint() == DEFAULT_CONFIG.fingerprint()
    assert SignalConfig(fs=200).fingerprint() == DEFAULT_CONFIG.fingerprint()  # int vs float does not matter
    for f in dataclasses.fields(SignalConfig):
        if f.name in ("spec_window", "drop_dc", "fs", "n_channels"):
            continue
        changed = dataclasses.replace(DEFAULT_CONFIG, **{f.name: getattr(DEFAULT_CONFIG, f.name) + 1})
        assert changed.fingerprint() != DEFAULT_CONFIG.fingerprint(), f.name
    assert dataclasses.replace(DEFAULT_CONFIG, drop_dc=False).fingerprint() != DEFAULT_CONFIG.fingerprint()


def test_config_is_frozen_and_validated():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_CONFIG.fs = 100  # type: ignore[misc]
    with pytest.raises(MyoxaiError):
        SignalConfig(window=10)
    with pytest.raises(MyoxaiError):
        SignalConfig.from_dict({**DEFAULT_CONFIG.to_dict(), "bogus": 1})


def test_named_configs_are_checked_and_found_by_name():
    from myoxai.config import SIGNAL_CONFIGS, signal_config, signal_config_name

    assert SIGNAL_CONFIGS["default"] is DEFAULT_CONFIG
    for name, config in SIGNAL_CONFIGS.items():
        assert signal_config(name) is config and signal_config_name(config) == name
        assert SignalConfig.from_dict(config.to_dict()).fingerprint() == config.fingerprint()
    assert len({c.fingerprint() for c in SIGNAL_CONFIGS.values()}) == len(SIGNAL_CONFIGS)
    assert signal_config("short-200").spec_shape == (3, 8, 10) and signal_config("short-200").step == 5
    assert signal_config("short-150").spec_shape == (2, 8, 10) and signal_config("short-150").window == 30
    assert signal_config_name(SignalConfig(window=44)) is None
    with pytest.raises(MyoxaiError, match="short-150"):
        signal_config("short")


@pytest.mark.parametrize("step", [0, -5, 51])
def test_a_step_outside_the_window_is_refused(step):
    with pytest.raises(MyoxaiError, match="step"):
        SignalConfig(step=step)
