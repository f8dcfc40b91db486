"""Small dialogs: the source picker."""

from __future__ import annotations

from PyQt6 import QtWidgets

from myoxai.live.setup import BUNDLED_SPEC

SOURCE_KINDS = (
    ("Bundled demo recording (replay)", BUNDLED_SPEC, ""),
    ("Replay a file", "replay", "path to .xdf / myo-readings session / long-term trial"),
    ("Myo via BLED112 dongle", "myo", "serial port (empty = find the dongle)"),
    ("Myo via Bluetooth LE", "myo-ble", "device address (empty = scan)"),
    ("LSL stream", "lsl", "stream name (empty = first EMG stream)"),
)


def spec_for(kind: str, argument: str) -> str:
    """The ``--source`` spec string of a picker choice."""
    if kind == BUNDLED_SPEC:
        return BUNDLED_SPEC
    return f"{kind}:{argument.strip()}" if argument.strip() else kind


class SourceDialog(QtWidgets.QDialog):
    """Pick a source kind and its argument (port, address, stream name or file)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a source")
        form = QtWidgets.QFormLayout(self)
        self.kind = QtWidgets.QComboBox()
        for label, kind, _ in SOURCE_KINDS:
            self.kind.addItem(label, kind)
        self.argument = QtWidgets.QLineEdit()
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.argument)
        row.addWidget(browse)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.kind.currentIndexChanged.connect(self._hint)
        form.addRow("source", self.kind)
        form.addRow("argument", row)
        form.addRow(buttons)
        self._hint()

    def _hint(self) -> None:
        self.argument.setPlaceholderText(SOURCE_KINDS[self.kind.currentIndex()][2])
        self.argument.setEnabled(self.kind.currentData() != BUNDLED_SPEC)

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Recording", "", "Recordings (*.xdf *.txt *.csv)")
        if path:
            self.kind.setCurrentIndex(1)
            self.argument.setText(path)

    def spec(self) -> str:
        """The chosen source as a ``--source`` spec (e.g. ``replay:FILE``)."""
        return spec_for(self.kind.currentData(), self.argument.text())
