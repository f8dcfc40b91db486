"""The streaming dsp core equals its offline twin, and matches scipy and textbook definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import linalg, signal

from myoxai.config import DEFAULT_CONFIG as CFG
from myoxai.dsp import WindowStream, process_signal, sliding_windows, spectrogram, td_features
from myoxai.dsp.features import CLASSIC, FEATURES, KANOGA_TD_AR


def _stream(x: np.ndarray, sizes: list[int], highpass: bool = True):
    s, parts, i, k = WindowStream(CFG, highpass=highpass), [], 0, 0
    while i < len(x):
        n = sizes[k % len(sizes)]
        parts.append(s.push(x[i:i + n]))
        i, k = i + n, k + 1
    return (np.concatenate([p.spectrograms for p in parts]), np.concatenate([p.windows for p in parts]),
            np.concatenate([p.start for p in parts]))


@pytest.fixture(scope="module")
def real_segment(bundled):
    # 20 s spanning rest and a gesture onset of the real recording
    return bundled.samples[5000:9000]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=30),
       offset=st.integers(min_value=0, max_value=2000))
def test_streaming_equals_batch_on_real_recording(real_segment, sizes, offset):
    x = real_segment[offset:offset + 2000]
    batch = process_signal(x, CFG)
    specs, wins, start = _stream(x, sizes)
    assert specs.shape == batch.spectrograms.shape == (len(batch), 4, 8, 10)
    np.testing.assert_array_equal(start, batch.start)
    np.testing.assert_array_equal(wins, batch.windows)
    assert np.max(np.abs(specs - batch.spectrograms), initial=0.0) <= 1e-12


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=10))
def test_streaming_equals_batch_on_real_dataset_session(myo_readings_root, sizes):
    from myoxai.io.myo_readings import load_file

    x = load_file(myo_readings_root / "_readings_right_hand" / "10000-2" / "3.txt").samples[:3000]
    specs, _, _ = _stream(x, sizes)
    assert np.max(np.abs(specs - process_signal(x, CFG).spectrograms)) <= 1e-12


def test_window_count_and_alignment():
    x = np.random.default_rng(0).normal(size=(300, 8))
    b = process_signal(x, CFG, highpass=False)
    assert len(b) == 26  # 1.5 s trial → 26 windows (dataset protocol)
    np.testing.assert_array_equal(b.start, np.arange(26) * 10)
    np.testing.assert_array_equal(b.windows[3], x[30:80])


def test_highpass_is_causal_butterworth():
    x = np.random.default_rng(1).normal(size=(500, 8))
    y = WindowStream(CFG).filter.process(x)
    sos = signal.butter(5, 15, "highpass", fs=200, output="sos")
    np.testing.assert_allclose(y, signal.sosfilt(sos, x, axis=0), rtol=0, atol=1e-12)
    x2 = x.copy()
    x2[300:] += 5.0  # a change later in time cannot affect earlier output
    np.testing.assert_array_equal(WindowStream(CFG).filter.process(x2)[:300], y[:300])


def test_spectrogram_matches_scipy_per_window():
    w = np.random.default_rng(2).normal(size=(7, 50, 8))
    ours = spectrogram(w, CFG)
    for i in range(7):
        for c in range(8):
            _, _, s = signal.spectrogram(w[i, :, c], fs=200, nperseg=20, noverlap=10, window="hann",
                                         scaling="density", mode="magnitude")
            np.testing.assert_allclose(ours[i, :, c, :], s[1:].T, rtol=1e-12, atol=1e-15)


def test_sliding_windows_short_input():
    assert sliding_windows(np.zeros((49, 8)), 50, 10).shape == (0, 50, 8)


def test_time_domain_features_against_definitions():
    rng = np.random.default_rng(3)
    w = rng.normal(scale=0.1, size=(5, 50, 8))
    x = w[2, :, 4]
    assert FEATURES["mav"](w)[2, 4, 0] == pytest.approx(np.mean(np.abs(x)))
    assert FEATURES["rms"](w)[2, 4, 0] == pytest.approx(np.sqrt(np.mean(x**2)))
    assert FEATURES["wl"](w)[2, 4, 0] == pytest.approx(np.sum(np.abs(np.diff(x))))
    assert FEATURES["ssi"](w)[2, 4, 0] == pytest.approx(np.sum(x**2))
    zc = sum(1 for a, b in zip(x[:-1], x[1:], strict=True) if a * b < 0 and abs(a - b) >= 0.05)
    assert FEATURES["zc"](w, deadzone=0.05)[2, 4, 0] == zc
    ssc = sum(1 for i in range(1, 49) if (x[i] - x[i - 1]) * (x[i] - x[i + 1]) > 0
              and (abs(x[i] - x[i - 1]) >= 0.05 or abs(x[i] - x[i + 1]) >= 0.05))
    assert FEATURES["ssc"](w, deadzone=0.05)[2, 4, 0] == ssc
    r = np.array([np.dot(x[:50 - k], x[k:]) / 50 for k in range(7)])
    np.testing.assert_allclose(FEATURES["ar"](w, order=6)[2, 4], linalg.solve_toeplitz(r[:6], r[1:7]), rtol=1e-9)
    counts, _ = np.histogram(x, bins=10)
    p = counts[counts > 0] / 50
    assert FEATURES["hist_entropy"](w)[2, 4, 0] == pytest.approx(-np.sum(p * np.log2(p)))


def test_feature_sets_shapes_and_silent_channel():
    w = np.random.default_rng(4).normal(size=(3, 50, 8))
    w[:, :, 5] = 0.0
    f = td_features(w, KANOGA_TD_AR)
    assert f.shape == (3, 8 * 11) and np.isfinite(f).all()
    g = td_features(w, CLASSIC)
    assert g.shape == (3, 8 * 13) and np.isfinite(g).all()
    with pytest.raises(ValueError):
        type(CLASSIC)(("nonsense",))
