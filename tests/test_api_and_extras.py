"""The Python API is light and documented; a missing extra is one line naming it; bundled files are package data."""

from __future__ import annotations

import subprocess
import sys

import pytest

import myoxai
from myoxai.errors import MyoxaiError, require_extra
from myoxai.io.open import BUNDLED_RECORDING

from conftest import REPO


def test_import_myoxai_is_light_and_the_api_is_lazy():
    code = ("import sys, myoxai; heavy = [m for m in ('torch', 'numpy', 'PyQt6', 'myoxai.api') if m in sys.modules]; "
            "print(heavy); myoxai.run_live; print('myoxai.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                         env={"PYTHONPATH": str(REPO), "PATH": ""}).stdout.split()
    assert out == ["[]", "True"]


def test_every_api_name_is_documented():
    for name in myoxai._API:
        assert getattr(myoxai, name).__doc__, name
    with pytest.raises(AttributeError):
        myoxai.not_a_function  # noqa: B018


def test_a_missing_extra_names_itself():
    with pytest.raises(MyoxaiError, match=r"needs no_such_pkg, which is an extra: pip install 'myoxai\[explain\]'"):
        require_extra("no_such_pkg.sub", "explain", "Grad-CAM")
    assert require_extra("json", "x", "y").dumps  # present: the module itself


def test_a_missing_extra_through_the_cli_is_one_line(tmp_path):
    # kymatio made unimportable: `myoxai train --model scatnet` prints one line naming the scatnet extra, exit 2
    code = ("import sys; sys.modules['kymatio'] = None; from myoxai.cli import main; "
            f"sys.exit(main(['train', '--data', r'{BUNDLED_RECORDING}', '--model', 'scatnet', '--epochs', '1', "
            f"'--out', r'{tmp_path / 'm.safetensors'}', '--no-progress']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=240,
                          env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert proc.stderr.strip().splitlines() == [
        "myoxai train: error: The ScatNet model needs kymatio, which is an extra: pip install 'myoxai[scatnet]'"]


def test_bundled_files_are_package_data():
    assert BUNDLED_RECORDING.is_file() and BUNDLED_RECORDING.parent.name == "recordings"  # a clone: the link's target
    text = (REPO / "pyproject.toml").read_text()
    assert '"myoxai.assets" = ["*.xdf", "*.safetensors", "LICENSE-*", "README.md"]' in text
