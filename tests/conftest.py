"""Test set-up shared by every test module.

- LSL runs loopback-only: ``LSLAPICFG`` points at ``lsl_loopback.cfg`` before anything can load
  liblsl, so no test ever multicasts on the machine's network interface.
- Qt runs offscreen.
- Real data: the bundled excerpt in ``recordings/`` is always there; the full datasets come from
  ``../shared/data`` (or ``MYOXAI_DATA``), unpacked once per machine into a cache folder, and
  tests that need them skip with a clear reason when they are absent.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

os.environ["LSLAPICFG"] = str(Path(__file__).with_name("lsl_loopback.cfg"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "recordings" / "myo_readings_12548-1.xdf"
SHARED_DATA = Path(os.environ.get("MYOXAI_DATA", REPO.parent / "shared" / "data"))
CACHE = Path(os.environ.get("MYOXAI_CACHE", Path.home() / ".cache" / "myoxai"))


def _unpack(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into ``dest`` once (a marker file records completion)."""
    done = dest / f".{archive.name}.done"
    if not done.exists():
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run(["tar", "-xJf", str(archive), "-C", str(dest)], check=True)
        done.touch()
    return dest


@pytest.fixture(scope="session")
def bundled_path() -> Path:
    return BUNDLED


@pytest.fixture(scope="session")
def bundled(bundled_path):
    from myoxai.io import read_recording

    return read_recording(bundled_path)


@pytest.fixture(scope="session")
def kanoga_root() -> Path:
    """Unpacked long-term dataset (subject 1 always; others unpacked on demand by kanoga_subjects)."""
    archive = SHARED_DATA / "kanoga_longterm" / "kanoga_sub1.tar.xz"
    if not archive.exists():
        pytest.skip(f"long-term dataset not found at {archive.parent} (needs ../shared/data or MYOXAI_DATA)")
    return _unpack(archive, CACHE / "kanoga")


def kanoga_with_subjects(subjects: list[int]) -> Path:
    """Unpack the given subjects of the long-term dataset (skips when absent)."""
    dest = CACHE / "kanoga"
    for s in subjects:
        archive = SHARED_DATA / "kanoga_longterm" / f"kanoga_sub{s}.tar.xz"
        if not archive.exists():
            pytest.skip(f"long-term dataset subject {s} not found at {archive}")
        _unpack(archive, dest)
    return dest


@pytest.fixture(scope="session")
def myo_readings_root() -> Path:
    archive = SHARED_DATA / "myo_readings" / "myo_readings_10p.tar.xz"
    if not archive.exists():
        pytest.skip(f"myo-readings dataset not found at {archive.parent} (needs ../shared/data or MYOXAI_DATA)")
    return _unpack(archive, CACHE / "myo_readings")


@pytest.fixture(scope="session")
def myo_armband_root() -> Path:
    """Unpacked Myo Armband dataset (Côté-Allard et al.; GPL-3.0: evaluation only, no weights in the repo)."""
    archive = SHARED_DATA / "myo_armband" / "myo_armband_dataset.tar.xz"
    if not archive.exists():
        pytest.skip(f"Myo Armband dataset not found at {archive.parent} (needs ../shared/data or MYOXAI_DATA)")
    return _unpack(archive, CACHE / "myo_armband")


def tiny_adapt_context(root: str, cache_dir=None):
    """A ``GridContext`` for kanoga adaptation cells with a tiny SpectrogramConvNet and one epoch (split tests)."""
    from myoxai.evaluation import adaptation
    from myoxai.evaluation.cells import GridContext
    from myoxai.models import TrainSettings

    settings = adaptation.AdaptEvalSettings(model_args={"channels": [4, 4], "log_input": True},
                                            train=TrainSettings(epochs=1, patience=1, val_fraction=0.25),
                                            cache_dir=str(cache_dir) if cache_dir else None)
    return GridContext("kanoga", root, 0, 1, settings, settings.to_dict())


def decisions_to_the_end(engine, timeout: float = 60) -> list:
    """Start ``engine`` over a finite replay, wait until it has finished by itself, stop it: every decision."""
    sub = engine.subscribe(maxlen=10_000)
    engine.start()
    assert engine.wait(timeout), "engine did not finish"
    engine.stop()
    return sub.drain()


def run_cli(capsys, argv: list[str]) -> subprocess.CompletedProcess:
    """Run ``myoxai ARGV`` in-process (argparse's own refusals included); a CompletedProcess-like result."""
    from myoxai.cli import main

    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(argv, code, out.out, out.err)


def one_line_error(capsys, argv: list[str], *fragments: str) -> str:
    """Run ``myoxai ARGV`` in-process: exit 2 with one line on stderr that holds every fragment."""
    result = run_cli(capsys, argv)
    assert result.returncode == 2, result
    err = result.stderr
    assert len(err.strip().splitlines()) == 1, err
    for f in fragments:
        assert f in err, err
    return err


@pytest.fixture
def cli(capsys, monkeypatch):
    """``cli(*args)``: run ``myoxai ARGS`` in-process from the repository root (``run_cli``)."""
    monkeypatch.chdir(REPO)  # the commands' relative paths (recordings/…) are the repository's
    return lambda *args: run_cli(capsys, list(args))


@pytest.fixture
def replay_window(qtbot):
    """``make(recording=None, speed=4, title=...)``: a shown, started main window over a replay of the
    bundled recording (the GUI tests' common window); closed after the test."""
    from myoxai.engine import Engine
    from myoxai.gui.main_window import MainWindow
    from myoxai.live.bundled import BUNDLED_MODEL, bundled_source_data, held_out_recording
    from myoxai.models import load_model
    from myoxai.sources.replay import ReplaySource

    windows = []

    def make(recording=None, speed: float = 4, title: str = "test replay"):
        rec = recording if recording is not None else held_out_recording()
        engine = Engine(ReplaySource(rec, speed=speed, loop=True), load_model(BUNDLED_MODEL), drift=True)
        win = MainWindow(engine, title, bundled_source_data())
        qtbot.addWidget(win)
        win.show()
        win.start()
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.close()
