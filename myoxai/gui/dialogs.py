"""Small dialogs: the source picker."""

from __future__ import annotations

from PyQt6 import QtWidgets

from myoxai.live.setup import BUNDLED_SPEC
from myoxai.sources.devices import DEVICE_KINDS


def source_choices() -> list[tuple[str, str, str]]:
    """(label, spec prefix, argument hint) of each picker entry: the bundled demo, then the device table."""
    return [("Bundled demo recording (replay)", BUNDLED_SPEC, "")] + [
        (k.label, k.prefix, k.hint) for k in DEVICE_KINDS.values()]


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
        self.choices = source_choices()
        for label, kind, _ in self.choices:
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
        self.argument.setPlaceholderText(self.choices[self.kind.currentIndex()][2])
        self.argument.setEnabled(self.kind.currentData() != BUNDLED_SPEC)

    def _browse(self) -> None:
        """Pick a file for the first device kind that reads files (a replay) and select that kind."""
        kind = next((k for k in DEVICE_KINDS.values() if k.file_patterns), None)
        if kind is None:
            return
        patterns = " ".join(kind.file_patterns)
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Recording", "", f"Recordings ({patterns})")
        if path:
            self.kind.setCurrentIndex(self.kind.findData(kind.prefix))
            self.argument.setText(path)

    def spec(self) -> str:
        """The chosen source as a ``--source`` spec (e.g. ``replay:FILE``)."""
        return spec_for(self.kind.currentData(), self.argument.text())
