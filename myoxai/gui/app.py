"""Start the Qt application for ``myoxai live`` (and, for screenshots, stop it on a timer)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from myoxai.live.setup import EngineOptions, build_engine, live_source_data

log = logging.getLogger(__name__)


def make_window(options: EngineOptions) -> Any:
    """The main window around an engine built from ``options`` (not started).

    The window keeps ``options``: its source switch rebuilds the engine from them, so sinks and
    settings chosen on the command line survive it.
    """
    import pyqtgraph as pg

    from myoxai.gui.main_window import MainWindow

    pg.setConfigOptions(antialias=False, background="w", foreground="k")
    engine, desc = build_engine(options)
    return MainWindow(engine, desc, live_source_data(options), options=options)


def run_app(options: EngineOptions, quit_after: float | None = None, screenshot: str | Path | None = None,
            on_start: Callable[[Any], Callable[[], None] | None] | None = None) -> int:
    """Show the window until closed, or for ``quit_after`` seconds (saving ``screenshot`` first).

    ``on_start(window)`` runs once the window streams (``myoxai bench live`` attaches its probe there);
    the callable it may return runs just before the window closes on the ``quit_after`` timer
    (after the screenshot is saved: ``myoxai live`` reports it there).
    """
    from PyQt6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    window = make_window(options)
    window.show()
    window.start()
    before_quit = on_start(window) if on_start is not None else None
    if quit_after is not None:
        def finish() -> None:
            if screenshot:
                window.grab().save(str(screenshot))
                log.info("screenshot saved to %s", screenshot)  # the command tells the user (its before_quit)
            if before_quit is not None:
                before_quit()
            window.close()
            app.quit()

        QtCore.QTimer.singleShot(int(quit_after * 1000), finish)
    code = app.exec()
    window.engine.stop()
    return int(code)
