"""The device table is the one place a device kind is described: one entry added in a test shows up in
``open_source``, the GUI's source dialog and every ``--source`` help text; the real rows and the dataset
loaders read the device facts of ``myoxai.config``."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from myoxai.cli import build_parser
from myoxai.config import DEFAULT_CONFIG, MYO, DeviceSignal
from myoxai.errors import MyoxaiError
from myoxai.sources import DEVICE_KINDS, DeviceKind, SourceOptions, ThreadedSource, open_source, source_help

FAKE_SIGNAL = DeviceSignal(fs=100.0, n_channels=3)


class FakeSource(ThreadedSource):
    """A synthetic device: ``n`` samples of a ramp, then the end."""

    name = "fake"

    def __init__(self, n: int, signal: DeviceSignal, options: SourceOptions) -> None:
        self.fs, self.n_channels = signal.fs, signal.n_channels
        super().__init__(queue_chunks=options.queue_chunks)
        self.n, self.options = n, options

    def _acquire(self, stop: threading.Event) -> None:
        x = np.arange(self.n * self.n_channels, dtype=np.float32).reshape(self.n, self.n_channels)
        self._emit(x, np.arange(self.n) / self.fs)


def _fake_factory(arg: str | None, options: SourceOptions) -> ThreadedSource:
    return FakeSource(int(arg or 5), FAKE_SIGNAL, options)


@pytest.fixture
def fake_kind(monkeypatch):
    """The one table entry a new device kind needs."""
    kind = DeviceKind("fake", "Fake test device", "COUNT", "samples to emit (empty = 5)", _fake_factory, FAKE_SIGNAL)
    monkeypatch.setitem(DEVICE_KINDS, kind.prefix, kind)
    return kind


def test_a_new_kind_opens_through_open_source(fake_kind):
    src = open_source("fake:7", queue_chunks=3)
    assert isinstance(src, FakeSource) and src.options.queue_chunks == 3
    assert (src.fs, src.n_channels) == (100.0, 3)
    src.start()
    chunks = list(src.chunks(timeout=1.0))
    src.stop()
    assert sum(len(c) for c in chunks) == 7 and chunks[0].samples.shape[1] == 3
    assert open_source("fake").n == 5  # the argument is optional for this kind
    assert "fake[:COUNT]" in source_help()


def test_unknown_and_missing_arguments_name_the_table():
    with pytest.raises(MyoxaiError, match=r"unknown source 'nope'; use replay:FILE, myo\[:PORT\]"):
        open_source("nope")
    with pytest.raises(MyoxaiError, match="replay needs a file: --source replay:FILE"):
        open_source("replay")


@pytest.mark.parametrize("command", ["record", "stream", "live", "motion-test"])
def test_every_source_help_lists_the_table(fake_kind, command, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps long help lines
    for kind in DEVICE_KINDS.values():
        assert kind.spec in out, (command, kind.spec)


def test_the_source_dialog_offers_a_new_kind(fake_kind, qtbot):
    from myoxai.gui.dialogs import SourceDialog

    dialog = SourceDialog()
    qtbot.addWidget(dialog)
    labels = [dialog.kind.itemText(i) for i in range(dialog.kind.count())]
    assert labels[1:] == [k.label for k in DEVICE_KINDS.values()] and "Fake test device" in labels
    dialog.kind.setCurrentIndex(dialog.kind.findData("fake"))
    assert dialog.argument.placeholderText() == "samples to emit (empty = 5)" and dialog.argument.isEnabled()
    dialog.argument.setText(" 9 ")
    assert dialog.spec() == "fake:9"
    assert isinstance(open_source(dialog.spec()), FakeSource)


def test_real_kinds_and_loaders_share_the_config_device_facts():
    from myoxai.io import kanoga, myo_armband, myo_readings

    for kind in DEVICE_KINDS.values():
        assert kind.signal in (None, MYO), kind.prefix
    for loader in (kanoga, myo_readings, myo_armband):
        assert (loader.FS, loader.N_CHANNELS) == (MYO.fs, MYO.n_channels) == (DEFAULT_CONFIG.fs,
                                                                             DEFAULT_CONFIG.n_channels)
