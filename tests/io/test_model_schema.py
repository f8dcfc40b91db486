"""Model descriptions are checked against a schema; weights must be finite; devices and folders named as such."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from myoxai.errors import MyoxaiError
from myoxai.models import build_model, load_model, save_model

CLASSES = ("rest", "fist")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    model = build_model("lda", 2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 50, 8)).astype(np.float32)
    model.fit(x, np.repeat([0, 1], 20))
    return save_model(model, tmp_path_factory.mktemp("m") / "m.safetensors", CLASSES)


def _edit(src, dst, edit_desc=None, edit_arrays=None, raw_desc=None):
    with safe_open(str(src), framework="np") as f:
        meta = f.metadata()
    arrays = load_file(str(src))
    desc = json.loads(meta["myoxai"])
    if edit_desc:
        edit_desc(desc)
    if edit_arrays:
        edit_arrays(arrays)
    save_file(arrays, str(dst), metadata={**meta, "myoxai": raw_desc if raw_desc is not None else json.dumps(desc)})
    return dst


def test_the_fixture_loads(model_path):
    assert load_model(model_path).class_names == CLASSES


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(format_version=7), "newer myoxai"),
    (lambda d: d.update(format_version=0), "unknown model format_version 0"),
    (lambda d: d.update(format_version="1"), "'format_version' in the model description must be a whole number"),
    (lambda d: d.pop("signal_config"), "has no 'signal_config'"),
    (lambda d: d.pop("class_names"), "has no 'class_names'"),
    (lambda d: d.update(class_names="rest,fist"), "'class_names' in the model description must be a list"),
    (lambda d: d.update(class_names=["rest", "rest"]), "distinct non-empty"),
    (lambda d: d.update(class_names=["rest", 3]), "distinct non-empty"),
    (lambda d: d.update(n_classes=5), "5 classes but 2 class names"),
    (lambda d: d["signal_config"].update(fs="fast"), "signal_config 'fs' must be a number"),
    (lambda d: d["signal_config"].update(fs=None), "signal_config 'fs' must be a number"),
    (lambda d: d.update(arguments=[1, 2]), "'arguments' in the model description must be an object"),
])
def test_description_schema_violations_are_refused(model_path, tmp_path, edit, message):
    bad = _edit(model_path, tmp_path / "bad.safetensors", edit)
    with pytest.raises(MyoxaiError, match=message):
        load_model(bad)


@pytest.mark.parametrize("raw", ["[1, 2, 3]", '"text"', "null", "[" * 100_000])
def test_description_that_is_not_an_object_is_refused(model_path, tmp_path, raw):
    with pytest.raises(MyoxaiError, match="not an object|corrupt"):
        load_model(_edit(model_path, tmp_path / "bad.safetensors", raw_desc=raw))


def test_non_finite_weights_are_refused(model_path, tmp_path):
    def poison(arrays):
        key = next(k for k, a in arrays.items() if a.dtype.kind == "f")
        arrays[key] = arrays[key].copy()
        arrays[key].flat[0] = np.nan

    with pytest.raises(MyoxaiError, match="hold NaN or infinity"):
        load_model(_edit(model_path, tmp_path / "nan.safetensors", edit_arrays=poison))


def test_device_folder_and_broken_link_are_named(tmp_path):
    zero = tmp_path / "zero.safetensors"
    zero.symlink_to("/dev/zero")
    with pytest.raises(MyoxaiError, match="not a regular file"):
        load_model(zero)
    with pytest.raises(MyoxaiError, match="is a folder"):
        load_model(tmp_path)
    broken = tmp_path / "broken.safetensors"
    broken.symlink_to(tmp_path / "gone")
    with pytest.raises(MyoxaiError, match="broken link"):
        load_model(broken)


def test_edited_architecture_arguments_give_a_one_line_error(tmp_path):
    net = build_model("allconvnet", 2, seed=0, channels=(4, 4, 4, 4))
    path = save_model(net, tmp_path / "net.safetensors", CLASSES)
    bad = _edit(path, tmp_path / "bad.safetensors", lambda d: d["arguments"].update(channels=[9, 9, 9, 9]))
    with pytest.raises(MyoxaiError, match="weights do not fit the allconvnet architecture") as err:
        load_model(bad)
    assert "\n" not in str(err.value)
