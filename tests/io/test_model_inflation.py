"""Issue 24 item 7: a model file's arguments are checked against its weights before anything is built."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from myoxai.errors import MyoxaiError
from myoxai.models import build_model, load_model, persist, save_model

CLASSES = ("rest", "fist", "flexion")


def _inflated(tmp_path, name: str, **arguments) -> str:
    src = save_model(build_model(name, 3, seed=0), tmp_path / f"{name}.safetensors", CLASSES)
    with safe_open(str(src), framework="np") as f:
        meta = f.metadata()
    desc = json.loads(meta["myoxai"])
    desc["arguments"].update(arguments)
    out = tmp_path / f"{name}-inflated.safetensors"
    save_file(load_file(str(src)), str(out), metadata={**meta, "myoxai": json.dumps(desc)})
    return str(out)


@pytest.mark.parametrize("name, arguments", [
    ("allconvnet", {"channels": [8, 16, 20000, 20000]}),
    ("allconvnet", {"channels": [8, 16, 16000, 4000]}),
    ("lstm-fin", {"hidden": 30000}),
    ("spectrogram-convnet", {"channels": [24, 32, 33]}),
    ("scatnet", {"j": 30}),
])
def test_inflated_arguments_are_refused_without_allocating(tmp_path, name, arguments):
    """In a child process of its own, so its peak RSS is this load's alone."""
    path = _inflated(tmp_path, name, **arguments)
    # VmHWM is this process image's own peak (ru_maxrss would include the forking test runner's RSS)
    code = ("import re, sys\nfrom myoxai.errors import MyoxaiError\nfrom myoxai.models import load_model\n"
            "try:\n    load_model(sys.argv[1])\nexcept MyoxaiError as exc:\n    print(exc)\n"
            "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read())\n"
            "print('peak_mb', int(hwm.group(1)) // 1024)\n")
    proc = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "weights" in proc.stdout or "arguments" in proc.stdout, proc.stdout
    assert int(proc.stdout.split("peak_mb")[-1]) < 700  # torch itself is ~300 MB; 2.5-14 GB before the fix


def test_the_parameter_count_is_capped(tmp_path, monkeypatch):
    path = save_model(build_model("allconvnet", 3, seed=0), tmp_path / "m.safetensors", CLASSES)
    load_model(path)
    monkeypatch.setattr(persist, "MAX_PARAMETERS", 1000)
    with pytest.raises(MyoxaiError, match="more than myoxai loads"):
        load_model(path)
