"""Every classifier implements one interface, so no caller dispatches on LDA or LSTM-FIN by ``isinstance``."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import myoxai
from myoxai.models import MODELS, build_model, load_model, predict_logits, save_model, train_model

PACKAGE = Path(myoxai.__file__).parent
OWN_MODULE = {"LdaBaseline": "models/lda.py", "LstmFin": "models/lstm_fin.py"}
INTERFACE = ("logits", "logits_on", "train_on", "fit_on", "state_arrays", "load_arrays", "explainable")


def isinstance_sites(tree: ast.AST) -> list[tuple[str, int]]:
    """(class name, line) of every ``isinstance(_, C)`` / ``isinstance(_, (C, ...))`` naming a class in OWN_MODULE."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance" and len(node.args) == 2:
            kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            for k in kinds:
                name = k.attr if isinstance(k, ast.Attribute) else getattr(k, "id", None)
                if name in OWN_MODULE:
                    out.append((name, node.lineno))
    return out


def test_the_scanner_finds_isinstance_dispatch():
    tree = ast.parse("isinstance(m, LdaBaseline)\nisinstance(m, (int, models.LstmFin))\nisinstance(m, MyoModel)")
    assert isinstance_sites(tree) == [("LdaBaseline", 1), ("LstmFin", 2)]


def test_no_isinstance_on_lda_or_lstm_fin_outside_their_modules():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        found += [f"{rel}:{line} isinstance(…, {name})" for name, line in isinstance_sites(ast.parse(path.read_text()))
                  if OWN_MODULE[name] != rel]
    assert not found, "dispatch through the model interface instead:\n" + "\n".join(found)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_has_the_interface(name):
    assert all(hasattr(MODELS[name], attr) for attr in INTERFACE), [a for a in INTERFACE
                                                                     if not hasattr(MODELS[name], a)]


class Windows:
    """The window-set shape ``logits_on`` / ``fit_on`` read (``myoxai.evaluation.data.WindowSet``)."""

    def __init__(self, win: np.ndarray, y: np.ndarray) -> None:
        self.win, self.y, self.calls = win, y, 0

    def __len__(self) -> int:
        return len(self.y)

    def inputs(self, kind: str) -> np.ndarray:
        assert kind == "window"
        return self.win

    def features(self, feature_set):
        from myoxai.dsp.features import td_features

        self.calls += 1
        return td_features(self.win, feature_set)


def test_lda_through_the_interface_equals_its_own_methods(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    win = (rng.standard_normal((120, 50, 8)) * (1 + y[:, None, None] * np.arange(1, 9) / 4)).astype(np.float32)
    direct = build_model("lda", 3).fit(win, y)
    lda = build_model("lda", 3)
    report = train_model(lda, win, y)
    assert report["model"] == "lda" and report["n_train"] == 120 and "seconds" in report
    np.testing.assert_array_equal(predict_logits(lda, win), direct.logits(win))
    data = Windows(win, y)
    cached = build_model("lda", 3)
    assert cached.fit_on(data) == {"model": "lda", "n_train": 120}
    np.testing.assert_allclose(cached.logits_on(data), direct.logits(win))
    assert data.calls == 2  # both read the set's features, never the windows
    with pytest.raises(ValueError, match="unfitted"):
        save_model(build_model("lda", 3), tmp_path / "u.safetensors", ["a", "b", "c"])
    save_model(lda, tmp_path / "l.safetensors", ["a", "b", "c"])
    np.testing.assert_array_equal(predict_logits(load_model(tmp_path / "l.safetensors"), win), direct.logits(win))


def test_torch_model_logits_on_a_window_set_equal_predict_logits():
    rng = np.random.default_rng(1)
    model = build_model("lstm-fin", 3, seed=0)
    win = rng.standard_normal((20, 50, 8)).astype(np.float32)
    model.train()
    np.testing.assert_array_equal(model.logits_on(Windows(win, np.zeros(20, int))), predict_logits(model, win))
    assert model.training  # the caller's mode is restored
